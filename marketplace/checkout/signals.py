"""What happened to an order, for the features built on checkout to act on: payouts keep
the earnings ledger, proposals end on a sold exclusive, moderation's audit log records refunds.

Listeners run inside the transaction that changed the order, so whatever they write (the
earnings ledger, an audit entry) commits or rolls back with it. Checkout never imports its
listeners: marketplace.listeners connects them when the app is created. A listener is called
with the order, and with the details its signal names as keywords.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marketplace.checkout.models import Order

Listener = Callable[..., None]

# An order was paid and its licenses issued (refused lines are marked refunded).
ORDER_PAID = "order_paid"
# The whole payment was refunded: its licenses are revoked.
ORDER_REFUNDED = "order_refunded"
# Some lines of a paid order were refunded (status refunded, with the license they had): those
# licenses are revoked, the other lines stand.
LINES_REFUNDED = "lines_refunded"
# Part of the payment was refunded by someone else than checkout (Stripe's dashboard): the
# lines stand, and the amount given back that no refunded line explains is to be shared over them.
PAYMENT_PARTLY_REFUNDED = "payment_partly_refunded"
# A dispute opened, was won, or was lost (licenses revoked) on a paid order.
DISPUTE_OPENED = "dispute_opened"
DISPUTE_WON = "dispute_won"
DISPUTE_LOST = "dispute_lost"
# A refund of the whole paid order was asked of the provider (request_refund: an admin, or
# moderation revoking a beat's licenses); the licenses are revoked when the provider confirms.
REFUND_REQUESTED = "refund_requested"
# A payment that does not match its order (amount or currency) was refused: the order failed
# (its status_reason says why), and a job gives the money back. Details: previous_status.
PAYMENT_REFUSED = "payment_refused"
# One line was marked refunded, and a job gives its price back: refused at fulfilment (a beat
# that left the store, a lost exclusive) or refunded by refund_lines (an admin, moderation).
# Details: item, previous_status (the line's).
LINE_REFUNDED = "line_refunded"

_listeners: dict[str, list[Listener]] = {}


def connect(signal: str, listener: Listener) -> None:
    if listener not in _listeners.setdefault(signal, []):
        _listeners[signal].append(listener)


def send(signal: str, order: Order, **details: Any) -> None:
    for listener in _listeners.get(signal, []):
        listener(order, **details)
