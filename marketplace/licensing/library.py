"""The buyer's side of licenses: the library, downloads, and public verification."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from sqlalchemy import select

from marketplace.accounts.models import Role, User
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.common.errors import AppError, NotFound
from marketplace.licensing.certificates import certificate_document
from marketplace.licensing.models import DownloadLog, FreeLicense, License, LicenseStatus, LicenseTier
from marketplace.storage.service import guarded_link, register_link_guard

CONTENT_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "stems": "application/zip"}


class LicenseRevoked(AppError):
    status = 403
    code = "license_revoked"
    message = "This license was revoked (refund or chargeback): its files cannot be downloaded."


class LicenseSuperseded(AppError):
    status = 403
    code = "license_superseded"
    message = ("This license was upgraded: it still covers what you released under it, and the files "
               "come with the license that replaced it.")


class LicenseFrozen(AppError):
    status = 403
    code = "license_frozen"
    message = "The payment for this license is disputed: its files cannot be downloaded until that is settled."


def licenses_of(buyer: User) -> list[License | FreeLicense]:
    """Licenses bought and free downloads taken, newest first."""
    bought = db.session.scalars(select(License).where(License.buyer_id == buyer.id))
    free = db.session.scalars(select(FreeLicense).where(FreeLicense.buyer_id == buyer.id))
    return sorted([*bought, *free], key=lambda item: item.issued_at, reverse=True)


def find_license(license_id: str) -> License | FreeLicense | None:
    return db.session.get(License, license_id) or db.session.get(FreeLicense, license_id)


def license_for(user: User, license_id: str, *, buyer_only: bool = False) -> License | FreeLicense:
    """A license its buyer (or, unless buyer_only, an admin) may see; 404 for anyone else."""
    license_ = find_license(license_id)
    allowed = license_ is not None and (license_.buyer_id == user.id
                                        or (not buyer_only and user.has_role(Role.ADMIN)))
    if not allowed:
        raise NotFound("No such license.", code="license_not_found")
    return license_


def check_downloadable(license_: License | None) -> None:
    """Raise unless the license's files may be downloaded now."""
    if license_ is None:
        raise NotFound("No such file.", code="file_not_found")
    if license_.status != LicenseStatus.ACTIVE:
        raise LicenseRevoked()
    if license_.superseded_by_id is not None:
        superseded = LicenseSuperseded()
        superseded.details = {"superseded_by": license_.superseded_by_id}
        raise superseded
    if license_.frozen_at is not None:
        raise LicenseFrozen()


def _guard_license_link(license_id: str) -> None:
    """A download link names its license, which is read afresh at each use: a refund, a
    revocation or an open dispute stops links handed out before it."""
    check_downloadable(db.session.get(License, license_id, populate_existing=True))


def _guard_free_license_link(license_id: str) -> None:
    check_downloadable(db.session.get(FreeLicense, license_id, populate_existing=True))


register_link_guard("license", _guard_license_link)
register_link_guard("free_license", _guard_free_license_link)


def download_links(license_: License | FreeLicense, user: User,
                   client_address: str | None) -> list[dict[str, Any]]:
    """Fresh signed links to every file ready for download; each one handed out is logged."""
    check_downloadable(license_)
    ttl = current_app.config["SIGNED_URL_TTL_SECONDS"]
    expires_at = utcnow() + dt.timedelta(seconds=ttl)
    links = []
    for delivered in license_.files:
        if delivered.key is None:
            links.append({"kind": delivered.kind, "filename": None, "url": None, "expires_at": None,
                          "ready": False})
            continue
        guard = "free_license" if isinstance(license_, FreeLicense) else "license"
        url = guarded_link(delivered.key, ttl, (guard, license_.id), download_name=delivered.filename,
                           content_type=CONTENT_TYPES[delivered.kind])
        if isinstance(license_, License):  # a free download's license is counted where it is taken
            db.session.add(DownloadLog(license_id=license_.id, user_id=user.id, kind=delivered.kind,
                                       client_address=client_address))
        links.append({"kind": delivered.kind, "filename": delivered.filename, "url": url,
                      "expires_at": expires_at, "ready": True})
    return links


def verify(license_number: str) -> dict[str, Any]:
    """What anyone may learn from a license number: enough to check a claim, nothing private;
    with the signed certificate (what was issued) and the current status (what holds now)."""
    number = license_number.strip().upper()
    license_ = (db.session.scalar(select(License).where(License.license_number == number))
                or db.session.scalar(select(FreeLicense).where(FreeLicense.license_number == number)))
    if license_ is None:
        raise NotFound("No license has this number.", code="license_not_found")
    return {"license_number": license_.license_number, "beat_title": license_.beat_snapshot["title"],
            "beatmaker": license_.beat_snapshot["beatmaker"], "tier_name": _tier_name(license_),
            "kind": license_.kind, "use": license_.terms.get("use", "commercial"),
            "commercial_use": license_.terms.get("commercial_use"), "issued_at": license_.issued_at,
            "status": license_.standing, "licensee": license_.buyer_name,
            "certificate": certificate_document(license_)}


def _tier_name(license_: License | FreeLicense) -> str:
    """As frozen at sale; the tier's own name for a license whose terms never named it."""
    if "tier_name" in license_.terms or license_.tier_id is None:
        return license_.terms["tier_name"]
    return db.session.get(LicenseTier, license_.tier_id).name


def license_document(license_: License | FreeLicense) -> dict[str, Any]:
    return {
        "id": license_.id, "license_number": license_.license_number, "status": license_.standing,
        "kind": license_.kind,
        "beat": {"id": license_.beat_id, "title": license_.beat_snapshot["title"],
                 "beatmaker": license_.beat_snapshot["beatmaker"]},
        "tier": {"id": license_.tier_id, "name": license_.terms["tier_name"]},
        "terms": license_.terms, "credits": license_.credits,
        "price": {"amount": license_.price_amount, "currency": license_.currency},
        "licensee": license_.buyer_name, "issued_at": license_.issued_at, "revoked_at": license_.revoked_at,
        "downloads_frozen": license_.frozen_at is not None,
        "upgrade_of": _number_of(license_.upgrade_of_id),
        "superseded_by": _number_of(license_.superseded_by_id),
        "superseded_at": license_.superseded_at,
        "contract_ready": license_.contract_key is not None,
        "files": [{"kind": f.kind, "sha256": f.sha256, "size": f.size, "ready": f.key is not None}
                  for f in license_.files],
    }


def _number_of(license_id: str | None) -> dict[str, str] | None:
    """Another license named by a license (the one it upgraded, the one that superseded it)."""
    other = db.session.get(License, license_id) if license_id else None
    return {"id": other.id, "license_number": other.license_number} if other is not None else None
