"""The audit log: who did what to which thing, why, and how it stood before and after.

Every moderation service writes its entry with `record`, in the same session as the action,
so both commit or neither does. Entries are append-only: a flush that would update or
delete one fails (on PostgreSQL a trigger refuses it as well, whatever the client).

Checkout's refunds are recorded here too, by watching the orders it changes: an admin's
refund request, and the automatic refunds of lost exclusives and mismatched payments (when
fulfilment decides them; a job then asks the payment provider).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import g, has_request_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role, User
from marketplace.checkout.models import ItemStatus, Order, OrderItem, OrderStatus
from marketplace.common.append_only import refuse_changes
from marketplace.moderation.models import ActorKind, AuditEntry


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who acts: an admin (with their account), the system, or an operator at the command line."""

    kind: ActorKind
    user: User | None = None

    @classmethod
    def admin(cls, user: User) -> Actor:
        return cls(ActorKind.ADMIN, user)

    @property
    def user_id(self) -> str | None:
        return self.user.id if self.user is not None else None


SYSTEM = Actor(ActorKind.SYSTEM)
CLI = Actor(ActorKind.CLI)


class AuditLogIsAppendOnly(RuntimeError):
    """A bug: something tried to change or remove an audit entry."""


def record(session: Session, actor: Actor, action: str, target_type: str, target_id: str, *,
           reason: str | None = None, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None) -> AuditEntry:
    """Add an entry to the session; it is written by the flush that writes the action."""
    entry = AuditEntry(actor_kind=actor.kind, actor_id=actor.user_id, action=action,
                       target_type=target_type, target_id=target_id, reason=reason,
                       before=before or {}, after=after or {},
                       request_id=g.get("request_id") if has_request_context() else None)
    session.add(entry)
    return entry


refuse_changes(AuditEntry, AuditLogIsAppendOnly)


# -- checkout's refunds ------------------------------------------------------------------

def _request_actor() -> Actor:
    """The admin making this request, if any; otherwise the system (a webhook, a job)."""
    user = g.get("current_user") if has_request_context() else None
    if user is not None and user.has_role(Role.ADMIN):
        return Actor.admin(user)
    return SYSTEM


def _changed_to(obj: Any, attribute: str) -> tuple[Any, Any] | None:
    """(old, new) when `attribute` of `obj` changed in this flush, else None."""
    history = inspect(obj).attrs[attribute].history
    if not history.added:
        return None
    return (history.deleted[0] if history.deleted else None), history.added[0]


@event.listens_for(Session, "before_flush")
def _record_refunds(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.dirty):
        if isinstance(obj, Order):
            _record_order_refund(session, obj)
        elif isinstance(obj, OrderItem):
            _record_item_refund(session, obj)


def _record_order_refund(session: Session, order: Order) -> None:
    requested = _changed_to(order, "refund_requested_at")
    actor = _request_actor()
    # Only an admin asks for a refund in a request; the automatic ones are recorded when decided.
    if requested and requested[0] is None and requested[1] is not None and actor.kind == ActorKind.ADMIN:
        record(session, actor, "order.refund_request", "order", order.id, reason="admin_refund",
               before={"status": order.status, "refund_requested_at": None},
               after={"status": order.status, "refund_requested_at": requested[1].isoformat(),
                      "amount": order.total_amount - order.refunded_amount})
    status = _changed_to(order, "status")
    if status and status[1] == OrderStatus.FAILED and order.status_reason == "payment_mismatch":
        record(session, SYSTEM, "order.auto_refund", "order", order.id, reason="payment_mismatch",
               before={"status": status[0]}, after={"status": status[1]})


def _record_item_refund(session: Session, item: OrderItem) -> None:
    status = _changed_to(item, "status")
    if status and status[1] == ItemStatus.REFUNDED:
        # An admin refunding lines (or revoking a beat's licenses) asks in a request; others are automatic.
        actor = _request_actor()
        action = "order.refund_request" if actor.kind == ActorKind.ADMIN else "order.auto_refund"
        record(session, actor, action, "order", item.order_id, reason=item.refund_reason,
               before={"item_id": item.id, "item_status": status[0]},
               after={"item_id": item.id, "item_status": status[1], "amount": item.price_amount})
