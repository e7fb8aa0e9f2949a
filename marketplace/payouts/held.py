"""Held shares: the profit share of a credit whose invitation is pending is kept in the ledger
for the invitation (`held` rows, with no payee), never paid to anyone until it is decided.

When it is decided, each line's held money leaves the hold in a pair of rows: `held_release`
(minus what is held) and a `sale` row to whoever gets it, both naming the invitation and why
(`accepted`: to the collaborator; `declined`, `expired`, `cancelled`: back to the line's seller,
the beat's owner). A refund before then takes the held money back like any share.
"""

from __future__ import annotations

from sqlalchemy import func, select

from marketplace.checkout.models import Order, OrderItem
from marketplace.db import db
from marketplace.jobs.queue import enqueue
from marketplace.payouts import ledger
from marketplace.payouts.models import LedgerEntry

HELD_ROWS = (LedgerEntry.payee_id.is_(None), LedgerEntry.credit_invitation_id.is_not(None))


def held_by_line(invitation_id: str | None = None, order_id: str | None = None) -> list[tuple[str, str, str, str, int]]:
    """(invitation id, order id, line id, currency, amount) still held, per line."""
    query = (select(LedgerEntry.credit_invitation_id, LedgerEntry.order_id, LedgerEntry.order_item_id,
                    LedgerEntry.currency, func.sum(LedgerEntry.amount))
             .where(*HELD_ROWS)
             .group_by(LedgerEntry.credit_invitation_id, LedgerEntry.order_id, LedgerEntry.order_item_id,
                       LedgerEntry.currency)
             .order_by(LedgerEntry.order_id, LedgerEntry.order_item_id))
    if invitation_id is not None:
        query = query.where(LedgerEntry.credit_invitation_id == invitation_id)
    if order_id is not None:
        query = query.where(LedgerEntry.order_id == order_id)
    return [(inv, order, item, currency, int(amount)) for inv, order, item, currency, amount
            in db.session.execute(query) if amount]


def held_for(invitation_id: str) -> int:
    return sum(amount for *_, amount in held_by_line(invitation_id))


def end_hold(invitation_id: str, reason: str, collaborator_id: str | None = None) -> int:
    """Pay what is held for the invitation to the collaborator who accepted it, or (without
    one) back to each line's seller. Answers the amount moved. Each line moves once (the rows'
    references name the line and the invitation)."""
    lines = held_by_line(invitation_id)
    # The orders are locked as a refund locks them, so a refund and a release never both take it.
    order_ids = sorted({order_id for _, order_id, *_ in lines})
    if order_ids:
        db.session.execute(select(Order.id).where(Order.id.in_(order_ids)).order_by(Order.id).with_for_update())
        lines = held_by_line(invitation_id)
    rows, payees = [], set()
    for _, order_id, item_id, currency, amount in lines:
        if amount <= 0:
            continue
        payee = collaborator_id or db.session.get(OrderItem, item_id).seller_id
        payees.add(payee)
        base = {"order_id": order_id, "order_item_id": item_id, "currency": currency,
                "credit_invitation_id": invitation_id, "reason": reason}
        rows.append({**base, "payee_id": None, "kind": "held_release", "amount": -amount,
                     "reference": f"held_release:{item_id}:{invitation_id}"})
        rows.append({**base, "payee_id": payee, "kind": "sale", "amount": amount,
                     "reference": f"held_sale:{item_id}:{invitation_id}"})
    written = ledger.write(rows)
    for payee in sorted(payees):
        enqueue("payouts.pay_payee", payee)
    return sum(row.amount for row in written if row.kind == "sale")


def refund_rows(order_id: str, item_ids: set[str] | None) -> list[dict]:
    """Rows taking back what is still held on the order's lines (all of them: None)."""
    return [{"order_id": order_id, "order_item_id": item_id, "payee_id": None, "currency": currency,
             "credit_invitation_id": invitation_id, "kind": "refund", "amount": -amount, "reason": "refund",
             "reference": f"refund:{item_id}:held:{invitation_id}"}
            for invitation_id, _, item_id, currency, amount in held_by_line(order_id=order_id)
            if amount > 0 and (item_ids is None or item_id in item_ids)]
