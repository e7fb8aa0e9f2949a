"""Files delivered to buyers: an untagged 320 kbps MP3 (a lease's marked with its license's
inaudible mark) and a WAV made from the master, and ID3v2.4 tags that carry the license and the
credits."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from mutagen.id3 import COMM, ID3, TCOM, TIPL, TIT2, TPE1, TXXX

from marketplace.audio import watermark
from marketplace.audio.errors import AudioProcessingFailed

ENCODE_TIMEOUT_SECONDS = 900


def _ffmpeg(args: list[str]) -> None:
    result = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *args],
                            capture_output=True, timeout=ENCODE_TIMEOUT_SECONDS, check=False)
    if result.returncode != 0:
        raise AudioProcessingFailed(result.stderr.decode(errors="replace")[-2000:])


MP3_OPTIONS = ["-map_metadata", "-1", "-c:a", "libmp3lame", "-b:a", "320k", "-ar", "44100", "-id3v2_version", "4"]


def encode_mp3(master: Path, out: Path, mark_seed: bytes | None = None) -> None:
    """MP3 320 kbps, 44.1 kHz, from the master, with no producer tag and no inherited metadata.
    With `mark_seed`, the audio carries the inaudible mark of that seed (see watermark): the
    master is decoded and analysed once per beat (kept for the beat's next licenses), and the
    marked audio is streamed to the encoder as 16-bit PCM (the MP3's own noise is far above
    its step), which the encoder reads for less than it takes to decode a file."""
    if mark_seed is None:
        _ffmpeg(["-i", str(master), "-map", "0:a:0", *MP3_OPTIONS, str(out)])
        return
    prepared = _prepared(master)
    marked = prepared.audio + watermark.mark_signal(prepared.shape, mark_seed)[:, None]
    np.multiply(marked, 32768, out=marked)
    pcm = np.clip(np.rint(marked, out=marked), -32768, 32767, out=marked).astype("<i2")
    result = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", "-f", "s16le",
                             "-ar", str(watermark.RATE), "-ac", "2", "-i", "pipe:0",
                             *(["-ac", "1"] if prepared.shape.mono else []), *MP3_OPTIONS, str(out)],
                            input=pcm.tobytes(), capture_output=True, timeout=ENCODE_TIMEOUT_SECONDS, check=False)
    if result.returncode != 0:
        raise AudioProcessingFailed(result.stderr.decode(errors="replace")[-2000:])


@dataclasses.dataclass(frozen=True)
class _Prepared:
    audio: np.ndarray  # the decoded master, (samples, 2) float32
    shape: watermark.Shape


# The masters marked last, by content: the licenses of one beat are usually built together,
# and each then costs only its own pattern. A decoded master takes about 10 MB a minute.
_PREPARED: OrderedDict[str, _Prepared] = OrderedDict()
PREPARED_KEPT = 2
_PREPARED_LOCK = threading.Lock()


def _prepared(master: Path) -> _Prepared:
    with master.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
    with _PREPARED_LOCK:
        if digest in _PREPARED:
            _PREPARED.move_to_end(digest)
            return _PREPARED[digest]
    audio = watermark.decode(master)
    prepared = _Prepared(audio, watermark.shape_of(audio))
    with _PREPARED_LOCK:
        _PREPARED[digest] = prepared
        while len(_PREPARED) > PREPARED_KEPT:
            _PREPARED.popitem(last=False)
    return prepared


def forget_mark_shapes() -> None:
    with _PREPARED_LOCK:
        _PREPARED.clear()


def encode_wav(master: Path, out: Path, bits: int = 24) -> None:
    """A WAV of a lossless master (FLAC, AIFF), keeping its sample rate."""
    codec = "pcm_s24le" if bits > 16 else "pcm_s16le"
    _ffmpeg(["-i", str(master), "-map", "0:a:0", "-map_metadata", "-1", "-c:a", codec, str(out)])


def tag_mp3(path: Path, *, title: str, artist: str, involved_people: Sequence[tuple[str, str]],
            composers: Sequence[str], license_number: str, credit_line: str) -> None:
    """Write ID3v2.4 tags: title, artist, involved people (role, name), composer, license."""
    tags = ID3()
    tags.add(TIT2(encoding=3, text=title))
    tags.add(TPE1(encoding=3, text=artist))
    if involved_people:
        tags.add(TIPL(encoding=3, people=[[role, name] for role, name in involved_people]))
    if composers:
        tags.add(TCOM(encoding=3, text=list(composers)))
    tags.add(TXXX(encoding=3, desc="LICENSE_NUMBER", text=license_number))
    tags.add(TXXX(encoding=3, desc="CREDIT_LINE", text=credit_line))
    tags.add(COMM(encoding=3, lang="eng", desc="license", text=f"Licensed under {license_number}. {credit_line}"))
    tags.save(path, v2_version=4)
