from __future__ import annotations

import logging

from flask import request

from marketplace.api import Blueprint, document_errors
from marketplace.checkout.port import payment_port
from marketplace.db import db
from marketplace.payments.webhooks import handle_event

log = logging.getLogger("marketplace.payments")

blp = Blueprint("payments", __name__, description="Payment provider callbacks")


@blp.post("/payments/stripe/webhook")
@document_errors(400, 415)
@blp.response(200, description="The event was handled, was a duplicate, or is of a type we ignore")
def stripe_webhook():
    """Stripe's signed events. The signature of the raw body is checked before anything else;
    any failure rolls the whole event back and answers 5xx, so Stripe delivers it again."""
    event = payment_port().verify_event(request.get_data(), request.headers.get("Stripe-Signature"))
    outcome = handle_event(event)
    db.session.commit()
    log.info("stripe_event", extra={"event_id": event.id, "event_type": event.type, "outcome": outcome})
    return {"received": True, "outcome": outcome}
