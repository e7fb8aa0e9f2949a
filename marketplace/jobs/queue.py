from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from marketplace.db import db
from marketplace.jobs.failures import describe_error, record_failure

log = logging.getLogger("marketplace.jobs")

JOBS: dict[str, Callable[..., Any]] = {}
PERIODIC: dict[str, int] = {}  # job name -> interval in seconds
# What a job does for people, in the admin console's words ("contract", "delivery").
KINDS: dict[str, str] = {}
# Buyer-facing work (contracts, delivered files, receipts and other mails) has a queue of its
# own, served ahead of the rest, so that hundreds of preview re-renders never hold up a buyer.
BUYER, DEFAULT = "buyer", "default"
QUEUES = (BUYER, DEFAULT)  # in the order workers serve them
JOB_QUEUES: dict[str, str] = {}  # job name -> its queue
_PENDING = "pending_jobs"


class RetryLater(Exception):
    """Raised by a job when a transient problem (a service down) should be retried."""


class GiveUp(Exception):
    """Raised by a job when trying again cannot help (a mail server refused the address for
    good): the job is recorded as failed for the admins at once, without retries."""


def job(name: str, every_seconds: int | None = None,
        kind: str | None = None, queue: str = DEFAULT) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as a background job under a stable name, on one of QUEUES; with
    `every_seconds`, it also runs periodically (Celery beat in production, a timer in-process).
    `kind` names what it does for the admins who see it fail."""
    if queue not in QUEUES:
        raise ValueError(f"job {name}: queue must be one of {', '.join(QUEUES)}, not {queue!r}")

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        if name in JOBS and JOBS[name] is not function:
            raise ValueError(f"two jobs are named {name}")
        JOBS[name] = function
        JOB_QUEUES[name] = queue
        if every_seconds:
            PERIODIC[name] = every_seconds
        if kind:
            KINDS[name] = kind
        return function

    return register


def enqueue(name: str, *args: Any) -> None:
    """Run job `name` with `args` once the current transaction commits (never if it rolls back)."""
    if name not in JOBS:
        raise KeyError(f"no job named {name}")
    db.session.connection()  # a transaction must be open, or its rollback would not be seen
    # Remember the innermost transaction (a savepoint, maybe): rolling it back forgets the job.
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    db.session.info.setdefault(_PENDING, []).append((name, args, transaction))


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released: the real commit is still to come
    pending = session.info.pop(_PENDING, [])
    if not pending:
        return
    app = current_app._get_current_object()
    for name, args, _transaction in pending:
        try:
            app.extensions["job_runner"].submit(name, args)
        except Exception:  # the broker is down: what was committed stays committed
            # The request still succeeds. Work with durable state is queued again by the
            # periodic sweeps: previews (a beat stays `processing`, or keeps its re-render
            # marker), license files and contracts, refunds, payouts. Emails have no such
            # state: they are lost, and the log line below is their only trace.
            log.exception("job_not_dispatched", extra={"job": name, "job_args": list(args)})


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    """Forget the jobs of what was rolled back: everything, or only a savepoint's own jobs."""
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)
        return
    pending = session.info.get(_PENDING, [])
    pending[:] = [entry for entry in pending if not _inside(entry[2], previous_transaction)]


def _inside(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def run_job(app: Flask, name: str, args: tuple[Any, ...]) -> None:
    """Run one job in an app context of its own (a fresh database session)."""
    with app.app_context():
        started = time.perf_counter()
        try:
            JOBS[name](*args)
        except Exception:
            db.session.rollback()
            raise
        finally:
            db.session.remove()
        log.info("job_done", extra={"job": name, "job_args": list(args),
                                    "duration_ms": round((time.perf_counter() - started) * 1000, 1)})


class InProcessRunner:
    """Runs jobs in this process, retrying failures with exponential backoff.

    Each queue has threads of its own: buyer-facing jobs never wait behind re-renders,
    however many of those are waiting. With no threads, jobs run at once in the caller."""

    def __init__(self, app: Flask, threads: int, max_retries: int, backoff_seconds: float,
                 buyer_threads: int = 1) -> None:
        self.app = app
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self._threads = {BUYER: buyer_threads, DEFAULT: threads} if threads else {}
        self._pools = self._start_pools()

    def _start_pools(self) -> dict[str, concurrent.futures.ThreadPoolExecutor]:
        return {queue: concurrent.futures.ThreadPoolExecutor(count, thread_name_prefix=f"job-{queue}")
                for queue, count in self._threads.items()}

    def submit(self, name: str, args: tuple[Any, ...]) -> None:
        if not self._pools:
            self._run_with_retries(name, args)
        else:
            self._pools[JOB_QUEUES[name]].submit(self._run_with_retries, name, args)

    def _run_with_retries(self, name: str, args: tuple[Any, ...]) -> None:
        for attempt in range(self.max_retries + 1):
            try:
                run_job(self.app, name, args)
                return
            except Exception as error:
                final = attempt == self.max_retries or isinstance(error, GiveUp)
                log.exception("job_failed", extra={"job": name, "job_args": list(args), "attempt": attempt + 1,
                                                   "will_retry": not final})
                if final:
                    record_failure(self.app, name, args, describe_error(error), attempts=attempt + 1)
                    return
                time.sleep(self.backoff_seconds * 2**attempt)

    def start_periodic(self) -> None:
        """Submit each periodic job at its interval, from a daemon timer per job."""
        for name, seconds in PERIODIC.items():
            self._schedule(name, seconds)

    def _schedule(self, name: str, seconds: int) -> None:
        def fire() -> None:
            self.submit(name, ())
            self._schedule(name, seconds)

        timer = threading.Timer(seconds, fire)
        timer.daemon = True
        timer.start()

    def wait(self) -> None:
        """Block until every submitted job has finished (tests, shutdown)."""
        self._stop(discard_waiting=False)

    def discard_waiting(self) -> None:
        """Drop the jobs not started yet and wait for the running ones. Durable work (previews,
        license files, contracts) is queued again by the periodic sweeps."""
        self._stop(discard_waiting=True)

    def _stop(self, discard_waiting: bool) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=True, cancel_futures=discard_waiting)
        self._pools = self._start_pools()


class CeleryRunner:
    def __init__(self, celery_app) -> None:
        self.celery = celery_app

    def submit(self, name: str, args: tuple[Any, ...]) -> None:
        self.celery.send_task(name, args=list(args))


def init_jobs(app: Flask) -> None:
    backend = app.config["JOBS_BACKEND"]
    if backend == "celery":
        from marketplace.jobs.celery_app import make_celery  # noqa: PLC0415

        app.extensions["job_runner"] = CeleryRunner(make_celery(app))
    elif backend in ("thread", "eager"):
        runner = InProcessRunner(
            app, threads=app.config["JOB_THREADS"] if backend == "thread" else 0,
            buyer_threads=app.config["JOB_BUYER_THREADS"],
            max_retries=app.config["JOB_MAX_RETRIES"], backoff_seconds=app.config["JOB_RETRY_BACKOFF_SECONDS"])
        if backend == "thread":
            runner.start_periodic()
        app.extensions["job_runner"] = runner
    else:
        raise ValueError(f"JOBS_BACKEND must be celery, thread or eager, not {backend!r}")
