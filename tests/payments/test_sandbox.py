"""The Stripe sandbox over raw HTTP: Stripe's wire format, the payment lifecycle, signed
deliveries to a small local receiver, faults, and state that survives a restart."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from marketplace.payments.sandbox import SandboxServer, create_sandbox_app
from marketplace.payments.sandbox.errors import ParamError
from marketplace.payments.sandbox.forms import decode_form
from tests.stripe_sandbox import SANDBOX_API_KEY, SandboxControl, WebhookReceiver

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HTTP = requests.Session()
HTTP.trust_env = False  # loopback only: never through a proxy


# -- helpers ---------------------------------------------------------------------------

def changed(form: dict[str, str], changes: dict[str, str | None]) -> dict[str, str]:
    """The form with the changes made; None drops a field."""
    return {name: value for name, value in {**form, **changes}.items() if value is not None}


def session_form(**changes: str | None) -> dict[str, str]:
    """Form fields of a Checkout Session creation as the SDK encodes them; None drops a field."""
    form = {
        "mode": "payment",
        "success_url": "https://store.test/done?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://store.test/cart",
        "client_reference_id": "ord_1",
        "customer_email": "buyer@example.com",
        "metadata[order_id]": "ord_1",
        "payment_intent_data[metadata][order_id]": "ord_1",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "2999",
        "line_items[0][price_data][product_data][name]": "Night Drive (Basic lease)",
    }
    return changed(form, changes)


def api(sandbox: SandboxControl, method: str, path: str, data: dict[str, str] | None = None,
        key: str | None = SANDBOX_API_KEY, idempotency_key: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    if method == "GET":
        return HTTP.get(f"{sandbox.url}{path}", params=data, headers=headers, timeout=10)
    return HTTP.post(f"{sandbox.url}{path}", data=data, headers=headers, timeout=10)


def post_session(sandbox: SandboxControl, form: dict[str, str] | None = None,
                 idempotency_key: str | None = None) -> requests.Response:
    return api(sandbox, "POST", "/v1/checkout/sessions", session_form() if form is None else form,
               idempotency_key=idempotency_key)


def create_session(sandbox: SandboxControl, **changes: str | None) -> dict[str, Any]:
    response = post_session(sandbox, session_form(**changes))
    assert response.status_code == 200, response.text
    return response.json()


def paid_session(sandbox: SandboxControl) -> tuple[str, str]:
    """A session paid by card, with its events only recorded; (session id, payment intent id)."""
    session_id = create_session(sandbox)["id"]
    completed = sandbox.complete(session_id, deliver="none")
    return session_id, completed["session"]["payment_intent"]


def error_of(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()["error"]


def signature_parts(header: str) -> tuple[int, str]:
    parts = dict(item.split("=", 1) for item in header.split(","))
    return int(parts["t"]), parts["v1"]


def signature_verifies(header: str, payload: bytes, secret: str, tolerance: int = 300) -> bool:
    """The receiver's check, as Stripe documents it: HMAC-SHA256 of "<t>.<body>", t recent."""
    timestamp, signature = signature_parts(header)
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature) and abs(time.time() - timestamp) <= tolerance


# -- Stripe's form encoding ------------------------------------------------------------

def test_form_decoding_nests_hashes_and_lists() -> None:
    decoded = decode_form([
        ("mode", "payment"),
        ("line_items[0][price_data][product_data][name]", "Beat"),
        ("line_items[0][quantity]", "1"),
        ("line_items[1][quantity]", "2"),
        ("metadata[order_id]", "ord_1"),
        ("expand[]", "payment_intent"),
        ("expand[]", "line_items"),
    ])
    assert decoded == {
        "mode": "payment",
        "line_items": [{"price_data": {"product_data": {"name": "Beat"}}, "quantity": "1"},
                       {"quantity": "2"}],
        "metadata": {"order_id": "ord_1"},
        "expand": ["payment_intent", "line_items"],
    }


def test_form_decoding_orders_lists_by_index_and_refuses_a_value_that_is_also_a_hash() -> None:
    assert decode_form([("expand[1]", "b"), ("expand[0]", "a")]) == {"expand": ["a", "b"]}
    with pytest.raises(ParamError) as refused:
        decode_form([("metadata", "x"), ("metadata[a]", "b")])
    assert refused.value.param == "metadata[a]"


# -- creating Checkout Sessions ----------------------------------------------------------

def test_a_created_session_has_stripes_shape(stripe_sandbox: SandboxControl) -> None:
    before = int(time.time())
    response = post_session(stripe_sandbox, session_form(**{
        "line_items[0][price_data][currency]": "USD",
        "line_items[1][quantity]": "2",
        "line_items[1][price_data][currency]": "usd",
        "line_items[1][price_data][unit_amount]": "500",
        "line_items[1][price_data][product_data][name]": "Voice tag removal",
    }))
    assert response.status_code == 200, response.text
    assert response.headers["Request-Id"].startswith("req_")
    session = response.json()
    assert session["id"].startswith("cs_test_") and session["object"] == "checkout.session"
    assert (session["amount_subtotal"], session["amount_total"], session["currency"]) == (3999, 3999, "usd")
    assert (session["status"], session["payment_status"], session["mode"]) == ("open", "unpaid", "payment")
    assert session["payment_intent"] is None and session["customer_details"] is None
    assert session["client_reference_id"] == "ord_1" and session["customer_email"] == "buyer@example.com"
    assert session["metadata"] == {"order_id": "ord_1"} and session["livemode"] is False
    assert session["url"] == f"{stripe_sandbox.url}/pay/{session['id']}"
    assert before + 24 * 3600 <= session["expires_at"] <= int(time.time()) + 24 * 3600
    assert stripe_sandbox.session(session["id"]) == session


@pytest.mark.parametrize(("field", "param"), [
    ("shipping_address_collection[allowed_countries][0]", "shipping_address_collection"),
    ("line_items[0][price_data][product_data][images][0]", "line_items[0][price_data][product_data][images]"),
    ("payment_intent_data[capture_method]", "payment_intent_data[capture_method]"),
])
def test_unknown_parameters_are_refused_at_any_depth(stripe_sandbox: SandboxControl, field: str,
                                                     param: str) -> None:
    error = error_of(post_session(stripe_sandbox, session_form(**{field: "x"})), 400)
    assert error == {"type": "invalid_request_error", "code": "parameter_unknown",
                     "message": f"Received unknown parameter: {param}", "param": param}


@pytest.mark.parametrize("param", ["mode", "success_url"])
def test_missing_required_parameters_are_named(stripe_sandbox: SandboxControl, param: str) -> None:
    error = error_of(post_session(stripe_sandbox, session_form(**{param: None})), 400)
    assert (error["code"], error["param"]) == ("parameter_missing", param)


def test_a_session_needs_line_items(stripe_sandbox: SandboxControl) -> None:
    form = {name: value for name, value in session_form().items() if not name.startswith("line_items")}
    error = error_of(post_session(stripe_sandbox, form), 400)
    assert (error["code"], error["param"]) == ("parameter_missing", "line_items")


@pytest.mark.parametrize(("changes", "param", "code"), [
    ({"line_items[0][price_data][unit_amount]": "29.99"}, "line_items[0][price_data][unit_amount]",
     "parameter_invalid_integer"),
    ({"line_items[0][price_data][unit_amount]": "-1"}, "line_items[0][price_data][unit_amount]", None),
    ({"line_items[0][quantity]": "0"}, "line_items[0][quantity]", None),
    ({"mode": "subscription"}, "mode", None),
    ({"client_reference_id": "o" * 201}, "client_reference_id", "string_length_exceeds_maximum"),
    ({"success_url": "javascript:alert(1)"}, "success_url", "url_invalid"),
    ({"line_items[0][price_data][product_data][description]": ""},
     "line_items[0][price_data][product_data][description]", "parameter_invalid_empty"),
    ({"line_items[1][quantity]": "1", "line_items[1][price_data][currency]": "eur",
      "line_items[1][price_data][unit_amount]": "100", "line_items[1][price_data][product_data][name]": "x"},
     "line_items", None),
])
def test_invalid_values_are_refused_with_the_parameter(
        stripe_sandbox: SandboxControl, changes: dict[str, str], param: str, code: str | None) -> None:
    error = error_of(post_session(stripe_sandbox, session_form(**changes)), 400)
    assert (error["param"], error.get("code")) == (param, code)


@pytest.mark.parametrize("prefix", ["metadata", "payment_intent_data[metadata]",
                                    "line_items[0][price_data][product_data][metadata]"])
def test_metadata_limits(stripe_sandbox: SandboxControl, prefix: str) -> None:
    def create(entries: dict[str, str]) -> requests.Response:
        fields = {"metadata[order_id]": None, "payment_intent_data[metadata][order_id]": None,
                  **{f"{prefix}[{key}]": value for key, value in entries.items()}}
        return post_session(stripe_sandbox, session_form(**fields))

    at_the_limits = {f"key{index}": "v" for index in range(48)} | {"k" * 40: "v", "long": "v" * 500}
    assert create(at_the_limits).status_code == 200
    assert error_of(create({f"key{index}": "v" for index in range(51)}), 400)["param"] == prefix
    assert error_of(create({"k" * 41: "v"}), 400)["param"] == f"{prefix}[{'k' * 41}]"
    assert error_of(create({"long": "v" * 501}), 400)["param"] == f"{prefix}[long]"


def test_expires_at_must_be_between_30_minutes_and_24_hours_ahead(stripe_sandbox: SandboxControl) -> None:
    now = int(time.time())
    for too_soon_or_late in (now + 29 * 60, now + 24 * 3600 + 60):
        error = error_of(post_session(stripe_sandbox, session_form(expires_at=str(too_soon_or_late))), 400)
        assert error["param"] == "expires_at"
    for edge in (now + 30 * 60, now + 24 * 3600):
        assert create_session(stripe_sandbox, expires_at=str(edge))["expires_at"] == edge


# -- authentication, unknown objects and routes --------------------------------------------

def test_calls_without_a_test_secret_key_are_unauthorized(stripe_sandbox: SandboxControl) -> None:
    missing = error_of(api(stripe_sandbox, "GET", "/v1/charges/ch_1", key=None), 401)
    assert missing["type"] == "invalid_request_error" and "did not provide an API key" in missing["message"]
    live = error_of(api(stripe_sandbox, "GET", "/v1/charges/ch_1", key="sk_live_0123456789abcd"), 401)
    assert "Invalid API Key" in live["message"] and "0123456789" not in live["message"]


def test_unknown_objects_and_routes_answer_404_in_stripes_format(stripe_sandbox: SandboxControl) -> None:
    assert error_of(api(stripe_sandbox, "GET", "/v1/checkout/sessions/cs_test_nope"), 404) == {
        "type": "invalid_request_error", "code": "resource_missing",
        "message": "No such checkout.session: 'cs_test_nope'"}
    assert "Unrecognized request URL" in error_of(api(stripe_sandbox, "GET", "/v1/customers"), 404)["message"]


# -- idempotency ---------------------------------------------------------------------------

def test_the_same_idempotent_request_replays_the_first_answer(stripe_sandbox: SandboxControl) -> None:
    first = post_session(stripe_sandbox, idempotency_key="ord_1")
    again = post_session(stripe_sandbox, idempotency_key="ord_1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    listed = api(stripe_sandbox, "GET", "/v1/checkout/sessions").json()["data"]
    assert [session["id"] for session in listed] == [first.json()["id"]]


def test_an_idempotency_key_reused_with_other_parameters_is_an_error(stripe_sandbox: SandboxControl) -> None:
    post_session(stripe_sandbox, idempotency_key="ord_1")
    reused = post_session(stripe_sandbox, session_form(client_reference_id="ord_2"), idempotency_key="ord_1")
    error = error_of(reused, 400)
    assert error["type"] == "idempotency_error"
    assert error["message"].startswith("Keys for idempotent requests can only be used with the same")
    elsewhere = api(stripe_sandbox, "POST", "/v1/refunds", {"payment_intent": "pi_x"},
                    idempotency_key="ord_1")
    assert error_of(elsewhere, 400)["type"] == "idempotency_error"


def test_idempotency_keys_are_limited_and_refused_parameters_do_not_use_them_up(
        stripe_sandbox: SandboxControl) -> None:
    too_long = post_session(stripe_sandbox, idempotency_key="k" * 256)
    assert error_of(too_long, 400)["type"] == "invalid_request_error"
    refused = post_session(stripe_sandbox, session_form(mode=None), idempotency_key="k")
    assert refused.status_code == 400
    corrected = post_session(stripe_sandbox, idempotency_key="k")
    assert corrected.status_code == 200


def test_business_errors_are_saved_under_the_key(stripe_sandbox: SandboxControl) -> None:
    _, payment_intent = paid_session(stripe_sandbox)
    refund = {"payment_intent": payment_intent, "amount": "5000"}
    first = api(stripe_sandbox, "POST", "/v1/refunds", refund, idempotency_key="refund-1")
    again = api(stripe_sandbox, "POST", "/v1/refunds", refund, idempotency_key="refund-1")
    assert error_of(first, 400)["code"] == "amount_too_large"
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"


# -- reading sessions, line items and payments -------------------------------------------------

def test_line_items_are_listed_as_a_stripe_list(stripe_sandbox: SandboxControl) -> None:
    session = create_session(stripe_sandbox, **{
        "line_items[1][quantity]": "3", "line_items[1][price_data][currency]": "usd",
        "line_items[1][price_data][unit_amount]": "100",
        "line_items[1][price_data][product_data][name]": "Stems"})
    listed = api(stripe_sandbox, "GET", f"/v1/checkout/sessions/{session['id']}/line_items").json()
    assert listed["object"] == "list" and listed["has_more"] is False
    assert listed["url"] == f"/v1/checkout/sessions/{session['id']}/line_items"
    first, second = listed["data"]
    assert first["id"].startswith("li_") and first["object"] == "item"
    assert (first["description"], first["quantity"], first["amount_total"]) == (
        "Night Drive (Basic lease)", 1, 2999)
    assert (second["quantity"], second["amount_subtotal"], second["price"]["unit_amount"]) == (3, 300, 100)
    assert second["price"]["currency"] == "usd" and second["price"]["product"].startswith("prod_")
    page = api(stripe_sandbox, "GET", f"/v1/checkout/sessions/{session['id']}/line_items",
               {"limit": "1", "expand[]": "data.price.product"}).json()
    assert len(page["data"]) == 1 and page["has_more"] is True
    product = page["data"][0]["price"]["product"]
    assert (product["object"], product["name"], product["id"]) == ("product", "Night Drive (Basic lease)",
                                                                   first["price"]["product"])


def test_a_paid_session_expands_to_its_payment_intent_and_charge(stripe_sandbox: SandboxControl) -> None:
    session_id = create_session(stripe_sandbox)["id"]
    unpaid = api(stripe_sandbox, "GET", f"/v1/checkout/sessions/{session_id}", {"expand[]": "payment_intent"})
    assert unpaid.json()["payment_intent"] is None
    stripe_sandbox.complete(session_id, deliver="none")
    paid = api(stripe_sandbox, "GET", f"/v1/checkout/sessions/{session_id}",
               {"expand[0]": "payment_intent.latest_charge"}).json()
    intent = paid["payment_intent"]
    assert paid["payment_status"] == "paid" and paid["customer_details"]["email"] == "buyer@example.com"
    assert paid["url"] is None  # Stripe shows the page's address only while the session is open
    assert intent["id"].startswith("pi_") and intent["object"] == "payment_intent"
    assert (intent["status"], intent["amount"], intent["amount_received"]) == ("succeeded", 2999, 2999)
    assert intent["metadata"] == {"order_id": "ord_1"} and intent["application_fee_amount"] is None
    assert intent["transfer_data"] is None
    charge = intent["latest_charge"]
    assert charge["id"].startswith("ch_") and charge["payment_intent"] == intent["id"]
    assert (charge["amount"], charge["amount_refunded"], charge["refunded"]) == (2999, 0, False)
    assert (charge["disputed"], charge["paid"]) == (False, True)
    retrieved = api(stripe_sandbox, "GET", f"/v1/payment_intents/{intent['id']}").json()
    assert retrieved["latest_charge"] == charge["id"]
    listed = api(stripe_sandbox, "GET", "/v1/checkout/sessions",
                 {"payment_intent": intent["id"], "expand[]": "data.payment_intent"}).json()
    assert [(session["id"], session["payment_intent"]["id"]) for session in listed["data"]] == [
        (session_id, intent["id"])]
    not_expandable = api(stripe_sandbox, "GET", f"/v1/checkout/sessions/{session_id}", {"expand[0]": "mode"})
    assert error_of(not_expandable, 400)["param"] == "expand[0]"


# -- the hosted checkout page ------------------------------------------------------------------

def test_paying_on_the_page_redirects_and_delivers_a_signed_event(
        stripe_sandbox: SandboxControl, webhook_receiver: WebhookReceiver) -> None:
    session = create_session(stripe_sandbox)
    page = HTTP.get(session["url"], timeout=10)
    assert page.status_code == 200 and "Pay USD 29.99" in page.text and "buyer@example.com" in page.text

    paid = HTTP.post(session["url"], data={"action": "pay", "email": "buyer@example.com"},
                     allow_redirects=False, timeout=10)
    assert paid.status_code == 303
    assert paid.headers["Location"] == f"https://store.test/done?session={session['id']}"

    [delivery] = webhook_receiver.wait_for(1)
    secret = stripe_sandbox.webhook_secret
    assert signature_verifies(delivery.headers["Stripe-Signature"], delivery.body, secret)
    assert delivery.headers["Content-Type"] == "application/json; charset=utf-8"
    assert delivery.headers["User-Agent"] == "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
    event = delivery.event
    assert event["id"].startswith("evt_") and event["type"] == "checkout.session.completed"
    assert event["api_version"] == "2026-10-28.endive" and event["object"] == "event"
    assert event["data"]["object"]["id"] == session["id"]
    assert event["data"]["object"]["payment_status"] == "paid"
    assert stripe_sandbox.session(session["id"])["status"] == "complete"


def test_the_page_escapes_what_the_app_sent(stripe_sandbox: SandboxControl) -> None:
    session = create_session(stripe_sandbox, **{
        "line_items[0][price_data][product_data][name]": "<script>alert('name')</script>",
        "line_items[0][price_data][product_data][description]": "Tom & Jerry <b>bold</b>"})
    page = HTTP.get(session["url"], timeout=10).text
    assert "<script>alert" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in page
    assert "Tom &amp; Jerry &lt;b&gt;" in page


def test_cancel_goes_back_and_leaves_the_session_open(stripe_sandbox: SandboxControl) -> None:
    session = create_session(stripe_sandbox)
    cancelled = HTTP.post(session["url"], data={"action": "cancel"}, allow_redirects=False, timeout=10)
    assert (cancelled.status_code, cancelled.headers["Location"]) == (303, "https://store.test/cart")
    assert stripe_sandbox.session(session["id"])["status"] == "open"


def test_the_page_of_a_finished_session_says_so(stripe_sandbox: SandboxControl) -> None:
    paid = create_session(stripe_sandbox)
    stripe_sandbox.complete(paid["id"], deliver="none")
    expired = create_session(stripe_sandbox)
    stripe_sandbox.expire(expired["id"], deliver="none")

    paid_page = HTTP.get(paid["url"], timeout=10).text
    assert "This checkout is paid." in paid_page and "<button" not in paid_page
    assert f'href="https://store.test/done?session={paid["id"]}"' in paid_page
    expired_page = HTTP.get(expired["url"], timeout=10).text
    assert "This checkout has expired." in expired_page and 'href="https://store.test/cart"' in expired_page
    again = HTTP.post(paid["url"], data={"action": "pay", "email": "b@example.com"}, allow_redirects=False,
                      timeout=10)
    assert (again.status_code, again.headers["Location"]) == (303, f"/pay/{paid['id']}")


def test_bank_transfer_on_the_page_completes_without_paying(stripe_sandbox: SandboxControl) -> None:
    session = create_session(stripe_sandbox)
    HTTP.post(session["url"], data={"action": "bank_transfer", "email": "buyer@example.com"},
              allow_redirects=False, timeout=10)
    completed = stripe_sandbox.session(session["id"])
    assert (completed["status"], completed["payment_status"]) == ("complete", "unpaid")
    intent = api(stripe_sandbox, "GET", f"/v1/payment_intents/{completed['payment_intent']}").json()
    assert (intent["status"], intent["latest_charge"]) == ("processing", None)


def test_failed_webhook_deliveries_are_retried(
        stripe_sandbox: SandboxControl, webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.answers = [500]
    session = create_session(stripe_sandbox)
    HTTP.post(session["url"], data={"action": "pay", "email": "buyer@example.com"}, allow_redirects=False,
              timeout=10)
    first, second = webhook_receiver.wait_for(2)
    assert first.event["id"] == second.event["id"]
    for _ in range(50):  # the attempt is recorded just after the receiver answers
        [event] = stripe_sandbox.events()
        if len(event["delivery_attempts"]) == 2:
            break
        time.sleep(0.02)
    assert [attempt["status"] for attempt in event["delivery_attempts"]] == [500, 200]


# -- controls: the payment lifecycle -----------------------------------------------------------

def test_an_async_payment_completes_unpaid_then_succeeds(stripe_sandbox: SandboxControl) -> None:
    session_id = create_session(stripe_sandbox)["id"]
    completed = stripe_sandbox.complete(session_id, async_payment=True, deliver="none")
    assert (completed["session"]["status"], completed["session"]["payment_status"]) == ("complete", "unpaid")
    intent_path = f"/v1/payment_intents/{completed['session']['payment_intent']}"
    assert api(stripe_sandbox, "GET", intent_path).json()["status"] == "processing"

    settled = stripe_sandbox.async_succeed(session_id, deliver="none")
    assert settled["session"]["payment_status"] == "paid"
    intent = api(stripe_sandbox, "GET", intent_path).json()
    assert intent["status"] == "succeeded" and intent["latest_charge"].startswith("ch_")
    assert [event["type"] for event in stripe_sandbox.events()] == [
        "checkout.session.completed", "checkout.session.async_payment_succeeded"]
    assert stripe_sandbox.events()[0]["data"]["object"]["payment_status"] == "unpaid"
    assert stripe_sandbox.async_fail(session_id)["error"]["type"] == "invalid_request_error"


def test_an_async_payment_can_fail(stripe_sandbox: SandboxControl) -> None:
    session_id = create_session(stripe_sandbox)["id"]
    stripe_sandbox.complete(session_id, async_payment=True, deliver="none")
    failed = stripe_sandbox.async_fail(session_id, deliver="none")
    assert failed["events"][0]["type"] == "checkout.session.async_payment_failed"
    intent = api(stripe_sandbox, "GET", f"/v1/payment_intents/{failed['session']['payment_intent']}").json()
    assert intent["status"] == "requires_payment_method" and intent["last_payment_error"] is not None
    assert failed["session"]["payment_status"] == "unpaid"
    assert "error" in stripe_sandbox.async_succeed(session_id)


def test_a_session_expires_once_through_the_api_or_a_control(stripe_sandbox: SandboxControl) -> None:
    first = create_session(stripe_sandbox)["id"]
    expired = api(stripe_sandbox, "POST", f"/v1/checkout/sessions/{first}/expire", idempotency_key="exp-1")
    assert expired.json()["status"] == "expired"
    [event] = stripe_sandbox.events()
    assert event["request"] == {"id": expired.headers["Request-Id"], "idempotency_key": "exp-1"}
    again = api(stripe_sandbox, "POST", f"/v1/checkout/sessions/{first}/expire")
    assert "open" in error_of(again, 400)["message"]
    assert "error" in stripe_sandbox.complete(first)

    second = create_session(stripe_sandbox)["id"]
    assert stripe_sandbox.expire(second)["session"]["status"] == "expired"
    assert "error" in stripe_sandbox.expire(second)
    assert [event["data"]["object"]["id"] for event in stripe_sandbox.events("checkout.session.expired")] == [
        first, second]


def test_a_paid_session_can_be_neither_expired_nor_paid_again(stripe_sandbox: SandboxControl) -> None:
    session_id, _ = paid_session(stripe_sandbox)
    assert error_of(api(stripe_sandbox, "POST", f"/v1/checkout/sessions/{session_id}/expire"), 400)
    assert "error" in stripe_sandbox.complete(session_id)
    assert len(stripe_sandbox.events()) == 1


def test_the_sandbox_clock_expires_sessions_past_their_time(
        stripe_sandbox: SandboxControl, stripe_sandbox_server: SandboxServer) -> None:
    due, later = create_session(stripe_sandbox)["id"], create_session(stripe_sandbox)["id"]
    with stripe_sandbox_server.sandbox.store.change() as change:  # as if half an hour went by
        change.state.get("checkout.session", due)["expires_at"] = change.now - 1
    deadline = time.time() + 5
    while stripe_sandbox.session(due)["status"] == "open" and time.time() < deadline:
        time.sleep(0.1)
    assert stripe_sandbox.session(due)["status"] == "expired"
    assert stripe_sandbox.session(later)["status"] == "open"
    expired_events = stripe_sandbox.events("checkout.session.expired")
    assert [event["data"]["object"]["id"] for event in expired_events] == [due]


def test_refunds_partial_then_the_rest_then_nothing(stripe_sandbox: SandboxControl) -> None:
    _, payment_intent = paid_session(stripe_sandbox)
    partial = api(stripe_sandbox, "POST", "/v1/refunds", {
        "payment_intent": payment_intent, "amount": "1000", "reason": "requested_by_customer",
        "metadata[order_id]": "ord_1"}).json()
    assert partial["id"].startswith("re_") and partial["object"] == "refund"
    assert (partial["amount"], partial["status"], partial["reason"], partial["payment_intent"]) == (
        1000, "succeeded", "requested_by_customer", payment_intent)
    charge = api(stripe_sandbox, "GET", f"/v1/charges/{partial['charge']}").json()
    assert (charge["amount_refunded"], charge["refunded"]) == (1000, False)
    too_much = api(stripe_sandbox, "POST", "/v1/refunds",
                   {"payment_intent": payment_intent, "amount": "2000"})
    assert error_of(too_much, 400)["code"] == "amount_too_large"

    rest = api(stripe_sandbox, "POST", "/v1/refunds", {"charge": partial["charge"]}).json()
    assert rest["amount"] == 1999
    assert api(stripe_sandbox, "GET", f"/v1/refunds/{rest['id']}").json() == rest
    nothing_left = api(stripe_sandbox, "POST", "/v1/refunds", {"payment_intent": payment_intent})
    assert error_of(nothing_left, 400)["code"] == "charge_already_refunded"

    refunded = [event["data"]["object"] for event in stripe_sandbox.events("charge.refunded")]
    assert [(charge["amount_refunded"], charge["refunded"]) for charge in refunded] == [
        (1000, False), (2999, True)]
    assert {charge["payment_intent"] for charge in refunded} == {payment_intent}
    assert [event["data"]["object"]["id"] for event in stripe_sandbox.events("refund.created")] == [
        partial["id"], rest["id"]]


def test_a_dashboard_refund_is_delivered(stripe_sandbox: SandboxControl, webhook_receiver: WebhookReceiver) -> None:
    _, payment_intent = paid_session(stripe_sandbox)
    refunded = stripe_sandbox.refund(payment_intent, amount=500)
    assert refunded["refund"]["amount"] == 500
    assert [event["type"] for event in refunded["events"]] == ["charge.refunded", "refund.created"]
    assert refunded["delivery"]["status"] == 200 and len(refunded["deliveries"]) == 2
    received = webhook_receiver.wait_for(2)
    assert [delivery.event["type"] for delivery in received] == ["charge.refunded", "refund.created"]
    assert stripe_sandbox.refund(payment_intent, amount=0)["error"]["param"] == "amount"


def test_a_dispute_freezes_the_charge(stripe_sandbox: SandboxControl, webhook_receiver: WebhookReceiver) -> None:
    _, payment_intent = paid_session(stripe_sandbox)
    opened = stripe_sandbox.dispute(payment_intent)
    dispute = opened["dispute"]
    assert dispute["id"].startswith("dp_") and dispute["object"] == "dispute"
    assert (dispute["amount"], dispute["reason"], dispute["status"], dispute["payment_intent"]) == (
        2999, "fraudulent", "needs_response", payment_intent)
    [delivery] = webhook_receiver.wait_for(1)
    assert delivery.event["type"] == "charge.dispute.created" and delivery.event["data"]["object"] == dispute
    assert api(stripe_sandbox, "GET", f"/v1/charges/{dispute['charge']}").json()["disputed"] is True
    refund = api(stripe_sandbox, "POST", "/v1/refunds", {"payment_intent": payment_intent})
    assert error_of(refund, 400)["code"] == "charge_disputed"
    assert "error" in stripe_sandbox.dispute(payment_intent)

    closed = stripe_sandbox.close_dispute(dispute["id"], "won")
    assert closed["dispute"]["status"] == "won" and closed["events"][0]["type"] == "charge.dispute.closed"


# -- controls: delivering events on demand -------------------------------------------------------

def test_delivery_can_be_signed_wrongly_on_purpose(
        stripe_sandbox: SandboxControl, webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.answers = [202, 400, 400, 400, 400]
    session_id = create_session(stripe_sandbox)["id"]
    event_id = stripe_sandbox.complete(session_id, deliver="none")["events"][0]["id"]
    secret = stripe_sandbox.webhook_secret

    assert stripe_sandbox.deliver(event_id) == {"status": 202, "body": "answered 202", "error": None}
    assert stripe_sandbox.deliver(event_id, timestamp_offset=-600)["status"] == 400
    assert stripe_sandbox.deliver(event_id, secret="whsec_other")["status"] == 400
    assert stripe_sandbox.deliver(event_id, tamper=True)["body"] == "answered 400"
    assert stripe_sandbox.deliver(event_id, omit_signature=True)["status"] == 400

    good, stale, other_secret, tampered, unsigned = webhook_receiver.wait_for(5)
    assert signature_verifies(good.headers["Stripe-Signature"], good.body, secret)
    stale_time, _ = signature_parts(stale.headers["Stripe-Signature"])
    assert abs(stale_time - (time.time() - 600)) < 5
    assert signature_verifies(stale.headers["Stripe-Signature"], stale.body, secret, tolerance=700)
    assert not signature_verifies(stale.headers["Stripe-Signature"], stale.body, secret)
    assert not signature_verifies(other_secret.headers["Stripe-Signature"], other_secret.body, secret)
    assert signature_verifies(other_secret.headers["Stripe-Signature"], other_secret.body, "whsec_other")
    assert not signature_verifies(tampered.headers["Stripe-Signature"], tampered.body, secret)
    assert tampered.body != good.body and tampered.event["id"] == event_id
    assert "Stripe-Signature" not in unsigned.headers and unsigned.body == good.body

    [event] = stripe_sandbox.events()
    assert [attempt["status"] for attempt in event["delivery_attempts"]] == [202, 400, 400, 400, 400]


def test_events_held_back_can_be_delivered_out_of_order(
        stripe_sandbox: SandboxControl, webhook_receiver: WebhookReceiver) -> None:
    _, payment_intent = paid_session(stripe_sandbox)
    stripe_sandbox.refund(payment_intent, deliver="none")
    held_back = stripe_sandbox.events()
    # Held back: no attempt made (none is scheduled either), none received.
    assert all(event["delivery_attempts"] == [] for event in held_back), held_back
    assert webhook_receiver.received == []
    events = {event["type"]: event["id"] for event in held_back}
    for event_type in ("charge.refunded", "checkout.session.completed"):
        stripe_sandbox.deliver(events[event_type])
    assert [received.event["type"] for received in webhook_receiver.wait_for(2)] == [
        "charge.refunded", "checkout.session.completed"]


def test_delivering_needs_a_webhook_url_and_a_known_event(
        stripe_sandbox: SandboxControl, webhook_receiver: WebhookReceiver) -> None:
    assert stripe_sandbox.deliver("evt_unknown")["error"]["code"] == "resource_missing"
    stripe_sandbox.configure(None)
    _, _ = paid_session(stripe_sandbox)
    [event] = stripe_sandbox.events()
    assert stripe_sandbox.deliver(event["id"])["error"]["param"] == "webhook_url"


# -- faults ------------------------------------------------------------------------------------

def test_a_500_fault_hits_the_matching_calls_only(stripe_sandbox: SandboxControl) -> None:
    session_id = create_session(stripe_sandbox)["id"]
    stripe_sandbox.fault("GET", "/v1/checkout/sessions", "error_500", times=2)
    assert api(stripe_sandbox, "GET", "/v1/charges/ch_1").status_code == 404  # another path
    assert post_session(stripe_sandbox).status_code == 200  # another method
    for _ in range(2):
        failed = api(stripe_sandbox, "GET", f"/v1/checkout/sessions/{session_id}")
        assert error_of(failed, 500)["type"] == "api_error"
    assert api(stripe_sandbox, "GET", f"/v1/checkout/sessions/{session_id}").status_code == 200


def test_a_close_fault_drops_the_connection_without_doing_the_work(stripe_sandbox: SandboxControl) -> None:
    stripe_sandbox.fault("POST", "/v1/checkout/sessions", "close")
    with pytest.raises(requests.ConnectionError):
        post_session(stripe_sandbox, session_form())
    assert api(stripe_sandbox, "GET", "/v1/checkout/sessions").json()["data"] == []
    assert post_session(stripe_sandbox, session_form()).status_code == 200


def test_a_timeout_fault_answers_late(stripe_sandbox: SandboxControl) -> None:
    stripe_sandbox.fault("POST", "/v1/checkout/sessions", "timeout", seconds=0.5)
    with pytest.raises(requests.ReadTimeout):
        HTTP.post(f"{stripe_sandbox.url}/v1/checkout/sessions", data=session_form(),
                  headers={"Authorization": f"Bearer {SANDBOX_API_KEY}"}, timeout=0.2)
    # The late call still goes through, as a slow Stripe's would.
    deadline = time.monotonic() + 10
    while not api(stripe_sandbox, "GET", "/v1/checkout/sessions").json()["data"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(api(stripe_sandbox, "GET", "/v1/checkout/sessions").json()["data"]) == 1


def test_faults_can_be_cleared(stripe_sandbox: SandboxControl) -> None:
    assert len(stripe_sandbox.fault("GET", "/v1/", "error_500", times=5)["faults"]) == 1
    assert stripe_sandbox.clear_faults() == {"faults": []}
    assert api(stripe_sandbox, "GET", "/v1/checkout/sessions").status_code == 200


# -- state, configuration, serving -------------------------------------------------------------------

def test_reset_forgets_objects_but_keeps_the_configuration(
        stripe_sandbox: SandboxControl, webhook_receiver: WebhookReceiver) -> None:
    session_id, _ = paid_session(stripe_sandbox)
    stripe_sandbox.reset()
    assert stripe_sandbox.session(session_id)["error"]["code"] == "resource_missing"
    assert stripe_sandbox.events() == []
    assert stripe_sandbox.configure(webhook_receiver.url, "whsec_new") == {"webhook_url": webhook_receiver.url,
                                                                   "webhook_secret": "whsec_new"}
    stripe_sandbox.reset()
    assert stripe_sandbox.webhook_secret == "whsec_new"


def test_the_state_file_survives_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "sandbox.json"
    with SandboxServer(state_file=state_file) as server:
        control = SandboxControl(server.url)
        first = post_session(control, idempotency_key="ord_1").json()
        control.complete(first["id"], deliver="none")
    assert [path.name for path in tmp_path.iterdir()] == ["sandbox.json"]  # no temporary file left behind

    with SandboxServer(state_file=state_file) as server:
        control = SandboxControl(server.url)
        assert control.session(first["id"])["payment_status"] == "paid"
        assert [event["type"] for event in control.events()] == ["checkout.session.completed"]
        replayed = post_session(control, idempotency_key="ord_1")
        assert replayed.headers["Idempotent-Replayed"] == "true" and replayed.json()["id"] == first["id"]


def test_the_hosted_page_address_follows_the_public_url() -> None:
    with SandboxServer(public_url="https://pay.store.test/") as server:
        session = create_session(SandboxControl(server.url))
    assert session["url"] == f"https://pay.store.test/pay/{session['id']}"


def test_controls_answer_loopback_callers_only() -> None:
    client = create_sandbox_app().test_client()
    assert client.post("/_sandbox/reset", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 403
    assert client.post("/_sandbox/reset", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200


def test_the_module_serves_until_stopped() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "marketplace.payments.sandbox", "--port", "0",
         "--webhook-secret", "whsec_cli"],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline()
        url = line.split(" on ", 1)[1].split(" ", 1)[0]
        control = SandboxControl(url)
        assert control.webhook_secret == "whsec_cli"
        assert create_session(control)["url"].startswith(f"{url}/pay/cs_test_")
    finally:
        process.terminate()
        process.wait(timeout=10)
