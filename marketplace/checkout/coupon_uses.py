"""Coupon uses. A pending order reserves one use of each coupon it applies, its payment
redeems it, and an order that ends unpaid (expired, failed, replaced) releases it. A buyer
has at most one reservation of a coupon at a time, so unpaid checkouts cannot drain it;
a coupon with a limit has that many seats. Both are partial unique indexes (see
CouponRedemption), so they hold under races on every database.
"""

from __future__ import annotations

from sqlalchemy import func, select, update

from marketplace.checkout.models import Coupon, CouponRedemption, Order, OrderStatus
from marketplace.common.clock import utcnow
from marketplace.db import add_unless_refused, db
from marketplace.common.errors import Conflict, ValidationFailed

USED_UP = "This code has been used as many times as it allows."


class CouponReserved(Conflict):
    code = "coupon_reserved"
    message = ("You are already checking out with this code in another order. Pay for that order or let "
               "its payment page close first.")


def live_uses(coupon: Coupon) -> int:
    """Uses that count against the coupon's limit: paid ones and pending reservations."""
    return db.session.scalar(select(func.count()).select_from(CouponRedemption).where(
        CouponRedemption.coupon_id == coupon.id, CouponRedemption.released_at.is_(None))) or 0


def reserved_order_id(coupon: Coupon, buyer_id: str) -> str | None:
    """The buyer's pending order that holds a reservation of this coupon, if any."""
    return db.session.scalar(select(CouponRedemption.order_id).where(
        CouponRedemption.coupon_id == coupon.id, CouponRedemption.buyer_id == buyer_id,
        CouponRedemption.released_at.is_(None), CouponRedemption.redeemed_at.is_(None)))


def reserve(order: Order, coupon: Coupon) -> None:
    """Reserve one use of `coupon` for a pending order, or refuse: 409 while the buyer holds
    another reservation of it, 422 when its uses are all taken."""
    for _attempt in range(3):
        use = CouponRedemption(coupon_id=coupon.id, order_id=order.id, buyer_id=order.buyer_id,
                               seat=_free_seat(coupon))
        if add_unless_refused(use):
            return
        if reserved_order_id(coupon, order.buyer_id) is not None:
            raise CouponReserved(details={"coupon_code": coupon.code})
        # Another checkout took the same seat at the same moment: look again.
    raise ValidationFailed(details={"coupon_code": [USED_UP]})


def _free_seat(coupon: Coupon) -> int | None:
    if coupon.max_redemptions is None:
        return None
    taken = set(db.session.scalars(select(CouponRedemption.seat).where(
        CouponRedemption.coupon_id == coupon.id, CouponRedemption.released_at.is_(None))))
    for seat in range(1, coupon.max_redemptions + 1):
        if seat not in taken:
            return seat
    raise ValidationFailed(details={"coupon_code": [USED_UP]})


def settle(order: Order, to: OrderStatus) -> None:
    """A pending order moves on: paid, its reservations become uses; otherwise they are freed."""
    now = utcnow()
    reserved = update(CouponRedemption).where(CouponRedemption.order_id == order.id,
                                              CouponRedemption.released_at.is_(None),
                                              CouponRedemption.redeemed_at.is_(None))
    if to == OrderStatus.PAID:
        db.session.execute(reserved.values(redeemed_at=now))
    else:
        db.session.execute(reserved.values(released_at=now))
