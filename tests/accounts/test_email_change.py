"""A change of address: asked for with the current password, confirmed by a single-use,
expiring link mailed to the new address (the token alone confirms), told to the old address;
confirming ends every other session. Addresses held by another account, malformed ones and the
same address are refused, and so are used, expired and replaced links."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
import requests
from sqlalchemy import select

from marketplace.accounts.models import EmailChangeRequest, User
from marketplace.common.clock import utcnow
from marketplace.db import db
from tests.checkout import conftest as checkout_fixtures
from tests.conftest import DEFAULT_PASSWORD, bearer, login, postgres_only, register

LINK = re.compile(r"(http://\S+/confirm-email\?token=(\S+))")
NEW = "ann.new@example.org"
outbox = checkout_fixtures.outbox  # the mails sent since the test began


def ask(client, headers, new_email=NEW, password=DEFAULT_PASSWORD):
    return client.post("/api/v1/me/email", json={"new_email": new_email, "password": password},
                       headers=headers)


def confirm(client, token, headers=None):
    return client.post("/api/v1/auth/confirm-email", json={"token": token}, headers=headers or {})


def confirmation_tokens(sent, to=NEW) -> list[str]:
    return [LINK.search(body).group(2) for body in sent()
            if "Subject: Confirm your new email address" in body and f"To: {to}" in body]


def signed_in_twice(client, email="ann@example.com", display_name="Ann"):
    assert register(client, email, display_name=display_name).status_code == 201
    return [bearer(login(client, email).json["access_token"]) for _ in range(2)]


def test_the_new_address_is_confirmed_by_its_link_and_the_old_one_is_told(client, outbox, caplog):
    here, elsewhere = signed_in_twice(client)
    answer = ask(client, here, " Ann.New@Example.ORG ")
    assert answer.status_code == 202 and answer.json["new_email"] == NEW
    [token] = confirmation_tokens(outbox)
    [mail] = [body for body in outbox() if "Confirm your new email address" in body]
    assert "24 hours" in mail and "Hello Ann" in mail
    # The token is in the mail only: never in a queued job's arguments or a log line.
    assert not any(token in str(vars(record)) for record in caplog.records)
    pending = client.get("/api/v1/me/email-change", headers=here)
    assert pending.status_code == 200 and pending.json["new_email"] == NEW
    # Until the link is opened, nothing changes.
    assert client.get("/api/v1/me", headers=here).json["email"] == "ann@example.com"
    assert login(client, NEW).status_code == 401

    confirmed = confirm(client, token)  # no sign-in needed: opened on a phone, say
    assert confirmed.status_code == 200 and confirmed.json == {"email": NEW}
    for session in (here, elsewhere):
        assert client.get("/api/v1/me", headers=session).status_code == 401
    assert login(client, "ann@example.com").status_code == 401
    signed = login(client, NEW)
    assert signed.status_code == 200
    me = client.get("/api/v1/me", headers=bearer(signed.json["access_token"])).json
    assert me["email"] == NEW and me["email_verified"] is True  # the link reached the mailbox

    [notice] = [body for body in outbox() if "Subject: Your account's email address was changed" in body]
    assert "To: ann@example.com" in notice and "a***w@example.org" in notice and NEW not in notice
    assert "If this was not you" in notice

    again = confirm(client, token)
    assert again.status_code == 400 and again.json["error"]["code"] == "email_change_link_unusable"
    assert "already used" in again.json["error"]["message"]
    pending = client.get("/api/v1/me/email-change", headers=bearer(signed.json["access_token"]))
    assert pending.status_code == 204


def test_confirming_while_signed_in_keeps_that_session_only(client, outbox):
    here, elsewhere = signed_in_twice(client)
    assert ask(client, here).status_code == 202
    [token] = confirmation_tokens(outbox)
    assert confirm(client, token, headers=here).status_code == 200
    assert client.get("/api/v1/me", headers=here).json["email"] == NEW
    assert client.get("/api/v1/me", headers=elsewhere).status_code == 401


def test_confirming_in_a_browser_signed_in_to_another_account_ends_every_session_of_this_one(client, outbox):
    here, elsewhere = signed_in_twice(client)
    [someone_else, _] = signed_in_twice(client, "bob@example.com", display_name="Bob")
    assert ask(client, here).status_code == 202
    [token] = confirmation_tokens(outbox)
    assert confirm(client, token, headers=someone_else).json == {"email": NEW}
    for session in (here, elsewhere):
        assert client.get("/api/v1/me", headers=session).status_code == 401
    assert client.get("/api/v1/me", headers=someone_else).json["email"] == "bob@example.com"


def test_a_stale_session_on_the_confirming_page_does_not_stop_the_link(client, outbox):
    here, _ = signed_in_twice(client)
    assert ask(client, here).status_code == 202
    [token] = confirmation_tokens(outbox)
    assert confirm(client, token, headers=bearer("mkt_not-a-real-token")).status_code == 200


def test_the_current_password_is_needed(client, outbox):
    here, _ = signed_in_twice(client)
    refused = ask(client, here, password="not my password at all")
    assert refused.status_code == 403 and refused.json["error"]["code"] == "wrong_current_password"
    missing = client.post("/api/v1/me/email", json={"new_email": NEW}, headers=here)
    assert missing.status_code == 422 and "password" in str(missing.json["error"]["details"])
    assert confirmation_tokens(outbox) == []


@pytest.mark.parametrize("address", ["not an address", "ann@localhost", '"ann smith"@example.org',
                                     "ann@[127.0.0.1]", "a" * 250 + "@example.org", ""])
def test_a_malformed_address_is_refused_in_words(client, outbox, address):
    here, _ = signed_in_twice(client)
    refused = ask(client, here, address)
    assert refused.status_code == 422 and refused.json["error"]["details"]
    assert confirmation_tokens(outbox, address) == []


@pytest.mark.parametrize("address", ["ann@example.com", " ANN@Example.com ", "\u0430nn@example.com",
                                     "ａｎｎ@example.com"])
def test_the_same_address_in_any_spelling_is_refused(client, outbox, address):
    here, _ = signed_in_twice(client)
    refused = ask(client, here, address)
    assert refused.status_code == 422 and refused.json["error"]["code"] == "email_unchanged"
    assert "already your account's address" in refused.json["error"]["message"]


@pytest.mark.parametrize("address", ["bob@example.com", "BOB@example.com", "b\u043eb@example.com"])
def test_an_address_another_account_holds_is_refused(client, outbox, address):
    here, _ = signed_in_twice(client)
    assert register(client, "bob@example.com", display_name="Bob").status_code == 201
    refused = ask(client, here, address)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "email_taken"
    assert "Another account uses this address" in refused.json["error"]["message"]


def test_an_address_taken_before_the_link_is_opened_is_refused_then(client, outbox):
    here, _ = signed_in_twice(client)
    assert ask(client, here).status_code == 202
    [token] = confirmation_tokens(outbox)
    assert register(client, "ANN.NEW@example.org", display_name="Someone").status_code == 201
    refused = confirm(client, token)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "email_taken"
    assert client.get("/api/v1/me", headers=here).json["email"] == "ann@example.com"


def test_an_expired_or_unknown_link_is_refused(app, client, outbox):
    here, _ = signed_in_twice(client)
    assert ask(client, here).status_code == 202
    [token] = confirmation_tokens(outbox)
    with app.app_context():
        change = db.session.scalar(select(EmailChangeRequest))
        change.expires_at = utcnow() - dt.timedelta(seconds=1)
        db.session.commit()
    for refused in (confirm(client, token), confirm(client, "eml_made-up")):
        assert refused.status_code == 400 and refused.json["error"]["code"] == "email_change_link_unusable"
        assert "expired" in refused.json["error"]["message"]
    assert client.get("/api/v1/me/email-change", headers=here).status_code == 204
    assert client.get("/api/v1/me", headers=here).json["email"] == "ann@example.com"


def test_asking_again_replaces_the_earlier_link(client, outbox):
    here, _ = signed_in_twice(client)
    assert ask(client, here, "first@example.org").status_code == 202
    assert ask(client, here, "second@example.org").status_code == 202
    [first] = confirmation_tokens(outbox, "first@example.org")
    [second] = confirmation_tokens(outbox, "second@example.org")
    refused = confirm(client, first)
    assert refused.status_code == 400 and "newer request replaced it" in refused.json["error"]["message"]
    assert client.get("/api/v1/me/email-change", headers=here).json["new_email"] == "second@example.org"
    assert confirm(client, second).status_code == 200
    assert login(client, "second@example.org").status_code == 200


def test_cancelling_a_change_voids_its_link(client, outbox):
    here, _ = signed_in_twice(client)
    assert ask(client, here).status_code == 202
    [token] = confirmation_tokens(outbox)
    assert client.delete("/api/v1/me/email-change", headers=here).status_code == 204
    assert client.get("/api/v1/me/email-change", headers=here).status_code == 204
    assert confirm(client, token).status_code == 400


def test_a_password_change_or_reset_voids_a_pending_change(client, outbox):
    here, _ = signed_in_twice(client)
    assert ask(client, here).status_code == 202
    assert client.post("/api/v1/me/password", headers=here, json={
        "current_password": DEFAULT_PASSWORD, "new_password": "another long passphrase"}).status_code == 204
    [token] = confirmation_tokens(outbox)
    assert confirm(client, token).status_code == 400

    assert ask(client, here, "other@example.org", password="another long passphrase").status_code == 202
    assert client.post("/api/v1/auth/password-reset", json={"email": "ann@example.com"}).status_code == 202
    reset_mail = "".join(body for body in outbox() if "Reset your" in body)
    reset = re.search(r"reset-password\?token=(\S+)", reset_mail).group(1)
    assert client.post("/api/v1/auth/password-reset/complete",
                       json={"token": reset, "password": "a third long passphrase"}).status_code == 204
    [other] = confirmation_tokens(outbox, "other@example.org")
    assert confirm(client, other).status_code == 400


def test_addresses_and_names_in_any_script(client, outbox):
    here, _ = signed_in_twice(client, "zoë@example.com", display_name="Zoë 🎧 جود")
    answer = ask(client, here, "Zoë.Ünïcode@Exämple.org")
    assert answer.status_code == 202 and answer.json["new_email"] == "zoë.ünïcode@xn--exmple-cua.org"
    [token] = confirmation_tokens(outbox, "zoë.ünïcode@xn--exmple-cua.org")
    assert "Hello Zoë 🎧 جود" in "".join(outbox())
    assert confirm(client, token).status_code == 200
    assert login(client, "zoë.ünïcode@exämple.org").status_code == 200


def test_requests_are_limited_per_account(client, outbox):
    here, _ = signed_in_twice(client)
    for number in range(3):
        assert ask(client, here, f"new{number}@example.org").status_code == 202
    limited = ask(client, here, "new9@example.org")
    assert limited.status_code == 429 and limited.headers.get("Retry-After")


@postgres_only("two accounts confirming at once")
def test_two_accounts_confirming_the_same_address_at_once_end_with_one(app, client, outbox, live_server):
    for email in ("ann@example.com", "bob@example.com"):
        [headers, _] = signed_in_twice(client, email)
        assert ask(client, headers, "shared@example.org").status_code == 202
    tokens = confirmation_tokens(outbox, "shared@example.org")
    assert len(tokens) == 2
    barrier = threading.Barrier(len(tokens))
    statuses: list[int] = []

    def confirm_one(token: str) -> None:
        barrier.wait()
        statuses.append(requests.post(f"{live_server}/api/v1/auth/confirm-email", json={"token": token},
                                      timeout=30).status_code)

    threads = [threading.Thread(target=confirm_one, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200, 409], statuses
    with app.app_context():
        holders = db.session.scalars(select(User.email).where(User.email_key == "shared@example.org")).all()
        assert holders == ["shared@example.org"]
