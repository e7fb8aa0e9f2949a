"""Watermarked previews: the producer's tag mixed over the beat, encoded for streaming, with
the waveform peaks taken from the same pass.

pydub prepares one "tag period" (the tag at its gain, resampled to 44.1 kHz stereo, followed
by silence up to the interval). A single ffmpeg process then decodes the master, mixes the
period looped from `first_at`, encodes the MP3 and, from the same mixed signal, writes mono
PCM to a pipe that is reduced to min/max peaks on the fly. Neither process ever holds the
whole track: memory stays flat whatever its length.
"""

from __future__ import annotations

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
        period = Path(workdir) / "tag-period.wav"
        tag_ms = tag_period(tag, placement, period)
        delay_ms = first_tag_at_ms(placement, duration_ms, tag_ms)
        stderr_path = Path(workdir) / "ffmpeg.log"
        command = _preview_command(master, period, delay_ms, out_mp3, title=title, artist=artist)
        with open(stderr_path, "wb") as stderr:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL)
            try:
                peaks = _read_peaks(process.stdout)
            finally:
                process.stdout.close()
                returncode = process.wait()
        if returncode != 0:
            raise AudioProcessingFailed(stderr_path.read_text(errors="replace")[-2000:])
    return waveform_document(peaks)


def _preview_command(master: Path, period: Path, delay_ms: int, out_mp3: Path, *, title: str,
                     artist: str) -> list[str]:
    graph = (
        f"[0:a]aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo[beat];"
        f"[1:a]adelay=delays={delay_ms}:all=1[tag];"
        "[beat][tag]amix=inputs=2:duration=first:dropout_transition=0:normalize=0,asplit=2[mp3][peaks];"
        "[peaks]aformat=sample_fmts=u8:channel_layouts=mono[mono]"
    )
    return [
        "ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y",
        "-i", str(master), "-stream_loop", "-1", "-i", str(period),
        "-filter_complex", graph,
        "-map", "[mp3]", "-c:a", "libmp3lame", "-b:a", PREVIEW_BITRATE, "-ar", str(SAMPLE_RATE), "-ac", "2",
        "-map_metadata", "-1", "-id3v2_version", "4", "-metadata", f"title={title}",
        "-metadata", f"artist={artist}", "-metadata", "comment=preview", "-f", "mp3", str(out_mp3),
        "-map", "[mono]", "-f", "u8", "pipe:1",
    ]


def _read_peaks(stream) -> np.ndarray:
    """Min/max of every SAMPLES_PER_PIXEL samples of an unsigned 8-bit mono stream (the
    waveform's 8-bit resolution, so ffmpeg sends half the bytes 16-bit would take)."""
    chunk_bytes = SAMPLES_PER_PIXEL * READ_PIXELS
    pairs: list[np.ndarray] = []
    leftover = b""
    while True:
        data = stream.read(chunk_bytes)
        if not data:
            break
        data = leftover + data
        usable = len(data) - len(data) % SAMPLES_PER_PIXEL
        leftover = data[usable:]
        if usable:
            pairs.append(_min_max(np.frombuffer(data[:usable], dtype=np.uint8).reshape(-1, SAMPLES_PER_PIXEL)))
    if leftover:
        pairs.append(_min_max(np.frombuffer(leftover, dtype=np.uint8).reshape(1, -1)))
    return np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int8)


def _min_max(windows: np.ndarray) -> np.ndarray:
    signed = windows.astype(np.int16) - 128
    return np.stack([signed.min(axis=1), signed.max(axis=1)], axis=1).astype(np.int8)


def waveform_document(peaks: np.ndarray) -> dict[str, Any]:
    """The audiowaveform JSON format (version 2), which peaks.js and wavesurfer.js read."""
    return {"version": 2, "channels": 1, "sample_rate": SAMPLE_RATE, "samples_per_pixel": SAMPLES_PER_PIXEL,
            "bits": 8, "length": int(len(peaks)), "data": peaks.reshape(-1).tolist()}
