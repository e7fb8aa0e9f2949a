"""Exclusive holds: while a buyer is on the payment page, nobody else can start buying the
exclusive rights of that beat. Leases stay on sale.

The partial unique index on (beat_id) WHERE released_at IS NULL decides races: of any number
of concurrent checkouts, exactly one insert succeeds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from marketplace.checkout.models import ExclusiveHold
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.licensing.issuing import ExclusiveUnavailable


# A hold past its expiry gives way to another buyer only after this long, so a payment
# made in the page's last seconds, whose notification is late, still finds its hold.
HOLD_GRACE = dt.timedelta(minutes=10)


def take_hold(beat_id: str, order_id: str, expires_at: dt.datetime) -> ExclusiveHold:
    """Hold the exclusive of `beat_id` (a family's original) for an order, or raise."""
    now = utcnow()
    # A hold that ran out more than HOLD_GRACE ago no longer counts: end it so a new one can
    # take its place.
    db.session.execute(update(ExclusiveHold)
                       .where(ExclusiveHold.beat_id == beat_id, ExclusiveHold.released_at.is_(None),
                              ExclusiveHold.expires_at <= now - HOLD_GRACE)
                       .values(released_at=now, release_reason="expired"))
    hold = ExclusiveHold(beat_id=beat_id, order_id=order_id, expires_at=expires_at)
    try:
        with db.session.begin_nested():
            db.session.add(hold)
    except IntegrityError:
        raise ExclusiveUnavailable("Another buyer is checking out the exclusive rights of this beat. "
                                   "Leases are still on sale.", details={"beat_id": beat_id}) from None
    return hold


def active_holds(beat_ids: Iterable[str]) -> dict[str, ExclusiveHold]:
    """The unreleased hold of each of these beats that has one (past its expiry or not:
    until a new checkout replaces it, it still stands)."""
    rows = db.session.scalars(select(ExclusiveHold).where(ExclusiveHold.beat_id.in_(list(beat_ids)),
                                                          ExclusiveHold.released_at.is_(None)))
    return {hold.beat_id: hold for hold in rows}


def hold_of(order_id: str, beat_id: str) -> ExclusiveHold | None:
    """This order's hold on this beat, if it still has it. A hold past its expiry still
    counts here as long as nobody replaced it: the payment was made in time for it."""
    return db.session.scalar(select(ExclusiveHold).where(
        ExclusiveHold.order_id == order_id, ExclusiveHold.beat_id == beat_id,
        ExclusiveHold.released_at.is_(None)))


def extend_holds(order_id: str, until: dt.datetime) -> None:
    """A payment that settles later (a bank debit) keeps its holds until it settles."""
    db.session.execute(update(ExclusiveHold)
                       .where(ExclusiveHold.order_id == order_id, ExclusiveHold.released_at.is_(None))
                       .values(expires_at=until))


def release_holds(order_id: str, reason: str) -> None:
    db.session.execute(update(ExclusiveHold)
                       .where(ExclusiveHold.order_id == order_id, ExclusiveHold.released_at.is_(None))
                       .values(released_at=utcnow(), release_reason=reason))
