"""Sign-in limits that never lock an owner out: failures count per address and per email and
address; guessing one account from many addresses is slowed for addresses it never signed in
from, and its owner is told. Each client address is a loopback address of its own."""

from __future__ import annotations

import email
import email.policy
import http.client
import json
from pathlib import Path

import pytest

from marketplace.db import db
from marketplace.migrate import upgrade
from tests.conftest import DEFAULT_PASSWORD, mail_text, make_test_app, register

OWNER = "ann@example.com"


def address(number: int) -> str:
    return f"127.0.0.{number}"


def sign_in(client, source: str, password: str = DEFAULT_PASSWORD, account: str = OWNER):
    return client.post("/api/v1/auth/login", json={"email": account, "password": password},
                       environ_base={"REMOTE_ADDR": source})


def guess(client, source: str, account: str = OWNER):
    return sign_in(client, source, f"guess from {source}", account)


@pytest.fixture
def app_with(database_factory):
    made = []

    def make(**settings):
        app = make_test_app(database_factory(), **settings)
        with app.app_context():
            upgrade(db.engine)
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


def mails_to(app, recipient: str, since: set[Path]) -> list[str]:
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    found = []
    for path in sorted(set(folder.glob("*.eml")) - since):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == recipient:
            found.append(f"{message['Subject']}\n{mail_text(message)}")
    return found


def outbox_now(app) -> set[Path]:
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    return set(folder.glob("*.eml")) if folder.exists() else set()


def test_failures_from_many_addresses_never_lock_the_owner_out(client):
    register(client)
    assert sign_in(client, address(1)).status_code == 200  # the owner's usual address
    # Twelve addresses, five wrong guesses each: sixty failures on one account.
    answers = [guess(client, address(number)).status_code for number in range(2, 14) for _ in range(5)]
    assert set(answers) <= {401, 429} and answers.count(401) >= 20
    owner = sign_in(client, address(1))
    assert owner.status_code == 200, owner.json


def test_an_address_that_did_not_fail_still_signs_in(app_with):
    app = app_with(LOGIN_FAILURE_LIMIT_PER_EMAIL="3 per hour")
    client = app.test_client()
    register(client)
    for _ in range(3):
        assert guess(client, address(2)).status_code == 401
    assert sign_in(client, address(2)).status_code == 429  # that address waits, even with the password
    assert sign_in(client, address(3)).status_code == 200  # another one does not


def test_failures_are_limited_per_address_across_accounts(app_with):
    app = app_with(LOGIN_FAILURE_LIMIT_PER_ADDRESS="3 per hour")
    client = app.test_client()
    for account in ("ann@example.com", "bo@example.com", "cy@example.com", "di@example.com"):
        register(client, account)
    for account in ("ann@example.com", "bo@example.com", "cy@example.com"):
        assert guess(client, address(2), account).status_code == 401
    refused = sign_in(client, address(2), account="di@example.com")
    assert refused.status_code == 429 and refused.json["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    assert sign_in(client, address(3), account="di@example.com").status_code == 200


def test_strangers_wait_growing_delays_while_known_addresses_do_not(app_with, frozen_time):
    app = app_with(LOGIN_SLOWDOWN_AFTER_FAILURES="3 per hour")
    client = app.test_client()
    register(client)
    assert sign_in(client, address(1)).status_code == 200
    for number in (2, 3, 4):  # three failures, from three addresses: the account is now guarded
        assert guess(client, address(number)).status_code == 401
    first_wait = guess(client, address(5))
    assert first_wait.status_code == 429, first_wait.json
    assert first_wait.json["error"]["code"] == "rate_limited"
    waited = int(first_wait.headers["Retry-After"])
    assert first_wait.json["error"]["details"]["retry_after_seconds"] == waited
    # The owner's own address is not slowed; a new address is, even with the right password.
    assert sign_in(client, address(1)).status_code == 200
    assert sign_in(client, address(6)).status_code == 429
    frozen_time.advance(waited)
    assert guess(client, address(5)).status_code == 401  # its turn came
    longer = guess(client, address(7))
    assert longer.status_code == 429
    assert int(longer.headers["Retry-After"]) > waited
    frozen_time.advance(int(longer.headers["Retry-After"]))
    assert sign_in(client, address(6)).status_code == 200  # a new address of the owner gets in, after a wait


def test_the_owner_is_told_once_per_window(app_with):
    app = app_with(LOGIN_SLOWDOWN_AFTER_FAILURES="3 per hour")
    client = app.test_client()
    register(client)
    register(client, "bo@example.com")
    before = outbox_now(app)
    for number in (2, 3):
        guess(client, address(number))
    assert mails_to(app, OWNER, before) == []
    guess(client, address(4))
    sent = mails_to(app, OWNER, before)
    assert len(sent) == 1
    assert sent[0].startswith("Someone is trying to sign in to your account")
    assert "not locked" in sent[0] and "at least 3 times" in sent[0]
    for _ in range(3):  # the known addresses are not slowed, so more failures are quick to make
        sign_in(client, address(1), "wrong again")
    assert len(mails_to(app, OWNER, before)) == 1
    assert mails_to(app, "bo@example.com", before) == []


def test_addresses_are_remembered_only_as_keyed_hashes(app, client):
    from sqlalchemy import select

    from marketplace.accounts.models import SignInAddress

    register(client)
    assert sign_in(client, address(9)).status_code == 200
    assert sign_in(client, address(9)).status_code == 200
    with app.app_context():
        rows = db.session.scalars(select(SignInAddress)).all()
        assert len(rows) == 1 and address(9) not in rows[0].address_hash


def post_from(base_url: str, source: str, body: dict) -> tuple[int, dict]:
    """A real HTTP request whose socket is bound to the loopback address `source`."""
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
    try:
        connection.request("POST", "/api/v1/auth/login", body=json.dumps(body),
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def test_over_real_connections_from_several_source_addresses(client, live_server):
    register(client)
    assert post_from(live_server, address(1), {"email": OWNER, "password": DEFAULT_PASSWORD})[0] == 200
    statuses = [post_from(live_server, address(number), {"email": OWNER, "password": "wrong guess!"})[0]
                for number in range(20, 32) for _ in range(6)]
    # Each address has its own budget: its sixth guess waits, whoever else guessed.
    assert statuses[5] == 429 and statuses.count(401) >= 20
    status, body = post_from(live_server, address(1), {"email": OWNER, "password": DEFAULT_PASSWORD})
    assert status == 200, body


def test_failure_tallies_and_waits_are_shared_through_redis(redis_url):
    from marketplace.common.ratelimit import RateLimits
    from marketplace.common.errors import RateLimited

    worker_a, worker_b = RateLimits(redis_url), RateLimits(redis_url)
    worker_a.reset()
    tallies = [worker.tally("2 per hour", "failures", OWNER) for worker in (worker_a, worker_b, worker_a)]
    assert tallies == [1, 2, 3]
    assert worker_b.first_in_window("2 per hour", "warning", OWNER)
    assert not worker_a.first_in_window("2 per hour", "warning", OWNER)
    worker_a.space_from_now(30, "strangers", OWNER)
    with pytest.raises(RateLimited) as waiting:
        worker_b.space(30, "strangers", OWNER)
    assert 1 <= int(waiting.value.headers["Retry-After"]) <= 30
    worker_a.reset()
