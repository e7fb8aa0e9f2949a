"""License upgrades: from a license they hold, a buyer moves up to a higher license of the same
beat (a dearer lease, the exclusive) and pays the difference.

An upgrade is priced like any line at checkout and frozen there: the target's price today,
less what was paid for the license being upgraded (and for the licenses it replaced before),
never below the seller's floor for that offer. A difference too small to charge is issued
without payment; a negative one costs nothing and refunds nothing. Deals and coupons do not
apply to an upgrade: what was paid is already net of them, so they would count twice.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.checkout.models import Order, OrderItem, OrderStatus
from marketplace.common.clock import utcnow
from marketplace.common.money import Money, charge_step, minimum_charge
from marketplace.db import db
from marketplace.common.errors import Conflict, ValidationFailed
from marketplace.licensing.models import License, LicenseStatus, Offer, TierKind


class UpgradeUnavailable(Conflict):
    """The license can no longer be upgraded by this line (seen at fulfilment: another upgrade
    of it was paid first, or it was refunded or disputed meanwhile): the line is refunded."""

    code = "upgrade_unavailable"
    message = ("The license this upgrade replaces was upgraded, refunded or disputed before the payment "
               "arrived.")


def license_of_buyer(buyer: User, license_id: str, *, lock: bool = False) -> License | None:
    """The buyer's own license with this id, or None (someone else's is as good as unknown)."""
    license_ = db.session.get(License, license_id, with_for_update=lock or None, populate_existing=lock)
    return license_ if license_ is not None and license_.buyer_id == buyer.id else None


def credit_of(license_: License) -> int:
    """What the buyer paid for this license, net of discounts, with what they paid for the
    licenses it replaced: an upgrade of an upgrade counts every step once."""
    credit, seen = 0, set()
    while license_ is not None and license_.id not in seen:
        seen.add(license_.id)
        credit += license_.price_amount
        license_ = db.session.get(License, license_.upgrade_of_id) if license_.upgrade_of_id else None
    return credit


def expires_at(license_: License) -> dt.datetime | None:
    """When the license's term ends (None: perpetual). Years are counted as 365 days."""
    years = license_.terms.get("term_years")
    return license_.issued_at + dt.timedelta(days=365 * years) if years else None


def license_problem(license_: License, currency: str, now: dt.datetime | None = None) -> str | None:
    """Why this license cannot be upgraded now, in words; or None."""
    if license_.status == LicenseStatus.REVOKED:
        return "This license was revoked (refunded or charged back): it cannot be upgraded."
    if license_.superseded_by_id is not None:
        newer = db.session.get(License, license_.superseded_by_id)
        return (f"This license was already upgraded, to {newer.license_number}: upgrade that license instead."
                if newer is not None else "This license was already upgraded.")
    if license_.frozen_at is not None:
        return "The payment for this license is disputed: it can be upgraded once that is settled."
    if license_.kind == TierKind.EXCLUSIVE:
        return "Exclusive rights are the highest license: there is nothing to upgrade them to."
    ends = expires_at(license_)
    if ends is not None and ends <= (now or utcnow()):
        return f"This license's term ended on {ends.date().isoformat()}: it cannot be upgraded."
    if license_.currency != currency:
        return (f"This license was paid in {license_.currency.upper()} and the store now sells in "
                f"{currency.upper()}: what was paid cannot be counted towards an upgrade.")
    return None


def target_problem(license_: License, offer: Offer) -> str | None:
    """Why this offer is not an upgrade of the license: the same tier, or not a higher license
    (the exclusive, or a lease dearer than the license's own tier is on this beat today)."""
    if offer.beat_id != license_.beat_id:
        return "An upgrade is to another license of the same beat."
    if offer.tier_id == license_.tier_id:
        return "This is the license you have: choose a higher one."
    if offer.tier.kind == TierKind.EXCLUSIVE:
        return None
    if offer.price_amount <= _reference_price(license_):
        return "This lease is not higher than the license you have."
    return None


def _reference_price(license_: License) -> int:
    """What the license's own tier costs on this beat today, or, no longer offered, what was paid."""
    own = db.session.scalar(select(Offer.price_amount).where(Offer.beat_id == license_.beat_id,
                                                             Offer.tier_id == license_.tier_id))
    return own if own is not None else credit_of(license_)


def upgrade_price(list_price: int, credit: int, floor: int, currency: str) -> int:
    """The target's price less the credit, at least the floor, rounded up to what the payment
    provider charges in; below the smallest charge it costs nothing."""
    price = max(list_price - credit, floor, 0)
    price += -price % charge_step(currency)
    if price < minimum_charge(currency):
        return 0
    return min(price, list_price)


def credit_label(license_: License, credit: int) -> str:
    paid = Money(credit, license_.currency).formatted()
    return f"Already paid for license {license_.license_number} ({paid})"


def refuse(position: int, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"items": {str(position): [message]}})


def pending_upgrade_orders(buyer: User, license_id: str) -> list[str]:
    """The buyer's pending orders with a line upgrading this license."""
    return list(db.session.scalars(
        select(Order.id).join(OrderItem, OrderItem.order_id == Order.id)
        .where(Order.buyer_id == buyer.id, Order.status == OrderStatus.PENDING,
               OrderItem.upgrade_of_license_id == license_id).distinct().order_by(Order.id)))


def supersede(base: License, upgrade: License) -> None:
    """The upgrade is issued: the license it replaces is superseded, not revoked (what was done
    under it stays covered). The unique index on upgrade_of_id settles two upgrades at once."""
    upgrade.upgrade_of_id = base.id
    base.superseded_by_id, base.superseded_at = upgrade.id, utcnow()
    db.session.flush()
