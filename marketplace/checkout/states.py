"""The order lifecycle: every status an order can have and the only moves between them.

pending ──> paid ──> disputed ──> paid (dispute won)
   │          └──────────┴──────> refunded
   ├──> failed    (the payment failed, or the provider could not open a payment page)
   ├──> expired   (the payment page closed unpaid, or a newer checkout of the buyer replaced it)
   └──> refunded  (a refund arrived before the payment was fulfilled, or every line was refused)
failed, expired ──> refunded  (paid all the same, on a page closed too late: refunded in full)
"""

from __future__ import annotations

from marketplace.checkout import coupon_uses
from marketplace.checkout.models import Order, OrderStatus
from marketplace.common.clock import utcnow
from marketplace.common.errors import Conflict

ALLOWED_MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.FAILED, OrderStatus.EXPIRED,
                                    OrderStatus.REFUNDED}),
    OrderStatus.PAID: frozenset({OrderStatus.REFUNDED, OrderStatus.DISPUTED}),
    OrderStatus.DISPUTED: frozenset({OrderStatus.PAID, OrderStatus.REFUNDED}),
    OrderStatus.FAILED: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.EXPIRED: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.REFUNDED: frozenset({OrderStatus.DISPUTED}),
}
CLOSED = frozenset({OrderStatus.FAILED, OrderStatus.EXPIRED, OrderStatus.REFUNDED})


class IllegalOrderTransition(Conflict):
    code = "illegal_order_transition"


def move(order: Order, to: OrderStatus, reason: str | None = None) -> None:
    current = OrderStatus(order.status)
    if to not in ALLOWED_MOVES[current]:
        raise IllegalOrderTransition(f"An order that is {current} cannot become {to}.",
                                     details={"from": current.value, "to": to.value})
    if current == OrderStatus.PENDING:
        coupon_uses.settle(order, to)  # a coupon use is reserved only while an order is pending
    order.status = to
    if reason is not None:
        order.status_reason = reason
    now = utcnow()
    if to == OrderStatus.PAID and order.paid_at is None:
        order.paid_at = now
    if to in CLOSED:
        order.closed_at = now
