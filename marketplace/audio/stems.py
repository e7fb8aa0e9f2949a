"""Stems archives: checked entry by entry from the ZIP's own headers, before anything is kept,
and rebuilt by the platform from the entries that passed, so buyers receive only those.

What happens to each kind of entry:
* audio files (WAV, AIFF, FLAC, MP3, by name and by content): kept, under their checked name;
* folders, `__MACOSX/` and dot files (`.DS_Store`, `._drums.wav`): dropped, never delivered;
* executables (by name or content), links, paths leaving the archive, names with control
  characters, two files of one name, entries whose local header names another file than the
  central directory, and any other file: the whole ZIP is refused, saying which entry and why.
"""

from __future__ import annotations

import dataclasses
import stat
import struct
import unicodedata
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from marketplace.audio.errors import AudioRejected

STEM_EXTENSIONS = {".wav", ".aif", ".aiff", ".flac", ".mp3"}
# The first bytes each audio container starts with.
_MAGIC = {b"RIFF": ".wav", b"FORM": ".aiff", b"fLaC": ".flac", b"ID3": ".mp3"}
_JUNK_FOLDERS = ("__MACOSX/",)
EXECUTABLE_EXTENSIONS = {".exe", ".com", ".bat", ".cmd", ".msi", ".scr", ".pif", ".ps1", ".vbs", ".js",
                         ".jar", ".sh", ".command", ".app", ".dll", ".so", ".dylib", ".bin", ".run", ".apk",
                         ".dmg", ".pkg", ".deb", ".rpm", ".py", ".pl", ".lnk"}
# Windows PE, ELF, Mach-O (32/64-bit, both byte orders, universal) and scripts.
_EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf",
                     b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")
# The listing may hold more than the audio files: their folders, and the `__MACOSX/` and dot
# files macOS adds (about one of each per file). More than this many listed entries per allowed
# file, or directory records longer than this on average, is not a stems folder.
LISTED_PER_FILE = 4
DIRECTORY_BYTES_PER_ENTRY = 1024


@dataclasses.dataclass(frozen=True)
class StemEntry:
    name: str
    size: int


@dataclasses.dataclass(frozen=True)
class StemsArchive:
    entries: list[StemEntry]  # what the rebuilt ZIP holds
    dropped: list[str]  # folders and system files left out


@dataclasses.dataclass(frozen=True)
class Directory:
    """What the End Of Central Directory record says, read before anything else."""
    entries: int
    size: int
    offset: int


def check_stems_zip(path: Path, out: Path, *, max_entries: int, max_total_bytes: int) -> StemsArchive:
    """Check a stems ZIP and write to `out` a new ZIP of its audio entries only, or raise
    AudioRejected. The listing is bounded before it is parsed, sizes come from the headers and
    are enforced while reading, so a ZIP bomb is refused before it is expanded."""
    directory = read_directory_record(path)
    _check_directory_bounds(directory, path.stat().st_size, max_entries)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise AudioRejected("stems_not_zip", "Stems must be a ZIP archive.", 415) from None
    with archive:
        every = archive.infolist()
        if len(every) != directory.entries:
            raise AudioRejected("stems_unreadable", f"The ZIP's directory announces {directory.entries} "
                                                    f"entries but lists {len(every)}: it is damaged. "
                                                    "Make it again.")
        kept, dropped = _sort_entries(every)
        if not kept:
            raise AudioRejected("stems_empty", "The stems ZIP holds no audio files.")
        if len(kept) > max_entries:
            raise AudioRejected("stems_too_many_files",
                                f"The stems ZIP holds {len(kept)} files; at most {max_entries}.")
        total = sum(info.file_size for info in kept)
        if total > max_total_bytes:
            raise AudioRejected("stems_too_large", f"The stems unpack to {total / 1024**3:.1f} GB; "
                                                   f"at most {max_total_bytes / 1024**3:g} GB.")
        with open(path, "rb") as source:
            for info in every:
                _check_local_name(source, info)
        with open(path, "rb") as source, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as rebuilt:
            entries = [_copy_entry(source, info, rebuilt) for info in kept]
    return StemsArchive(entries=entries, dropped=[info.filename for info in dropped])


# -- the directory, before zipfile reads it ----------------------------------------------------------

# id, disk, directory's disk, entries here, entries, directory size, offset, comment length
_END = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")  # id, disk, offset of the ZIP64 record, disks
# id, record size, versions, disks, entries here, entries, directory size, offset
_ZIP64_END = struct.Struct("<4sQ2H2L4Q")
_MAX_COMMENT = 0xFFFF


def read_directory_record(path: Path) -> Directory:
    """Entry count, size and offset of the central directory, from the End Of Central Directory
    record (and its ZIP64 form), without reading the directory itself."""
    file_size = path.stat().st_size
    with open(path, "rb") as stream:
        tail_start = max(0, file_size - _END.size - _MAX_COMMENT)
        stream.seek(tail_start)
        tail = stream.read()
        at = _end_record_at(tail)
        _sig, disk, directory_disk, here, entries, size, offset, _comment = _END.unpack_from(tail, at)
        if 0xFFFF in (here, entries) or 0xFFFFFFFF in (size, offset):
            return _zip64_directory(stream, tail_start + at)
    if disk or directory_disk or here != entries:
        raise AudioRejected("stems_unreadable", "The ZIP is split across several files; make it as one file.")
    return Directory(entries=entries, size=size, offset=offset)


def _end_record_at(tail: bytes) -> int:
    """Where the end record starts: the last signature whose comment reaches the end of the file
    exactly (a comment may itself hold the signature's bytes)."""
    candidates, at = [], tail.rfind(b"PK\x05\x06")
    while at >= 0:
        if len(tail) - at >= _END.size:
            candidates.append(at)
            if at + _END.size + _END.unpack_from(tail, at)[-1] == len(tail):
                return at
        at = tail.rfind(b"PK\x05\x06", 0, at)
    if not candidates:
        raise AudioRejected("stems_not_zip", "Stems must be a ZIP archive.", 415)
    return candidates[0]  # as ZIP readers do: the last one


def _zip64_directory(stream: BinaryIO, end_at: int) -> Directory:
    unreadable = AudioRejected("stems_unreadable", "The ZIP's directory cannot be read. Make the ZIP again.")
    if end_at < _ZIP64_LOCATOR.size:
        raise unreadable
    stream.seek(end_at - _ZIP64_LOCATOR.size)
    record_id, _disk, record_at, disks = _ZIP64_LOCATOR.unpack(stream.read(_ZIP64_LOCATOR.size))
    if record_id != b"PK\x06\x07":
        raise unreadable
    stream.seek(record_at)
    raw = stream.read(_ZIP64_END.size)
    if len(raw) < _ZIP64_END.size or raw[:4] != b"PK\x06\x06":
        raise unreadable
    _sig, _size, _made, _needed, disk, directory_disk, here, entries, size, offset = _ZIP64_END.unpack(raw)
    if disks > 1 or disk or directory_disk or here != entries:
        raise AudioRejected("stems_unreadable", "The ZIP is split across several files; make it as one file.")
    return Directory(entries=entries, size=size, offset=offset)


def _check_directory_bounds(directory: Directory, file_size: int, max_entries: int) -> None:
    max_listed = max_entries * LISTED_PER_FILE
    if directory.entries > max_listed:
        raise AudioRejected("stems_too_many_files",
                            f"The stems ZIP lists {directory.entries:,} entries; at most {max_listed} are "
                            f"read (for up to {max_entries} audio files with their folders and system "
                            "files).")
    max_bytes = max_listed * DIRECTORY_BYTES_PER_ENTRY
    if directory.size > max_bytes:
        raise AudioRejected("stems_directory_too_large",
                            f"The stems ZIP's list of files takes {directory.size / 1024:,.0f} KB; at most "
                            f"{max_bytes // 1024} KB is read. Make it again with short file names.")
    if directory.offset + directory.size > file_size:
        raise AudioRejected("stems_unreadable", "The ZIP's directory lies beyond its end: it is truncated or "
                                                "damaged. Make it again.")


# -- sorting the entries --------------------------------------------------------------------------

def _sort_entries(every: list[zipfile.ZipInfo]) -> tuple[list[zipfile.ZipInfo], list[zipfile.ZipInfo]]:
    """(audio entries to keep, folders and system files to drop), or AudioRejected."""
    kept, dropped, seen = [], [], set()
    for info in every:
        _check_name(info)
        if info.is_dir() or _is_system_file(info.filename):
            dropped.append(info)
            continue
        name = info.filename
        if PurePosixPath(name).suffix.lower() not in STEM_EXTENSIONS:
            raise AudioRejected("stems_not_audio", f"{name!r} is not an audio file (WAV, AIFF, FLAC or MP3).")
        folded = safe_name(name).casefold()
        if folded in seen:
            raise AudioRejected("stems_duplicate_name",
                                f"{name!r} is in the ZIP twice; each file needs its own name.")
        seen.add(folded)
        kept.append(info)
    return kept, dropped


def _is_system_file(name: str) -> bool:
    return name.startswith(_JUNK_FOLDERS) or any(part.startswith(".") for part in PurePosixPath(name).parts)


def _check_name(info: zipfile.ZipInfo) -> None:
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        raise AudioRejected("stems_unsafe_path", f"{name!r} points outside the archive.")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise AudioRejected("stems_link", f"{name!r} is a link; only audio files are allowed.")
    if any(unicodedata.category(char) in ("Cc", "Cf") and char not in "\u200c\u200d" for char in name):
        raise AudioRejected("stems_unsafe_name", f"{name!r} has control or invisible formatting characters "
                                                 "in its name; rename it.")
    if PurePosixPath(name.replace("\\", "/")).suffix.lower() in EXECUTABLE_EXTENSIONS:
        raise AudioRejected("stems_executable", f"{name!r} is a program; stems ZIPs hold audio files only.")


def safe_name(name: str) -> str:
    """The entry's name in the rebuilt ZIP: forward slashes, composed Unicode, no `./`."""
    parts = [part for part in PurePosixPath(name.replace("\\", "/")).parts if part != "."]
    return unicodedata.normalize("NFC", "/".join(parts))


# -- reading and copying --------------------------------------------------------------------------

_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # signature ... file name length, extra field length
_READ_BYTES = 1024 * 1024


def _local_header(stream: BinaryIO, info: zipfile.ZipInfo) -> bytes:
    """The file name the entry's local header gives, leaving `stream` at the entry's data."""
    stream.seek(info.header_offset)
    header = stream.read(_LOCAL_HEADER.size)
    if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise AudioRejected("stems_unreadable", f"{info.filename!r} cannot be read from the ZIP.")
    name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
    local_name = stream.read(name_length)
    stream.seek(extra_length, 1)
    return local_name


def _check_local_name(stream: BinaryIO, info: zipfile.ZipInfo) -> None:
    """Unzip tools that stream read the local headers, others the central directory: an entry
    they would name differently is a disguise (a harmless name in one, a program in the other)."""
    local_name = _local_header(stream, info)
    encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
    if local_name.decode(encoding, errors="replace") != info.orig_filename:
        shown = local_name.decode(encoding, errors="replace")
        raise AudioRejected("stems_name_mismatch",
                            f"{info.filename!r} is named {shown!r} in its local header: the ZIP hides one "
                            "file under another's name. Make it again.")


def _copy_entry(source: BinaryIO, info: zipfile.ZipInfo, rebuilt: zipfile.ZipFile) -> StemEntry:
    """Unpack an entry, never further than its declared size and one byte, into the rebuilt
    ZIP: it must be audio and hold exactly what its header declares, with the right CRC. An
    entry that unpacks to more than it declares (a ZIP bomb in disguise) is refused after one
    byte too many, so the work is bounded by the declared sizes, already checked; a damaged
    one is refused too, rather than sold."""
    name = info.filename
    if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise AudioRejected("stems_unreadable", f"{name!r} is encrypted or compressed in a way we cannot "
                                                "read. Make it again with standard (Deflate) compression.")
    inflate = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type == zipfile.ZIP_DEFLATED else None
    _local_header(source, info)
    target = zipfile.ZipInfo(safe_name(name), date_time=info.date_time)
    target.file_size = info.file_size
    target.external_attr = (stat.S_IFREG | 0o644) << 16  # a plain file, never executable once unzipped
    size, crc, head, left = 0, 0, b"", info.compress_size
    with rebuilt.open(target, "w", force_zip64=info.file_size >= zipfile.ZIP64_LIMIT) as out:
        while left > 0:
            raw = source.read(min(left, _READ_BYTES))
            if not raw:
                break
            left -= len(raw)
            try:
                data = inflate.decompress(raw, info.file_size - size + 1) if inflate else raw
            except zlib.error:
                break  # corrupt data: refused below
            if len(head) < 12:
                head = _check_head(name, head + data[:12 - len(head)], final=False)
            size, crc = size + len(data), zlib.crc32(data, crc)
            if size > info.file_size:
                raise AudioRejected("stems_size_mismatch",
                                    f"{name!r} unpacks to more than the {info.file_size} bytes its header "
                                    "declares: the ZIP is damaged or forged.")
            out.write(data)
        _check_head(name, head, final=True)
        complete = left == 0 and (inflate is None or inflate.eof)
        if not complete or size != info.file_size or crc != info.CRC:
            raise AudioRejected("stems_unreadable", f"{name!r} is damaged in the ZIP (its data does not "
                                                    "match its header). Make the ZIP again.")
    return StemEntry(name=target.filename, size=size)


def _check_head(name: str, head: bytes, *, final: bool) -> bytes:
    """The entry's first bytes must be audio, and never a program's."""
    if any(head.startswith(magic) for magic in _EXECUTABLE_MAGIC):
        raise AudioRejected("stems_executable", f"{name!r} is a program; stems ZIPs hold audio files only.")
    if (final or len(head) >= 12) and not _looks_like_audio(head):
        raise AudioRejected("stems_not_audio", f"{name!r} does not contain audio.")
    return head


def _looks_like_audio(head: bytes) -> bool:
    if any(head.startswith(magic) for magic in _MAGIC):
        return True
    # MPEG audio frames start with an 11-bit sync word.
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0
