"""Fixtures for payouts: checkout's (the app against the Stripe sandbox), payees with
connected accounts, beats credited to collaborators, and what the sandbox's transfers say."""

from __future__ import annotations

import pytest
import requests

from marketplace.accounts.models import Role
from tests.consent import credit_with_consent
from tests.checkout.conftest import (  # noqa: F401
    admin_headers,
    buyer,
    checkout,
    masters,
    new_buyer,
    offer_all,
    order_of,
    outbox,
    payments,
    seller,
    session_of,
    shop,
    tiers_of,
    upload_beat,
)


@pytest.fixture
def connect(client, payments):  # noqa: F811
    """Connects a user's Stripe account and, unless told otherwise, completes its onboarding
    (the sandbox then tells the app with account.updated); answers the account id."""

    def connect(headers, onboard=True) -> str:
        response = client.post("/api/v1/payouts/account", json={"country": "US"}, headers=headers)
        assert response.status_code == 201, response.json
        account_id = response.json["account"]["stripe_account_id"]
        if onboard:
            delivered = payments.onboard(account_id, deliver="sync")
            assert delivered["delivery"]["status"] == 200, delivered
        return account_id

    return connect


@pytest.fixture
def beatmaker(make_user, headers_for, upload_beat, offer_all):  # noqa: F811
    """A beatmaker with a published beat under every default tier: (user id, headers, beat id, tiers)."""

    def make(name="Beatmaker"):
        user_id = make_user(Role.BEATMAKER, name)
        headers = headers_for(user_id)
        beat_id = upload_beat(headers, title=f"{name}'s beat")
        tiers = {tier_name.split()[0]: tier for tier_name, tier in offer_all(headers, beat_id).items()}
        return user_id, headers, beat_id, tiers

    return make


@pytest.fixture
def credit(app, client, headers_for):
    """Replaces a beat's credits: [(name, user id or None, role, profit share or None)]; another
    account is invited and accepts, as crediting someone needs their consent."""

    def credit(headers, beat_id, credits):
        body = [{"name": name, "user_id": user_id, "role": role, "profit_share_bps": share}
                for name, user_id, role, share in credits]
        credit_with_consent(app, client, headers_for, headers, beat_id, body)

    return credit


@pytest.fixture
def stripe_transfers(payments):  # noqa: F811
    """The sandbox's transfers (as Stripe lists them, newest first), by group or destination."""

    def listed(**filters) -> list[dict]:
        response = requests.get(f"{payments.url}/v1/transfers", params={"limit": 100, **filters},
                                headers={"Authorization": f"Bearer {payments.api_key}"}, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    return listed


@pytest.fixture
def buy(checkout, payments, session_of, order_of):  # noqa: F811
    """Buys [(beat id, tier id)] and pays at once; answers the paid order."""

    def buy(headers, items):
        response = checkout(headers, items)
        assert response.status_code == 201, response.json
        order_id = response.json["order_id"]
        payments.complete(session_of(order_id), deliver="sync")
        order = order_of(order_id, headers)
        assert order["status"] == "paid", order
        return order

    return buy


@pytest.fixture
def balance(client):
    def balance(headers) -> tuple[int, int]:
        response = client.get("/api/v1/payouts/balance", headers=headers)
        assert response.status_code == 200, response.json
        return response.json["pending"]["amount"], response.json["paid"]["amount"]

    return balance


@pytest.fixture
def reconcile(app):
    def run(*args):
        return app.test_cli_runner().invoke(args=["payouts", "reconcile", *args])

    return run
