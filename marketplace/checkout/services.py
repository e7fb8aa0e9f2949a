"""Checkout: from a cart to a pending order with a payment page, and from a payment to
licenses, exactly once.

The edges own the transactions. Starting a checkout is two of them: the order and its
exclusive holds are committed first (the holds' unique index settles races at once, without
waiting on the payment provider), then the payment page is opened and its id committed, or
the order fails and its holds are released. Fulfilment is idempotent: the webhook and the
success page may both call it, in any order, any number of times.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence

from flask import current_app
from sqlalchemy import func, select, update

from marketplace.accounts.models import Role, User, UserStatus
from marketplace.catalog import services as catalog
from marketplace.catalog.lifecycle import PUBLIC_STATUSES, BeatStatus
from marketplace.catalog.models import Beat
from marketplace.checkout import holds, signals, states
from marketplace.checkout.models import (
    BulkDeal,
    Coupon,
    ItemStatus,
    Order,
    OrderItem,
    OrderStatus,
)
from marketplace.checkout.port import (
    NewSession,
    PaymentProviderError,
    PaymentProviderUnavailable,
    PaymentState,
    SessionLine,
    SessionState,
    payment_port,
)
from marketplace.checkout.pricing import PricedLine, coupon_problem, price_lines
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.jobs.queue import enqueue
from marketplace.licensing.issuing import (
    ExclusiveUnavailable,
    Sale,
    freeze_license,
    issue_license,
    revoke_license,
    terms_snapshot,
    unfreeze_license,
)
from marketplace.licensing.models import License, Offer, TierKind
from marketplace.licensing.offers import check_deliverable

log = logging.getLogger("marketplace.checkout")

# Stripe's smallest and largest charges in the major currencies, in minor units.
MINIMUM_CHARGE = 50
MAXIMUM_CHARGE = 99_999_999
MAX_ITEMS = 20
# Stripe wants a session's expiry at least 30 minutes ahead when the session is created,
# which is a moment after the order is placed (and after any network retry).
SESSION_EXPIRY_MARGIN = dt.timedelta(minutes=2)

# Orders that take money, for coupon usage limits: a failed or expired order gives its use back.
REDEEMING_STATUSES = (OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.DISPUTED, OrderStatus.REFUNDED)


@dataclasses.dataclass(frozen=True)
class CartItem:
    beat_id: str
    tier_id: str


class PaymentMismatch(Conflict):
    code = "payment_mismatch"
    message = "The payment does not match the order."


# -- starting a checkout ----------------------------------------------------------------

def place_order(buyer: User, items: Sequence[CartItem], coupon_code: str | None) -> Order:
    """Check every item, price the cart and take the exclusive holds. The caller commits."""
    _check_cart_shape(items)
    now = utcnow()
    currency = current_app.config["STORE_CURRENCY"]
    minutes = dt.timedelta(minutes=current_app.config["CHECKOUT_SESSION_MINUTES"])
    order = Order(buyer_id=buyer.id, currency=currency, subtotal_amount=0, total_amount=0,
                  expires_at=now + minutes + SESSION_EXPIRY_MARGIN, coupon_code=coupon_code)
    lines, order_items, families = [], [], []
    for position, item in enumerate(items):
        beat, offer = _sellable(buyer, item, position, currency)
        families.append(beat.version_of_id or beat.id)
        order_items.append(OrderItem(
            position=position, beat_id=beat.id, tier_id=offer.tier_id, seller_id=beat.owner_id,
            kind=offer.tier.kind, beat_title=beat.title, tier_name=offer.tier.name,
            list_price_amount=offer.price_amount, terms=terms_snapshot(offer.tier, beat)))
        lines.append(PricedLine(seller_id=beat.owner_id, beat_id=beat.id, kind=offer.tier.kind,
                                list_price=offer.price_amount))
    coupons = _coupons_for(coupon_code, {line.seller_id for line in lines}, currency, now)
    deals = {deal.owner_id: deal for deal in db.session.scalars(select(BulkDeal).where(
        BulkDeal.owner_id.in_({line.seller_id for line in lines}), BulkDeal.active.is_(True)))}
    price_lines(lines, deals, coupons)
    if coupons and not any(line.coupon_id for line in lines):
        raise ValidationFailed(details={"coupon_code": ["This code does not apply to anything in the cart."]})
    for order_item, line in zip(order_items, lines):
        order_item.discount_amount, order_item.price_amount = line.discount, line.price
        order_item.discounts, order_item.coupon_id = line.discounts, line.coupon_id
    order.items = order_items
    order.subtotal_amount = sum(line.list_price for line in lines)
    order.discount_amount = sum(line.discount for line in lines)
    order.total_amount = order.subtotal_amount - order.discount_amount
    if not MINIMUM_CHARGE <= order.total_amount <= MAXIMUM_CHARGE:
        raise ValidationFailed("The total after discounts cannot be charged in one payment.",
                               details={"total": [f"Between {MINIMUM_CHARGE} and {MAXIMUM_CHARGE} minor units."]})
    db.session.add(order)
    db.session.flush()
    # An exclusive covers the original and its versions: the hold is on the family.
    for order_item, family_id in zip(order_items, families):
        if order_item.kind == TierKind.EXCLUSIVE:
            _drop_own_earlier_checkout(buyer, family_id)
            holds.take_hold(family_id, order.id, order.expires_at)
    return order


def _drop_own_earlier_checkout(buyer: User, beat_id: str) -> None:
    """A buyer who left a payment page open and checks out again replaces that checkout,
    instead of being locked out of their own hold. The old page is closed at the provider
    first; if that fails (it was just paid, or the provider is down) the hold stays."""
    hold = holds.active_holds([beat_id]).get(beat_id)
    earlier = db.session.get(Order, hold.order_id, with_for_update=True) if hold else None
    if earlier is None or earlier.buyer_id != buyer.id or earlier.status != OrderStatus.PENDING:
        return
    if earlier.payment_session_id is not None:
        try:
            payment_port().expire_session(earlier.payment_session_id)
        except (PaymentProviderError, PaymentProviderUnavailable):
            return
    states.move(earlier, OrderStatus.EXPIRED, "replaced_by_new_checkout")
    holds.release_holds(earlier.id, "replaced")
    db.session.flush()


def _check_cart_shape(items: Sequence[CartItem]) -> None:
    if not items:
        raise ValidationFailed(details={"items": ["The cart is empty."]})
    if len(items) > MAX_ITEMS:
        raise ValidationFailed(details={"items": [f"At most {MAX_ITEMS} items per order."]})
    beats = [item.beat_id for item in items]
    if len(set(beats)) != len(beats):
        raise ValidationFailed(details={"items": ["Each beat may appear once per order, under one license."]})


def _sellable(buyer: User, item: CartItem, position: int, currency: str) -> tuple[Beat, Offer]:
    """The beat and offer of a cart item, if the buyer may buy them now."""
    def refuse(message: str) -> ValidationFailed:
        return ValidationFailed(message, details={"items": {str(position): [message]}})

    beat = db.session.get(Beat, item.beat_id)
    offer = db.session.scalar(select(Offer).where(Offer.beat_id == item.beat_id, Offer.tier_id == item.tier_id))
    if beat is None or beat.status not in PUBLIC_STATUSES or beat.owner.status != UserStatus.ACTIVE:
        raise refuse("This beat is not for sale.")
    if beat.owner_id == buyer.id:
        raise refuse("You cannot buy your own beat.")
    if offer is not None and offer.tier.kind == TierKind.EXCLUSIVE and (
            beat.status != BeatStatus.PUBLISHED or catalog.family_sold_exclusively(beat)):
        raise ExclusiveUnavailable(details={"beat_id": beat.id})
    if offer is None or not offer.active or beat.status != BeatStatus.PUBLISHED:
        raise refuse("This beat is not offered under that license.")
    if offer.currency != currency:
        raise refuse(f"This offer is not in the store's currency ({currency}).")
    try:
        check_deliverable(beat, offer.tier, "items")
    except ValidationFailed:
        raise refuse("This license cannot be delivered for this beat.") from None
    return beat, offer


def _coupons_for(code: str | None, seller_ids: set[str], currency: str, now: dt.datetime) -> dict[str, Coupon]:
    """Each seller's usable coupon with this code, locked so usage limits hold under races."""
    if not code:
        return {}
    found = list(db.session.scalars(select(Coupon).where(
        Coupon.code == code.strip().upper(), Coupon.owner_id.in_(seller_ids))
        .order_by(Coupon.id).with_for_update()))  # one lock order: no deadlock between carts
    if not found:
        raise ValidationFailed(details={"coupon_code": ["No beatmaker in this cart has this code."]})
    usable, problems = {}, []
    for coupon in found:
        problem = coupon_problem(coupon, now, currency, redemptions(coupon))
        if problem:
            problems.append(problem)
        else:
            usable[coupon.owner_id] = coupon
    if not usable:
        raise ValidationFailed(details={"coupon_code": problems})
    return usable


def redemptions(coupon: Coupon) -> int:
    return db.session.scalar(select(func.count(func.distinct(OrderItem.order_id)))
                             .join(Order, Order.id == OrderItem.order_id)
                             .where(OrderItem.coupon_id == coupon.id, Order.status.in_(REDEEMING_STATUSES))) or 0


def open_payment_page(order: Order, buyer: User, success_url: str, cancel_url: str) -> None:
    """Create the provider's payment page for a placed order; it closes when the holds end."""
    created = payment_port().create_session(NewSession(
        order_id=order.id, currency=order.currency, expires_at=order.expires_at,
        success_url=success_url, cancel_url=cancel_url, customer_email=buyer.email,
        metadata={"order_id": order.id, "buyer_id": buyer.id},
        idempotency_key=f"checkout-session-{order.id}",
        lines=[SessionLine(name=f"{item.beat_title} ({item.tier_name})"[:250],
                           description=_line_description(item), amount=item.price_amount)
               for item in order.items]))
    order.payment_session_id, order.checkout_url = created.id, created.url
    db.session.flush()


def _line_description(item: OrderItem) -> str:
    kind = "Exclusive rights" if item.kind == TierKind.EXCLUSIVE else "Non-exclusive lease"
    labels = [d.get("label") or f"code {d.get('code')}" for d in item.discounts]
    return kind + (f" · {', '.join(labels)}" if labels else "")


def abandon_order(order: Order, reason: str) -> None:
    """The payment page could not be opened: the order fails and its holds are freed."""
    states.move(order, OrderStatus.FAILED, reason)
    holds.release_holds(order.id, "checkout_failed")
    db.session.flush()


# -- reading orders ---------------------------------------------------------------------

def order_for(user: User, order_id: str) -> Order:
    """An order its buyer (or an admin) may see; 404 for anyone else."""
    order = db.session.get(Order, order_id)
    if order is None or not (order.buyer_id == user.id or user.has_role(Role.ADMIN)):
        raise NotFound("No such order.", code="order_not_found")
    return order


def orders_of(user: User) -> list[Order]:
    return list(db.session.scalars(select(Order).where(Order.buyer_id == user.id)
                                   .order_by(Order.created_at.desc(), Order.id.desc()).limit(100)))


def licenses_by_id(orders: Sequence[Order]) -> dict[str, License]:
    ids = [item.license_id for order in orders for item in order.items if item.license_id]
    if not ids:
        return {}
    return {license_.id: license_ for license_ in db.session.scalars(select(License).where(License.id.in_(ids)))}


# -- payments arriving ------------------------------------------------------------------

def locked_order(order_id: str | None) -> Order | None:
    """The order row, locked and read afresh: fulfilments of one order (webhook, success
    page, sweep) run one after the other. A no-op UPDATE takes SQLite's write lock, which
    has no row locks, before the status is read; PostgreSQL locks the row."""
    if not order_id:
        return None
    db.session.execute(update(Order).where(Order.id == order_id).values(status=Order.status)
                       .execution_options(synchronize_session=False))
    return db.session.get(Order, order_id, with_for_update=True, populate_existing=True)


def sync_with_session(order: Order) -> Order:
    """Ask the provider how the order's payment page stands and act on it (success page, sweep)."""
    if order.status != OrderStatus.PENDING or order.payment_session_id is None:
        return order
    return apply_session(payment_port().retrieve_session(order.payment_session_id)) or order


def apply_session(session: SessionState) -> Order | None:
    """Act on a Checkout Session as the provider reports it: fulfil, wait, or expire."""
    order = locked_order(session.order_id)
    if order is not None and order.payment_session_id is None and order.status == OrderStatus.PENDING:
        order.payment_session_id = session.id  # the checkout died before it could save the id
    if order is None or order.payment_session_id != session.id:
        log.warning("session_without_order", extra={"session_id": session.id, "order_id": session.order_id})
        return None
    if order.status != OrderStatus.PENDING:
        return order  # already settled: a duplicate, late or out-of-order event
    if session.status == "complete" and session.payment_status == "paid":
        fulfil(order, session)
    elif session.status == "complete":
        _await_delayed_payment(order, session)
    elif session.status == "expired":
        states.move(order, OrderStatus.EXPIRED)
        holds.release_holds(order.id, "expired")
    db.session.flush()
    return order


def _await_delayed_payment(order: Order, session: SessionState) -> None:
    """Paid by a method that settles later (a bank debit): the exclusive stays with this
    buyer until it settles, within a limit. Asked again later, the provider may say it failed."""
    if order.payment_intent_id is None:
        order.payment_intent_id = session.payment_intent_id
        order.expires_at = utcnow() + dt.timedelta(days=current_app.config["DELAYED_PAYMENT_HOLD_DAYS"])
        holds.extend_holds(order.id, order.expires_at)
        return
    payment = payment_port().retrieve_payment(order.payment_intent_id)
    if payment.status in ("requires_payment_method", "canceled"):
        _fail(order)


def fail_delayed_payment(session: SessionState) -> Order | None:
    order = locked_order(session.order_id)
    if order is None or order.payment_session_id != session.id:
        return None
    if order.status == OrderStatus.PENDING and session.payment_status != "paid":
        _fail(order)
        db.session.flush()
    return order


def _fail(order: Order) -> None:
    states.move(order, OrderStatus.FAILED, "payment_failed")
    holds.release_holds(order.id, "payment_failed")
    enqueue("checkout.notify_payment_failed", order.id)


def fulfil(order: Order, session: SessionState) -> None:
    """Turn a paid order into licenses. Exclusives whose hold was lost are refunded instead."""
    order.payment_intent_id = session.payment_intent_id
    if session.amount_total != order.total_amount or session.currency != order.currency:
        _refuse_mismatched_payment(order, session)
        return
    states.move(order, OrderStatus.PAID)
    buyer = db.session.get(User, order.buyer_id)
    families = _lock_families(order)
    refused = [item for item in order.items if not _license_item(order, item, buyer, families[item.beat_id])]
    holds.release_holds(order.id, "paid")
    if refused:
        _refuse_lines(order, refused)
    enqueue("checkout.send_receipt", order.id)
    db.session.flush()
    signals.send(signals.ORDER_PAID, order)


def _lock_families(order: Order) -> dict[str, str]:
    """Each line's family (the original beat), with the families' rows locked in one order
    (by id), so two fulfilments sharing beats cannot deadlock."""
    beats = {beat.id: beat for beat in db.session.scalars(
        select(Beat).where(Beat.id.in_([item.beat_id for item in order.items])))}
    families = {beat_id: beat.version_of_id or beat.id for beat_id, beat in beats.items()}
    for family_id in sorted(set(families.values())):
        db.session.get(Beat, family_id, with_for_update=True)
    return families


def _license_item(order: Order, item: OrderItem, buyer: User, family_id: str) -> bool:
    """Issue the item's license, in a savepoint; False when the exclusive is no longer ours."""
    try:
        with db.session.begin_nested():
            if item.kind == TierKind.EXCLUSIVE and holds.hold_of(order.id, family_id) is None:
                raise ExclusiveUnavailable()
            license_ = issue_license(Sale(
                reference=item.id, beat_id=item.beat_id, tier_id=item.tier_id, buyer=buyer,
                price_amount=item.price_amount, currency=order.currency, terms=item.terms,
                checkout_started_at=order.created_at))
    except ExclusiveUnavailable:
        item.status, item.refund_reason = ItemStatus.REFUNDED, "exclusive_unavailable"
        return False
    item.status, item.license_id = ItemStatus.LICENSED, license_.id
    return True


def _refuse_lines(order: Order, refused: list[OrderItem]) -> None:
    """Lines paid for but not licensable are refunded by a job once this commits: a refund
    never depends on, nor is lost with, this transaction."""
    if all(item.status == ItemStatus.REFUNDED for item in order.items):
        states.move(order, OrderStatus.REFUNDED, "exclusive_unavailable")
    log.warning("exclusive_refused", extra={"order_id": order.id, "items": [item.id for item in refused]})
    enqueue("checkout.refund_refused_lines", order.id)


def refund_refused_lines(order: Order) -> None:
    """Refund each refused line once: one idempotency key per line, whatever happens around it."""
    for item in order.items:
        if item.status != ItemStatus.REFUNDED or item.refund_id or item.refund_error or not item.price_amount:
            continue
        try:
            item.refund_id = payment_port().refund(
                order.payment_intent_id, item.price_amount, currency=order.currency,
                idempotency_key=f"refund-line-{item.id}",
                metadata={"order_id": order.id, "order_item_id": item.id, "reason": item.refund_reason})
        except PaymentProviderError as refused:
            item.refund_error = refused.details.get("provider_code") or refused.code
            log.error("line_refund_refused", extra={"order_id": order.id, "item_id": item.id,
                                                    "reason": item.refund_error})
            continue
        order.refunded_amount = min(order.total_amount, max(order.refunded_amount, _refunded_lines(order)))
        db.session.flush()


def _refunded_lines(order: Order) -> int:
    return sum(item.price_amount for item in order.items if item.refund_id)


def _refuse_mismatched_payment(order: Order, session: SessionState) -> None:
    """A payment for another amount than the order's is never fulfilled; it is given back."""
    log.error("payment_mismatch", extra={"order_id": order.id, "expected": order.total_amount,
                                         "currency": order.currency, "paid": session.amount_total,
                                         "paid_currency": session.currency})
    states.move(order, OrderStatus.FAILED, "payment_mismatch")
    holds.release_holds(order.id, "payment_mismatch")
    enqueue("checkout.refund_mismatched_payment", order.id)
    db.session.flush()


def refund_mismatched_payment(order: Order) -> None:
    """Give back whatever is left of a payment that did not match its order."""
    payment = payment_port().retrieve_payment(order.payment_intent_id)
    left = payment.amount - payment.amount_refunded
    if left > 0:
        payment_port().refund(payment.payment_intent_id, left, currency=payment.currency,
                              idempotency_key=f"refund-mismatch-{order.id}",
                              metadata={"order_id": order.id, "reason": "payment_mismatch"})
    order.refund_requested_at = order.refund_requested_at or utcnow()
    db.session.flush()


# -- after the payment: refunds and disputes ---------------------------------------------

def order_of_payment(payment: PaymentState) -> Order | None:
    order = locked_order(payment.order_id)
    if order is None or order.payment_intent_id not in (None, payment.payment_intent_id):
        log.warning("payment_without_order", extra={"payment_intent": payment.payment_intent_id})
        return None
    return order


def record_refund(payment: PaymentState) -> Order | None:
    """The provider refunded (part of) a payment. A full refund revokes every license."""
    order = order_of_payment(payment)
    if order is None:
        return None
    order.payment_intent_id = payment.payment_intent_id
    order.refunded_amount = max(order.refunded_amount, min(payment.amount_refunded, order.total_amount))
    if payment.amount_refunded < payment.amount:
        db.session.flush()
        return order
    for license_ in _licenses_of(order):
        revoke_license(license_, "refund")
    holds.release_holds(order.id, "refunded")
    if order.status == OrderStatus.PENDING:
        # Refunded before we fulfilled it (events out of order): no license is ever issued.
        states.move(order, OrderStatus.REFUNDED, "refunded_before_fulfilment")
    elif order.status in (OrderStatus.PAID, OrderStatus.DISPUTED):
        states.move(order, OrderStatus.REFUNDED, order.status_reason or "refunded")
        db.session.flush()
        signals.send(signals.ORDER_REFUNDED, order)
    db.session.flush()
    return order


DISPUTE_WON = ("won", "warning_closed")  # a closed inquiry never became a chargeback


def record_dispute(payment: PaymentState, dispute_status: str) -> Order | None:
    """A dispute as it stands now. Open: downloads freeze. Won: they thaw and the order goes
    back to what it was. Lost: the licenses are revoked."""
    order = order_of_payment(payment)
    if order is None or order.status in (OrderStatus.PENDING, OrderStatus.FAILED, OrderStatus.EXPIRED):
        return order
    licenses = _licenses_of(order)
    if dispute_status in DISPUTE_WON:
        if order.status == OrderStatus.DISPUTED:
            fully_refunded = order.refunded_amount >= order.total_amount
            states.move(order, OrderStatus.REFUNDED if fully_refunded else OrderStatus.PAID, "dispute_won")
            signals.send(signals.DISPUTE_WON, order)
        for license_ in licenses:
            unfreeze_license(license_)
    else:
        if order.status != OrderStatus.DISPUTED:
            states.move(order, OrderStatus.DISPUTED, "dispute_opened")
            signals.send(signals.DISPUTE_OPENED, order)
        for license_ in licenses:
            freeze_license(license_)
        if dispute_status == "lost" and order.status_reason != "dispute_lost":
            order.status_reason = "dispute_lost"
            for license_ in licenses:
                revoke_license(license_, "chargeback")
            signals.send(signals.DISPUTE_LOST, order)
    db.session.flush()
    return order


def _licenses_of(order: Order) -> list[License]:
    ids = [item.license_id for item in order.items if item.license_id]
    return list(db.session.scalars(select(License).where(License.id.in_(ids)))) if ids else []


def request_refund(order: Order) -> Order:
    """An admin refunds a paid order in full. The licenses are revoked when the provider
    confirms (the refund event); asking twice asks the provider once."""
    order = locked_order(order.id)
    if order.status == OrderStatus.REFUNDED or order.refund_requested_at is not None:
        return order
    if order.status != OrderStatus.PAID:
        raise Conflict(f"An order that is {order.status} cannot be refunded.", code="order_not_refundable")
    amount = order.total_amount - order.refunded_amount
    if amount <= 0:
        raise Conflict("Nothing is left to refund on this order.", code="order_not_refundable")
    # The amount is part of the key: a retry after a line refund asks for what is left.
    payment_port().refund(order.payment_intent_id, amount, currency=order.currency,
                          idempotency_key=f"refund-admin-{order.id}-{amount}",
                          metadata={"order_id": order.id, "reason": "admin_refund"})
    order.refund_requested_at = utcnow()
    db.session.flush()
    return order


def orders_to_check(now: dt.datetime, grace: dt.timedelta) -> list[str]:
    """Pending orders whose payment page closed a while ago: a webhook may have been lost."""
    return list(db.session.scalars(select(Order.id).where(Order.status == OrderStatus.PENDING,
                                                          Order.expires_at < now - grace)
                                   .order_by(Order.expires_at).limit(500)))


def settle_stale_order(order: Order) -> Order:
    """The sweep's step for one order: ask the provider, or fail an order that never got a
    payment page (its checkout died before saving it)."""
    if order.payment_session_id is not None:
        return sync_with_session(order)
    order = locked_order(order.id)
    if order.status == OrderStatus.PENDING and order.payment_session_id is None:
        states.move(order, OrderStatus.FAILED, "checkout_interrupted")
        holds.release_holds(order.id, "checkout_failed")
        db.session.flush()
    return order


def lines_to_refund() -> list[str]:
    """Orders with a refused line whose refund job did not finish, and mismatched payments
    not yet given back."""
    lines = select(OrderItem.order_id).where(OrderItem.status == ItemStatus.REFUNDED, OrderItem.refund_id.is_(None),
                                             OrderItem.refund_error.is_(None), OrderItem.price_amount > 0)
    return list(db.session.scalars(lines.distinct().limit(500)))


def mismatches_to_refund() -> list[str]:
    return list(db.session.scalars(select(Order.id).where(
        Order.status_reason == "payment_mismatch", Order.refund_requested_at.is_(None)).limit(500)))
