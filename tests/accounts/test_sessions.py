"""Sessions the owner can see and end: each sign-in's device, address and last use; ending one,
all of them; and a password change, which needs the current password and ends the others."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from marketplace.accounts.models import AccessToken
from marketplace.common.clock import utcnow
from marketplace.db import db
from tests.conftest import DEFAULT_PASSWORD, bearer, register

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148"
LAPTOP = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0"


def sign_in(client, user_agent: str, address: str, email="ann@example.com", password=DEFAULT_PASSWORD) -> str:
    answer = client.post("/api/v1/auth/login", json={"email": email, "password": password},
                         headers={"User-Agent": user_agent}, environ_base={"REMOTE_ADDR": address})
    assert answer.status_code == 200, answer.json
    return answer.json["access_token"]


def test_the_owner_sees_each_device_and_ends_one(client):
    register(client)
    phone, laptop = sign_in(client, PHONE, "127.0.0.2"), sign_in(client, LAPTOP, "127.0.0.3")
    listed = client.get("/api/v1/me/sessions", headers=bearer(laptop))
    assert listed.status_code == 200
    by_agent = {entry["user_agent"]: entry for entry in listed.json}
    assert set(by_agent) == {PHONE, LAPTOP}
    assert by_agent[PHONE]["address"] == "127.0.0.2" and by_agent[PHONE]["current"] is False
    assert by_agent[LAPTOP]["current"] is True and by_agent[LAPTOP]["last_used_at"]

    assert client.delete(f"/api/v1/me/sessions/{by_agent[PHONE]['id']}", headers=bearer(laptop)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(phone)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(laptop)).status_code == 200
    again = client.delete(f"/api/v1/me/sessions/{by_agent[PHONE]['id']}", headers=bearer(laptop))
    assert again.status_code == 404 and again.json["error"]["code"] == "session_not_found"


def test_nobody_ends_or_sees_another_accounts_session(client):
    register(client)
    register(client, "bo@example.com")
    ann = sign_in(client, PHONE, "127.0.0.2")
    bo = sign_in(client, LAPTOP, "127.0.0.3", email="bo@example.com")
    [ann_session] = client.get("/api/v1/me/sessions", headers=bearer(ann)).json
    assert [entry["user_agent"] for entry in client.get("/api/v1/me/sessions", headers=bearer(bo)).json] == [LAPTOP]
    assert client.delete(f"/api/v1/me/sessions/{ann_session['id']}", headers=bearer(bo)).status_code == 404
    assert client.get("/api/v1/me", headers=bearer(ann)).status_code == 200


def test_signing_out_everywhere_ends_every_session(client):
    register(client)
    tokens = [sign_in(client, agent, "127.0.0.2") for agent in (PHONE, LAPTOP)]
    assert client.post("/api/v1/auth/logout-everywhere", headers=bearer(tokens[0])).status_code == 204
    assert all(client.get("/api/v1/me", headers=bearer(token)).status_code == 401 for token in tokens)


def test_last_use_is_noted_now_and_then(app, client):
    register(client)
    token = sign_in(client, PHONE, "127.0.0.2")
    an_hour_ago = utcnow() - dt.timedelta(hours=1)
    with app.app_context():
        session = db.session.scalar(select(AccessToken))
        session.last_used_at = an_hour_ago
        db.session.commit()
    assert client.get("/api/v1/beats", headers=bearer(token)).status_code == 200  # a read commits nothing
    [listed] = client.get("/api/v1/me/sessions", headers=bearer(token)).json
    assert dt.datetime.fromisoformat(listed["last_used_at"]) > an_hour_ago + dt.timedelta(minutes=55)


def test_a_password_change_needs_the_current_one_and_ends_the_other_sessions(client):
    register(client)
    phone, laptop = sign_in(client, PHONE, "127.0.0.2"), sign_in(client, LAPTOP, "127.0.0.3")
    wrong = client.post("/api/v1/me/password", headers=bearer(laptop),
                        json={"current_password": "not my password", "new_password": "velvet hours at dawn"})
    assert wrong.status_code == 403 and wrong.json["error"]["message"] == "The current password is not right."
    weak = client.post("/api/v1/me/password", headers=bearer(laptop),
                       json={"current_password": DEFAULT_PASSWORD, "new_password": "1234567890"})
    assert weak.status_code == 422 and weak.json["error"]["code"] == "weak_password"
    assert client.get("/api/v1/me", headers=bearer(phone)).status_code == 200  # nothing changed yet

    changed = client.post("/api/v1/me/password", headers=bearer(laptop),
                          json={"current_password": DEFAULT_PASSWORD, "new_password": "velvet hours at dawn"})
    assert changed.status_code == 204
    assert client.get("/api/v1/me", headers=bearer(phone)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(laptop)).status_code == 200
    sign_in(client, PHONE, "127.0.0.2", password="velvet hours at dawn")


def test_guessing_the_current_password_with_a_stolen_session_is_limited(client):
    register(client)
    stolen = sign_in(client, PHONE, "127.0.0.2")
    answers = [client.post("/api/v1/me/password", headers=bearer(stolen),
                           json={"current_password": f"guess number {n}", "new_password": "velvet hours at dawn"})
               for n in range(6)]
    assert [answer.status_code for answer in answers] == [403] * 5 + [429]
