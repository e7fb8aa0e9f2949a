"""Offers: which tiers a beat is sold under, at what price, and whether each can be bought now."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.catalog import services as catalog
from marketplace.catalog.lifecycle import BeatStatus
from marketplace.catalog.models import Beat
from marketplace.db import db
from marketplace.errors import Conflict, ValidationFailed
from marketplace.licensing.models import DELIVERABLES, LIMIT_NAMES, LicenseTier, Offer, TierKind
from marketplace.licensing.prices import check_price, store_currency


def replace_offers(beat: Beat, owner: User, wanted: Sequence[Mapping[str, Any]]) -> list[Offer]:
    """Replace the beat's offers. An offer that existed keeps its row (its sales point at it)."""
    if beat.status == BeatStatus.SOLD_EXCLUSIVE:
        raise Conflict("The exclusive rights of this beat were sold: it cannot be offered again.",
                       code="beat_sold_exclusive")
    seen: set[str] = set()
    rows = []
    for index, item in enumerate(wanted):
        field = f"{index}"
        tier = db.session.get(LicenseTier, item["tier_id"])
        if tier is None or tier.owner_id != owner.id or tier.archived_at is not None:
            raise ValidationFailed(details={field: {"tier_id": ["No license tier of yours has this id."]}})
        if tier.id in seen:
            raise ValidationFailed(details={field: {"tier_id": ["Each tier is offered once."]}})
        seen.add(tier.id)
        check_deliverable(beat, tier, field)
        price = check_price(item["price"], f"{field}.price")
        rows.append((tier, price, item.get("active", True), index))
    existing = {offer.tier_id: offer for offer in offers_of(beat.id)}
    kept = []
    for tier, price, active, position in rows:
        offer = existing.pop(tier.id, None) or Offer(beat_id=beat.id, tier_id=tier.id, tier=tier)
        offer.price_amount, offer.currency, offer.active, offer.position = price, store_currency(), active, position
        db.session.add(offer)
        kept.append(offer)
    for dropped in existing.values():
        dropped.active = False  # kept as history; no longer listed or sold
    db.session.flush()
    refresh_listing_price(beat)
    return kept


def check_deliverable(beat: Beat, tier: LicenseTier, field: str) -> None:
    problem = None
    if tier.includes_stems and beat.stems_key is None:
        problem = "This tier delivers stems, and the beat has none: upload a stems ZIP first."
    elif tier.includes_wav and not beat.master_lossless:
        problem = "This tier delivers WAV, and the beat's master is not lossless."
    elif tier.kind == TierKind.EXCLUSIVE and beat.samples == "uncleared":
        problem = "A beat with uncleared samples cannot be sold exclusively."
    elif tier.kind == TierKind.EXCLUSIVE and catalog.family_sold_exclusively(beat):
        problem = "The exclusive rights of this beat have been sold."
    if problem:
        raise ValidationFailed(details={field: {"tier_id": [problem]}})


def offers_of(beat_id: str) -> list[Offer]:
    return list(db.session.scalars(select(Offer).where(Offer.beat_id == beat_id).order_by(Offer.position)))


def refresh_listing_price(beat: Beat) -> None:
    """Tell the catalogue the lowest price the beat can be bought at now (or none)."""
    prices = [offer.price_amount for offer in offers_of(beat.id) if offer.active]
    catalog.set_listing_price(beat, min(prices) if prices else None, store_currency() if prices else None)


def stop_offers(beat_ids: Iterable[str]) -> None:
    for offer in db.session.scalars(select(Offer).where(Offer.beat_id.in_(list(beat_ids)))):
        offer.active = False


_OFFER_COLUMNS = (Offer.beat_id, Offer.price_amount, Offer.currency, LicenseTier.id.label("tier_id"),
                  LicenseTier.name, LicenseTier.kind, LicenseTier.term_years, LicenseTier.includes_mp3,
                  LicenseTier.includes_wav, LicenseTier.includes_stems,
                  *(getattr(LicenseTier, name) for name in LIMIT_NAMES))


def offer_documents(beats: Sequence[Any]) -> dict[str, list[dict[str, Any]]]:
    """Each beat's active offers as API documents, in one query for any number of beats.

    `beats` are beats or listing rows (id, status, samples, price_from_amount, sold_exclusive_at).
    A beat without a listing price has no active offer, so it costs nothing; a beat once
    sold exclusively never offers exclusive rights again, nor does one declared with
    uncleared samples. Plain rows, not ORM objects: listings call this on every request.
    """
    priced = {beat.id: beat for beat in beats if beat.price_from_amount is not None}
    if not priced:
        return {}
    rows = db.session.execute(select(*_OFFER_COLUMNS).join(LicenseTier, LicenseTier.id == Offer.tier_id)
                              .where(Offer.beat_id.in_(list(priced)), Offer.active.is_(True))
                              .order_by(Offer.beat_id, Offer.position))
    documents: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        beat = priced[row.beat_id]
        exclusive_barred = row.kind == TierKind.EXCLUSIVE and (beat.sold_exclusive_at is not None
                                                               or beat.samples == "uncleared")
        documents.setdefault(row.beat_id, []).append({
            "tier_id": row.tier_id, "name": row.name, "kind": row.kind,
            "price": {"amount": row.price_amount, "currency": row.currency},
            "deliverables": [kind for kind in DELIVERABLES if getattr(row, f"includes_{kind}")],
            "limits": {name: getattr(row, name) for name in LIMIT_NAMES}, "term_years": row.term_years,
            "available": beat.status == BeatStatus.PUBLISHED and not exclusive_barred})
    return documents
