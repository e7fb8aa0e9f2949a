"""Uploaded files: spooled to named temporary files (never to memory), and checked before
any view sees them."""

from __future__ import annotations

import os
import tempfile
import unicodedata

from flask import Request, current_app
from werkzeug.datastructures import FileStorage, MultiDict

from marketplace.api.storable_text import unstorable
from marketplace.common.errors import AppError

MAX_FILENAME_CHARS = 255


class MarketplaceRequest(Request):
    """Spools uploaded files to named temporary files (never to memory), so they can be
    checked with ffprobe by path and then streamed to storage. They vanish when closed."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        folder = current_app.config.get("UPLOAD_TMP_DIR")
        return tempfile.NamedTemporaryFile(prefix="upload-", dir=folder)  # noqa: SIM115


def _spooled_size(upload: FileStorage) -> int:
    stream = upload.stream
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def checked_files(files: MultiDict) -> MultiDict:
    """The uploaded files, without the empty nameless parts browsers send for file inputs left
    empty. A file name no file should have (control characters, longer than any file system
    allows) or a file with no bytes is refused, naming its form field."""
    kept = MultiDict()
    for field, upload in files.items(multi=True):
        name, size = upload.filename or "", _spooled_size(upload)
        if not name and size == 0:
            continue  # no file chosen
        if len(name) > MAX_FILENAME_CHARS or unstorable(name) \
                or any(unicodedata.category(char) == "Cc" for char in name):
            raise AppError(f"File names must be at most {MAX_FILENAME_CHARS} characters long, without "
                           "control characters (line breaks, NUL, escape codes). Rename the file and "
                           "try again.",
                           code="invalid_filename", status=422, details={"field": field})
        if size == 0:
            raise AppError("The file is empty.", code="empty_file", status=422, details={"field": field})
        kept.add(field, upload)
    return kept
