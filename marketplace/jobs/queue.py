"""The runners that perform jobs (in this process, or Celery workers), the choice between
them at app creation, and the outbox's relay. Also the import path of what job modules use:
`job`, `enqueue`, the queues and the exceptions, defined in registry and dispatch."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import threading
import time
from typing import Any

from flask import Flask, current_app

from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.jobs import outbox
from marketplace.jobs.dispatch import enqueue
from marketplace.jobs.failures import describe_error, record_failure
from marketplace.jobs.registry import (
    BUYER,
    DEFAULT,
    JOB_QUEUES,
    JOBS,
    KINDS,
    PERIODIC,
    QUEUES,
    GiveUp,
    RetryLater,
    job,
)
from marketplace.jobs.retries import RetryPolicy
from marketplace.jobs.running import run_job

__all__ = ["BUYER", "DEFAULT", "JOBS", "JOB_QUEUES", "KINDS", "PERIODIC", "QUEUES", "CeleryRunner", "GiveUp",
           "InProcessRunner", "RetryLater", "enqueue", "init_jobs", "job", "run_job"]

log = logging.getLogger("marketplace.jobs")


class InProcessRunner:
    """Runs jobs in this process, retrying failures as the RetryPolicy says.

    Each queue has threads of its own: buyer-facing jobs never wait behind re-renders,
    however many of those are waiting. With no threads, jobs run at once in the caller."""

    def __init__(self, app: Flask, threads: int, max_retries: int, backoff_seconds: float,
                 buyer_threads: int = 1) -> None:
        self.app = app
        self.policy = RetryPolicy(retries=max_retries, backoff_seconds=backoff_seconds)
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
        retries_done = 0
        while True:
            last_attempt = self.policy.is_last_attempt(retries_done)
            try:
                run_job(self.app, name, args, outbox_id, last_attempt=last_attempt)
                return
            except Exception as error:
                final = last_attempt or isinstance(error, GiveUp)
                log.exception("job_failed", extra={"job": name, "job_args": list(args), "attempt": retries_done + 1,
                                                   "will_retry": not final})
                if final:
                    record_failure(self.app, name, args, describe_error(error), attempts=retries_done + 1)
                    return
                time.sleep(self.policy.wait_before_retry(retries_done))
                retries_done += 1

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
        policy = RetryPolicy.from_config(app.config)
        runner = InProcessRunner(
            app, threads=app.config["JOB_THREADS"] if backend == "thread" else 0,
            buyer_threads=app.config["JOB_BUYER_THREADS"],
            max_retries=policy.retries, backoff_seconds=policy.backoff_seconds)
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
