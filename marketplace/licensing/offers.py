"""Offers: which tiers a beat is sold under, at what price, and whether each can be bought now."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, and_, case, false, func, literal_column, not_, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by, array

from marketplace.accounts.models import User
from marketplace.catalog import services as catalog
from marketplace.catalog.lifecycle import BeatStatus
from marketplace.catalog.models import Beat
from marketplace.db import db
from marketplace.common.errors import Conflict, ValidationFailed
from marketplace.licensing.models import DELIVERABLES, LIMIT_NAMES, LicenseTier, Offer, TierKind
from marketplace.common.sql_json import json_list, json_object, sql_string
from marketplace.common.money import Money, minimum_charge, stripe_amount_problem
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
        floor = check_upgrade_floor(item["upgrade_floor"], price, f"{field}.upgrade_floor") \
            if item.get("upgrade_floor") is not None else None
        rows.append((tier, price, item.get("active", True), index, floor))
    existing = {offer.tier_id: offer for offer in offers_of(beat.id)}
    kept = []
    for tier, price, active, position, floor in rows:
        offer = existing.pop(tier.id, None) or Offer(beat_id=beat.id, tier_id=tier.id, tier=tier)
        offer.price_amount, offer.currency, offer.active, offer.position = price, store_currency(), active, position
        if floor is not None:
            offer.upgrade_floor_amount = floor
        elif (offer.upgrade_floor_amount or 0) > price:
            floor_now = Money(offer.upgrade_floor_amount, offer.currency).formatted()
            raise ValidationFailed(details={f"{position}": {"upgrade_floor": [
                f"The upgrade floor of this offer, {floor_now}, is above the new price: "
                "lower the floor too."]}})
        db.session.add(offer)
        kept.append(offer)
    for dropped in existing.values():
        dropped.active = False  # kept as history; no longer listed or sold
    db.session.flush()
    refresh_listing_price(beat)
    return kept


def check_upgrade_floor(floor: Mapping[str, Any], price: int, field: str) -> int:
    """An upgrade floor is 0 (none) or an amount the payment provider can charge, at most the price."""
    currency = store_currency()
    if floor["currency"] != currency:
        raise ValidationFailed(details={field: [f"Prices are in {currency}."]})
    amount = floor["amount"]
    if amount == 0:
        return 0
    smallest = minimum_charge(currency)
    if amount < 0 or amount > price or amount < smallest:
        least, most = Money(smallest, currency).formatted(), Money(price, currency).formatted()
        raise ValidationFailed(details={field: [
            f"An upgrade floor is 0 (no floor) or from {least} (the smallest payment the payment provider "
            f"takes) up to the offer's price, {most}."]})
    problem = stripe_amount_problem(amount, currency)
    if problem:
        raise ValidationFailed(details={field: [problem]})
    return amount


def upgrade_floors(beat_id: str) -> dict[str, dict[str, Any]]:
    """Each offer's upgrade floor by tier id, for its seller."""
    return {offer.tier_id: {"amount": offer.upgrade_floor_amount, "currency": offer.currency}
            for offer in offers_of(beat_id)}


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


def reoffer_leases(beat: Beat) -> list[Offer]:
    """Put the beat's lease offers back on sale (a beat brought back after its exclusive sale was
    refunded): those whose tier is still a lease, not archived, and deliverable for the beat.
    The exclusive is never offered again."""
    revived = []
    for offer in offers_of(beat.id):
        tier = offer.tier
        if offer.active or tier.kind != TierKind.LEASE or tier.archived_at is not None:
            continue
        try:
            check_deliverable(beat, tier, "offers")
        except ValidationFailed:
            continue
        offer.active = True
        revived.append(offer)
    db.session.flush()
    refresh_listing_price(beat)
    return revived


def stop_offers(beat_ids: Iterable[str]) -> None:
    for offer in db.session.scalars(select(Offer).where(Offer.beat_id.in_(list(beat_ids)))):
        offer.active = False


# What a listing reads of each active offer, in this order (see offers_from_aggregate).
_OFFER_FIELDS = (Offer.position, Offer.tier_id, LicenseTier.name, LicenseTier.kind, Offer.price_amount,
                 Offer.currency, LicenseTier.includes_mp3, LicenseTier.includes_wav, LicenseTier.includes_stems,
                 LicenseTier.term_years, LicenseTier.content_id, LicenseTier.credit_line_template,
                 *(getattr(LicenseTier, name) for name in LIMIT_NAMES))


def offers_aggregate(postgres: bool, withheld: ColumnElement[bool] | None = None) -> ScalarSelect[Any]:
    """The active offers of the beat of the enclosing query (it selects from `beats`) as one
    JSON array of field lists, so a listing reads them beside its beats in the same query.

    `withheld` is SQL, in terms of that beat, that is true while its exclusive cannot be
    bought for a reason of another package (an open checkout holds it). The database
    evaluates it for exclusive offers only.
    """
    if postgres:
        aggregate, array = func.json_agg, func.json_build_array
    else:
        aggregate, array = func.json_group_array, func.json_array
    held = false() if withheld is None else case((LicenseTier.kind == TierKind.EXCLUSIVE, withheld), else_=false())
    return (select(aggregate(array(*_OFFER_FIELDS, held)))
            .join(LicenseTier, LicenseTier.id == Offer.tier_id)
            .where(Offer.beat_id == Beat.id, Offer.active)  # as ix_offers_listing's predicate
            .scalar_subquery())


def offers_from_aggregate(beat: Any, aggregate: Any) -> list[dict[str, Any]]:
    """A beat's offers as API documents, from what offers_aggregate gave for it.

    `beat` is a beat or a listing row (id, status, samples, price_from_amount,
    sold_exclusive_at). A beat without a listing price has no active offer; a beat once
    sold exclusively never offers exclusive rights again, nor does one declared with
    uncleared samples.
    """
    if beat.price_from_amount is None or not aggregate:
        return []
    if isinstance(aggregate, str):  # SQLite hands JSON over as text
        aggregate = json.loads(aggregate)
    on_sale = beat.status == BeatStatus.PUBLISHED
    exclusive_barred = beat.sold_exclusive_at is not None or beat.samples == "uncleared"
    documents = []
    for _position, tier_id, name, kind, amount, currency, mp3, wav, stems, term_years, content_id, \
            credit_template, *limits, held in sorted(aggregate):
        exclusive = kind == TierKind.EXCLUSIVE
        documents.append({
            "tier_id": tier_id, "name": name, "kind": kind, "price": {"amount": amount, "currency": currency},
            "deliverables": [item for item, included in zip(DELIVERABLES, (mp3, wav, stems)) if included],
            "limits": dict(zip(LIMIT_NAMES, limits)), "term_years": term_years,
            "content_id": content_id, "credit_line_template": credit_template,
            "available": on_sale and not (exclusive and (exclusive_barred or held))})
    return documents


def offers_json(held: ColumnElement[bool]) -> ScalarSelect[Any]:
    """The active offers of the beat of the enclosing query (it selects from `beats`) as the
    JSON array of API documents that offers_from_aggregate builds, then withhold_exclusives
    when `held` (SQL, in terms of that beat) is true: built by PostgreSQL."""
    exclusive_barred = or_(Beat.sold_exclusive_at.is_not(None), Beat.samples == sql_string("uncleared"), held)
    available = and_(Beat.status == sql_string(BeatStatus.PUBLISHED),
                     not_(and_(LicenseTier.kind == sql_string(TierKind.EXCLUSIVE), exclusive_barred)))
    included = [case((getattr(LicenseTier, f"includes_{item}"), sql_string(item))) for item in DELIVERABLES]
    document = json_object({
        "tier_id": Offer.tier_id, "name": LicenseTier.name, "kind": LicenseTier.kind,
        "price": json_object({"amount": Offer.price_amount, "currency": Offer.currency}),
        "deliverables": func.to_json(func.array_remove(array(included), literal_column("NULL"))),
        "limits": json_object({name: getattr(LicenseTier, name) for name in LIMIT_NAMES}),
        "term_years": LicenseTier.term_years, "content_id": LicenseTier.content_id,
        "credit_line_template": LicenseTier.credit_line_template, "available": available})
    # Ordered as sorted() orders the aggregate's field lists: by position, then tier (bytewise).
    in_order = aggregate_order_by(document, Offer.position, Offer.tier_id.collate("C"))
    return (select(json_list(func.json_agg(in_order)))
            .join(LicenseTier, LicenseTier.id == Offer.tier_id)
            .where(Offer.beat_id == Beat.id, Offer.active, Beat.price_from_amount.is_not(None))
            .scalar_subquery())


def withhold_exclusives(offers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Offers as shown while something else (an open checkout) holds the exclusive rights:
    the exclusive cannot be bought, the leases still can."""
    return [{**offer, "available": False} if offer["kind"] == TierKind.EXCLUSIVE else offer for offer in offers]


def offer_documents(beats: Sequence[Any], withheld: ColumnElement[bool] | None = None
                    ) -> dict[str, list[dict[str, Any]]]:
    """Each beat's active offers as API documents, in one query for any number of beats.

    `beats` are beats or listing rows, as for offers_from_aggregate; `withheld` as for
    offers_aggregate. A beat without a listing price has no active offer, so it costs
    nothing. Listings read the same aggregate within their own query instead.
    """
    priced = {beat.id: beat for beat in beats if beat.price_from_amount is not None}
    if not priced:
        return {}
    postgres = db.session.get_bind().dialect.name == "postgresql"
    rows = db.session.execute(select(Beat.id, offers_aggregate(postgres, withheld))
                              .where(Beat.id.in_(list(priced))))
    return {beat_id: offers_from_aggregate(priced[beat_id], aggregate)
            for beat_id, aggregate in rows if aggregate}
