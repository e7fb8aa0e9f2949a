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
import math
import subprocess
import tempfile
import wave
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


# Quiet recordings (phones, voice memos) are raised towards this loudness, measured over the
# tag's voiced part; louder tags are kept as they are (the placement's gain lowers them).
TAG_TARGET_DBFS = -14.0
TAG_PEAK_CEILING_DBFS = -1.0  # never raised into clipping
TAG_SILENT_DBFS = -60.0
_LOUDNESS_BLOCK_SECONDS = 0.05
_LOUDNESS_GATE_DB = 20.0  # blocks this far under the loudest one are pauses, not voice


def normalise_tag(source: Path, out_wav: Path, *, channels: int, max_seconds: float) -> float:
    """Store a tag as 44.1 kHz 16-bit WAV (every render then reads it in-process), resampled
    from whatever rate it came at and raised to a common loudness when it is quiet. Returns
    the gain applied (dB). Raises TagSilent when there is nothing to hear."""
    result = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-i", str(source),
                             "-map", "0:a:0", "-t", f"{max_seconds + 1:g}", "-ac", str(channels),
                             "-ar", str(SAMPLE_RATE), "-f", "f32le", "pipe:1"],
                            capture_output=True, timeout=120, check=False)
    if result.returncode != 0:
        raise AudioProcessingFailed(result.stderr.decode(errors="replace")[-2000:])
    samples = np.frombuffer(result.stdout, dtype="<f4").reshape(-1, channels)
    gain_db = tag_gain_db(samples)
    scaled = np.clip(samples * 10 ** (gain_db / 20), -1.0, 1.0)
    with wave.open(str(out_wav), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(np.round(scaled * 32767).astype("<i2").tobytes())
    return gain_db


class TagSilent(Exception):
    """A tag with nothing audible in it."""


def tag_loudness_dbfs(samples: np.ndarray) -> tuple[float, float]:
    """(loudness of the voiced part, peak), in dBFS. The loudness is the RMS of the 50 ms
    blocks within 20 dB of the loudest one, so pauses between words do not count."""
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    block = int(SAMPLE_RATE * _LOUDNESS_BLOCK_SECONDS)
    count = max(1, len(mono) // block)
    blocks = mono[:count * block].reshape(count, block) if len(mono) >= block else mono[None, :]
    block_rms = np.sqrt((blocks.astype(np.float64) ** 2).mean(axis=1))
    voiced = block_rms[block_rms >= block_rms.max() * 10 ** (-_LOUDNESS_GATE_DB / 20)]
    loudness = float(np.sqrt((voiced ** 2).mean())) if voiced.size else 0.0
    return _dbfs(loudness), _dbfs(peak)


def tag_gain_db(samples: np.ndarray) -> float:
    loudness, peak = tag_loudness_dbfs(samples)
    if peak < TAG_SILENT_DBFS:
        raise TagSilent()
    return max(0.0, min(TAG_TARGET_DBFS - loudness, TAG_PEAK_CEILING_DBFS - peak))


def _dbfs(amplitude: float) -> float:
    return 20 * math.log10(amplitude) if amplitude > 0 else -math.inf


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
