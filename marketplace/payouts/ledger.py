"""The earnings ledger: writing rows once, and reading balances as sums.

A payee's pending balance (earned, not yet sent) is the sum of all their rows; what they
were paid is minus the sum of their transfer and transfer-reversal rows. The platform's rows
have no payee. A refund after a payee was paid is taken back by reversing the transfers that
sent that order's earnings; until that succeeds their pending balance is negative, and the
next transfers to them are smaller by that much (it is recovered from later sales).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select

from marketplace.db import db
from marketplace.payouts.models import LedgerEntry, LedgerKind

PAID_KINDS = (LedgerKind.TRANSFER, LedgerKind.TRANSFER_REVERSAL)


class LedgerIsAppendOnly(RuntimeError):
    """A bug: something tried to change or remove a ledger row."""


def write(rows: Iterable[dict[str, Any]]) -> list[LedgerEntry]:
    """Add the rows whose reference is new (a repeat writes nothing); answers those added."""
    rows = [row for row in rows if row["amount"] != 0]
    if not rows:
        return []
    known = set(db.session.scalars(select(LedgerEntry.reference).where(
        LedgerEntry.reference.in_([row["reference"] for row in rows]))))
    added = []
    for row in rows:
        if row["reference"] in known:
            continue
        known.add(row["reference"])
        entry = LedgerEntry(**row)
        db.session.add(entry)
        added.append(entry)
    db.session.flush()
    return added


def rows_of_order(order_id: str, kinds: Iterable[str] | None = None) -> list[LedgerEntry]:
    query = select(LedgerEntry).where(LedgerEntry.order_id == order_id)
    if kinds is not None:
        query = query.where(LedgerEntry.kind.in_(list(kinds)))
    return list(db.session.scalars(query.order_by(LedgerEntry.created_at, LedgerEntry.id)))


def pending_balance(payee_id: str) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                             .where(LedgerEntry.payee_id == payee_id)) or 0


def paid_balance(payee_id: str) -> int:
    return -(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                               .where(LedgerEntry.payee_id == payee_id, LedgerEntry.kind.in_(PAID_KINDS))) or 0)


def owed_by_order(payee_id: str) -> dict[str, int]:
    """What the payee is owed per order (negative: recovered from their next transfer)."""
    rows = db.session.execute(select(LedgerEntry.order_id, func.sum(LedgerEntry.amount))
                              .where(LedgerEntry.payee_id == payee_id).group_by(LedgerEntry.order_id))
    return {order_id: int(amount) for order_id, amount in rows if amount}


def payees_owed() -> list[str]:
    """Payees whose pending balance is positive."""
    return list(db.session.scalars(select(LedgerEntry.payee_id).where(LedgerEntry.payee_id.is_not(None))
                                   .group_by(LedgerEntry.payee_id).having(func.sum(LedgerEntry.amount) > 0)))

