"""What an uploaded file really is, decided by ffprobe (never by its name or MIME type)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

from marketplace.audio.errors import AudioRejected

LOSSLESS_MIN_SAMPLE_RATE = 44_100
PROBE_TIMEOUT_SECONDS = 120


@dataclasses.dataclass(frozen=True)
class AudioFormat:
    name: str  # what we call it (also the stored file's extension)
    label: str  # what people call it
    demuxer: str  # ffprobe's format_name
    lossless: bool
    extensions: tuple[str, ...]
    content_types: tuple[str, ...]
    codecs: frozenset[str] | None = None  # None: any audio codec ffmpeg decodes in this container


FORMATS = {f.name: f for f in (
    AudioFormat("wav", "WAV", "wav", True, (".wav",), ("audio/wav", "audio/x-wav", "audio/wave")),
    AudioFormat("aiff", "AIFF", "aiff", True, (".aif", ".aiff"), ("audio/aiff", "audio/x-aiff")),
    AudioFormat("flac", "FLAC", "flac", True, (".flac",), ("audio/flac", "audio/x-flac")),
    AudioFormat("mp3", "MP3", "mp3", False, (".mp3",), ("audio/mpeg", "audio/mp3")),
    AudioFormat("ogg", "OGG", "ogg", False, (".ogg", ".oga", ".opus"), ("audio/ogg", "audio/opus"),
                frozenset({"vorbis", "opus", "flac"})),
    AudioFormat("m4a", "M4A (AAC)", "mov,mp4,m4a,3gp,3g2,mj2", False, (".m4a",),
                ("audio/mp4", "audio/x-m4a", "audio/m4a", "audio/aac"), frozenset({"aac"})),
)}


@dataclasses.dataclass(frozen=True)
class AudioUse:
    """What one kind of upload accepts."""
    formats: tuple[str, ...]
    min_sample_rate_lossless: int | None  # the lossless delivery rule, for masters only

    @property
    def labels(self) -> str:
        labels = [FORMATS[name].label for name in self.formats]
        return ", ".join(labels[:-1]) + " or " + labels[-1]


# Masters are sold as they are (and as WAV): lossless at CD quality, or MP3.
MASTER = AudioUse(("wav", "aiff", "flac", "mp3"), LOSSLESS_MIN_SAMPLE_RATE)
# Voice tags come from phones and text-to-speech tools; they are converted when stored.
VOICE_TAG = AudioUse(("wav", "aiff", "flac", "mp3", "ogg", "m4a"), None)


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


def probe_audio(path: Path, *, min_seconds: float, max_seconds: float, use: AudioUse = MASTER) -> AudioInfo:
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
    stream = audio_streams[0]
    audio_format = _accepted_format(use, demuxer, stream.get("codec_name", ""))
    info = AudioInfo(format=audio_format.name, codec=stream.get("codec_name", ""),
                     lossless=audio_format.lossless,
                     duration_ms=_duration_ms(described, stream), sample_rate=int(stream.get("sample_rate") or 0),
                     channels=int(stream.get("channels") or 0),
                     bits=int(stream.get("bits_per_raw_sample") or stream.get("bits_per_sample") or 16))
    if info.format in ("wav", "aiff"):
        _check_pcm_complete(path, info)  # cheap, and a truer reason than the length ffprobe guessed
    _check_rules(info, min_seconds, max_seconds, use)
    if info.format not in ("wav", "aiff"):
        _check_complete(path, info)
    return info


def _accepted_format(use: AudioUse, demuxer: str, codec: str) -> AudioFormat:
    for name in use.formats:
        candidate = FORMATS[name]
        if candidate.demuxer == demuxer and (candidate.codecs is None or codec in candidate.codecs):
            return candidate
    known = [f.label for f in FORMATS.values() if f.demuxer == demuxer]
    described = f"{known[0] if known else demuxer.split(',')[0].upper()} audio" if demuxer else "This audio"
    raise AudioRejected("unsupported_audio_format", f"{described} is not accepted here. Upload {use.labels}.",
                        415)


def _duration_ms(described: dict, stream: dict) -> int:
    raw = stream.get("duration") or described.get("format", {}).get("duration")
    try:
        return int(float(raw) * 1000)
    except (TypeError, ValueError):
        raise AudioRejected("unreadable_audio", "The length of this audio cannot be read.") from None


def _check_rules(info: AudioInfo, min_seconds: float, max_seconds: float, use: AudioUse) -> None:
    seconds = info.duration_ms / 1000
    if seconds < min_seconds:
        raise AudioRejected("audio_too_short", f"The audio lasts {seconds:.1f} s; at least {min_seconds:g} s is needed.")
    if seconds > max_seconds:
        raise AudioRejected("audio_too_long", f"The audio lasts {seconds / 60:.1f} min; at most "
                                              f"{max_seconds / 60:g} min is accepted.")
    if info.channels < 1 or info.channels > 2:
        raise AudioRejected("too_many_channels", f"The audio has {info.channels} channels; mono or stereo only.")
    minimum = use.min_sample_rate_lossless
    if minimum is not None and info.lossless and info.sample_rate < minimum:
        raise AudioRejected("sample_rate_too_low", f"Lossless masters need at least {minimum / 1000:g} kHz; "
                                                   f"this one is {info.sample_rate / 1000:g} kHz.")


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
