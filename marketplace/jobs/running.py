"""One run of one job, as both runners (in process and Celery) perform it."""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask

from marketplace.db import db
from marketplace.jobs import outbox
from marketplace.jobs.outbox import OutboxState
from marketplace.jobs.registry import JOBS, GiveUp

log = logging.getLogger("marketplace.jobs")


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
