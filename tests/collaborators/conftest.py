"""Fixtures for collaborators: those of payouts (selling through the Stripe sandbox, connected
accounts, balances, reconciliation) and the ways an invitee answers."""

from __future__ import annotations

import pytest

from tests.payouts.conftest import (  # noqa: F401
    admin_headers,
    balance,
    beatmaker,
    buy,
    buyer,
    checkout,
    connect,
    credit,
    masters,
    new_buyer,
    offer_all,
    order_of,
    outbox,
    payments,
    reconcile,
    seller,
    session_of,
    shop,
    stripe_transfers,
    tiers_of,
    upload_beat,
)


@pytest.fixture
def put_credits(client):
    def put(headers, beat_id, credits):
        return client.put(f"/api/v1/beats/{beat_id}/credits", json=credits, headers=headers)

    return put


@pytest.fixture
def invitations_of(client):
    """The invitations an account sees (GET /me/credit-invitations)."""

    def mine(headers):
        response = client.get("/api/v1/me/credit-invitations", headers=headers)
        assert response.status_code == 200, response.json
        return response.json["items"]

    return mine


@pytest.fixture
def sent_for(client):
    """The invitations of a beat as its owner sees them."""

    def sent(headers, beat_id):
        response = client.get(f"/api/v1/beats/{beat_id}/invitations", headers=headers)
        assert response.status_code == 200, response.json
        return response.json["items"]

    return sent


@pytest.fixture
def email_of(app):
    from marketplace.accounts.services import get_user

    def email(user_id):
        with app.app_context():
            return get_user(user_id).email

    return email
