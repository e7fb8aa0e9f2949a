"""Free downloads: the beat's tagged preview under a license for non-profit use only.

A seller switches them on per beat. A signed-in account takes one free license per beat (a
second download answers the same one), within a per-account limit of new ones. The delivered
file is a copy of the tagged preview, never the master or stems. Free downloads end when the
exclusive rights are sold; licenses already taken stay valid for non-profit use. They are
never sales: no order, no ledger entry, and they do not stand in the way of the exclusive.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import User
from marketplace.catalog.lifecycle import BeatStatus
from marketplace.catalog.models import Beat
from marketplace.common.clock import utcnow
from marketplace.common.ratelimit import rate_limits
from marketplace.db import db
from marketplace.common.errors import AppError, Conflict, NotFound, RateLimited
from marketplace.jobs.queue import enqueue
from marketplace.licensing.certificates import sign_certificate
from marketplace.licensing.issuing import beat_snapshot, credits_snapshot, new_license_number
from marketplace.licensing.models import LIMIT_NAMES, FreeLicense, LicenseStatus
from marketplace.licensing.tasks import download_name
from marketplace.storage.service import save_in_transaction, storage

TIER_NAME = "Free download (non-profit use)"
COMMERCIAL_USE = "Any commercial release needs a paid license."


class FreeDownloadNotOffered(Conflict):
    code = "free_download_not_offered"
    message = "The beatmaker does not offer this beat as a free download."


class FreeDownloadsEnded(Conflict):
    code = "free_download_ended"
    message = "Free downloads ended when the exclusive rights were sold."


class BeatTakenDown(AppError):
    status = 410
    code = "beat_taken_down"
    message = "This beat was taken down: it cannot be downloaded."


class BeatNotInStore(Conflict):
    code = "beat_not_in_store"
    message = "This beat is not in the store at the moment, so it cannot be downloaded."


def free_terms(beat: Beat) -> dict[str, Any]:
    """What a free license allows, frozen at download: non-profit use of the tagged preview."""
    credit_line = beat.credit_line or f"Prod. by {beat.owner.display_name}"
    return {
        "tier_name": TIER_NAME, "kind": "free", "use": "non_profit", "commercial_use": COMMERCIAL_USE,
        "deliverables": ["tagged_mp3"], "limits": dict.fromkeys(LIMIT_NAMES, 0), "term_years": None,
        "credit_line": credit_line, "publishing_share_bps": 10000, "master_points_bps": 10000,
        "content_id": "not_allowed", "samples": beat.samples,
    }


def _check_offered(beat: Beat) -> None:
    """Why this beat gives no new free license now, in words; nothing if it does."""
    if beat.status == BeatStatus.TAKEN_DOWN or not beat.owner.is_active:
        raise BeatTakenDown()
    if beat.status == BeatStatus.SOLD_EXCLUSIVE or beat.sold_exclusive_at is not None:
        raise FreeDownloadsEnded()
    if beat.status != BeatStatus.PUBLISHED or beat.preview_key is None:
        raise BeatNotInStore()
    if not beat.free_download:
        raise FreeDownloadNotOffered()


def _existing(beat_id: str, user: User) -> FreeLicense | None:
    return db.session.scalar(select(FreeLicense).where(FreeLicense.beat_id == beat_id,
                                                       FreeLicense.buyer_id == user.id))


def take_free_license(beat_id: str, user: User) -> FreeLicense:
    """The account's free license of the beat: the one it took before, or a new one."""
    beat = db.session.get(Beat, beat_id)
    if beat is None:
        raise NotFound("No such beat.", code="beat_not_found")
    existing = _existing(beat.id, user)
    if existing is not None:
        return existing  # already taken: valid still, even after the exclusive sale
    _check_offered(beat)
    _count_new_license(user)
    license_ = FreeLicense(
        license_number=new_license_number(), beat_id=beat.id, buyer_id=user.id, seller_id=beat.owner_id,
        status=LicenseStatus.ACTIVE, buyer_name=user.display_name,
        currency=(beat.price_currency or current_app.config["STORE_CURRENCY"]).lower(),
        terms=free_terms(beat), credits=credits_snapshot(beat), beat_snapshot=beat_snapshot(beat),
        issued_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(license_)
    except IntegrityError:
        # The same account's other download won the race: its license is this one too.
        return _existing(beat.id, user)
    _deliver_preview(license_, beat)
    sign_certificate(license_)
    enqueue("licensing.render_contract", license_.id)
    return license_


def _count_new_license(user: User) -> None:
    limit = current_app.config["FREE_DOWNLOAD_LIMIT_PER_ACCOUNT"]
    try:
        rate_limits().hit(limit, "free-download", user.id)
    except RateLimited as refused:
        seconds = refused.details["retry_after_seconds"]
        raise RateLimited(seconds, f"You took the most free downloads allowed for now ({limit}). "
                                   f"Try again in {_in_words(seconds)}.") from None


def _in_words(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    if seconds < 7200:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds / 3600)} hours"


def _deliver_preview(license_: FreeLicense, beat: Beat) -> None:
    """A copy of the tagged preview, stored for this license: a later re-render of the preview
    (a new voice tag) changes nothing for it. The master is never read here."""
    key = f"free-downloads/{license_.id}/preview.mp3"
    preview = storage().open(beat.preview_key)
    try:
        saved = save_in_transaction(key, preview, "audio/mpeg")
    finally:
        preview.close()
    license_.file_key, license_.file_sha256, license_.file_size = key, saved.sha256, saved.size
    license_.file_name = download_name(license_, "mp3")
    db.session.flush()


def free_downloads_per_day(seller: User, since: dt.date) -> list[dict[str, Any]]:
    """Free licenses taken of the seller's beats, per beat and day (each account once per beat)."""
    day = func.date(FreeLicense.issued_at)
    rows = db.session.execute(
        select(FreeLicense.beat_id, day.label("day"), func.count().label("downloads"))
        .where(FreeLicense.seller_id == seller.id,
               FreeLicense.issued_at >= dt.datetime.combine(since, dt.time(), tzinfo=dt.timezone.utc))
        .group_by(FreeLicense.beat_id, day).order_by(day, FreeLicense.beat_id))
    return [{"beat_id": row.beat_id, "day": str(row.day), "free_downloads": row.downloads} for row in rows]
