from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.jobs import outbox
from marketplace.jobs.failures import describe_error, record_failure
from marketplace.jobs.outbox import OutboxState

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


def enqueue(name: str, *args: Any, key: str | None = None) -> None:
    """Run job `name` with `args` once the current transaction commits (never if it rolls back).

    `key` names the event the job is for ("receipt:<order id>"): a job queued with a key that
    was queued before, in this transaction or any other, is not queued again."""
    if name not in JOBS:
        raise KeyError(f"no job named {name}")
    db.session.connection()  # a transaction must be open, or its rollback would not be seen
    row_id = outbox.add(name, args, key)
    if row_id is None:
        return
    # Remember the innermost transaction (a savepoint, maybe): rolling it back forgets the job,
    # as the database forgets its row.
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    db.session.info.setdefault(_PENDING, []).append((row_id, name, args, transaction))


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released: the real commit is still to come
    pending = session.info.pop(_PENDING, [])
    if not pending:
        return
    app = current_app._get_current_object()
    undispatched = []
    for row_id, name, args, _transaction in pending:
        try:
            app.extensions["job_runner"].submit(name, args, row_id)
        except Exception:  # the broker is down: what was committed stays committed
            # The request still succeeds, and nothing is lost: the job's row is committed, and
            # the relay hands it over at its next pass once the broker is back.
            log.exception("job_not_dispatched",
                          extra={"job": name, "job_args": list(args), "outbox_id": row_id})
            undispatched.append(row_id)
    try:
        outbox.mark_dispatched(undispatched, dispatched=False)
    except Exception:  # the database went away too: the relay still finds them, only later
        log.exception("job_not_marked_undispatched", extra={"outbox_ids": undispatched})


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    """Forget the jobs of what was rolled back: everything, or only a savepoint's own jobs."""
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)
        return
    pending = session.info.get(_PENDING, [])
    pending[:] = [entry for entry in pending if not _inside(entry[3], previous_transaction)]


def _inside(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def run_job(app: Flask, name: str, args: tuple[Any, ...], outbox_id: str | None = None,
            last_attempt: bool = True) -> None:
    """Run one job in an app context of its own (a fresh database session). A job handed over
    with its outbox row runs only if it claims the row, and marks the row when it ends: done;
    pending again when it failed and the runner will retry it; failed after its last attempt."""
    with app.app_context():
        lease_seconds = app.config["JOBS_VISIBILITY_TIMEOUT_SECONDS"]
        if outbox_id is not None and not outbox.claim(outbox_id, lease_seconds):
            # Done already, or running elsewhere: this is a second delivery of the same row.
            log.info("job_skipped", extra={"job": name, "job_args": list(args), "outbox_id": outbox_id})
            return
        started = time.perf_counter()
        try:
            JOBS[name](*args)
        except Exception as error:
            db.session.rollback()
            if outbox_id is not None:
                final = last_attempt or isinstance(error, GiveUp)
                _finish(outbox_id, OutboxState.FAILED if final else OutboxState.PENDING)
            raise
        finally:
            db.session.remove()
        if outbox_id is not None:
            _finish(outbox_id, OutboxState.DONE)
        log.info("job_done", extra={"job": name, "job_args": list(args),
                                    "duration_ms": round((time.perf_counter() - started) * 1000, 1)})


def _finish(outbox_id: str, state: OutboxState) -> None:
    try:
        outbox.finish(outbox_id, state)
    except Exception:  # the database is down: the row's lease runs out and the relay sends it again
        log.exception("job_outbox_not_updated", extra={"outbox_id": outbox_id, "state": str(state)})


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

    def submit(self, name: str, args: tuple[Any, ...], outbox_id: str | None = None) -> None:
        if not self._pools:
            self._run_with_retries(name, args, outbox_id)
        else:
            self._pools[JOB_QUEUES[name]].submit(self._run_with_retries, name, args, outbox_id)

    def _run_with_retries(self, name: str, args: tuple[Any, ...], outbox_id: str | None) -> None:
        for attempt in range(self.max_retries + 1):
            try:
                run_job(self.app, name, args, outbox_id, last_attempt=attempt == self.max_retries)
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

    def relay_soon(self, seconds: float) -> None:
        """One pass of the relay over every waiting row, shortly after the app starts (a command
        that ends before then, such as `flask db upgrade`, leaves it to the serving process)."""
        def relay_once() -> None:
            # One try, in this timer's thread: if the database is away too, the periodic relay
            # comes later anyway, so a failure here is one line, not retries with tracebacks.
            try:
                run_job(self.app, RELAY_JOB, (True,))
            except Exception as error:
                log.warning("relay_at_start_postponed", extra={"error": describe_error(error)})

        timer = threading.Timer(seconds, relay_once)
        timer.daemon = True
        timer.start()

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
        """Drop the jobs not started yet and wait for the running ones. Their outbox rows stay
        pending: the relay hands them over again (at the latest when the app starts again)."""
        self._stop(discard_waiting=True)

    def _stop(self, discard_waiting: bool) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=True, cancel_futures=discard_waiting)
        self._pools = self._start_pools()


class CeleryRunner:
    def __init__(self, celery_app) -> None:
        self.celery = celery_app

    def submit(self, name: str, args: tuple[Any, ...], outbox_id: str | None = None) -> None:
        self.celery.send_task(name, args=list(args), kwargs={"outbox_id": outbox_id} if outbox_id else {})


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
            # Rows a stopped process had queued in its threads go out now, not a relay period later.
            runner.relay_soon(RELAY_AT_START_DELAY_SECONDS)
        app.extensions["job_runner"] = runner
    else:
        raise ValueError(f"JOBS_BACKEND must be celery, thread or eager, not {backend!r}")


RELAY_JOB = "jobs.relay_outbox"
RELAY_AT_START_DELAY_SECONDS = 5
RELAY_BATCH = 500
KEEP_FINISHED_ROWS = dt.timedelta(days=7)


@job(RELAY_JOB, every_seconds=60)
def relay_outbox(every_waiting_row: bool = False) -> int:
    """Hand over again the outbox rows still waiting: never handed over (a broker down at
    commit), or handed over OUTBOX_REDISPATCH_SECONDS ago and not claimed since (a message
    lost, a process stopped), or claimed by a run whose lease ran out (a worker that died).
    `every_waiting_row` ignores when they were handed over (at start, in-process, where the
    previous process's threads took their jobs with them). Rows finished a week ago are
    forgotten. Returns how many rows were handed over."""
    redispatch_after = None if every_waiting_row else \
        dt.timedelta(seconds=current_app.config["OUTBOX_REDISPATCH_SECONDS"])
    outbox.delete_finished(utcnow() - KEEP_FINISHED_ROWS)
    due = [(row.id, row.job, tuple(row.args)) for row in outbox.due_for_relay(redispatch_after, RELAY_BATCH)]
    db.session.commit()
    runner = current_app.extensions["job_runner"]
    handed_over = 0
    for row_id, name, args in due:
        if name not in JOBS:  # renamed or removed since it was queued: no worker would know it
            log.error("outbox_job_unknown", extra={"job": name, "outbox_id": row_id})
            outbox.abandon(row_id)
            continue
        try:
            runner.submit(name, args, row_id)
        except Exception as error:  # the broker is still down: the next pass tries again
            raise RetryLater(f"the job queue cannot be reached ({describe_error(error)})") from error
        outbox.mark_dispatched([row_id], dispatched=True)
        handed_over += 1
    return handed_over
