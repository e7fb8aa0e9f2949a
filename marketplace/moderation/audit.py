"""The audit log: who did what to which thing, why, and how it stood before and after.

Every moderation service writes its entry with `record`, in the same session as the action,
so both commit or neither does. Entries are append-only: a flush that would update or
delete one fails (on PostgreSQL a trigger refuses it as well, whatever the client).

Checkout's refunds are recorded here too, as checkout announces them (its signals): an
admin's refund request, and the automatic refunds of lost exclusives and mismatched payments
(when fulfilment decides them; a job then asks the payment provider).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import g, has_request_context
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role, User
from marketplace.checkout.models import Order, OrderItem
from marketplace.db import db
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



# -- checkout's refunds, heard through its signals (marketplace.listeners connects these) -----

def _request_actor() -> Actor:
    """The admin making this request, if any; otherwise the system (a webhook, a job)."""
    user = g.get("current_user") if has_request_context() else None
    if user is not None and user.has_role(Role.ADMIN):
        return Actor.admin(user)
    return SYSTEM


def record_refund_request(order: Order) -> None:
    """A full refund was asked for. Only an admin asks in a request; the automatic refunds are
    recorded when decided (a refused payment, a refused line)."""
    actor = _request_actor()
    if actor.kind != ActorKind.ADMIN:
        return
    record(db.session, actor, "order.refund_request", "order", order.id, reason="admin_refund",
           before={"status": order.status, "refund_requested_at": None},
           after={"status": order.status, "refund_requested_at": order.refund_requested_at.isoformat(),
                  "amount": order.total_amount - order.refunded_amount})


def record_refused_payment(order: Order, *, previous_status: str) -> None:
    """A payment that did not match its order is given back, by the system."""
    record(db.session, SYSTEM, "order.auto_refund", "order", order.id, reason=order.status_reason,
           before={"status": previous_status}, after={"status": order.status})


def record_line_refund(order: Order, *, item: OrderItem, previous_status: str) -> None:
    """A line refunded: an admin refunding lines (or revoking a beat's licenses) asks in a
    request; the others (refused at fulfilment, moderation from the command line) are automatic."""
    actor = _request_actor()
    action = "order.refund_request" if actor.kind == ActorKind.ADMIN else "order.auto_refund"
    record(db.session, actor, action, "order", order.id, reason=item.refund_reason,
           before={"item_id": item.id, "item_status": previous_status},
           after={"item_id": item.id, "item_status": item.status, "amount": item.price_amount})
