"""The app's storage backend, chosen by STORAGE_BACKEND, and the signed links to local files."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from flask import Flask, current_app, has_app_context, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from marketplace.db import db
from marketplace.storage.base import Storage, StoredFile, check_key
from marketplace.storage.local import LocalStorage

_SALT = "storage-link"


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=_SALT)


def make_link_token(secret_key: str, key: str, expires_in: int, download_name: str | None,
                    content_type: str | None, guard: tuple[str, str] | None = None) -> str:
    """A signed link's token. A `guard` (kind, id) names what the file is served for, such as
    ("license", its id): the file route asks that guard again each time the link is used."""
    payload = [key, int(time.time()) + expires_in, download_name, content_type]
    return _serializer(secret_key).dumps(payload + [list(guard)] if guard else payload)


class LinkExpired(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class LinkTarget:
    key: str
    download_name: str | None
    content_type: str | None
    guard: tuple[str, str] | None = None


def read_link_token(secret_key: str, token: str) -> LinkTarget:
    """What a valid, unexpired link points at; BadSignature or LinkExpired."""
    key, expires_at, download_name, content_type, *guard = _serializer(secret_key).loads(token)
    if time.time() > expires_at:
        raise LinkExpired()
    return LinkTarget(key, download_name, content_type, tuple(guard[0]) if guard else None)


# A guard answers, each time a link naming it is used, whether its file may still be served:
# it raises an AppError saying why not (a revoked license). Features register their own.
LinkGuard = Callable[[str], None]
_LINK_GUARDS: dict[str, LinkGuard] = {}


def register_link_guard(kind: str, guard: LinkGuard) -> None:
    _LINK_GUARDS[kind] = guard


def link_guard(kind: str) -> LinkGuard | None:
    return _LINK_GUARDS.get(kind)


def guarded_link(key: str, expires_in: int, guard: tuple[str, str], download_name: str | None = None,
                 content_type: str | None = None) -> str:
    """A link served by the app whatever the backend, so the guard is asked at each use: a
    license revoked after the link was handed out downloads nothing from then on."""
    token = make_link_token(current_app.config["SECRET_KEY"], check_key(key), expires_in, download_name,
                            content_type, guard)
    return url_for("files.download", token=token, _external=False)


def _local_signer(app: Flask):
    def sign(key: str, expires_in: int, download_name: str | None, content_type: str | None) -> str:
        token = make_link_token(app.config["SECRET_KEY"], key, expires_in, download_name, content_type)
        return url_for("files.download", token=token, _external=False)
    return sign


def build_storage(app: Flask) -> Storage:
    backend = app.config["STORAGE_BACKEND"]
    if backend == "local":
        return LocalStorage(app.config["STORAGE_LOCAL_ROOT"], _local_signer(app))
    if backend == "s3":
        from marketplace.storage.s3 import S3Storage  # noqa: PLC0415 - boto3 only when used

        return S3Storage(app.config["STORAGE_S3_BUCKET"], app.config["STORAGE_S3_ENDPOINT_URL"],
                         app.config["STORAGE_S3_REGION"], app.config.get("STORAGE_S3_ACCESS_KEY"),
                         app.config.get("STORAGE_S3_SECRET_KEY"))
    raise ValueError(f"STORAGE_BACKEND must be 'local' or 's3', not {backend!r}")


def init_storage(app: Flask) -> None:
    app.extensions["storage"] = build_storage(app)


def save_atomically(local: Path, key: str, content_type: str) -> StoredFile:
    """Store a local file under a temporary key, then move it into place, so readers of
    `key` only ever see a complete file (a crash leaves at most a stray temporary)."""
    backend = storage()
    temporary = f"tmp/{uuid.uuid4().hex}-{Path(key).name}"
    with open(local, "rb") as stream:
        saved = backend.save(temporary, stream, content_type)
    backend.move(temporary, key)
    return StoredFile(key=key, size=saved.size, sha256=saved.sha256)


def save_in_transaction(key: str, stream, content_type: str | None = None) -> StoredFile:
    """Store a file that belongs to the current database transaction: if the transaction
    rolls back, the file is deleted, so no upload outlives a refused request."""
    db.session.connection()  # make sure a transaction is open, so its rollback is seen
    saved = storage().save(key, stream, content_type)
    db.session.info.setdefault(_WRITTEN, []).append(key)
    return saved


def delete_after_commit(key: str) -> None:
    """Delete a stored file once the current transaction commits (a file the database no
    longer names, such as a replaced cover); if it rolls back, the file stays."""
    db.session.connection()
    db.session.info.setdefault(_UNWANTED, []).append(key)


_WRITTEN = "files_written"
_UNWANTED = "files_unwanted"


def keep_files_after_commit(session: Session) -> None:
    """The transaction committed: its files stay, and the files it no longer names go."""
    session.info.pop(_WRITTEN, None)
    unwanted = session.info.pop(_UNWANTED, [])
    if unwanted and has_app_context():
        backend = storage()
        for key in unwanted:
            backend.delete(key)


def delete_files_after_rollback(session: Session, _previous_transaction) -> None:
    """The transaction rolled back: the files it stored go, and the files it no longer named stay."""
    session.info.pop(_UNWANTED, None)
    keys = session.info.pop(_WRITTEN, [])
    if keys and has_app_context():
        backend = storage()
        for key in keys:
            backend.delete(key)


def storage() -> Storage:
    return current_app.extensions["storage"]


__all__ = ["BadSignature", "LinkExpired", "LinkTarget", "guarded_link", "init_storage", "read_link_token",
           "register_link_guard", "storage"]
