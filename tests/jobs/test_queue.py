"""The in-process job runner: after commit only, retries with backoff, idempotent jobs."""

from __future__ import annotations

import pytest

from marketplace.db import db
from marketplace.jobs import queue


@pytest.fixture
def flaky_job():
    calls: list[str] = []

    @queue.job("tests.flaky")
    def flaky(value: str) -> None:
        calls.append(value)
        if len(calls) < 3:
            raise RuntimeError("a service is down for a moment")

    yield calls
    queue.JOBS.pop("tests.flaky", None)


def test_failed_jobs_are_retried_with_backoff(app, flaky_job, monkeypatch):
    sleeps: list[float] = []
    runner = queue.InProcessRunner(app, threads=0, max_retries=4, backoff_seconds=0.5)
    monkeypatch.setattr(queue.time, "sleep", sleeps.append)  # the backoff, without the wait
    runner.submit("tests.flaky", ("x",))
    assert flaky_job == ["x", "x", "x"]
    assert sleeps == [0.5, 1.0]  # exponential


def test_a_job_that_keeps_failing_stops_after_its_retries(app, monkeypatch):
    calls: list[int] = []

    @queue.job("tests.broken")
    def broken() -> None:
        calls.append(1)
        raise RuntimeError("always")

    try:
        monkeypatch.setattr(queue.time, "sleep", lambda _seconds: None)
        queue.InProcessRunner(app, threads=0, max_retries=2, backoff_seconds=1).submit("tests.broken", ())
        assert len(calls) == 3
    finally:
        queue.JOBS.pop("tests.broken", None)


def test_jobs_run_only_after_commit_and_never_after_rollback(app, flaky_job):
    with app.app_context():
        queue.enqueue("tests.flaky", "rolled back")
        db.session.rollback()
        assert flaky_job == []
        db.session.connection()
        queue.enqueue("tests.flaky", "committed")
        assert flaky_job == []  # not before the commit
        db.session.commit()
    assert flaky_job[0] == "committed"


def test_unknown_jobs_are_refused(app):
    with app.app_context(), pytest.raises(KeyError):
        queue.enqueue("tests.no_such_job")


def test_a_rolled_back_savepoint_forgets_only_its_own_jobs(app):
    ran: list[str] = []

    @queue.job("tests.record")
    def record(value: str) -> None:
        ran.append(value)

    try:
        with app.app_context():
            queue.enqueue("tests.record", "before")
            try:
                with db.session.begin_nested():
                    queue.enqueue("tests.record", "inside the savepoint")
                    raise RuntimeError("this line is refused")
            except RuntimeError:
                pass
            with db.session.begin_nested():
                queue.enqueue("tests.record", "kept savepoint")
            queue.enqueue("tests.record", "after")
            assert ran == []  # releasing a savepoint is not a commit
            db.session.commit()
        assert ran == ["before", "kept savepoint", "after"]
    finally:
        queue.JOBS.pop("tests.record", None)


def test_a_job_that_fails_every_retry_is_kept_once_per_job_and_arguments(app, monkeypatch):
    from sqlalchemy import select

    from marketplace.jobs.failures import FailedJob

    @queue.job("tests.always_broken")
    def always_broken(value: str) -> None:
        raise RuntimeError(f"cannot do {value}")

    try:
        monkeypatch.setattr(queue.time, "sleep", lambda _seconds: None)
        runner = queue.InProcessRunner(app, threads=0, max_retries=1, backoff_seconds=1)
        runner.submit("tests.always_broken", ("x",))
        runner.submit("tests.always_broken", ("x",))
        runner.submit("tests.always_broken", ("y",))
        with app.app_context():
            failed = {row.args_key: (row.attempts, row.error)
                      for row in db.session.scalars(select(FailedJob))}
        assert failed == {'["x"]': (4, "RuntimeError: cannot do x"),
                          '["y"]': (2, "RuntimeError: cannot do y")}
    finally:
        queue.JOBS.pop("tests.always_broken", None)


def test_celery_keeps_a_job_that_failed_its_last_retry(app, monkeypatch):
    """Celery's own retries (autoretry with JOB_MAX_RETRIES), run eagerly: the last failure is kept."""
    from sqlalchemy import select

    from marketplace.jobs.celery_app import make_celery
    from marketplace.jobs.failures import FailedJob

    calls: list[str] = []

    @queue.job("tests.celery_broken")
    def celery_broken(value: str) -> None:
        calls.append(value)
        raise RuntimeError(f"cannot do {value}")

    try:
        monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # never reached: eager
        monkeypatch.setitem(app.config, "JOB_MAX_RETRIES", 2)
        celery = make_celery(app)
        celery.conf.task_always_eager = True
        assert celery.tasks["tests.celery_broken"].apply(args=["x"]).state == "FAILURE"
        assert calls == ["x", "x", "x"]
        with app.app_context():
            kept = [(row.job, row.args, row.attempts, row.error)
                    for row in db.session.scalars(select(FailedJob))]
        assert kept == [("tests.celery_broken", ["x"], 3, "RuntimeError: cannot do x")]
    finally:
        queue.JOBS.pop("tests.celery_broken", None)
