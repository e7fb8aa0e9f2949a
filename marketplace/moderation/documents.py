"""The JSON documents of moderation answers (the schemas in schemas.py describe them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.catalog.documents import preview_address
from marketplace.catalog.models import Beat
from marketplace.db import db
from marketplace.moderation import listings, users
from marketplace.moderation.models import BeatRestriction, Report, RestrictionCause, Strike


def account_document(user: User) -> dict[str, Any]:
    return {"id": user.id, "display_name": user.display_name, "email": user.email, "status": user.status}


def report_document(report: Report) -> dict[str, Any]:
    """What the beatmaker and the reporter see: not who filed it, nor which admin answered."""
    return {"id": report.id, "beat_id": report.beat_id, "beat_title": report.beat.title, "reason": report.reason,
            "details": report.details, "status": report.status, "created_at": report.created_at,
            "resolved_at": report.resolved_at, "resolution_note": report.resolution_note}


def admin_report_document(report: Report) -> dict[str, Any]:
    beat = report.beat
    return {**report_document(report), "resolved_by": report.resolved_by_id,
            "beat": {"id": beat.id, "title": beat.title, "status": beat.status, "samples": beat.samples,
                     "beatmaker": account_document(beat.owner), "preview_url": preview_address(beat)},
            "reporter": account_document(report.reporter)}


def restriction_document(row: BeatRestriction) -> dict[str, Any]:
    review = None
    if row.cause == RestrictionCause.REVIEW:
        review = "rejected" if row.rejected_at is not None else "pending"
    return {"id": row.id, "cause": row.cause, "reason": row.reason, "since": row.created_at,
            "restore_to": row.restore_to, "review": review, "note": row.note}


def moderated_beat_documents(beats: Sequence[Beat]) -> list[dict[str, Any]]:
    held = listings.restrictions_of([beat.id for beat in beats])
    return [{"id": beat.id, "title": beat.title, "status": beat.status, "samples": beat.samples,
             "beatmaker": account_document(beat.owner), "created_at": beat.created_at,
             "published_at": beat.published_at,
             "held_by": [restriction_document(row) for row in held[beat.id]]} for beat in beats]


def moderated_beat_document(beat: Beat) -> dict[str, Any]:
    return moderated_beat_documents([beat])[0]


def strike_document(strike: Strike) -> dict[str, Any]:
    return {"id": strike.id, "reason": strike.reason, "created_at": strike.created_at, "active": strike.active,
            "lifted_at": strike.lifted_at, "lift_reason": strike.lift_reason}


def _strikes_part(user: User) -> dict[str, Any]:
    return {"active_strikes": users.active_strike_count(user.id), "strikes_to_suspend": users.strikes_to_suspend(),
            "strikes": [strike_document(strike) for strike in users.strikes_of(user.id)]}


def moderated_user_document(user: User) -> dict[str, Any]:
    return {**account_document(user), "roles": user.roles, **_strikes_part(user)}


def admin_user_document(user: User) -> dict[str, Any]:
    """An account in the admins' user list: who it is, not its strikes."""
    return {**account_document(user), "roles": user.roles, "created_at": user.created_at}


def my_moderation_document(user: User) -> dict[str, Any]:
    """A beatmaker's own standing: strikes, and which of their beats are held and why."""
    held = db.session.scalars(select(BeatRestriction).join(Beat, Beat.id == BeatRestriction.beat_id).where(
        Beat.owner_id == user.id, BeatRestriction.lifted_at.is_(None)).order_by(BeatRestriction.id))
    return {"status": user.status, **_strikes_part(user),
            "held_beats": [{**restriction_document(row), "beat_id": row.beat_id, "beat_title": row.beat.title}
                           for row in held]}

