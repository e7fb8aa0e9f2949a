"""The platform's keys that sign license certificates.

Private keys are files in the keys folder (LICENSE_SIGNING_KEYS_DIR), one Ed25519 key each,
as PEM or as a JWK, readable by the app's user alone. Their public halves are registered in
`license_signing_keys` under their key id (the RFC 7638 thumbprint, the same on every server)
and published at /.well-known/jwks.json. One key is active and signs; a rotation makes a new
key active and retires the old one, which stays published so every certificate it signed
still verifies. Services here never commit.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from flask import current_app
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.common.errors import Conflict
from marketplace.licensing.models import SigningKey, SigningKeyState

KEY_SUFFIXES = (".pem", ".jwk", ".json")
ALGORITHM = "EdDSA"  # RFC 8037: Ed25519 signatures, as JWT libraries name them


class SigningKeyUnavailable(RuntimeError):
    """The active key's private half is not in this server's keys folder: nothing is signed
    (the job fails and is retried) rather than signed with a key nobody can check."""


class KeyAlreadyUsed(Conflict):
    code = "signing_key_already_used"
    message = "This key has signed certificates before: a rotation needs a new key."


def read_private_key(path: Path) -> OKPKey:
    """An Ed25519 private key from a PEM or JWK file; ValueError saying what is wrong."""
    content = path.read_bytes()
    try:
        # A JWK is a JSON object; anything else is read as PEM.
        key = OKPKey.import_key(json.loads(content) if content.lstrip().startswith(b"{") else content)
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise ValueError(f"{path.name} is not an Ed25519 private key in PEM or JWK form ({error})") from None
    if key.as_dict(private=False).get("crv") != "Ed25519" or not key.is_private:
        raise ValueError(f"{path.name} is not an Ed25519 private key (an OKP key on the Ed25519 curve, "
                         "with its private part)")
    return key


def key_id(key: OKPKey) -> str:
    return key.thumbprint()


def _key_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted((path for path in folder.iterdir() if path.suffix in KEY_SUFFIXES and path.is_file()),
                  key=lambda path: (path.stat().st_mtime, path.name))


def key_folder_problems(folder: Path) -> list[str]:
    """What keeps this folder from signing certificates safely, in words (for production's checks)."""
    files = _key_files(folder)
    if not files:
        return [f"{folder} holds no signing key (a .pem or .jwk file with an Ed25519 private key; make one "
                f"with: openssl genpkey -algorithm ed25519 -out {folder}/license-1.pem)"]
    problems = []
    for path in files:
        try:
            read_private_key(path)
        except (OSError, ValueError) as error:
            problems.append(str(error))
            continue
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            problems.append(f"{path} must be readable by the app's user alone (chmod 600 {path})")
    return problems


def private_keys(folder: Path) -> dict[str, OKPKey]:
    """The readable keys of the folder by key id, oldest file first."""
    keys = {}
    for path in _key_files(folder):
        try:
            key = read_private_key(path)
        except (OSError, ValueError):
            continue  # production refuses to start over it; elsewhere an unusable file is passed over
        keys[key_id(key)] = key
    return keys


def keys_folder() -> Path:
    return Path(current_app.config["LICENSE_SIGNING_KEYS_DIR"])


def write_private_key(folder: Path, key: OKPKey) -> Path:
    """Save a private key as `<kid>.pem`, readable by this user alone from the first byte on."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{key_id(key)}.pem"
    if path.exists():
        return path
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(key.as_pem(private=True))
    return path


def _public_jwk(key: OKPKey) -> dict[str, Any]:
    return {**key.as_dict(private=False), "kid": key_id(key), "alg": ALGORITHM, "use": "sig"}


def _active_row() -> SigningKey | None:
    return db.session.scalar(select(SigningKey).where(SigningKey.state == SigningKeyState.ACTIVE))


def _first_key() -> OKPKey:
    """The key to start with: the newest in the folder; development and tests make one."""
    folder = keys_folder()
    keys = private_keys(folder)
    if not keys:
        if current_app.config["ENV_NAME"] == "production":
            raise SigningKeyUnavailable(f"no signing key in {folder}")
        key = OKPKey.generate_key("Ed25519")
        write_private_key(folder, key)
        return key
    return list(keys.values())[-1]


def active_signing_key() -> SigningKey:
    """The registered key that signs now. The first call registers the folder's key; two
    first calls at once register it once (the one-active index decides)."""
    row = _active_row()
    if row is not None:
        return row
    key = _first_key()
    try:
        with db.session.begin_nested():
            row = SigningKey(kid=key_id(key), public_jwk=_public_jwk(key), state=SigningKeyState.ACTIVE)
            db.session.add(row)
    except IntegrityError:
        row = _active_row()
        if row is None:
            raise
    return row


def signing_key() -> tuple[str, OKPKey]:
    """The active key id with its private key, from this server's folder."""
    row = active_signing_key()
    key = private_keys(keys_folder()).get(row.kid)
    if key is None:
        raise SigningKeyUnavailable(f"the active signing key {row.kid} is not in {keys_folder()}: copy its "
                                    "file there from the server where it was made")
    return row.kid, key


def rotate(key_file: Path | None = None) -> tuple[SigningKey, SigningKey | None]:
    """Make a new key active (generated, or the operator's from `key_file`) and retire the
    one before. Returns the new key and the retired one."""
    key = read_private_key(key_file) if key_file is not None else OKPKey.generate_key("Ed25519")
    if db.session.get(SigningKey, key_id(key)) is not None:
        raise KeyAlreadyUsed()
    previous = db.session.scalar(select(SigningKey).where(SigningKey.state == SigningKeyState.ACTIVE)
                                 .with_for_update())
    write_private_key(keys_folder(), key)
    if previous is not None:
        previous.state, previous.retired_at = SigningKeyState.RETIRED, utcnow()
        db.session.flush()  # retired first: the one-active index sees one key at every moment
    new = SigningKey(kid=key_id(key), public_jwk=_public_jwk(key), state=SigningKeyState.ACTIVE)
    db.session.add(new)
    db.session.flush()
    return new, previous


def published_keys() -> list[SigningKey]:
    """Every key that ever signed, the active one first, then the retired ones newest first."""
    active_signing_key()
    rows = db.session.scalars(select(SigningKey).order_by(SigningKey.created_at.desc()))
    return sorted(rows, key=lambda row: row.state != SigningKeyState.ACTIVE)


def jwks_document() -> dict[str, Any]:
    """The JWK Set: each public key with its id, and whether it still signs (`status`)."""
    return {"keys": [{**row.public_jwk, "status": row.state,
                      "created_at": row.created_at.isoformat(timespec="seconds"),
                      "retired_at": row.retired_at.isoformat(timespec="seconds") if row.retired_at else None}
                     for row in published_keys()]}
