"""The outbox: every queued job is a row, written in the transaction that queues it.

A row outlives a broker that is down at commit time and a process that stops before its
jobs ran: the relay (marketplace.jobs.queue.relay_outbox) hands waiting rows to the runner
again until they are done. A row is claimed before its job runs, in one UPDATE that only one
of several deliveries can win, so a row handed over twice still runs its job once. A dedupe
key makes a second row for the same event (a receipt for one order) a no-op, so that mail goes
out once however often the event is seen.

Bookkeeping runs on connections of its own, never in the job's session: a job owns its
transaction, and its rollback must not undo the claim.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (JSON, CheckConstraint, Index, Integer, String, UniqueConstraint, or_, select, text,
                        update)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.common.clock import utcnow
from marketplace.common.ids import ID_LENGTH, new_id
from marketplace.db import Base, UTCDateTime, db, sql_in

KEY_LENGTH = 255
WAITING = "state IN ('pending', 'running')"


class OutboxState(enum.StrEnum):
    PENDING = "pending"  # committed, waiting for a runner to claim it
    RUNNING = "running"  # claimed, until lease_until; after that, free to claim again
    DONE = "done"
    FAILED = "failed"  # failed every retry: kept in failed_jobs for an admin


class OutboxJob(Base):
    __tablename__ = "outbox_jobs"
    __table_args__ = (
        CheckConstraint(sql_in(OutboxState, "state"), name="state"),
        # Two rows with one key are one event: the second insert does nothing.
        UniqueConstraint("dedupe_key"),
        # What the relay looks through: only rows not finished yet.
        Index("ix_outbox_jobs_waiting", "dispatched_at", postgresql_where=text(WAITING),
              sqlite_where=text(WAITING)),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    job: Mapped[str] = mapped_column(String(100))
    args: Mapped[list] = mapped_column(JSON)
    dedupe_key: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    state: Mapped[str] = mapped_column(String(16), default=OutboxState.PENDING)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When it was last handed to the runner; empty when handing it over failed (a broker down),
    # which the relay takes as "hand it over at the next pass".
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # A running row's claim ends here: a process that died mid-job leaves it to be claimed again.
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)


def stored_key(key: str | None) -> str | None:
    """Keys longer than the column (a refund of many lines) keep a readable start and a hash."""
    if key is None or len(key) <= KEY_LENGTH:
        return key
    return f"{key[:KEY_LENGTH - 65]}:{hashlib.sha256(key.encode()).hexdigest()}"


def add(name: str, args: Sequence[Any], key: str | None) -> str | None:
    """Write the row in the session's current transaction; its id, or None when a row with
    this key exists already (the job was queued before: nothing more to do)."""
    row_id = new_id("job")
    now = utcnow()
    values = {"id": row_id, "job": name, "args": list(args), "dedupe_key": stored_key(key),
              "state": OutboxState.PENDING.value, "created_at": now, "dispatched_at": now, "attempts": 0}
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    # RETURNING says whether the row went in (rowcount cannot: it may be unknown, -1).
    statement = dialect.insert(OutboxJob.__table__).values(**values) \
        .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(OutboxJob.__table__.c.id)
    return db.session.execute(statement).scalar_one_or_none()


def claim(row_id: str, lease_seconds: int) -> bool:
    """Take the row for one run. False when it is done, failed, gone, or running under a live
    lease: another delivery has it, and this one must not run the job."""
    now = utcnow()
    with db.engine.begin() as connection:
        claimed = connection.execute(
            update(OutboxJob).where(OutboxJob.id == row_id, _claimable(now))
            .values(state=OutboxState.RUNNING, lease_until=now + dt.timedelta(seconds=lease_seconds),
                    attempts=OutboxJob.attempts + 1))
        return claimed.rowcount == 1


def _claimable(now: dt.datetime):
    return or_(OutboxJob.state == OutboxState.PENDING,
               (OutboxJob.state == OutboxState.RUNNING) & (OutboxJob.lease_until < now))


def finish(row_id: str, state: OutboxState) -> None:
    """After a run: done, failed for good, or pending again for the runner's next retry (which
    counts as handed over now, so the relay leaves it to that retry)."""
    now = utcnow()
    values: dict[str, Any] = {"state": state, "lease_until": None}
    if state == OutboxState.PENDING:
        values["dispatched_at"] = now
    else:
        values["finished_at"] = now
    with db.engine.begin() as connection:
        connection.execute(update(OutboxJob).where(OutboxJob.id == row_id,
                                                   OutboxJob.state == OutboxState.RUNNING).values(**values))


def abandon(row_id: str) -> None:
    """A waiting row no runner can run (its job was renamed or removed): failed, never sent again."""
    with db.engine.begin() as connection:
        connection.execute(update(OutboxJob).where(OutboxJob.id == row_id, text(WAITING))
                           .values(state=OutboxState.FAILED, lease_until=None, finished_at=utcnow()))


def mark_dispatched(row_ids: Sequence[str], dispatched: bool) -> None:
    """Note when rows were handed over, or that handing them over failed."""
    if not row_ids:
        return
    with db.engine.begin() as connection:
        connection.execute(update(OutboxJob).where(OutboxJob.id.in_(row_ids))
                           .values(dispatched_at=utcnow() if dispatched else None))


def due_for_relay(redispatch_after: dt.timedelta | None, limit: int) -> list[OutboxJob]:
    """Rows to hand over again, oldest first: waiting rows never handed over, or handed over
    longer ago than `redispatch_after` (all waiting rows when it is None), that are pending or
    whose claim has expired."""
    now = utcnow()
    query = select(OutboxJob).where(_claimable(now))
    if redispatch_after is not None:
        query = query.where(or_(OutboxJob.dispatched_at.is_(None),
                                OutboxJob.dispatched_at < now - redispatch_after))
    return list(db.session.scalars(query.order_by(OutboxJob.created_at, OutboxJob.id).limit(limit)))


def delete_finished(before: dt.datetime) -> int:
    """Forget rows finished before `before` (their keys with them)."""
    statement = OutboxJob.__table__.delete().where(
        OutboxJob.state.in_([OutboxState.DONE, OutboxState.FAILED]), OutboxJob.finished_at < before)
    return db.session.execute(statement).rowcount
