"""Cover images: recognised by their first bytes, not by their names."""

from __future__ import annotations

from pathlib import Path

from marketplace.errors import AppError

_SIGNATURES = [(b"\xff\xd8\xff", "image/jpeg", "jpg"), (b"\x89PNG\r\n\x1a\n", "image/png", "png")]


def check_cover(path: Path, max_bytes: int) -> tuple[str, str]:
    """(content type, extension) of a JPEG, PNG or WebP cover, or an AppError saying why not."""
    size = path.stat().st_size
    if size == 0:
        raise AppError("The cover image is empty.", code="empty_file", status=422, details={"field": "cover"})
    if size > max_bytes:
        raise AppError(f"Cover images are at most {max_bytes // 1024**2} MB.", code="cover_too_large",
                       status=413, details={"field": "cover"})
    with open(path, "rb") as image:
        head = image.read(12)
    for signature, content_type, extension in _SIGNATURES:
        if head.startswith(signature):
            return content_type, extension
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "webp"
    raise AppError("Covers must be JPEG, PNG or WebP images.", code="unsupported_image", status=415,
                   details={"field": "cover"})
