"""Discounts, computed on the server from the beatmakers' own deals and coupons.

Order of application, per beatmaker: first the bulk deal (in each group of N+M leases, the
M cheapest are free), then the coupon on what is left to pay. A line never goes below zero,
and every cent of a discount is assigned to one line, so a refund of one line is exact.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from marketplace.checkout.models import BulkDeal, Coupon, CouponKind
from marketplace.common.money import charge_step


@dataclasses.dataclass
class PricedLine:
    seller_id: str
    beat_id: str
    kind: str  # lease | exclusive
    list_price: int
    discount: int = 0
    discounts: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    coupon_id: str | None = None
    # An upgrade is priced on what was paid before, already net of deals and coupons: neither
    # applies to it again.
    upgrade: bool = False
    # A price agreed in a proposal is what is paid: neither applies to it either.
    agreed: bool = False

    @property
    def price(self) -> int:
        return self.list_price - self.discount

    def take(self, amount: int, reason: dict[str, Any]) -> None:
        amount = min(amount, self.price)
        if amount > 0:
            self.discount += amount
            self.discounts.append({**reason, "amount": amount})


def apply_deal(lines: Iterable[PricedLine], deal: BulkDeal) -> None:
    """In each group of buy+free leases (dearest first), the `free` cheapest cost nothing."""
    leases = sorted((line for line in lines if line.kind == "lease" and not (line.upgrade or line.agreed)),
                    key=lambda line: -line.list_price)
    group = deal.buy_count + deal.free_count
    for start in range(0, len(leases) - group + 1, group):
        for line in leases[start + deal.buy_count:start + group]:
            line.take(line.price, {"type": "deal", "deal_id": deal.id,
                                   "label": f"Buy {deal.buy_count} get {deal.free_count} free"})


def apply_coupon(lines: Iterable[PricedLine], coupon: Coupon) -> bool:
    """Apply `coupon` to the lines it covers; False when it covers none of them."""
    eligible = [line for line in lines
                if line.price > 0 and not (line.upgrade or line.agreed)
                and coupon.beat_id in (None, line.beat_id)]
    if not eligible:
        return False
    reason = {"type": "coupon", "coupon_id": coupon.id, "code": coupon.code}
    # Discounts come in whole steps of what the payment provider charges (0.010 KWD, 1 HUF), so
    # every discounted line can still be charged; prices and fixed amounts are set in such steps.
    step = charge_step(coupon.currency)
    if any(line.price % step for line in eligible):
        step = 1  # a price from before the step was checked: exact minor units, as it was
    if coupon.kind == CouponKind.PERCENT:
        for line in eligible:
            off = line.price * coupon.percent_off // 100
            line.take(off - off % step, reason)
    else:
        shares = split_fixed(coupon.amount_off // step, [line.price // step for line in eligible])
        for line, share in zip(eligible, shares):
            line.take(share * step, reason)
    for line in eligible:
        line.coupon_id = coupon.id
    return True


def split_fixed(amount: int, prices: list[int]) -> list[int]:
    """Share a fixed discount over lines in proportion to their prices, to the cent:
    floors first, then the cents left over go to the largest remainders."""
    total = sum(prices)
    amount = min(amount, total)
    shares = [amount * price // total for price in prices]
    remainders = sorted(range(len(prices)), key=lambda i: -(amount * prices[i] % total))
    for index in remainders[:amount - sum(shares)]:
        shares[index] += 1
    return shares


def coupon_problem(coupon: Coupon, now: dt.datetime, currency: str, redemptions: int) -> str | None:
    """Why this coupon cannot be used now, or None."""
    if not coupon.active:
        return "This code is no longer active."
    if coupon.expires_at is not None and coupon.expires_at <= now:
        return "This code has expired."
    if coupon.max_redemptions is not None and redemptions >= coupon.max_redemptions:
        return "This code has been used as many times as it allows."
    if coupon.currency != currency:
        return "This code is in another currency."
    return None


def price_lines(lines: list[PricedLine], deals: Mapping[str, BulkDeal], coupons: Mapping[str, Coupon]) -> None:
    """Apply each seller's deal and then each seller's coupon (both keyed by seller id)."""
    for seller_id, deal in deals.items():
        apply_deal([line for line in lines if line.seller_id == seller_id], deal)
    for seller_id, coupon in coupons.items():
        apply_coupon([line for line in lines if line.seller_id == seller_id], coupon)
