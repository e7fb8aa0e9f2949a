from __future__ import annotations

import pytest

from marketplace.common.ratelimit import RateLimits
from marketplace.common.errors import RateLimited
from tests.conftest import login, make_test_app, register

PER_EMAIL_FAILURES = 5  # "5 per 5 minutes", the default


def test_repeated_failed_logins_for_one_email_get_429_with_retry_after(client):
    register(client)
    for _ in range(PER_EMAIL_FAILURES):
        assert login(client, password="wrong password!").status_code == 401
    blocked = login(client, password="wrong password!")
    assert blocked.status_code == 429
    assert blocked.json["error"]["code"] == "rate_limited"
    retry_after = int(blocked.headers["Retry-After"])
    assert 1 <= retry_after <= 300
    assert blocked.json["error"]["details"]["retry_after_seconds"] == retry_after
    # Even the right password waits: the limit is what stops password guessing.
    assert login(client).status_code == 429


def test_failures_on_one_email_do_not_block_another(client):
    register(client, "ann@example.com")
    register(client, "bo@example.com")
    for _ in range(PER_EMAIL_FAILURES + 1):
        login(client, "ann@example.com", "wrong password!")
    assert login(client, "bo@example.com").status_code == 200


def test_successful_logins_do_not_use_up_the_failure_budget(client):
    register(client)
    for _ in range(PER_EMAIL_FAILURES + 2):
        assert login(client).status_code == 200


def test_every_attempt_from_one_address_counts(database_factory):
    app = make_test_app(database_factory(), LOGIN_LIMIT_PER_ADDRESS="3 per minute")
    with app.app_context():
        from marketplace.db import db
        from marketplace.migrate import upgrade

        upgrade(db.engine)
    client = app.test_client()
    for index in range(3):
        assert login(client, f"user{index}@example.com").status_code == 401
    blocked = login(client, "someone-else@example.com")
    assert blocked.status_code == 429
    assert "Retry-After" in blocked.headers


def test_rate_limits_are_shared_through_redis(redis_url):
    """Two workers with the same Redis see one budget."""
    worker_a, worker_b = RateLimits(redis_url), RateLimits(redis_url)
    worker_a.reset()
    key = ("login-failures", "shared@example.com")
    worker_a.hit("2 per minute", *key)
    worker_b.hit("2 per minute", *key)
    with pytest.raises(RateLimited) as refused:
        worker_a.check("2 per minute", *key)
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
    worker_a.reset()


@pytest.mark.parametrize("refuse", ["spacing", "window"])
def test_a_client_that_waits_exactly_retry_after_is_let_in(frozen_time, refuse):
    """Retry-After is a promise: waiting that many seconds, not one more, is enough. The
    storage refuses up to and including the moment a wait ends, so the wait said is one second
    past it when the clock stands on a whole second."""
    limits = RateLimits("memory://")
    attempt = {"spacing": lambda: limits.space(2, "spaced"),
               "window": lambda: limits.hit("1 per 10 seconds", "windowed")}[refuse]
    attempt()
    with pytest.raises(RateLimited) as refused:
        attempt()
    frozen_time.advance(int(refused.value.headers["Retry-After"]))
    attempt()  # let in, at the first try
