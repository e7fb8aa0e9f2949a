"""License certificates: what was issued, signed by the platform, checkable offline.

A certificate is a compact JWS (a JWT) signed with the platform's active Ed25519 key
(`alg: EdDSA`, RFC 8037; the key id in the header names the key in /.well-known/jwks.json).
It is signed once the delivered files are built, since it states their checksums. It proves
what was issued, not what happened since: `status_url` is where the license's current status
(revoked, superseded) is answered, and `verify_url` the store's page that shows it.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

from joserfc import jwt
from joserfc.errors import SecurityWarning
from sqlalchemy import update

from marketplace.common.clock import utcnow
from marketplace.common.money import Money
from marketplace.db import db
from marketplace.licensing import keys
from marketplace.licensing.models import FreeLicense, License
from marketplace.mail.messages import public_base_url

# The algorithm name is the one every JWT library verifies (RFC 8037); joserfc prefers the
# newer "Ed25519" name of RFC 9864 and warns on each use of the older, identical signature.
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)

JWKS_PATH = "/.well-known/jwks.json"


def status_url(license_number: str) -> str:
    """Where a program checks a license's current status, with its certificate (JSON)."""
    return f"{public_base_url()}/api/v1/licenses/verify/{license_number}"


def verification_url(license_number: str) -> str:
    """Where a person checks a license (the store's page of the verify call): the address the
    contract's QR code holds, since it is read with a phone."""
    return f"{public_base_url()}/licenses/verify/{license_number}"


def keys_url() -> str:
    return f"{public_base_url()}{JWKS_PATH}"


def _term(license_: License) -> dict[str, Any]:
    years = license_.terms.get("term_years")
    if years is None:
        return {"years": None, "perpetual": True, "ends_on": None}
    issued = license_.issued_at.astimezone(dt.timezone.utc).date()
    try:
        ends = issued.replace(year=issued.year + years)
    except ValueError:  # issued on February 29th: the term ends on the 28th
        ends = issued.replace(year=issued.year + years, day=28)
    return {"years": years, "perpetual": False, "ends_on": ends.isoformat()}


def certificate_claims(license_: License) -> dict[str, Any]:
    """What the certificate states. People appear by the names shown in the store (the buyer's
    display name, credits as typed), never by an email or an account."""
    beat = license_.beat_snapshot
    return {
        "iss": public_base_url(),
        "sub": license_.license_number,
        "iat": int(utcnow().timestamp()),
        "license_number": license_.license_number,
        "status_url": status_url(license_.license_number),
        "verify_url": verification_url(license_.license_number),
        "keys_url": keys_url(),
        "issued_at": license_.issued_at.astimezone(dt.timezone.utc).isoformat(timespec="seconds"),
        "term": _term(license_),
        "kind": license_.kind,
        "tier": license_.terms["tier_name"],
        "terms": license_.terms,
        "licensee": license_.buyer_name,
        "beat": {"id": license_.beat_id, "title": beat["title"], "beatmaker": beat["beatmaker"],
                 "duration_ms": beat.get("duration_ms"),
                 "files": [{"kind": delivered.kind, "sha256": delivered.sha256, "size": delivered.size}
                           for delivered in license_.files]},
        "credits": [{"name": credit["name"], "role": credit["role"], "role_label": credit.get("role_label"),
                     "profit_share_bps": credit.get("profit_share_bps"),
                     "publishing_share_bps": credit.get("publishing_share_bps"),
                     "master_points_bps": credit.get("master_points_bps")} for credit in license_.credits],
        "price": {"amount": license_.price_amount, "currency": license_.currency,
                  "formatted": Money(license_.price_amount, license_.currency).formatted()},
    }


def sign_certificate(license_: License | FreeLicense) -> bool:
    """Sign the license's certificate once its files are built. Returns whether one was signed now;
    a license keeps its first certificate whoever signs at the same moment."""
    if license_.certificate is not None or any(delivered.key is None for delivered in license_.files):
        return False
    kid, key = keys.signing_key()
    header = {"alg": keys.ALGORITHM, "typ": "JWT", "kid": kid}
    token = jwt.encode(header, certificate_claims(license_), key, algorithms=[keys.ALGORITHM])
    model = type(license_)  # a License, or a FreeLicense (same columns)
    unsigned = update(model).where(model.id == license_.id, model.certificate.is_(None))
    signed = db.session.execute(unsigned.values(certificate=token, certificate_kid=kid)
                                .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(license_, ["certificate", "certificate_kid"])
    return bool(signed)


def certificate_document(license_: License) -> dict[str, Any]:
    """The certificate as the verify call answers it: pending until the delivered files are built."""
    if license_.certificate is None:
        return {"state": "pending", "token": None, "key_id": None, "keys_url": keys_url(),
                "message": "The certificate is signed when the licensed files are built; ask again shortly."}
    return {"state": "signed", "token": license_.certificate, "key_id": license_.certificate_kid,
            "keys_url": keys_url(),
            "message": "Signed by the platform: it proves what was issued. The license's current status is "
                       "the status field of this answer."}
