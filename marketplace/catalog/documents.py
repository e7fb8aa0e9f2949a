"""The JSON document of a beat, built directly from a beat or a listing row.

Every answer that carries a beat uses this builder; BeatSchema (schemas.py) documents the
same shape in the OpenAPI spec, and a test keeps the two in agreement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import ColumnElement

from marketplace.catalog.credits import ROLE_LABELS, CreditStatus, render_credit_line
from marketplace.catalog.models import public_handle


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
