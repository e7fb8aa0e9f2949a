"""Files in a private directory on this machine, served only through signed URLs."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from marketplace.storage.base import CHUNK_BYTES, HashingReader, MissingFile, StoredFile, check_key


class LocalStorage:
    def __init__(self, root: str | Path, url_signer) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._sign = url_signer

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def save(self, key: str, stream: BinaryIO, content_type: str | None = None) -> StoredFile:
        """Writes to a temporary file beside the target, then renames it into place."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        reader = HashingReader(stream)
        descriptor, partial = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
        try:
            with os.fdopen(descriptor, "wb") as out:
                shutil.copyfileobj(reader, out, CHUNK_BYTES)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
            raise
        return StoredFile(key=key, size=reader.size, sha256=reader.sha256)

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self.path(key), "rb")  # noqa: SIM115 - the caller closes it
        except FileNotFoundError:
            raise MissingFile(key) from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            raise MissingFile(key) from None

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()

    def move(self, source: str, target: str) -> None:
        destination = self.path(target)
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(self.path(source), destination)  # atomic on one filesystem
        except FileNotFoundError:
            raise MissingFile(source) from None

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        path = self.path(key)
        if not path.is_file():
            raise MissingFile(key)
        yield path

    def signed_url(self, key: str, expires_in: int, download_name: str | None = None,
                   content_type: str | None = None) -> str:
        check_key(key)
        return self._sign(key, expires_in, download_name, content_type)
