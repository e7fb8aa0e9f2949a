"""The sandbox's stand-ins for Stripe's hosted pages.

The checkout page a Checkout Session's ``url`` points to: paying completes the session. The
onboarding page an account link's ``url`` points to: completing onboarding enables the connected
account. Either sends its events in the background.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for

from marketplace.common.money import Money
from marketplace.payments.sandbox import connect, lifecycle
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


@hosted.get("/onboarding/<token>")
def show_onboarding(token: str) -> tuple[str, int]:
    return _onboarding_page(token)


@hosted.post("/onboarding/<token>")
def submit_onboarding(token: str) -> Response | tuple[str, int]:
    action = request.form.get("action", "")
    link = _link_view(token)
    if link is None:
        return _onboarding_page(token)
    if action == "leave":
        return redirect(link["refresh_url"], 303)
    if action != "complete":
        return _onboarding_page(token, "Choose Complete onboarding or Leave.", 400)
    try:
        outcome = current_sandbox().run(lambda change: connect.onboard_through_link(change, token))
    except StripeError:
        return redirect(url_for(".show_onboarding", token=token), 303)  # the page says why
    return redirect(outcome.result["return_url"], 303)


def _onboarding_page(token: str, error: str | None = None, status: int = 200) -> tuple[str, int]:
    link = _link_view(token)
    if link is None:
        return render_template("onboarding.html", link=None), 404
    return render_template("onboarding.html", link=link, token=token, error=error), status


def _link_view(token: str) -> dict[str, Any] | None:
    """The account link with what the page shows: its status and its account."""
    with current_sandbox().store.change() as change:
        link = change.state.account_links.get(token)
        if link is None:
            return None
        return {**copy.deepcopy(link), "status": connect.link_status(link, change.now),
                "account": copy.deepcopy(change.state.get("account", link["account"]))}
