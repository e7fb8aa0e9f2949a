"""Background jobs of checkout: the receipt, the failed-payment notice, and a sweep that
settles orders whose payment notification never came."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.checkout import services as checkout
from marketplace.checkout.models import ItemStatus, Order, OrderStatus
from marketplace.checkout.port import PaymentProviderUnavailable
from marketplace.common.clock import utcnow
from marketplace.common.money import Money
from marketplace.db import db
from marketplace.common.errors import AppError
from marketplace.jobs.queue import BUYER, RetryLater, enqueue, job
from marketplace.licensing.models import License
from marketplace.mail import messages

log = logging.getLogger("marketplace.checkout.tasks")


# Why a paid line was refunded, as the receipt tells the buyer.
REFUND_EXPLANATIONS = {
    "exclusive_unavailable": "the exclusive rights of this beat were taken by another buyer before your "
                             "payment arrived, so they could not be licensed to you.",
    checkout.BEAT_LEFT_STORE: "this beat was taken out of the store before your payment arrived, so it "
                              "could not be licensed to you.",
    "upgrade_unavailable": "the license this upgrade replaces was upgraded, refunded or disputed before "
                           "your payment arrived, so the upgrade could not be issued.",
    "proposal_unavailable": "this accepted offer was already paid, or ended, before your payment arrived, "
                            "so it could not be licensed to you again.",
}


@job("checkout.send_receipt", kind="email", queue=BUYER)
def send_receipt(order_id: str) -> None:
    """The buyer's receipt, sent once, with a link to each license. Lines refused because the
    exclusive was lost say so."""
    order = db.session.get(Order, order_id, with_for_update=True)
    if order is None or order.receipt_sent_at is not None:
        return
    buyer = db.session.get(User, order.buyer_id)
    messages.send("receipt", buyer, receipt_context(order))
    order.receipt_sent_at = utcnow()
    db.session.commit()


def receipt_context(order: Order) -> dict:
    base = messages.public_base_url()
    licenses = {license_.id: license_ for license_ in db.session.scalars(
        select(License).where(License.id.in_([item.license_id for item in order.items if item.license_id])))}
    lines = []
    for item in order.items:
        license_ = licenses.get(item.license_id) if item.status == ItemStatus.LICENSED else None
        lines.append({
            "beat_title": item.beat_title, "tier_name": item.tier_name,
            "price": Money(item.price_amount, order.currency).formatted(),
            "license_number": license_.license_number if license_ else None,
            "license_link": f"{base}/licenses/{license_.id}" if license_ else None,
            "refund_explanation": REFUND_EXPLANATIONS.get(item.refund_reason, "this line could not be licensed "
                                                          "to you.") if item.status == ItemStatus.REFUNDED else None,
        })
    return {"order": _order_values(order), "lines": lines, "any_licensed": bool(licenses),
            "order_link": f"{base}/orders/{order.id}", "library_link": f"{base}/library"}


def _order_values(order: Order) -> dict:
    return {"id": order.id, "total": Money(order.total_amount, order.currency).formatted(),
            "refunded": Money(order.refunded_amount, order.currency).formatted() if order.refunded_amount else None}


@job("checkout.send_refund_receipt", kind="email", queue=BUYER)
def send_refund_receipt(order_id: str, item_ids: list[str]) -> None:
    """The buyer's receipt for lines refunded after the sale (an admin, moderation)."""
    order = db.session.get(Order, order_id)
    if order is None:
        return
    buyer = db.session.get(User, order.buyer_id)
    refunded = [item for item in order.items if item.id in item_ids]
    messages.send("refund_receipt", buyer, {
        "order": _order_values(order),
        "lines": [{"beat_title": item.beat_title, "tier_name": item.tier_name,
                   "price": Money(item.price_amount, order.currency).formatted()} for item in refunded],
        "refunded": Money(sum(item.price_amount for item in refunded), order.currency).formatted(),
        "others_valid": any(item.status == ItemStatus.LICENSED for item in order.items),
        "order_link": f"{messages.public_base_url()}/orders/{order.id}"})


@job("checkout.notify_payment_failed", kind="email", queue=BUYER)
def notify_payment_failed(order_id: str) -> None:
    order = db.session.get(Order, order_id)
    if order is None or order.status != OrderStatus.FAILED:
        return
    buyer = db.session.get(User, order.buyer_id)
    messages.send("payment_failed", buyer, {"order": _order_values(order),
                                            "store_link": f"{messages.public_base_url()}/beats"})


@job("checkout.refund_refused_lines", queue=BUYER)
def refund_refused_lines(order_id: str) -> None:
    """Refund the lines of a paid order that could not be licensed (a lost exclusive) or were
    refunded on their own after the sale."""
    _with_provider(lambda: checkout.refund_refused_lines(checkout.locked_order(order_id)))


@job("checkout.refund_mismatched_payment", queue=BUYER)
def refund_mismatched_payment(order_id: str) -> None:
    _with_provider(lambda: checkout.refund_mismatched_payment(checkout.locked_order(order_id)))


@job("checkout.refund_payment_of_closed_order", queue=BUYER)
def refund_payment_of_closed_order(order_id: str) -> None:
    _with_provider(lambda: checkout.refund_payment_of_closed_order(checkout.locked_order(order_id)))


@job("checkout.refund_stray_payment", queue=BUYER)
def refund_stray_payment(payment_intent_id: str) -> None:
    _with_provider(lambda: checkout.refund_stray_payment(payment_intent_id))


@job("checkout.close_payment_page", queue=BUYER)
def close_payment_page(order_id: str) -> None:
    """Expire the payment page of an order that was replaced or closed, or whose beat left the
    store, at the provider."""
    _with_provider(lambda: checkout.close_payment_page(checkout.locked_order(order_id)))


def _with_provider(work) -> None:
    """Run `work` and commit; a provider that is down means: try again later."""
    try:
        work()
        db.session.commit()
    except PaymentProviderUnavailable:
        db.session.rollback()
        raise RetryLater("the payment provider is unavailable") from None


@job("checkout.sweep", every_seconds=300)
def sweep_orders() -> int:
    """Settle what a lost notification or a crash left open: pending orders whose page closed
    5+ minutes ago (asking the payment provider), pages of closed orders not known to be closed
    (a payment made there is refunded), and refunds that were never made."""
    settled = 0
    for order_id in checkout.orders_to_check(utcnow(), dt.timedelta(minutes=5)):
        try:
            order = checkout.settle_stale_order(db.session.get(Order, order_id))
            db.session.commit()
        except PaymentProviderUnavailable:
            db.session.rollback()
            raise RetryLater("the payment provider is unavailable") from None
        except AppError as problem:  # one order's problem must not stop the others
            db.session.rollback()
            log.error("order_sweep_failed", extra={"order_id": order_id, "error": problem.code})
            continue
        settled += order.status != OrderStatus.PENDING
    for order_id in checkout.lines_to_refund():
        enqueue("checkout.refund_refused_lines", order_id)
    for order_id in checkout.mismatches_to_refund():
        enqueue("checkout.refund_mismatched_payment", order_id)
    for order_id in checkout.closed_orders_paid_to_refund():
        enqueue("checkout.refund_payment_of_closed_order", order_id)
    for order_id in checkout.pages_to_close():
        enqueue("checkout.close_payment_page", order_id)
    db.session.commit()
    return settled
