"""What happened to an order, for the features built on checkout (payouts) to act on.

Listeners run inside the transaction that changed the order, so whatever they write (the
earnings ledger) commits or rolls back with it. Checkout never imports its listeners; they
register themselves when their package is loaded.
"""

from __future__ import annotations

from collections.abc import Callable

from marketplace.checkout.models import Order

Listener = Callable[[Order], None]

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

_listeners: dict[str, list[Listener]] = {}


def connect(signal: str, listener: Listener) -> None:
    if listener not in _listeners.setdefault(signal, []):
        _listeners[signal].append(listener)


def send(signal: str, order: Order) -> None:
    for listener in _listeners.get(signal, []):
        listener(order)
