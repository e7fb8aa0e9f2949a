"""What an uploaded file really is, decided by ffprobe (never by its name or MIME type)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

from marketplace.audio.errors import AudioRejected

# Demuxer name -> (format we call it, lossless?)
ACCEPTED_FORMATS = {"wav": ("wav", True), "aiff": ("aiff", True), "flac": ("flac", True),
                    "mp3": ("mp3", False)}
LOSSLESS_MIN_SAMPLE_RATE = 44_100
PROBE_TIMEOUT_SECONDS = 120


@dataclasses.dataclass(frozen=True)
class AudioInfo:
    format: str
    codec: str
    lossless: bool
    duration_ms: int
    sample_rate: int
    channels: int
    bits: int = 16


def _ffprobe(args: list[str], path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["ffprobe", "-v", "error", *args, str(path)], capture_output=True,
                          timeout=PROBE_TIMEOUT_SECONDS, check=False)


def probe_audio(path: Path, *, min_seconds: float, max_seconds: float) -> AudioInfo:
    """Check an uploaded audio file and describe it, or raise AudioRejected saying why."""
    if path.stat().st_size == 0:
        raise AudioRejected("empty_file", "The file is empty.")
    result = _ffprobe(["-print_format", "json", "-show_format", "-show_streams"], path)
    if result.returncode != 0:
        raise AudioRejected("not_audio", "This file is not audio we can read.", 415)
    described = json.loads(result.stdout or b"{}")
    audio_streams = [s for s in described.get("streams", []) if s.get("codec_type") == "audio"]
    other_streams = [s for s in described.get("streams", []) if s.get("codec_type") not in ("audio", None)
                     and s.get("disposition", {}).get("attached_pic") != 1]
    demuxer = described.get("format", {}).get("format_name", "")
    if not audio_streams or other_streams:
        raise AudioRejected("not_audio", "This file is not an audio file.", 415)
    if demuxer not in ACCEPTED_FORMATS:
        raise AudioRejected("unsupported_audio_format",
                            f"{demuxer or 'This'} audio is not accepted. Upload WAV, AIFF, FLAC or MP3.", 415)
    name, lossless = ACCEPTED_FORMATS[demuxer]
    stream = audio_streams[0]
    info = AudioInfo(format=name, codec=stream.get("codec_name", ""), lossless=lossless,
                     duration_ms=_duration_ms(described, stream), sample_rate=int(stream.get("sample_rate") or 0),
                     channels=int(stream.get("channels") or 0),
                     bits=int(stream.get("bits_per_raw_sample") or stream.get("bits_per_sample") or 16))
    if info.format in ("wav", "aiff"):
        _check_pcm_complete(path, info)  # cheap, and a truer reason than the length ffprobe guessed
    _check_rules(info, min_seconds, max_seconds)
    if info.format not in ("wav", "aiff"):
        _check_complete(path, info)
    return info


def _duration_ms(described: dict, stream: dict) -> int:
    raw = stream.get("duration") or described.get("format", {}).get("duration")
    try:
        return int(float(raw) * 1000)
    except (TypeError, ValueError):
        raise AudioRejected("unreadable_audio", "The length of this audio cannot be read.") from None


def _check_rules(info: AudioInfo, min_seconds: float, max_seconds: float) -> None:
    seconds = info.duration_ms / 1000
    if seconds < min_seconds:
        raise AudioRejected("audio_too_short", f"The audio lasts {seconds:.1f} s; at least {min_seconds:g} s is needed.")
    if seconds > max_seconds:
        raise AudioRejected("audio_too_long", f"The audio lasts {seconds / 60:.1f} min; at most "
                                              f"{max_seconds / 60:g} min is accepted.")
    if info.channels < 1 or info.channels > 2:
        raise AudioRejected("too_many_channels", f"The audio has {info.channels} channels; mono or stereo only.")
    if info.lossless and info.sample_rate < LOSSLESS_MIN_SAMPLE_RATE:
        raise AudioRejected("sample_rate_too_low", f"Lossless masters need at least 44.1 kHz; this one is "
                                                   f"{info.sample_rate / 1000:g} kHz.")


def _check_pcm_complete(path: Path, info: AudioInfo) -> None:
    """A header that promises more audio than the file holds means an interrupted upload or
    a forged file. PCM containers (WAV, AIFF) declare their data size."""
    declared, present = pcm_data_sizes(path, info.format)
    if declared is not None and declared > present:
        missing = 100 * (declared - present) / declared
        raise AudioRejected("truncated_audio", f"The file holds {100 - missing:.0f}% of the audio its header "
                                               "declares: it looks truncated. Upload it again.")


def _check_complete(path: Path, info: AudioInfo) -> None:
    """The same for compressed formats: every packet is read (without decoding) to find where
    the audio really ends."""
    result = _ffprobe(["-select_streams", "a:0", "-show_entries", "packet=pts_time,duration_time",
                       "-of", "csv=p=0"], path)
    last = (result.stdout or b"").strip().rsplit(b"\n", 1)[-1].split(b",")
    try:
        real_ms = int((float(last[0]) + float(last[1] or 0)) * 1000)
    except (ValueError, IndexError):
        raise AudioRejected("unreadable_audio", "The audio data cannot be read.") from None
    missing_ms = info.duration_ms - real_ms
    if result.returncode != 0 or missing_ms > max(500, info.duration_ms // 100):
        raise AudioRejected("truncated_audio", f"The file ends {missing_ms / 1000:.1f} s before its header "
                                               "says it should: it looks truncated. Upload it again.")


# Streaming writers put these in the size field when they cannot know the size in advance.
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)


def pcm_data_sizes(path: Path, container: str) -> tuple[int | None, int]:
    """(bytes of audio the header declares, bytes actually present) for WAV or AIFF.
    The declared size is None when the header does not state one."""
    big_endian = container == "aiff"
    wanted = b"SSND" if big_endian else b"data"
    file_size = path.stat().st_size
    with open(path, "rb") as stream:
        stream.seek(12)  # RIFF/FORM header: id, size, type
        while True:
            header = stream.read(8)
            if len(header) < 8:
                return None, 0
            chunk_id, size = header[:4], int.from_bytes(header[4:], "big" if big_endian else "little")
            if chunk_id == wanted:
                present = file_size - stream.tell()
                return (None if size in _UNKNOWN_SIZES else size), present
            stream.seek(size + (size & 1), 1)  # chunks are padded to even sizes
