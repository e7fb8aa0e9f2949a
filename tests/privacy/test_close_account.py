"""Closing an account: with the password, it is anonymised and every session ends; its beats
leave the store and their open checkouts close; licenses sold and bought stay valid with the
names frozen at sale; money owed is still owed; the address is free for a new account. The
last administrator cannot close theirs."""

from __future__ import annotations

import threading

import requests
from sqlalchemy import select

from marketplace.accounts.models import Role, User, UserStatus
from marketplace.db import db
from marketplace.payouts import ledger
from marketplace.payouts.models import ConnectedAccount
from marketplace.privacy.closing import CLOSED_NAME
from tests.conftest import DEFAULT_PASSWORD, bearer, login, postgres_only, register


def close(client, headers, password=DEFAULT_PASSWORD):
    return client.post("/api/v1/me/close", json={"password": password}, headers=headers)


def email_of(client, headers) -> str:
    return client.get("/api/v1/me", headers=headers).json["email"]


def test_a_closed_beatmaker_leaves_the_store_and_what_they_sold_stays_valid(
        app, client, beatmaker, new_buyer, buy, checkout, order_of, connect, payments, outbox):
    maker_id, maker, beat_id, tiers = beatmaker("Metro Ünal 🎹")
    account_id = connect(maker, onboard=False)  # not payable yet: what it earns waits in the ledger
    buyer_id, buyer = new_buyer("Ann")
    order = buy(buyer, [(beat_id, tiers["Basic"]["id"])])
    [license_] = order["licenses"]
    _, late_buyer = new_buyer("Late")
    pending = checkout(late_buyer, [(beat_id, tiers["Premium"]["id"])])
    assert pending.status_code == 201
    address = email_of(client, maker)
    with app.app_context():
        owed = ledger.pending_balance(maker_id)
    assert owed > 0

    assert close(client, maker).status_code == 204

    # Signed out everywhere, and never again with the old address or password.
    assert client.get("/api/v1/me", headers=maker).status_code == 401
    assert login(client, address).status_code == 401
    # The beats are out of the store, and the open checkout of one is closed.
    assert client.get(f"/api/v1/beats/{beat_id}").status_code == 404
    assert beat_id not in [beat["id"] for beat in client.get("/api/v1/beats").json["items"]]
    closed_order = order_of(pending.json["order_id"], late_buyer)
    assert closed_order["status"] == "expired" and closed_order["status_reason"] == "beat_left_store"
    # The buyer keeps the license and its files; the public proof keeps the names of the sale.
    assert client.get(f"/api/v1/licenses/{license_['id']}", headers=buyer).json["status"] == "active"
    assert client.get(f"/api/v1/licenses/{license_['id']}/downloads", headers=buyer).status_code == 200
    proof = client.get(f"/api/v1/licenses/verify/{license_['license_number']}").json
    assert (proof["beatmaker"], proof["licensee"], proof["status"]) == ("Metro Ünal 🎹", "Ann", "active")

    with app.app_context():
        user = db.session.get(User, maker_id)
        assert user.display_name == CLOSED_NAME and user.email.endswith("@closed.invalid")
        assert user.email != address and user.status == UserStatus.SUSPENDED and user.closed_at is not None
        # Money earned and not paid yet is still owed, to the payout account still connected.
        assert ledger.pending_balance(maker_id) == owed
        assert db.session.get(ConnectedAccount, maker_id) is not None
    # Once the payout account can be paid, it is, as for anyone.
    assert payments.onboard(account_id, deliver="sync")["delivery"]["status"] == 200
    with app.app_context():
        assert ledger.pending_balance(maker_id) == 0 and ledger.paid_balance(maker_id) == owed
    [mail] = [body for body in outbox() if "Subject: Your account is closed" in body]
    assert f"To: {address}" in mail and "Hello Metro Ünal 🎹" in mail

    # The address is free: a new account, with nothing of the old one.
    again = register(client, address, account_type="beatmaker", display_name="Metro again")
    assert again.status_code == 201 and again.json["id"] != maker_id
    fresh = bearer(login(client, address).json["access_token"])
    assert client.get("/api/v1/me", headers=fresh).json["display_name"] == "Metro again"


def test_a_closed_buyer_keeps_their_licenses_as_records(app, client, beatmaker, new_buyer, buy, checkout,
                                                        order_of, outbox):
    maker_id, maker, beat_id, tiers = beatmaker()
    buyer_id, buyer = new_buyer("Zoë Buyer")
    order = buy(buyer, [(beat_id, tiers["Basic"]["id"])])
    [license_] = order["licenses"]
    pending = checkout(buyer, [(beat_id, tiers["Premium"]["id"])])
    assert pending.status_code == 201

    assert close(client, buyer).status_code == 204

    proof = client.get(f"/api/v1/licenses/verify/{license_['license_number']}").json
    assert proof["status"] == "active" and proof["licensee"] == "Zoë Buyer"
    sales = client.get("/api/v1/payouts/sales", headers=maker).json
    assert sum(row["sales"] for row in sales) == 1
    with app.app_context():
        assert db.session.get(User, buyer_id).display_name == CLOSED_NAME
        from marketplace.checkout.models import Order
        assert db.session.get(Order, pending.json["order_id"]).status == "expired"
        assert db.session.get(Order, order["id"]).status == "paid"


def test_the_password_is_needed_and_nothing_changes_without_it(app, client, signed_in):
    headers = signed_in()
    refused = close(client, headers, "not my password at all")
    assert refused.status_code == 403 and refused.json["error"]["code"] == "wrong_current_password"
    missing = client.post("/api/v1/me/close", json={}, headers=headers)
    assert missing.status_code == 422 and "password" in str(missing.json["error"]["details"])
    assert client.get("/api/v1/me", headers=headers).json["display_name"] == "Ann"


def test_a_closed_account_ends_every_session_and_pending_link(client, outbox):
    assert register(client).status_code == 201
    sessions = [bearer(login(client).json["access_token"]) for _ in range(2)]
    change = {"new_email": "ann.new@example.org", "password": DEFAULT_PASSWORD}
    assert client.post("/api/v1/me/email", headers=sessions[0], json=change).status_code == 202
    token = next(body for body in outbox() if "Confirm your new email" in body).split("token=")[1].split()[0]
    assert close(client, sessions[0]).status_code == 204
    for session in sessions:
        assert client.get("/api/v1/me", headers=session).status_code == 401
    assert client.post("/api/v1/auth/confirm-email", json={"token": token}).status_code == 400
    assert client.post("/api/v1/auth/password-reset", json={"email": "ann@example.com"}).status_code == 202
    assert not any("Reset your password" in body for body in outbox())


def test_the_last_administrator_cannot_close_their_account(client, make_user, headers_for):
    first = headers_for(make_user(Role.ADMIN, "First"))
    refused = close(client, first)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "last_administrator"
    assert "only administrator" in refused.json["error"]["message"]
    second = headers_for(make_user(Role.ADMIN, "Second"))
    assert close(client, first).status_code == 204
    assert close(client, second).status_code == 409


def test_an_admin_cannot_bring_a_closed_account_back(client, signed_in, admin_headers):
    headers = signed_in()
    user_id = client.get("/api/v1/me", headers=headers).json["id"]
    assert close(client, headers).status_code == 204
    refused = client.post(f"/api/v1/admin/users/{user_id}/unsuspend", json={"reason": "Back"},
                          headers=admin_headers)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "account_closed"


@postgres_only("two administrators closing at once")
def test_two_last_administrators_closing_at_once_leave_one(app, make_user, headers_for, live_server):
    admins = [headers_for(make_user(Role.ADMIN, name)) for name in ("One", "Two")]
    barrier = threading.Barrier(len(admins))
    statuses: list[int] = []

    def close_one(headers) -> None:
        barrier.wait()
        statuses.append(requests.post(f"{live_server}/api/v1/me/close", json={"password": DEFAULT_PASSWORD},
                                      headers=headers, timeout=30).status_code)

    threads = [threading.Thread(target=close_one, args=(headers,)) for headers in admins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [204, 409], statuses
    with app.app_context():
        still = db.session.scalars(select(User).where(User.closed_at.is_(None))).all()
        assert [user.has_role(Role.ADMIN) for user in still] == [True]
