"""Beatmakers' coupons and bulk deals: created and ended by their owners only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update

from marketplace.accounts.models import User
from marketplace.catalog.models import Beat
from marketplace.checkout.models import BulkDeal, Coupon
from marketplace.common.money import stripe_amount_problem
from marketplace.db import add_unless_refused, db
from marketplace.common.errors import Conflict, NotFound, ValidationFailed
from marketplace.licensing.prices import store_currency


def coupons_of(owner: User) -> list[Coupon]:
    return list(db.session.scalars(select(Coupon).where(Coupon.owner_id == owner.id)
                                   .order_by(Coupon.created_at.desc())))


def create_coupon(owner: User, fields: Mapping[str, Any]) -> Coupon:
    code = fields["code"].upper()
    if db.session.scalar(select(Coupon.id).where(Coupon.owner_id == owner.id, Coupon.code == code)):
        raise Conflict("You already have a coupon with this code.", code="coupon_exists")
    beat_id = fields["beat_id"]
    if beat_id is not None and db.session.scalar(
            select(Beat.id).where(Beat.id == beat_id, Beat.owner_id == owner.id)) is None:
        raise ValidationFailed(details={"beat_id": ["Not one of your beats."]})
    amount_off = fields["amount_off"]
    if amount_off is not None and amount_off["currency"] != store_currency():
        raise ValidationFailed(details={"amount_off": [f"Amounts are in {store_currency()}."]})
    not_chargeable = amount_off and stripe_amount_problem(amount_off["amount"], amount_off["currency"])
    if not_chargeable:
        raise ValidationFailed(details={"amount_off": [not_chargeable]})
    coupon = Coupon(owner_id=owner.id, code=code, kind=fields["kind"], beat_id=beat_id,
                    percent_off=fields["percent_off"], amount_off=amount_off and amount_off["amount"],
                    currency=store_currency(), expires_at=fields["expires_at"],
                    max_redemptions=fields["max_redemptions"])
    if not add_unless_refused(coupon):  # the same code created at the same moment
        raise Conflict("You already have a coupon with this code.", code="coupon_exists")
    return coupon


def end_coupon(owner: User, coupon_id: str) -> Coupon:
    coupon = db.session.get(Coupon, coupon_id)
    if coupon is None or coupon.owner_id != owner.id:
        raise NotFound("No such coupon.", code="coupon_not_found")
    coupon.active = False
    db.session.flush()
    return coupon


def edit_coupon(owner: User, coupon_id: str, fields: Mapping[str, Any]) -> Coupon:
    """Change a coupon's end date, raise its limit, end it or start it again. Its code, kind
    and discount stay: orders and buyers know it by them."""
    coupon = db.session.get(Coupon, coupon_id, with_for_update=True)
    if coupon is None or coupon.owner_id != owner.id:
        raise NotFound("No such coupon.", code="coupon_not_found")
    if "expires_at" in fields:
        coupon.expires_at = fields["expires_at"]
    if "max_redemptions" in fields:
        _check_new_limit(coupon, fields["max_redemptions"])
        coupon.max_redemptions = fields["max_redemptions"]
    if "active" in fields:
        coupon.active = fields["active"]
    db.session.flush()
    return coupon


def _check_new_limit(coupon: Coupon, limit: int | None) -> None:
    """A limit can be raised or lifted. Each use holds one of the limit's numbered seats, so a
    limit cannot be lowered (seats in use would lie past it) nor put on a coupon without one
    (its uses hold no seat, and would not be counted)."""
    if limit == coupon.max_redemptions or limit is None:
        return
    if coupon.max_redemptions is None:
        raise ValidationFailed("This coupon has no limit, and none can be added.", details={
            "max_redemptions": ["A limit cannot be added to a coupon that had none: "
                                "end it and create a new code with a limit."]})
    if limit < coupon.max_redemptions:
        raise ValidationFailed("A coupon's limit can only be raised.", details={
            "max_redemptions": [f"The limit can only be raised (it is {coupon.max_redemptions}): "
                                "end the coupon to stop it sooner."]})


def deal_of(owner: User) -> BulkDeal | None:
    return db.session.scalar(select(BulkDeal).where(BulkDeal.owner_id == owner.id, BulkDeal.active.is_(True)))


def set_deal(owner: User, buy_count: int, free_count: int) -> BulkDeal:
    """Start a deal on your leases; it replaces the one running, if any."""
    end_deal(owner)
    deal = BulkDeal(owner_id=owner.id, buy_count=buy_count, free_count=free_count)
    if not add_unless_refused(deal):  # another deal was started at the same moment
        raise Conflict("Another deal was just started; try again.", code="deal_conflict")
    return deal


def end_deal(owner: User) -> None:
    db.session.execute(update(BulkDeal).where(BulkDeal.owner_id == owner.id, BulkDeal.active.is_(True))
                       .values(active=False))
    db.session.flush()
