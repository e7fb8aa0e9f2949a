"""License tiers: each beatmaker's own terms, seeded from the default templates."""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, select

from marketplace.accounts.models import User
from marketplace.catalog.models import Beat
from marketplace.common.clock import utcnow
from marketplace.common.money import charge_step
from marketplace.db import db
from marketplace.common.errors import Conflict, NotFound, ValidationFailed
from marketplace.licensing.defaults import COMMON_TERMS, CONTENT_ID_BY_KIND, DEFAULT_TIERS
from marketplace.licensing.models import DELIVERABLES, LIMIT_NAMES, License, LicenseTier, Offer
from marketplace.licensing.offers import check_deliverable, refresh_listing_price
from marketplace.licensing.prices import check_price, store_currency

# What a credit line template may name; anything else would be left as a blank.
CREDIT_LINE_FIELDS = {"credit_line", "producers", "beat_title"}


def list_tiers(owner: User) -> list[LicenseTier]:
    """The owner's tiers (not archived), seeding the default templates the first time."""
    # The owner's row is locked, so two first visits at once seed the defaults once.
    db.session.execute(select(User.id).where(User.id == owner.id).with_for_update())
    ever_had = db.session.scalar(select(exists().where(LicenseTier.owner_id == owner.id)))
    if not ever_had:
        for position, template in enumerate(DEFAULT_TIERS):
            create_tier(owner, {**COMMON_TERMS, **template, "position": position,
                                "content_id": CONTENT_ID_BY_KIND[template["kind"]],
                                "default_price": {"amount": _chargeable(template["default_price"]),
                                                  "currency": store_currency()}})
    return list(db.session.scalars(select(LicenseTier).where(LicenseTier.owner_id == owner.id,
                                                             LicenseTier.archived_at.is_(None))
                                   .order_by(LicenseTier.position, LicenseTier.created_at)))


def _chargeable(amount: int) -> int:
    """A default price the payment provider can charge in the store currency (2999 fils of KWD
    are charged as 2990: its last digit must be 0)."""
    return amount - amount % charge_step(store_currency())


def get_own_tier(owner: User, tier_id: str) -> LicenseTier:
    tier = db.session.get(LicenseTier, tier_id)
    if tier is None or tier.owner_id != owner.id or tier.archived_at is not None:
        raise NotFound("No such license tier of yours.", code="tier_not_found")
    return tier


def create_tier(owner: User, fields: Mapping[str, Any]) -> LicenseTier:
    tier = LicenseTier(owner_id=owner.id, currency=store_currency(), position=fields.get("position", 0))
    _apply(tier, fields, creating=True)
    db.session.add(tier)
    db.session.flush()
    return tier


def update_tier(tier: LicenseTier, fields: Mapping[str, Any]) -> LicenseTier:
    """Changes apply to future sales; licenses already sold keep their frozen terms."""
    if "kind" in fields and fields["kind"] != tier.kind and _has_sold(tier):
        raise ValidationFailed(details={"kind": ["This tier has sold: create a new tier instead of "
                                                 "turning it into another kind."]})
    if "kind" in fields and fields["kind"] != tier.kind:
        _refuse_kind_change_while_offered(tier)
    _apply(tier, fields, creating=False)
    db.session.flush()
    if "deliverables" in fields or "kind" in fields:
        _check_offered_beats(tier)
    return tier


def _refuse_kind_change_while_offered(tier: LicenseTier) -> None:
    """A lease turned exclusive (or back) under an open offer would change what buyers are
    checking out: the kind of an offered tier stays as it is."""
    titles = list(db.session.scalars(select(Beat.title).join(Offer, Offer.beat_id == Beat.id)
                                     .where(Offer.tier_id == tier.id, Offer.active.is_(True))
                                     .order_by(Beat.title)))
    if not titles:
        return
    others = len(titles) - 1
    other_beats = f" and {others} other beat{'' if others == 1 else 's'}" if others else ""
    offered_on = f'"{titles[0]}"{other_beats}'
    raise Conflict(f"This tier is offered on {offered_on}, so it cannot turn from {tier.kind} into another "
                   "kind: take it off those beats first, or create a new tier of the kind you want.",
                   code="tier_offered", details={"kind": [f"Offered on {offered_on}."]})


def _check_offered_beats(tier: LicenseTier) -> None:
    """A tier's files and kind must still suit every beat it is offered on."""
    for offer in db.session.scalars(select(Offer).where(Offer.tier_id == tier.id, Offer.active.is_(True))):
        beat = db.session.get(Beat, offer.beat_id)
        try:
            check_deliverable(beat, tier, "tier")
        except ValidationFailed as refused:
            problem = refused.details["tier"]["tier_id"][0]
            raise ValidationFailed(details={"deliverables": [f"Offered on \"{beat.title}\": {problem} "
                                                             "Take it off that beat first."]}) from None


def remove_tier(tier: LicenseTier) -> None:
    """Delete an unused tier; a tier that has sold or is on offer is archived instead, its
    offers stopped, so the licenses that point at it keep their history."""
    used = _has_sold(tier) or db.session.scalar(select(exists().where(Offer.tier_id == tier.id)))
    if not used:
        db.session.delete(tier)
    else:
        tier.archived_at = utcnow()
        for offer in db.session.scalars(select(Offer).where(Offer.tier_id == tier.id)):
            offer.active = False
            db.session.flush()
            refresh_listing_price(db.session.get(Beat, offer.beat_id))
    db.session.flush()


def _has_sold(tier: LicenseTier) -> bool:
    return bool(db.session.scalar(select(exists().where(License.tier_id == tier.id))))


def _apply(tier: LicenseTier, fields: Mapping[str, Any], *, creating: bool) -> None:
    simple = ("name", "kind", "term_years", "publishing_share_bps", "master_points_bps", "content_id")
    for name in simple:
        if name in fields:
            setattr(tier, name, fields[name])
    if "deliverables" in fields:
        wanted = set(fields["deliverables"])
        if not wanted:
            raise ValidationFailed(details={"deliverables": ["A tier delivers at least one file."]})
        for kind in DELIVERABLES:
            setattr(tier, f"includes_{kind}", kind in wanted)
    if "limits" in fields:
        for name in LIMIT_NAMES:
            if name in fields["limits"]:
                setattr(tier, name, fields["limits"][name])
    if "credit_line_template" in fields:
        tier.credit_line_template = check_credit_line_template(fields["credit_line_template"])
    if "default_price" in fields:
        tier.default_price_amount = check_price(fields["default_price"], "default_price")
    if creating:
        tier.content_id = tier.content_id or CONTENT_ID_BY_KIND.get(tier.kind, "not_allowed")


def check_credit_line_template(template: str) -> str:
    try:
        fields = [(name, spec, conversion) for _text, name, spec, conversion in string.Formatter().parse(template)
                  if name is not None]
    except ValueError:
        raise ValidationFailed(details={"credit_line_template": ["Unbalanced braces."]}) from None
    unknown = {name for name, _spec, _conversion in fields} - CREDIT_LINE_FIELDS
    formatted = any(spec or conversion for _name, spec, conversion in fields)  # "{x:>99999}" and the like
    if unknown or formatted or any(name == "" for name, _spec, _conversion in fields):
        raise ValidationFailed(details={"credit_line_template": [
            f"Only {', '.join('{' + n + '}' for n in sorted(CREDIT_LINE_FIELDS))} may be used."]})
    return template
