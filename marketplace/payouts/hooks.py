"""Where payouts hear about orders and accounts: checkout's signals (inside the transaction
that changed the order, so the ledger commits with it) and Stripe's `account.updated`."""

from __future__ import annotations

from typing import Any

from marketplace.checkout import signals
from marketplace.checkout.models import Order
from marketplace.payments.webhooks import handles
from marketplace.payouts import services


def _paid(order: Order) -> None:
    services.record_sale(order)


def _refunded(order: Order) -> None:
    services.record_refund(order)


def _lines_refunded(order: Order) -> None:
    services.record_refunded_lines(order)


def _partly_refunded(order: Order) -> None:
    services.record_partial_refund(order)


def _dispute_opened(order: Order) -> None:
    services.hold_for_dispute(order)


def _dispute_won(order: Order) -> None:
    services.release_dispute(order)


signals.connect(signals.ORDER_PAID, _paid)
signals.connect(signals.ORDER_REFUNDED, _refunded)
signals.connect(signals.LINES_REFUNDED, _lines_refunded)
signals.connect(signals.PAYMENT_PARTLY_REFUNDED, _partly_refunded)
signals.connect(signals.DISPUTE_OPENED, _dispute_opened)
signals.connect(signals.DISPUTE_WON, _dispute_won)
signals.connect(signals.DISPUTE_LOST, _refunded)


@handles("account.updated")
def _account_updated(account: dict[str, Any]) -> None:
    services.refresh_account(account["id"])
