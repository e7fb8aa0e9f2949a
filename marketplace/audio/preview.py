"""Watermarked previews: the producer's tag mixed over the beat, encoded for streaming, with
the waveform peaks taken from the same pass.

pydub prepares one "tag period" (the tag at its gain, resampled to 44.1 kHz stereo, followed
by silence up to the interval). One ffmpeg process decodes the master and mixes the period in,
looped from `first_at`; a second one encodes the MP3. Between them the mixed PCM passes
through this process, which takes the min/max peaks of the waveform on the way: one pass over
the audio, mixing and encoding on two cores at once, and never more than a pipe's worth of
the track in memory, whatever its length.
"""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from pydub import AudioSegment

from marketplace.audio.errors import AudioProcessingFailed

SAMPLE_RATE = 44_100
PREVIEW_BITRATE = "128k"
SAMPLES_PER_PIXEL = 512
READ_PIXELS = 256  # peaks computed per read from the pipe


@dataclasses.dataclass(frozen=True)
class TagPlacement:
    interval_seconds: float = 30.0
    gain_db: float = 0.0
    first_at_seconds: float = 0.0


def normalise_tag(source: Path, out_wav: Path) -> None:
    """Store tags as 44.1 kHz 16-bit WAV: every render then reads them in-process."""
    result = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", "-i", str(source),
                             "-map", "0:a:0", "-map_metadata", "-1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le",
                             str(out_wav)], capture_output=True, timeout=120, check=False)
    if result.returncode != 0:
        raise AudioProcessingFailed(result.stderr.decode(errors="replace")[-2000:])


def tag_period(tag_path: Path, placement: TagPlacement, out_path: Path) -> int:
    """Write one interval of audio: the tag at its gain, then silence. Returns the tag's length (ms)."""
    tag = (AudioSegment.from_file(tag_path).set_frame_rate(SAMPLE_RATE).set_channels(2)
           .set_sample_width(2).apply_gain(placement.gain_db))
    interval_ms = int(placement.interval_seconds * 1000)
    period = (AudioSegment.silent(duration=interval_ms, frame_rate=SAMPLE_RATE).set_channels(2)
              .set_sample_width(2).overlay(tag, position=0))
    period.export(out_path, format="wav")
    return len(tag)


def first_tag_at_ms(placement: TagPlacement, duration_ms: int, tag_ms: int) -> int:
    """Where the first tag lands: as asked, but never so late that a track goes untagged."""
    latest = max(0, duration_ms - tag_ms)
    return min(int(placement.first_at_seconds * 1000), latest)


def render_preview(master: Path, tag: Path, placement: TagPlacement, duration_ms: int, out_mp3: Path,
                   *, title: str, artist: str) -> dict[str, Any]:
    """Render the tagged MP3 preview to `out_mp3` and return its waveform (audiowaveform JSON)."""
    with tempfile.TemporaryDirectory(prefix="preview-") as workdir:
        folder = Path(workdir)
        period = folder / "tag-period.wav"
        tag_ms = tag_period(tag, placement, period)
        delay_ms = first_tag_at_ms(placement, duration_ms, tag_ms)
        mixer = _start(_mix_command(master, period, delay_ms), folder / "mix.log", stdout=subprocess.PIPE)
        encoder = _start(_encode_command(out_mp3, title=title, artist=artist), folder / "encode.log",
                         stdin=subprocess.PIPE)
        peaks = None
        try:
            peaks = _relay_and_measure(mixer.stdout, encoder.stdin)
        except BrokenPipeError:
            pass  # the encoder stopped early: its log says why
        finally:
            for stream in (mixer.stdout, encoder.stdin):
                with contextlib.suppress(BrokenPipeError):
                    stream.close()
            failures = [log for process, log in ((mixer, "mix.log"), (encoder, "encode.log"))
                        if process.wait() != 0]
        if failures or peaks is None:
            raise AudioProcessingFailed("\n".join((folder / log).read_text(errors="replace")[-1500:]
                                                  for log in failures) or "the encoder stopped early")
    return waveform_document(peaks)


def _start(command: list[str], log: Path, **pipes: Any) -> subprocess.Popen:
    with open(log, "wb") as stderr:
        return subprocess.Popen(command, stderr=stderr, **{"stdin": subprocess.DEVNULL, **pipes})


def _mix_command(master: Path, period: Path, delay_ms: int) -> list[str]:
    """Decode the master and mix the looped tag period in, as raw 16-bit stereo PCM."""
    graph = (
        f"[0:a]aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo[beat];"
        f"[1:a]adelay=delays={delay_ms}:all=1[tag];"
        "[beat][tag]amix=inputs=2:duration=first:dropout_transition=0:normalize=0"
    )
    return ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-i", str(master),
            "-stream_loop", "-1", "-i", str(period), "-filter_complex", graph,
            "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", "2", "pipe:1"]


def _encode_command(out_mp3: Path, *, title: str, artist: str) -> list[str]:
    """Encode raw PCM from stdin to the streaming MP3, with its ID3 tags."""
    return ["ffmpeg", "-hide_banner", "-v", "error", "-y", "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", "2",
            "-i", "pipe:0", "-c:a", "libmp3lame", "-b:a", PREVIEW_BITRATE, "-id3v2_version", "4",
            "-metadata", f"title={title}", "-metadata", f"artist={artist}", "-metadata", "comment=preview",
            "-f", "mp3", str(out_mp3)]


def _relay_and_measure(source, sink) -> np.ndarray:
    """Pass the mixed PCM from the mixer to the encoder, taking min/max peaks of every
    SAMPLES_PER_PIXEL frames on the way. Mixing and encoding run as two processes, one per
    core, and only a pipe's worth of audio is ever in memory."""
    frame_bytes = 4  # 16-bit stereo
    chunk_bytes = SAMPLES_PER_PIXEL * READ_PIXELS * frame_bytes
    pairs: list[np.ndarray] = []
    leftover = b""
    while True:
        data = source.read(chunk_bytes)
        if not data:
            break
        sink.write(data)
        data = leftover + data
        usable = len(data) - len(data) % (SAMPLES_PER_PIXEL * frame_bytes)
        leftover = data[usable:]
        if usable:
            pairs.append(_min_max(_mono(data[:usable]).reshape(-1, SAMPLES_PER_PIXEL)))
    if len(leftover) >= frame_bytes:
        pairs.append(_min_max(_mono(leftover[: len(leftover) // frame_bytes * frame_bytes]).reshape(1, -1)))
    return np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int8)


def _mono(pcm: bytes) -> np.ndarray:
    stereo = np.frombuffer(pcm, dtype="<i2").reshape(-1, 2).astype(np.int32)
    return (stereo[:, 0] + stereo[:, 1]) >> 1


def _min_max(windows: np.ndarray) -> np.ndarray:
    """8-bit (min, max) pairs, the waveform's resolution."""
    return np.stack([windows.min(axis=1) >> 8, windows.max(axis=1) >> 8], axis=1).astype(np.int8)


def waveform_document(peaks: np.ndarray) -> dict[str, Any]:
    """The audiowaveform JSON format (version 2), which peaks.js and wavesurfer.js read."""
    return {"version": 2, "channels": 1, "sample_rate": SAMPLE_RATE, "samples_per_pixel": SAMPLES_PER_PIXEL,
            "bits": 8, "length": int(len(peaks)), "data": peaks.reshape(-1).tolist()}
