"""Files delivered to buyers: an untagged 320 kbps MP3 (a lease's marked with its license's
inaudible mark) and a WAV made from the master, and ID3v2.4 tags that carry the license and the
credits."""

from __future__ import annotations

import hashlib
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

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
    encoder decodes the master as for an unmarked build and adds the mark, streamed to it."""
    if mark_seed is None:
        _ffmpeg(["-i", str(master), "-map", "0:a:0", *MP3_OPTIONS, str(out)])
        return
    shape = mark_shape(master)
    mark = watermark.mark_signal(shape, mark_seed)
    # Both inputs counted from their first sample, the master brought to the rate and channels
    # its shape was measured at, and the two summed as they are (no normalisation).
    mix = (f"[0:a:0]aresample={watermark.RATE},aformat=sample_fmts=flt:channel_layouts=stereo,asetpts=N/SR/TB[a];"
           "[1:a]aformat=sample_fmts=flt:channel_layouts=stereo,asetpts=N/SR/TB[m];"
           "[a][m]amix=inputs=2:normalize=0:duration=first[out]")
    result = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", "-i", str(master),
                             "-f", "f32le", "-ar", str(watermark.RATE), "-ac", "1", "-i", "pipe:0",
                             "-filter_complex", mix, "-map", "[out]", *(["-ac", "1"] if shape.mono else []),
                             *MP3_OPTIONS, str(out)],
                            input=mark.astype("<f4", copy=False).tobytes(), capture_output=True,
                            timeout=ENCODE_TIMEOUT_SECONDS, check=False)
    if result.returncode != 0:
        raise AudioProcessingFailed(result.stderr.decode(errors="replace")[-2000:])


# The shapes of the masters marked last, by content: the licenses of one beat are usually built
# together, and each then costs only its own pattern.
_SHAPES: OrderedDict[str, watermark.Shape] = OrderedDict()
SHAPES_KEPT = 4
_SHAPES_LOCK = threading.Lock()


def mark_shape(master: Path) -> watermark.Shape:
    with master.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
    with _SHAPES_LOCK:
        if digest in _SHAPES:
            _SHAPES.move_to_end(digest)
            return _SHAPES[digest]
    shape = watermark.shape_of(watermark.decode(master))
    with _SHAPES_LOCK:
        _SHAPES[digest] = shape
        while len(_SHAPES) > SHAPES_KEPT:
            _SHAPES.popitem(last=False)
    return shape


def forget_mark_shapes() -> None:
    with _SHAPES_LOCK:
        _SHAPES.clear()


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
