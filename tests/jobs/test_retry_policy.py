"""One retry policy (JOB_MAX_RETRIES, JOB_RETRY_BACKOFF_SECONDS) for both runners: a job that
keeps failing is tried as many times, waiting as long before each retry, in process as with
Celery (run eagerly, as the suite runs it elsewhere)."""

from __future__ import annotations

import pytest
from celery import signals as celery_signals
from sqlalchemy import select

from marketplace.db import db
from marketplace.jobs import queue
from marketplace.jobs.celery_app import make_celery
from marketplace.jobs.failures import FailedJob
from marketplace.jobs.retries import MAX_WAIT_SECONDS, RetryPolicy

FAILING = "tests.retry_policy_failing"


@pytest.fixture
def failing_job():
    calls: list[str] = []

    @queue.job(FAILING)
    def failing(runner: str) -> None:
        calls.append(runner)
        raise RuntimeError("a service is down")

    yield calls
    queue.JOBS.pop(FAILING, None)


@pytest.fixture
def policy(app, monkeypatch) -> RetryPolicy:
    monkeypatch.setitem(app.config, "JOB_MAX_RETRIES", 3)
    monkeypatch.setitem(app.config, "JOB_RETRY_BACKOFF_SECONDS", 2.0)
    return RetryPolicy.from_config(app.config)


def test_the_policy_doubles_each_wait_up_to_a_ceiling():
    policy = RetryPolicy(retries=12, backoff_seconds=2.0)
    assert [policy.wait_before_retry(done) for done in range(4)] == [2.0, 4.0, 8.0, 16.0]
    assert policy.wait_before_retry(11) == MAX_WAIT_SECONDS
    assert not policy.is_last_attempt(11) and policy.is_last_attempt(12)


def test_both_runners_follow_the_one_policy(app, failing_job, policy, monkeypatch):
    expected_waits = [2.0, 4.0, 8.0]  # JOB_RETRY_BACKOFF_SECONDS, doubled before each next retry

    # In process, as init_jobs builds the runner from the settings.
    in_process_waits: list[float] = []
    monkeypatch.setattr(queue.time, "sleep", in_process_waits.append)  # the waits, without waiting
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "eager")
    monkeypatch.setitem(app.extensions, "job_runner", app.extensions["job_runner"])  # put back afterwards
    queue.init_jobs(app)
    app.extensions["job_runner"].submit(FAILING, ("in process",))

    # Celery: each retry it plans says when.
    celery_waits: list[float] = []

    def planned(sender=None, request=None, reason=None, **_kwargs) -> None:
        celery_waits.append(reason.when)

    celery_signals.task_retry.connect(planned)
    try:
        monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # never reached: eager
        celery = make_celery(app)
        celery.conf.task_always_eager = True
        assert celery.tasks[FAILING].apply(args=["celery"]).state == "FAILURE"
    finally:
        celery_signals.task_retry.disconnect(planned)

    assert failing_job == ["in process"] * 4 + ["celery"] * 4  # the first try and 3 retries each
    assert in_process_waits == expected_waits
    assert celery_waits == expected_waits
    with app.app_context():
        kept = {tuple(row.args): row.attempts for row in db.session.scalars(select(FailedJob))}
    assert kept == {("in process",): 4, ("celery",): 4}
