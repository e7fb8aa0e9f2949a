"""Fixtures for checkout: the app served on a real port, talking to the Stripe sandbox with
the real SDK, and the sandbox sending signed webhooks back to it."""

from __future__ import annotations

import time

import pytest
import requests

from marketplace.accounts.models import Role
from marketplace.checkout.port import PAYMENT_PORT, use_payment_port
from marketplace.db import db
from marketplace.payments.stripe_gateway import StripeGateway
from marketplace.payouts.port import CONNECT_GATEWAY, use_connect_gateway
from tests.conftest import mail_text
from tests.licensing.conftest import buyer, masters, offer_all, seller, tiers_of, upload_beat  # noqa: F401

WEBHOOK_PATH = "/api/v1/payments/stripe/webhook"


@pytest.fixture
def payments(app, live_server, stripe_sandbox):
    """Points the app at the sandbox and the sandbox's webhooks at the app."""
    original = app.extensions[PAYMENT_PORT], app.extensions[CONNECT_GATEWAY]
    gateway = StripeGateway(stripe_sandbox.api_key, stripe_sandbox.webhook_secret, api_base=stripe_sandbox.url,
                            timeout_seconds=2, max_network_retries=0)
    use_payment_port(app, gateway)
    use_connect_gateway(app, gateway)
    stripe_sandbox.configure(live_server + WEBHOOK_PATH, stripe_sandbox.webhook_secret)
    yield stripe_sandbox
    app.extensions[PAYMENT_PORT], app.extensions[CONNECT_GATEWAY] = original


@pytest.fixture
def shop(client, seller, upload_beat, offer_all):  # noqa: F811
    """A beatmaker with one published beat offered under every default tier."""
    seller_id, seller_headers = seller
    beat_id = upload_beat(seller_headers)
    # Keyed by the first word of each default tier's name: Basic, Premium, ..., Exclusive.
    tiers = {name.split()[0]: tier for name, tier in offer_all(seller_headers, beat_id).items()}
    return {"seller_id": seller_id, "headers": seller_headers, "beat_id": beat_id, "tiers": tiers}


@pytest.fixture
def checkout(client):
    """POST /checkout; returns the response."""

    def start(headers, items, coupon_code=None):
        body = {"items": [{"beat_id": beat, "tier_id": tier} for beat, tier in items]}
        if coupon_code is not None:
            body["coupon_code"] = coupon_code
        return client.post("/api/v1/checkout", json=body, headers=headers)

    return start


@pytest.fixture
def order_of(client):
    def get(order_id, headers):
        response = client.get(f"/api/v1/orders/{order_id}", headers=headers)
        assert response.status_code == 200, response.json
        return response.json
    return get


@pytest.fixture
def session_of(app):
    """The Checkout Session id of an order."""

    def find(order_id):
        from marketplace.checkout.models import Order

        with app.app_context():
            return db.session.get(Order, order_id).payment_session_id
    return find


@pytest.fixture
def new_buyer(make_user, headers_for):
    def make(name="Buyer"):
        user_id = make_user(Role.ARTIST, name)
        return user_id, headers_for(user_id)
    return make


def wait_for(predicate, seconds=10.0, interval=0.05):
    """Polls until predicate() is truthy (webhooks sent by the sandbox arrive asynchronously)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def post_signed(url: str, body: bytes, header: str | None):
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return requests.post(url, data=body, headers=headers, timeout=10)


@pytest.fixture
def signed_event(live_server, payments):
    """Posts an event of our own making, signed with the webhook secret by Stripe's v1 scheme."""
    import hashlib
    import hmac
    import json
    import secrets

    def send(event_type: str, data_object: dict, timestamp: int | None = None):
        body = json.dumps({"id": f"evt_test_{secrets.token_hex(8)}", "object": "event", "type": event_type,
                           "created": int(time.time()), "livemode": False,
                           "data": {"object": data_object}}).encode()
        stamp = timestamp or int(time.time())
        signature = hmac.new(payments.webhook_secret.encode(), f"{stamp}.".encode() + body,
                             hashlib.sha256).hexdigest()
        return post_signed(live_server + WEBHOOK_PATH, body, f"t={stamp},v1={signature}")

    return send


@pytest.fixture
def outbox(mailbox):
    """A function returning the emails sent since the test began: their subject, recipient and
    text part, as one string each."""

    def sent() -> list[str]:
        return [f"Subject: {message['Subject']}\nTo: {message['To']}\n\n{mail_text(message)}"
                for message in mailbox()]

    return sent


@pytest.fixture
def admin_headers(make_user, headers_for):
    return headers_for(make_user(Role.ADMIN, "Admin"))
