from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import re
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK_BYTES = 1024 * 1024
_SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,511}$")


class StorageError(RuntimeError):
    pass


class MissingFile(StorageError):
    pass


@dataclasses.dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str


def check_key(key: str) -> str:
    """Keys are made by the code, never by users; still, refuse anything path-like."""
    if not _SAFE_KEY.match(key) or ".." in key.split("/") or "//" in key:
        raise StorageError(f"unsafe storage key {key!r}")
    return key


class HashingReader:
    """Wraps a binary stream, counting and hashing what is read through it."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._hash = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._hash.update(data)
        self.size += len(data)
        return data

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


class Storage(Protocol):
    """What every backend does. Keys look like "masters/bt_x/master.wav"."""

    def save(self, key: str, stream: BinaryIO, content_type: str | None = None) -> StoredFile: ...

    def open(self, key: str) -> BinaryIO: ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...

    def delete(self, key: str) -> None: ...

    def move(self, source: str, target: str) -> None:
        """Replace `target` with `source` as one step, so readers never see half a file."""

    def local_copy(self, key: str) -> contextlib.AbstractContextManager[Path]:
        """A path on this machine holding the file, for the duration of the block."""

    def signed_url(self, key: str, expires_in: int, download_name: str | None = None,
                   content_type: str | None = None) -> str: ...
