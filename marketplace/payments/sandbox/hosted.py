"""The hosted checkout page a Checkout Session's ``url`` points to: the sandbox's stand-in for
Stripe's payment page. Paying completes the session and sends the event in the background."""

from __future__ import annotations

import copy
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for

from marketplace.common.money import Money
from marketplace.payments.sandbox import lifecycle
from marketplace.payments.sandbox.errors import ParamError, StripeError
from marketplace.payments.sandbox.params import email
from marketplace.payments.sandbox.service import current_sandbox

hosted = Blueprint("sandbox_hosted", __name__, template_folder="templates")

PAY_ACTIONS = {"pay": False, "bank_transfer": True}  # action -> settles later (async payment)


@hosted.get("/pay/<session_id>")
def show(session_id: str) -> tuple[str, int]:
    return _page(session_id)


@hosted.post("/pay/<session_id>")
def submit(session_id: str) -> Response | tuple[str, int]:
    action = request.form.get("action", "")
    if action == "cancel":
        session = _session_view(session_id)
        if session is None or not session["cancel_url"]:
            return _page(session_id)
        return redirect(session["cancel_url"], 303)
    if action not in PAY_ACTIONS:
        return _page(session_id, "Choose Pay or Cancel.", 400)
    try:
        customer_email = email(request.form.get("email", ""), "email")
    except ParamError:
        return _page(session_id, "Enter a valid email address.", 400)
    try:
        outcome = current_sandbox().run(lambda change: lifecycle.complete_session(
            change, session_id, email=customer_email, async_payment=PAY_ACTIONS[action]))
    except StripeError:
        return redirect(url_for(".show", session_id=session_id), 303)  # the page says why
    return redirect(_success_url(outcome.result), 303)


def _success_url(session: dict[str, Any]) -> str:
    return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])


def _page(session_id: str, error: str | None = None, status: int = 200) -> tuple[str, int]:
    session = _session_view(session_id)
    if session is None:
        return render_template("pay.html", session=None), 404
    return render_template("pay.html", session=session, error=error), status


def _session_view(session_id: str) -> dict[str, Any] | None:
    """The session with what the page shows: each item with its product, and amounts as money."""
    with current_sandbox().store.change() as change:
        session = change.state.find("checkout.session", session_id)
        if session is None:
            return None
        items = [{
            "name": item["description"],
            "description": change.state.get("product", item["price"]["product"])["description"],
            "quantity": item["quantity"],
            "amount": Money(item["amount_total"], item["currency"]).formatted(),
        } for item in change.state.session_inputs[session_id]["line_items"]]
        return {**copy.deepcopy(session), "items": items, "success_link": _success_url(session),
                "total": Money(session["amount_total"], session["currency"]).formatted()}
