"""What each Stripe event does. The event's body is only a hint: the objects it names are
fetched again from Stripe, and our order is found by our own id.

Every event id is recorded in the same transaction as its work, so a redelivery (Stripe
retries for days, sometimes twice at once) finds it and does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError

from marketplace.checkout import services as checkout
from marketplace.checkout.port import ProviderEvent, payment_port
from marketplace.db import db
from marketplace.payments.models import ProcessedEvent


def handle_event(event: ProviderEvent) -> str:
    """Handle a verified event once; answers "handled", "duplicate" or "ignored"."""
    if not _record(event):
        return "duplicate"
    handler = HANDLERS.get(event.type)
    if handler is None:
        return "ignored"
    handler(event.object)
    return "handled"


def _record(event: ProviderEvent) -> bool:
    """False when this event was handled before. A concurrent delivery of the same event
    waits here on the primary key until the first one commits, then finds it."""
    try:
        with db.session.begin_nested():
            db.session.add(ProcessedEvent(id=event.id, type=event.type))
    except IntegrityError:
        return False
    return True


def _session_changed(session: dict[str, Any]) -> None:
    checkout.apply_session(payment_port().retrieve_session(session["id"]))


def _delayed_payment_failed(session: dict[str, Any]) -> None:
    checkout.fail_delayed_payment(payment_port().retrieve_session(session["id"]))


def _charge_refunded(charge: dict[str, Any]) -> None:
    if charge.get("payment_intent"):
        checkout.record_refund(payment_port().retrieve_payment(charge["payment_intent"]))


def _dispute_changed(dispute: dict[str, Any]) -> None:
    """Opened or closed, the dispute is read again: its status now decides, so a "closed"
    event arriving before the "created" one leaves the right state either way."""
    current = payment_port().retrieve_dispute(dispute["id"])
    if current.payment_intent_id:
        checkout.record_dispute(payment_port().retrieve_payment(current.payment_intent_id), current.status)


HANDLERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "checkout.session.completed": _session_changed,
    "checkout.session.async_payment_succeeded": _session_changed,
    "checkout.session.expired": _session_changed,
    "checkout.session.async_payment_failed": _delayed_payment_failed,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute_changed,
    "charge.dispute.closed": _dispute_changed,
}


def handles(event_type: str) -> Callable[[Callable[[dict[str, Any]], None]], Callable[[dict[str, Any]], None]]:
    """Lets a feature built on payments (payouts) handle an event type of its own."""
    def register(handler: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
        HANDLERS[event_type] = handler
        return handler
    return register
