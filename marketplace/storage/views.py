"""Signed, expiring links to privately stored files (the local backend's presigned URLs)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, send_file

from marketplace.common.errors import AppError, NotFound
from marketplace.storage.base import MissingFile, StorageError
from marketplace.storage.local import LocalStorage
from marketplace.storage.service import BadSignature, LinkExpired, link_guard, read_link_token, storage

bp = Blueprint("files", __name__)

# A guarded link to a file kept in S3 is answered with a redirect to a presigned URL this short-lived:
# the guard is asked again on every use of the app's link.
GUARDED_REDIRECT_SECONDS = 60


class LinkExpiredError(AppError):
    status = 410
    code = "link_expired"
    message = "This download link has expired. Ask for a new one."


@bp.get("/files/<token>")
def download(token: str):
    try:
        target = read_link_token(current_app.config["SECRET_KEY"], token)
    except LinkExpired:
        raise LinkExpiredError() from None
    except BadSignature:
        raise NotFound("No such file.", code="file_not_found") from None
    key, download_name, content_type = target.key, target.download_name, target.content_type
    if target.guard is not None:
        _check_guard(*target.guard)
    backend = storage()
    if not isinstance(backend, LocalStorage):
        if target.guard is None:
            raise NotFound("No such file.", code="file_not_found")
        try:
            return redirect(backend.signed_url(key, GUARDED_REDIRECT_SECONDS, download_name=download_name,
                                               content_type=content_type), 302)
        except StorageError:
            raise NotFound("No such file.", code="file_not_found") from None
    try:
        path = backend.path(key)
        if not path.is_file():
            raise MissingFile(key)
    except StorageError:  # missing, or a key no file can have
        raise NotFound("No such file.", code="file_not_found") from None
    response = send_file(path, mimetype=content_type, as_attachment=bool(download_name),
                         download_name=download_name, conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _check_guard(kind: str, subject_id: str) -> None:
    """Ask the link's guard whether its file may still be served; it raises when not."""
    guard = link_guard(kind)
    if guard is None:
        raise NotFound("No such file.", code="file_not_found")
    guard(subject_id)


def file_response(key: str, content_type: str, *, cache_seconds: int, private: bool = False) -> Response:
    """Serve a stored file to the client: streamed by the app with Range, ETag and
    Last-Modified for local storage, or a redirect to a presigned URL for S3."""
    backend = storage()
    if not isinstance(backend, LocalStorage):
        ttl = current_app.config["SIGNED_URL_TTL_SECONDS"] if private else max(cache_seconds, 600)
        return redirect(backend.signed_url(key, ttl, content_type=content_type), 302)
    path = backend.path(key)
    if not path.is_file():
        raise NotFound("No such file.", code="file_not_found")
    response = send_file(path, mimetype=content_type, conditional=True, etag=True, max_age=cache_seconds)
    response.headers["Cache-Control"] = "private, no-store" if private else f"public, max-age={cache_seconds}"
    return response
