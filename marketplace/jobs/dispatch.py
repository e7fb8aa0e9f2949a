"""Queuing a job in a transaction, and handing it to the runner once that transaction commits.

`dispatch_after_commit` and `forget_after_rollback` are session listeners, registered with the
others by marketplace.listeners when the app is created.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session, SessionTransaction

from marketplace.db import db
from marketplace.jobs import outbox
from marketplace.jobs.registry import JOBS

log = logging.getLogger("marketplace.jobs")
_PENDING = "pending_jobs"


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


def dispatch_after_commit(session: Session) -> None:
    """Hand the jobs the committed transaction queued to the app's runner."""
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


def forget_after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
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
