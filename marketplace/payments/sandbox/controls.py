"""Controls under ``/_sandbox``: what Stripe's dashboard, its customers and their banks do,
on demand, for development and tests. JSON in and out; answered to loopback callers only.

Each payment and account control answers ``{<object name>: {...}, "events": [{"id", "type"}],
"deliveries": [...], "delivery": <the first of deliveries or null>}``; deliveries are filled for
``"deliver": "sync"`` only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, request

from marketplace.payments.sandbox import connect, lifecycle
from marketplace.payments.sandbox.errors import StripeError, no_such
from marketplace.payments.sandbox.faults import DEFAULT_TIMEOUT_SECONDS, FAULT_MODES, Fault
from marketplace.payments.sandbox.service import Outcome, current_sandbox
from marketplace.payments.sandbox.state import Change, StripeObject
from marketplace.payments.sandbox.webhooks import DELIVERY_MODES, Signing

controls = Blueprint("sandbox_controls", __name__, url_prefix="/_sandbox")

Json = dict[str, Any]


@controls.before_request
def loopback_only() -> None:
    if not ipaddress.ip_address(request.remote_addr or "0.0.0.0").is_loopback:
        abort(403)


def _body() -> Json:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _field(body: Json, name: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    """A field of the JSON body, or the default when it is missing or null."""
    value = body.get(name)
    if value is None:
        return default
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        raise StripeError(f"Invalid {name}: {value!r}", param=name)
    return value


def _choice(body: Json, name: str, choices: tuple[str, ...], default: str | None = None) -> str:
    value = body.get(name) or default
    if value not in choices:
        raise StripeError(f"Invalid {name}: must be one of {', '.join(choices)}", param=name)
    return value


def _run(name: str, operation: Callable[[Change], StripeObject]) -> Json:
    """Apply a payment change and answer with its object, its events and their sync deliveries."""
    outcome: Outcome[StripeObject] = current_sandbox().run(
        operation, _choice(_body(), "deliver", DELIVERY_MODES, "async"))
    deliveries = [delivery.as_json() for delivery in outcome.deliveries]
    return {name: outcome.result,
            "events": [{"id": event["id"], "type": event["type"]} for event in outcome.events],
            "deliveries": deliveries, "delivery": deliveries[0] if deliveries else None}


@controls.post("/reset")
def reset() -> Json:
    current_sandbox().reset()
    return {"reset": True}


@controls.route("/config", methods=["GET", "POST"])
def config() -> Json:
    endpoint = current_sandbox().endpoint
    if request.method == "POST":
        body = _body()
        if "webhook_url" in body:
            endpoint.url = _field(body, "webhook_url", str)
        endpoint.secret = _field(body, "webhook_secret", str, endpoint.secret)
    return {"webhook_url": endpoint.url, "webhook_secret": endpoint.secret}


@controls.post("/checkout/sessions/<session_id>/complete")
def complete_session(session_id: str) -> Json:
    body = _body()
    async_payment = _field(body, "async_payment", bool, False)
    customer_email = _field(body, "email", str)
    return _run("session", lambda change: lifecycle.complete_session(
        change, session_id, email=customer_email, async_payment=async_payment))


@controls.post("/checkout/sessions/<session_id>/async_succeed")
def async_succeed(session_id: str) -> Json:
    return _run("session", lambda change: lifecycle.settle_async_payment(change, session_id, succeeded=True))


@controls.post("/checkout/sessions/<session_id>/async_fail")
def async_fail(session_id: str) -> Json:
    return _run("session", lambda change: lifecycle.settle_async_payment(change, session_id, succeeded=False))


@controls.post("/checkout/sessions/<session_id>/expire")
def expire_session(session_id: str) -> Json:
    return _run("session", lambda change: lifecycle.expire_session(change, session_id))


@controls.post("/payment_intents/<payment_intent_id>/refund")
def refund(payment_intent_id: str) -> Json:
    """A refund made from the dashboard: the app learns of it from the events alone."""
    body = _body()
    amount = _field(body, "amount", int)
    if amount is not None and amount < 1:
        raise StripeError("This value must be greater than or equal to 1.", param="amount")
    reason = _field(body, "reason", str)
    return _run("refund", lambda change: lifecycle.refund(
        change, payment_intent_id=payment_intent_id, amount=amount, reason=reason))


@controls.post("/payment_intents/<payment_intent_id>/dispute")
def dispute(payment_intent_id: str) -> Json:
    reason = _field(_body(), "reason", str, "fraudulent")
    return _run("dispute", lambda change: lifecycle.open_dispute(change, payment_intent_id, reason))


@controls.post("/disputes/<dispute_id>/close")
def close_dispute(dispute_id: str) -> Json:
    outcome = _choice(_body(), "outcome", ("won", "lost"))
    return _run("dispute", lambda change: lifecycle.close_dispute(change, dispute_id, outcome))


@controls.post("/accounts/<account_id>/onboard")
def onboard_account(account_id: str) -> Json:
    """What the account's owner does on the onboarding page, without the page."""
    return _run("account", lambda change: connect.complete_onboarding(change, account_id))


@controls.post("/accounts/<account_id>/restrict")
def restrict_account(account_id: str) -> Json:
    return _run("account", lambda change: connect.restrict(change, account_id))


@controls.post("/accounts/<account_id>/deauthorize")
def deauthorize_account(account_id: str) -> Json:
    return _run("account", lambda change: connect.deauthorize(change, account_id))


@controls.get("/events")
def events() -> Json:
    """Events oldest first (newest last), each with its delivery attempts."""
    wanted = request.args.get("type")
    with current_sandbox().store.change() as change:
        attempts = change.state.delivery_attempts
        return {"data": [{**event, "delivery_attempts": list(attempts.get(event["id"], []))}
                         for event in change.state.all("event") if wanted in (None, event["type"])]}


@controls.post("/events/<event_id>/deliver")
def deliver_event(event_id: str) -> Json:
    """Deliver one event now, signed as asked; answers what the webhook endpoint answered."""
    body = _body()
    signing = Signing(timestamp_offset=_field(body, "timestamp_offset", int, 0),
                      secret=_field(body, "secret", str),
                      tamper=_field(body, "tamper", bool, False),
                      omit_signature=_field(body, "omit_signature", bool, False))
    sandbox = current_sandbox()
    if sandbox.endpoint.url is None:
        raise StripeError("No webhook URL is configured: POST /_sandbox/config first.", param="webhook_url")
    delivery = sandbox.webhooks.deliver(event_id, sandbox.endpoint, signing)
    if delivery is None:
        raise no_such("event", event_id)
    return {"status": delivery.status, "body": delivery.body, "error": delivery.error}


@controls.post("/faults")
def add_fault() -> Json:
    body = _body()
    fault = Fault(method=_field(body, "method", str, "POST").upper(),
                  path_prefix=_field(body, "path_prefix", str, "/v1/"),
                  mode=_choice(body, "mode", FAULT_MODES),
                  times=_field(body, "times", int, 1),
                  seconds=float(_field(body, "seconds", (int, float), DEFAULT_TIMEOUT_SECONDS)))
    current_sandbox().faults.add(fault)
    return {"faults": current_sandbox().faults.pending()}


@controls.get("/faults")
def list_faults() -> Json:
    """The faults still to happen (each one's turns left)."""
    return {"faults": current_sandbox().faults.pending()}


@controls.delete("/faults")
def clear_faults() -> Json:
    current_sandbox().faults.clear()
    return {"faults": []}
