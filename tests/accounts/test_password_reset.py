"""A forgotten password: a mailed, single-use, short-lived link sets a new one and ends every
session; asking tells nobody whether an account exists, and nobody can use up another's resets."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from marketplace.accounts.models import PasswordResetLink
from marketplace.common.clock import utcnow
from marketplace.db import db
from tests.checkout.conftest import outbox  # noqa: F401
from tests.conftest import DEFAULT_PASSWORD, bearer, login, register

NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(r"(http://\S+/reset-password\?token=(\S+))")


def ask(client, email="ann@example.com", address="127.0.0.1"):
    return client.post("/api/v1/auth/password-reset", json={"email": email},
                       environ_base={"REMOTE_ADDR": address})


def complete(client, token, password=NEW_PASSWORD):
    return client.post("/api/v1/auth/password-reset/complete", json={"token": token, "password": password})


def mailed_tokens(sent) -> list[str]:
    return [match.group(2) for body in sent() if "Reset your password" in body
            for match in [LINK.search(body)] if match]


def test_a_mailed_link_sets_a_new_password_and_ends_every_session(client, outbox, caplog):
    register(client)
    sessions = [login(client).json["access_token"] for _ in range(2)]
    answer = ask(client, " Ann@Example.com ")
    assert answer.status_code == 202 and answer.data == b""
    [token] = mailed_tokens(outbox)
    [mail] = [body for body in outbox() if "Subject: Reset your password" in body]
    assert "To: ann@example.com" in mail and "30 minutes" in mail
    # The link's token is in the mail only: never in a queued job's arguments or a log line.
    assert caplog.records and not any(token in str(vars(record)) for record in caplog.records)

    assert complete(client, token).status_code == 204
    for old in sessions:
        assert client.get("/api/v1/me", headers=bearer(old)).status_code == 401
    assert login(client).status_code == 401
    assert login(client, password=NEW_PASSWORD).status_code == 200

    again = complete(client, token, "yet another passphrase")
    assert again.status_code == 400 and again.json["error"]["code"] == "reset_link_unusable"
    assert "already used" in again.json["error"]["message"]
    assert login(client, password=NEW_PASSWORD).status_code == 200


def test_the_answer_is_the_same_for_an_address_without_an_account(client, outbox):
    register(client)
    known, unknown = ask(client, "ann@example.com"), ask(client, "nobody@example.com")
    assert (known.status_code, known.data, sorted(known.headers.keys())) == \
           (unknown.status_code, unknown.data, sorted(unknown.headers.keys()))
    assert [body for body in outbox() if "nobody@example.com" in body] == []


def test_an_expired_or_unknown_token_is_refused_in_words(app, client, outbox):
    register(client)
    ask(client)
    [token] = mailed_tokens(outbox)
    with app.app_context():
        link = db.session.scalar(select(PasswordResetLink))
        link.expires_at = utcnow() - dt.timedelta(seconds=1)
        db.session.commit()
    for refused in (complete(client, token), complete(client, "rst_made-up")):
        assert refused.status_code == 400 and "expired" in refused.json["error"]["message"]
    assert login(client).status_code == 200  # the password is unchanged


def test_a_new_link_replaces_the_earlier_ones(client, outbox):
    register(client)
    ask(client)
    ask(client)
    first, newest = mailed_tokens(outbox)
    assert complete(client, first).status_code == 400
    assert complete(client, newest).status_code == 204


def test_a_weak_new_password_is_refused_and_the_link_still_works(client, outbox):
    register(client)
    ask(client)
    [token] = mailed_tokens(outbox)
    short = complete(client, token, "short")
    assert short.status_code == 422 and "password" in str(short.json["error"]["details"])
    assert complete(client, token).status_code == 204


def test_asking_for_someone_else_only_stops_the_mails_not_their_reset(client, outbox):
    """Per account only the mails are limited: an attacker asking again and again from many
    addresses gets the same 202, the owner's newest link keeps working."""
    register(client)
    for attempt in range(8):
        assert ask(client, address=f"127.0.0.{attempt + 2}").status_code == 202
    tokens = mailed_tokens(outbox)
    assert len(tokens) == 3  # PASSWORD_RESET_MAILS_PER_ACCOUNT: "3 per hour"
    assert complete(client, tokens[-1]).status_code == 204


def test_asking_is_limited_per_address(client, outbox):
    for attempt in range(10):  # PASSWORD_RESET_LIMIT_PER_ADDRESS: "10 per hour"
        assert ask(client, f"someone{attempt}@example.com").status_code == 202
    limited = ask(client, "one-more@example.com")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert ask(client, "one-more@example.com", address="127.0.0.9").status_code == 202


def test_a_suspended_account_gets_no_link(client, outbox, app):
    from marketplace.accounts import services
    from marketplace.accounts.models import UserStatus

    register(client)
    with app.app_context():
        services.set_status(services.find_user_by_email("ann@example.com"), UserStatus.SUSPENDED)
        db.session.commit()
    assert ask(client).status_code == 202
    assert mailed_tokens(outbox) == []
    assert DEFAULT_PASSWORD  # the suspended owner's password is untouched
