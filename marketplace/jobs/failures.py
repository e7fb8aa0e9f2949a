"""Jobs that failed every attempt: kept for admins to see and retry, never retried silently.

A job that fails its last retry (JOB_MAX_RETRIES) leaves one row per job and arguments. The
periodic sweeps leave such work alone; an admin reads the error and asks for a retry, which
runs the job again (and, if it fails again, brings the row back with the new error).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from typing import Any

from flask import Flask
from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.common.clock import utcnow
from marketplace.common.ids import ID_LENGTH, new_id
from marketplace.db import Base, UTCDateTime, db
from marketplace.common.errors import Conflict, NotFound
from marketplace.jobs.dispatch import enqueue
from marketplace.jobs.registry import JOBS

log = logging.getLogger("marketplace.jobs")
ERROR_LENGTH = 1000


class FailedJob(Base):
    __tablename__ = "failed_jobs"
    # One row per job and arguments: failing again updates it.
    __table_args__ = (UniqueConstraint("job", "args_key"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("fjob"))
    job: Mapped[str] = mapped_column(String(100))
    args: Mapped[list] = mapped_column(JSON)
    args_key: Mapped[str] = mapped_column(String(255))  # the arguments as JSON, for the unique key
    error: Mapped[str] = mapped_column(String(ERROR_LENGTH))
    attempts: Mapped[int] = mapped_column(Integer)  # every attempt, over every retry
    failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when an admin asked for a retry; cleared when that retry fails too.
    retried_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    retried_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))


def args_key(args: Sequence[Any]) -> str:
    return json.dumps(list(args), separators=(",", ":"), sort_keys=True)[:255]


def describe_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_LENGTH]


def record_failure(app: Flask, name: str, args: Sequence[Any], error: str, attempts: int) -> None:
    """Keep the failure in a transaction of its own (the job's was rolled back)."""
    with app.app_context():
        try:
            for _try in range(2):  # a concurrent first failure of the same job may insert first
                try:
                    _upsert(name, args, error, attempts)
                    db.session.commit()
                    break
                except IntegrityError:
                    db.session.rollback()
        except Exception:  # the database is down: the log line is what is left
            log.exception("job_failure_not_recorded", extra={"job": name, "job_args": list(args)})
            db.session.rollback()
        finally:
            db.session.remove()


def _upsert(name: str, args: Sequence[Any], error: str, attempts: int) -> None:
    key = args_key(args)
    failed = db.session.scalar(select(FailedJob).where(FailedJob.job == name, FailedJob.args_key == key)
                               .with_for_update())
    if failed is None:
        db.session.add(FailedJob(job=name, args=list(args), args_key=key, error=error, attempts=attempts))
    else:
        failed.error, failed.failed_at, failed.retried_at, failed.retried_by_id = error, utcnow(), None, None
        failed.attempts += attempts
    db.session.flush()


def open_failures(names: Sequence[str]) -> set[tuple[str, str]]:
    """(job, args_key) of the failures of these jobs that wait for an admin."""
    rows = db.session.execute(select(FailedJob.job, FailedJob.args_key).where(
        FailedJob.job.in_(names), FailedJob.retried_at.is_(None)))
    return {(job, key) for job, key in rows}


def list_failures(limit: int) -> list[FailedJob]:
    return list(db.session.scalars(select(FailedJob).where(FailedJob.retried_at.is_(None))
                                   .order_by(FailedJob.failed_at.desc(), FailedJob.id).limit(limit)))


def retry(failure_id: str, admin_id: str) -> FailedJob:
    """Run the job again once the caller commits."""
    failed = db.session.get(FailedJob, failure_id, with_for_update=True)
    if failed is None:
        raise NotFound("No failed job has this id.", code="failed_job_not_found")
    if failed.job not in JOBS:  # renamed or removed since it failed
        raise Conflict(f"There is no job named {failed.job} any more: it cannot run again.",
                       code="job_unknown")
    if failed.retried_at is None:  # asking twice plans one retry
        failed.retried_at, failed.retried_by_id = utcnow(), admin_id
        # A new outbox row, without a key: the failed row keeps its key (its event's mail must
        # not be queued again by the event), and stays failed as the record of what happened.
        enqueue(failed.job, *failed.args)
    db.session.flush()
    return failed
