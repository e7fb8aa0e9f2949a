"""The JSON document of a beat, built directly from a beat or a listing row.

Every answer that carries a beat uses this builder; BeatSchema (schemas.py) documents the
same shape in the OpenAPI spec, and a test keeps the two in agreement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import ColumnElement, case, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased

from marketplace.accounts.models import User
from marketplace.catalog.credits import ROLE_LABELS, CreditStatus, credit_line_sql, render_credit_line
from marketplace.catalog.models import Beat, BeatCredit, public_handle
from marketplace.common.sql_json import json_list, json_object, json_time, sql_lookup, sql_string


class OfferSource(Protocol):
    """What is on sale, from the licensing package when it is plugged in (as
    app.extensions["beat_offers"]): the catalogue shows offers without depending on how
    sales work."""

    def __call__(self, beats: Sequence[Any]) -> dict[str, list[dict[str, Any]]]:
        """The offers of each of these beats (beats or listing rows), as API documents."""

    def column(self, postgres: bool) -> ColumnElement[Any]:
        """A column for a query of `beats` that carries each beat's offers, as they are when
        no checkout holds its exclusive..."""

    def documents(self, beat: Any, value: Any) -> list[dict[str, Any]]:
        """...and the beat's offers as API documents, from that column's value in its row."""

    def held_column(self) -> ColumnElement[bool]:
        """A column for a query of `beats`: true while a checkout holds the beat's exclusive..."""

    def withhold(self, offers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """...and the beat's offers (from `documents`) as shown while it is held."""

    def json_column(self, held: ColumnElement[bool]) -> ColumnElement[Any]:
        """On PostgreSQL, a column for a query of `beats`: the beat's offers as the JSON array
        `documents` (then `withhold` when the SQL `held` is true) would give."""


def offer_source() -> OfferSource | None:
    return current_app.extensions.get("beat_offers")


def offers_for(beats: Sequence[Any]) -> dict[str, list[dict[str, Any]]]:
    """The offers of each beat (beats or listing rows), or none without a source of offers."""
    source = offer_source()
    return source(beats) if source and beats else {}


# Who a credit's profit share is paid to: the linked account once it consented; a pending
# invitee's share is held for them; a name only (or a refused invitation) is the owner's to answer for.
PAID_TO = {CreditStatus.ACCEPTED: "account", CreditStatus.PENDING: "held", CreditStatus.NAME_ONLY: "owner",
           CreditStatus.DECLINED: "owner", CreditStatus.EXPIRED: "owner"}


def credit_document(credit: Any) -> dict[str, Any]:
    return {
        "name": credit.name,
        "user_id": credit.user_id,
        "handle": credit.handle,
        "role": credit.role,
        "role_label": ROLE_LABELS[credit.role],
        "profit_share_bps": credit.profit_share_bps,
        "publishing_share_bps": credit.publishing_share_bps,
        "master_points_bps": credit.master_points_bps,
        "pro": credit.pro,
        "ipi": credit.ipi,
        "status": credit.status,
        "paid_to": PAID_TO[credit.status],
        "invitation_id": credit.invitation_id,
    }


def credits_document(credits: Sequence[Any]) -> dict[str, Any]:
    return {"credits": [credit_document(c) for c in credits],
            "credit_line": render_credit_line([(c.name, c.role) for c in credits])}


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _versioned(path: str, key: str | None, version: int) -> str | None:
    # The version changes with every render, so caches never serve an old preview.
    return f"{path}?v={version}" if key else None


def preview_address(beat: Any) -> str | None:
    """Where the beat's watermarked preview is streamed from, as in its document (None until rendered)."""
    return _versioned(f"/api/v1/beats/{beat.id}/preview", beat.preview_key, beat.preview_version)


def beat_document(beat: Any, owner_name: str, credits: Sequence[Any], tags: Sequence[str],
                  offers: Sequence[dict[str, Any]] = (), owner_handle: str | None = None) -> dict[str, Any]:
    """`beat` is a Beat or a row with the same attribute names (see search.LISTING_COLUMNS)."""
    price = None
    if beat.price_from_amount is not None:
        price = {"amount": beat.price_from_amount, "currency": beat.price_currency}
    return {
        "id": beat.id,
        "title": beat.title,
        "description": beat.description,
        "status": beat.status,
        "bpm": beat.bpm,
        "key": beat.musical_key,
        "genre": beat.genre,
        "mood": beat.mood,
        "tags": list(tags),
        "samples": beat.samples,
        "version_of": beat.version_of_id,
        "duration_ms": beat.duration_ms,
        "play_count": beat.play_count,
        "price_from": price,
        "offers": list(offers),
        "beatmaker": {"id": beat.owner_id, "display_name": owner_name, "handle": owner_handle},
        **credits_document(credits),
        "failure_reason": beat.failure_reason,
        "preview_url": _versioned(f"/api/v1/beats/{beat.id}/preview", beat.preview_key, beat.preview_version),
        "waveform_url": _versioned(f"/api/v1/beats/{beat.id}/waveform", beat.waveform_key, beat.preview_version),
        "cover_url": f"/api/v1/beats/{beat.id}/cover" if beat.cover_key else None,
        "has_stems": beat.stems_key is not None,
        "lossless_master": bool(beat.master_lossless),
        "free_download": bool(beat.free_download),
        "created_at": _time(beat.created_at),
        "published_at": _time(beat.published_at),
        "sold_exclusive_at": _time(beat.sold_exclusive_at),
    }


def full_beat_document(beat: Any) -> dict[str, Any]:
    return beat_document(beat, beat.owner.display_name, beat.credits, beat.tags,
                         offers_for([beat]).get(beat.id, []), public_handle(beat.owner))


def _credits_json() -> ColumnElement[Any]:
    """SQL: the credits of the enclosing query's beat as credit_document builds them, in order."""
    credited = aliased(User)
    # Only an active account has a profile to link to (as search._credited_handle): looked up
    # by its key for each linked credit.
    handle = (select(credited.handle).where(credited.id == BeatCredit.user_id,
                                            credited.status == sql_string("active")).scalar_subquery())
    document = json_object({
        "name": BeatCredit.name, "user_id": BeatCredit.user_id, "handle": handle,
        "role": BeatCredit.role, "role_label": sql_lookup(BeatCredit.role, ROLE_LABELS),
        "profit_share_bps": BeatCredit.profit_share_bps, "publishing_share_bps": BeatCredit.publishing_share_bps,
        "master_points_bps": BeatCredit.master_points_bps, "pro": BeatCredit.pro, "ipi": BeatCredit.ipi,
        "status": BeatCredit.status, "paid_to": sql_lookup(BeatCredit.status, PAID_TO),
        "invitation_id": BeatCredit.invitation_id})
    return (select(json_list(func.json_agg(aggregate_order_by(document, BeatCredit.position))))
            .where(BeatCredit.beat_id == Beat.id).scalar_subquery())


def _when(key: ColumnElement[Any], value: ColumnElement[Any]) -> ColumnElement[Any]:
    """SQL: the value when the key is set, else NULL."""
    return case((key.is_not(None), value), else_=None)


def _beat_address_json(path: str) -> ColumnElement[Any]:
    return func.concat(sql_string("/api/v1/beats/"), Beat.id, sql_string(path))


def _versioned_json(path: str, key: ColumnElement[Any]) -> ColumnElement[Any]:
    """SQL for _versioned(f"/api/v1/beats/{beat.id}/{path}", key, beat.preview_version)."""
    return _when(key, func.concat(_beat_address_json(f"/{path}?v="), Beat.preview_version))


def listed_beat_json(play_count: ColumnElement[int], offers: ColumnElement[Any] | None) -> ColumnElement[Any]:
    """SQL for PostgreSQL: beat_document of the listed beat of the enclosing query (it selects
    from `beats` joined to its owner in `users`) as JSON, with this play count and these offers
    (a JSON array, or none). A test keeps it equal to the Python builder's."""
    price = _when(Beat.price_from_amount, json_object({"amount": Beat.price_from_amount,
                                                       "currency": Beat.price_currency}))
    return json_object({
        "id": Beat.id, "title": Beat.title, "description": Beat.description, "status": Beat.status,
        "bpm": Beat.bpm, "key": Beat.musical_key, "genre": Beat.genre, "mood": Beat.mood,
        "tags": func.to_json(Beat.tag_list), "samples": Beat.samples, "version_of": Beat.version_of_id,
        "duration_ms": Beat.duration_ms, "play_count": play_count, "price_from": price,
        "offers": offers if offers is not None else literal_column("'[]'::json"),
        "beatmaker": json_object({"id": Beat.owner_id, "display_name": User.display_name, "handle": User.handle}),
        "credits": _credits_json(), "credit_line": literal_column(credit_line_sql("beats.id")),
        "failure_reason": Beat.failure_reason,
        "preview_url": _versioned_json("preview", Beat.preview_key),
        "waveform_url": _versioned_json("waveform", Beat.waveform_key),
        "cover_url": _when(Beat.cover_key, _beat_address_json("/cover")),
        "has_stems": Beat.stems_key.is_not(None),
        "lossless_master": func.coalesce(Beat.master_lossless, False),
        "free_download": func.coalesce(Beat.free_download, False),
        "created_at": json_time(Beat.created_at), "published_at": json_time(Beat.published_at),
        "sold_exclusive_at": json_time(Beat.sold_exclusive_at),
    })
