"""How sessions and payments move, one `Change` at a time, emitting the events Stripe emits.

Every function checks first and changes afterwards, so a refused move leaves the state as it was.
"""

from __future__ import annotations

from typing import Any

from marketplace.common.money import Money
from marketplace.payments.sandbox import connect, objects
from marketplace.payments.sandbox.errors import ParamError, StripeError
from marketplace.payments.sandbox.state import Change, StripeObject

SESSION_MIN_SECONDS = 30 * 60
SESSION_MAX_SECONDS = 24 * 3600
EXPIRY_SLACK_SECONDS = 10  # clocks and request latency: Stripe is not strict to the second either
DEFAULT_CUSTOMER_EMAIL = "customer@example.com"
CARD = "card"
BANK_TRANSFER = "us_bank_account"  # settles later: Checkout's "async payment" path


def create_session(change: Change, params: dict[str, Any], pay_page_base: str) -> StripeObject:
    """An open Checkout Session from checked creation parameters."""
    lines = params["line_items"]
    if not lines:
        raise ParamError("line_items must contain at least one item.", "line_items")
    if len({line["price_data"]["currency"] for line in lines}) > 1:
        raise ParamError("All line items of a Checkout Session must use the same currency.", "line_items")
    for index, line in enumerate(lines):
        _check_amount_step(line["price_data"]["unit_amount"], line["price_data"]["currency"], index)
    expires_at = _session_expiry(params.get("expires_at"), change.now)
    total = sum(line["price_data"]["unit_amount"] * line["quantity"] for line in lines)
    connect.check_destination_charge(change, params.get("payment_intent_data", {}), total,
                                     lines[0]["price_data"]["currency"])
    session_id = objects.new_object_id("checkout.session")
    items = [_line_item(change, line) for line in lines]
    change.state.session_inputs[session_id] = {
        "line_items": items, "payment_intent_data": params.get("payment_intent_data", {})}
    url = f"{pay_page_base}/pay/{session_id}"
    return change.state.put(objects.checkout_session(session_id, params, items, expires_at, url, change.now))


# Stripe's rules for amounts in a few currencies: ISK and UGX are sent with two decimals that
# must be 00, its three-decimal currencies with a last digit of 0.
AMOUNT_STEPS = {"isk": 100, "ugx": 100, "bhd": 10, "jod": 10, "kwd": 10, "omr": 10, "tnd": 10}


def _check_amount_step(amount: int, currency: str, index: int) -> None:
    step = AMOUNT_STEPS.get(currency)
    if step and amount % step:
        raise ParamError(f"Invalid {currency} amount: {amount} must be divisible by {step} for this currency.",
                         f"line_items[{index}][price_data][unit_amount]", code="invalid_amount")


def _session_expiry(requested: int | None, now: int) -> int:
    if requested is None:
        return now + SESSION_MAX_SECONDS
    if requested < now + SESSION_MIN_SECONDS - EXPIRY_SLACK_SECONDS:
        raise ParamError("The `expires_at` timestamp must be at least 30 minutes from Checkout Session "
                         "creation.", "expires_at")
    if requested > now + SESSION_MAX_SECONDS + EXPIRY_SLACK_SECONDS:
        raise ParamError("The `expires_at` timestamp must be less than 24 hours from Checkout Session "
                         "creation.", "expires_at")
    return requested


def _line_item(change: Change, line: dict[str, Any]) -> StripeObject:
    price_data = line["price_data"]
    product = change.state.put(objects.product(price_data["product_data"], change.now))
    return objects.line_item(line["quantity"], price_data["currency"], price_data["unit_amount"], product,
                             change.now)


def complete_session(change: Change, session_id: str, *, email: str | None = None,
                     async_payment: bool = False) -> StripeObject:
    """The customer submits: a card payment is paid at once, a bank transfer settles later."""
    session = _open_session(change, session_id)
    method = BANK_TRANSFER if async_payment else CARD
    intent_data = change.state.session_inputs[session_id]["payment_intent_data"]
    intent = change.state.put(objects.payment_intent(session, intent_data, method, change.now))
    customer_email = email or session["customer_email"] or DEFAULT_CUSTOMER_EMAIL
    session.update(status="complete", url=None, payment_intent=intent["id"],  # Stripe: url only while open
                   customer_details=objects.customer_details(customer_email))
    if not async_payment:
        _collect(change, session, intent)
    change.emit("checkout.session.completed", session)
    return session


def settle_async_payment(change: Change, session_id: str, *, succeeded: bool) -> StripeObject:
    """The bank answers about a payment that was left processing."""
    session = change.state.get("checkout.session", session_id)
    intent_id = session["payment_intent"]
    intent = change.state.find("payment_intent", intent_id) if intent_id else None
    if intent is None or intent["status"] != "processing":
        raise StripeError(f"Checkout Session {session_id} has no payment waiting to settle.")
    if succeeded:
        _collect(change, session, intent)
        change.emit("checkout.session.async_payment_succeeded", session)
    else:
        intent.update(status="requires_payment_method",
                      last_payment_error=objects.payment_failure(intent["payment_method_types"][0]))
        change.emit("checkout.session.async_payment_failed", session)
    return session


def _collect(change: Change, session: StripeObject, intent: StripeObject) -> None:
    """The money arrives: a charge for the whole amount, and the session becomes paid; a
    destination charge sends its amount, less the application fee, on to its destination."""
    charge = change.state.put(objects.charge(
        intent, session["customer_details"]["email"], intent["payment_method_types"][0], change.now))
    intent.update(status="succeeded", amount_received=intent["amount"], latest_charge=charge["id"])
    session["payment_status"] = "paid"
    if charge["transfer_data"]:
        connect.pay_destination(change, charge)


def expire_session(change: Change, session_id: str) -> StripeObject:
    session = change.state.get("checkout.session", session_id)
    if session["status"] != "open":
        raise StripeError(f"Only Checkout Sessions with a status of `open` can be expired; "
                          f"{session_id} is `{session['status']}`.")
    session.update(status="expired", url=None)
    change.emit("checkout.session.expired", session)
    return session


def expire_due_sessions(change: Change) -> list[StripeObject]:
    """Open sessions whose `expires_at` has passed expire, as Stripe's own clock does."""
    due = [session["id"] for session in change.state.all("checkout.session")
           if session["status"] == "open" and session["expires_at"] <= change.now]
    return [expire_session(change, session_id) for session_id in due]


def _open_session(change: Change, session_id: str) -> StripeObject:
    session = change.state.get("checkout.session", session_id)
    if session["status"] != "open":
        raise StripeError(f"Checkout Session {session_id} is {session['status']}, not open.")
    return session


def refund(change: Change, *, payment_intent_id: str | None = None, charge_id: str | None = None,
           amount: int | None = None, reason: str | None = None, metadata: dict[str, str] | None = None,
           reverse_transfer: bool = False, refund_application_fee: bool = False) -> StripeObject:
    """Give back part or all of what is left of a charge (all of it when no amount is given); of a
    destination charge, take back the same share of the transfer and of the fee when asked to."""
    charge = _refundable_charge(change, payment_intent_id, charge_id)
    connect.check_refund_reversal(charge, reverse_transfer)
    left = charge["amount"] - charge["amount_refunded"]
    if left == 0:
        raise StripeError(f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
    amount = left if amount is None else amount
    if amount > left:
        raise StripeError(
            f"Refund amount ({Money(amount, charge['currency']).formatted()}) is greater than unrefunded "
            f"amount on charge ({Money(left, charge['currency']).formatted()})",
            code="amount_too_large", param="amount")
    made = change.state.put(objects.refund(charge, amount, reason, metadata or {}, change.now))
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] == charge["amount"]
    connect.undo_destination_payment(change, charge, made, reverse_transfer=reverse_transfer,
                                     refund_application_fee=refund_application_fee)
    change.emit("charge.refunded", charge)
    change.emit("refund.created", made)
    return made


def _refundable_charge(change: Change, payment_intent_id: str | None, charge_id: str | None) -> StripeObject:
    if charge_id:
        charge = change.state.get("charge", charge_id, param="charge")
        if payment_intent_id and charge["payment_intent"] != payment_intent_id:
            raise ParamError(f"Charge {charge_id} does not belong to PaymentIntent {payment_intent_id}.",
                             "payment_intent")
    elif payment_intent_id:
        charge = _succeeded_charge(change, payment_intent_id)
    else:
        raise ParamError("One of `charge` or `payment_intent` is required.", "payment_intent",
                         "parameter_missing")
    if charge["disputed"]:
        raise StripeError(f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                          code="charge_disputed")
    return charge


def _succeeded_charge(change: Change, payment_intent_id: str) -> StripeObject:
    intent = change.state.get("payment_intent", payment_intent_id, param="payment_intent")
    if intent["latest_charge"] is None:
        raise StripeError(f"PaymentIntent {payment_intent_id} does not have a successful charge.",
                          code="payment_intent_unexpected_state", param="payment_intent")
    return change.state.get("charge", intent["latest_charge"])


def open_dispute(change: Change, payment_intent_id: str, reason: str = "fraudulent") -> StripeObject:
    """The cardholder's bank disputes the whole charge."""
    charge = _succeeded_charge(change, payment_intent_id)
    if charge["disputed"]:
        raise StripeError(f"Charge {charge['id']} is already disputed.", code="charge_disputed")
    dispute = change.state.put(objects.dispute(charge, reason, change.now))
    charge["disputed"] = True
    change.emit("charge.dispute.created", dispute)
    return dispute


def close_dispute(change: Change, dispute_id: str, outcome: str) -> StripeObject:
    dispute = change.state.get("dispute", dispute_id)
    if dispute["status"] in ("won", "lost"):
        raise StripeError(f"Dispute {dispute_id} is already closed ({dispute['status']}).")
    dispute["status"] = outcome
    change.emit("charge.dispute.closed", dispute)
    return dispute
