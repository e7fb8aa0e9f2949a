"""Stems archives: checked entry by entry from the ZIP's own headers, before anything is kept."""

from __future__ import annotations

import dataclasses
import stat
import zipfile
from pathlib import Path, PurePosixPath

from marketplace.audio.errors import AudioRejected

STEM_EXTENSIONS = {".wav", ".aif", ".aiff", ".flac", ".mp3"}
# The first bytes each audio container starts with.
_MAGIC = {b"RIFF": ".wav", b"FORM": ".aiff", b"fLaC": ".flac", b"ID3": ".mp3"}
_IGNORED = ("__MACOSX/",)


@dataclasses.dataclass(frozen=True)
class StemEntry:
    name: str
    size: int


def check_stems_zip(path: Path, *, max_entries: int, max_total_bytes: int) -> list[StemEntry]:
    """The audio entries of a stems ZIP, or AudioRejected. Sizes come from the headers and
    are enforced while reading, so a ZIP bomb is refused before it is expanded."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise AudioRejected("stems_not_zip", "Stems must be a ZIP archive.", 415) from None
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()
                 and not info.filename.startswith(_IGNORED) and not PurePosixPath(info.filename).name.startswith(".")]
        if not infos:
            raise AudioRejected("stems_empty", "The stems ZIP holds no files.")
        if len(infos) > max_entries:
            raise AudioRejected("stems_too_many_files", f"The stems ZIP holds {len(infos)} files; at most {max_entries}.")
        total = sum(info.file_size for info in infos)
        if total > max_total_bytes:
            raise AudioRejected("stems_too_large", f"The stems unpack to {total / 1024**3:.1f} GB; "
                                                   f"at most {max_total_bytes / 1024**3:g} GB.")
        return [_check_entry(archive, info) for info in infos]


def _check_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> StemEntry:
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        raise AudioRejected("stems_unsafe_path", f"{name!r} points outside the archive.")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise AudioRejected("stems_link", f"{name!r} is a link; only audio files are allowed.")
    extension = PurePosixPath(name).suffix.lower()
    if extension not in STEM_EXTENSIONS:
        raise AudioRejected("stems_not_audio", f"{name!r} is not an audio file (WAV, AIFF, FLAC or MP3).")
    try:
        with archive.open(info) as entry:
            head = entry.read(12)  # the read is bounded, whatever the entry claims
    except Exception:  # noqa: BLE001 - corrupt data fails in zlib, lzma or bz2 with their own errors
        raise AudioRejected("stems_unreadable", f"{name!r} cannot be read from the ZIP.") from None
    if not _looks_like_audio(head):
        raise AudioRejected("stems_not_audio", f"{name!r} does not contain audio.")
    return StemEntry(name=name, size=info.file_size)


def _looks_like_audio(head: bytes) -> bool:
    if any(head.startswith(magic) for magic in _MAGIC):
        return True
    # MPEG audio frames start with an 11-bit sync word.
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0
