"""Stems archives: checked entry by entry from the ZIP's own headers, before anything is kept."""

from __future__ import annotations

import dataclasses
import stat
import struct
import zipfile
import zlib
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
        every = archive.infolist()  # folders and ignored files too: whoever unzips gets them all
        for info in every:
            _check_name(info)
        infos = [info for info in every if not info.is_dir()
                 and not info.filename.startswith(_IGNORED) and not PurePosixPath(info.filename).name.startswith(".")]
        if not infos:
            raise AudioRejected("stems_empty", "The stems ZIP holds no files.")
        if len(infos) > max_entries:
            raise AudioRejected("stems_too_many_files", f"The stems ZIP holds {len(infos)} files; at most {max_entries}.")
        total = sum(info.file_size for info in every)
        if total > max_total_bytes:
            raise AudioRejected("stems_too_large", f"The stems unpack to {total / 1024**3:.1f} GB; "
                                                   f"at most {max_total_bytes / 1024**3:g} GB.")
        entries = [_check_entry(archive, info) for info in infos]
        for info in every:
            _check_data(path, info)
        return entries


def _check_name(info: zipfile.ZipInfo) -> None:
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        raise AudioRejected("stems_unsafe_path", f"{name!r} points outside the archive.")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise AudioRejected("stems_link", f"{name!r} is a link; only audio files are allowed.")


def _check_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> StemEntry:
    name = info.filename
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


_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # signature ... file name length, extra field length
_READ_BYTES = 1024 * 1024


def _check_data(path: Path, info: zipfile.ZipInfo) -> None:
    """Unpack an entry, never further than its declared size and one byte: it must hold
    exactly what its header declares, with the right CRC. An entry that unpacks to more than
    it declares (a ZIP bomb in disguise) is refused after one byte too many, so the work is
    bounded by the declared sizes, already checked; a damaged one is refused too, rather than
    sold."""
    name = info.filename
    if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise AudioRejected("stems_unreadable", f"{name!r} is encrypted or compressed in a way we cannot "
                                                "read. Make it again with standard (Deflate) compression.")
    inflate = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type == zipfile.ZIP_DEFLATED else None
    size, crc = 0, 0
    with open(path, "rb") as stream:
        stream.seek(info.header_offset)
        header = stream.read(_LOCAL_HEADER.size)
        if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            raise AudioRejected("stems_unreadable", f"{name!r} cannot be read from the ZIP.")
        name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
        stream.seek(name_length + extra_length, 1)
        left = info.compress_size
        while left > 0:
            raw = stream.read(min(left, _READ_BYTES))
            if not raw:
                break
            left -= len(raw)
            try:
                data = inflate.decompress(raw, info.file_size - size + 1) if inflate else raw
            except zlib.error:
                break  # corrupt data: refused below
            size, crc = size + len(data), zlib.crc32(data, crc)
            if size > info.file_size:
                raise AudioRejected("stems_size_mismatch",
                                    f"{name!r} unpacks to more than the {info.file_size} bytes its header "
                                    "declares: the ZIP is damaged or forged.")
    complete = left == 0 and (inflate is None or inflate.eof)
    if not complete or size != info.file_size or crc != info.CRC:
        raise AudioRejected("stems_unreadable", f"{name!r} is damaged in the ZIP (its data does not match "
                                                "its header). Make the ZIP again.")
