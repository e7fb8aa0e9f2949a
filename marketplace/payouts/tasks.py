"""Background jobs of payouts: paying an order's payees, paying a payee's balance, reversing
a refunded order's transfers, and a sweep that finishes what a crash or an outage left."""

from __future__ import annotations

import datetime as dt
import logging

from marketplace.accounts.models import Role, User
from marketplace.checkout.models import Order
from marketplace.checkout.port import PaymentProviderUnavailable, payment_port
from marketplace.common.clock import utcnow
from marketplace.common.money import Money
from marketplace.db import db
from marketplace.jobs.queue import BUYER, RetryLater, job
from marketplace.mail import messages
from marketplace.payouts import (
    hooks,  # noqa: F401  (registers the account.updated webhook handler)
    services,
)
from marketplace.payouts.models import PayoutTransfer

log = logging.getLogger("marketplace.payouts.tasks")

# A pending attempt younger than this may still be in the hands of the job that made it.
RESEND_AFTER = dt.timedelta(minutes=1)


def _provider_down() -> RetryLater:
    db.session.rollback()
    return RetryLater("the payment provider is unavailable")


@job("payouts.pay_order")
def pay_order(order_id: str) -> int:
    """Send each payee of a paid order what it earned them, funded by the order's charge.
    Payees without an account that can be paid keep it owed until they connect."""
    order = db.session.get(Order, order_id)
    if order is None or not order.payment_intent_id:
        return 0
    payees = [payee for payee in services.payees_of(order_id)
              if (account := services.account_of(payee)) is not None and account.payable]
    if not payees:
        return 0
    try:
        payment = payment_port().retrieve_payment(order.payment_intent_id)
    except PaymentProviderUnavailable:
        raise _provider_down() from None
    db.session.commit()
    # A disputed charge's money left the platform with the dispute; a won dispute brings it back
    # to the platform's balance, not to the charge: the balance funds the transfer then.
    charge_id = None if payment.disputed else payment.charge_id
    sent = 0
    for payee_id in payees:
        sent += _pay(lambda payee_id=payee_id: services.plan_transfer(payee_id, order_id, charge_id))
    return sent


@job("payouts.pay_payee")
def pay_payee(user_id: str) -> int:
    """Send a payee their whole balance (a balance kept while they had no account)."""
    return _pay(lambda: services.plan_transfer(user_id))


def _pay(plan) -> int:
    attempt = plan()
    db.session.commit()  # the attempt exists before Stripe is asked: a resend uses its key
    if attempt is None:
        return 0
    _send(attempt.id)
    return 1


def _send(attempt_id: str) -> None:
    try:
        attempt = db.session.get(PayoutTransfer, attempt_id, with_for_update=True)
        services.send(attempt)
        db.session.commit()
    except PaymentProviderUnavailable:
        raise _provider_down() from None
    if services.needs_other_funding(attempt):
        # The charge can no longer fund it: the same money, from the platform's balance.
        _pay(lambda: services.plan_transfer(attempt.payee_id, attempt.order_id))


@job("payouts.notify_sale", kind="email", queue=BUYER)
def notify_sale(order_id: str, user_id: str) -> None:
    """Tell the seller, or a credited collaborator, what the order sold and their share of it
    (unless they turned sale notices off)."""
    order, user = db.session.get(Order, order_id), db.session.get(User, user_id)
    if order is None or user is None:
        return
    shares = services.sale_shares(order, user_id)
    if not shares:
        return
    base = messages.public_base_url()
    account = services.account_of(user_id)
    messages.send("sale_notice", user, {
        "order_id": order.id,
        "lines": [{"beat_title": item.beat_title, "tier_name": item.tier_name,
                   "price": Money(item.price_amount, order.currency).formatted(),
                   "share": Money(share, order.currency).formatted()} for item, share in shares],
        "total_share": Money(sum(share for _, share in shares), order.currency).formatted(),
        "payouts_connected": account is not None and account.payable,
        "sales_link": f"{base}/studio/sales" if user.has_role(Role.BEATMAKER) else f"{base}/payouts"})


@job("payouts.notify_payout_sent", kind="email", queue=BUYER)
def notify_payout_sent(transfer_id: str) -> None:
    attempt = db.session.get(PayoutTransfer, transfer_id)
    payee = db.session.get(User, attempt.payee_id) if attempt else None
    if payee is None:
        return
    messages.send("payout_sent", payee, {
        "amount": Money(attempt.amount, attempt.currency).formatted(), "transfer_id": attempt.id,
        "payouts_link": f"{messages.public_base_url()}/payouts"})


@job("payouts.reverse_order")
def reverse_order(order_id: str) -> int:
    """Take back from the payees what a refunded order's transfers sent them."""
    reversed_ = 0
    try:
        for attempt, amount in services.reversals_due(order_id):
            reversed_ += services.reverse(attempt, order_id, amount)
            db.session.commit()
    except PaymentProviderUnavailable:
        raise _provider_down() from None
    return reversed_


@job("payouts.sweep", every_seconds=300)
def sweep_payouts() -> int:
    """Resend attempts left pending (same idempotency key: one transfer at Stripe), pay payees
    owed money whose account can be paid, and reverse what refunded orders still have out."""
    handled = 0
    for attempt_id in services.stale_attempts(utcnow() - RESEND_AFTER):
        _send(attempt_id)
        handled += 1
    for payee_id in services.payees_to_pay():
        handled += pay_payee(payee_id)
    for order_id in services.orders_to_reverse():
        handled += reverse_order(order_id)
    db.session.commit()
    return handled
