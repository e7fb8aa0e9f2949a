"""Exclusive holds: while a buyer is on the payment page, nobody else can start buying the
exclusive rights of that beat. Leases stay on sale.

The partial unique index on (beat_id) WHERE released_at IS NULL decides races: of any number
of concurrent checkouts, exactly one insert succeeds. A second one, on (buyer_id, slot),
caps the holds one buyer has open at once: each takes one of the buyer's numbered slots.
Nor can one buyer keep an exclusive off sale by checking out again and again: the time a
buyer has held one beat within a day is capped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import or_, select, update

from marketplace.checkout.models import ExclusiveHold, Order
from marketplace.common.clock import utcnow
from marketplace.db import add_unless_refused, db
from marketplace.common.errors import Conflict
from marketplace.licensing.issuing import ExclusiveUnavailable


# A hold past its expiry gives way to another buyer only after this long, so a payment
# made in the page's last seconds, whose notification is late, still finds its hold.
HOLD_GRACE = dt.timedelta(minutes=10)
# The span over which a buyer's time holding one beat is added up.
HOLD_TIME_WINDOW = dt.timedelta(hours=24)


class TooManyHolds(Conflict):
    code = "too_many_exclusive_holds"


class HoldTimeUsedUp(Conflict):
    code = "exclusive_hold_time_used_up"


def take_hold(beat_id: str, order_id: str, expires_at: dt.datetime) -> ExclusiveHold:
    """Hold the exclusive of `beat_id` (a family's original) for an order's buyer, or raise."""
    now = utcnow()
    buyer_id = db.session.get(Order, order_id).buyer_id
    # A hold that ran out more than HOLD_GRACE ago no longer counts: end it so a new one can
    # take its place, or its slot.
    db.session.execute(update(ExclusiveHold)
                       .where(or_(ExclusiveHold.beat_id == beat_id, ExclusiveHold.buyer_id == buyer_id),
                              ExclusiveHold.released_at.is_(None),
                              ExclusiveHold.expires_at <= now - HOLD_GRACE)
                       .values(released_at=now, release_reason="expired"))
    _check_hold_time(beat_id, buyer_id, now)
    cap = current_app.config["EXCLUSIVE_HOLDS_PER_BUYER"]
    for _attempt in range(cap):
        hold = ExclusiveHold(beat_id=beat_id, order_id=order_id, buyer_id=buyer_id,
                             slot=_free_slot(buyer_id, cap), expires_at=expires_at)
        if add_unless_refused(hold):
            return hold
        if beat_id in active_holds([beat_id]):
            raise unavailable(beat_id)
        # Another checkout of this buyer took the same slot at the same moment: try the next.
    raise _too_many(cap)


def unavailable(beat_id: str) -> ExclusiveUnavailable:
    return ExclusiveUnavailable("Another buyer is checking out the exclusive rights of this beat. "
                                "Leases are still on sale.", details={"beat_id": beat_id})


def _too_many(cap: int) -> TooManyHolds:
    return TooManyHolds(f"You are already checking out the exclusive rights of {cap} beats, as many as one "
                        "buyer may at once. Pay for one of those checkouts or let it close first.",
                        details={"open_holds_limit": cap})


def _free_slot(buyer_id: str, cap: int) -> int:
    taken = set(db.session.scalars(select(ExclusiveHold.slot).where(
        ExclusiveHold.buyer_id == buyer_id, ExclusiveHold.released_at.is_(None))))
    free = [slot for slot in range(1, cap + 1) if slot not in taken]
    if not free:
        raise _too_many(cap)
    return free[0]


def _check_hold_time(beat_id: str, buyer_id: str, now: dt.datetime) -> None:
    """Refuse a new hold once this buyer has held this beat, within a day, for as long as
    EXCLUSIVE_HOLD_PAGES_PER_DAY payment pages last, saying when they may hold it again."""
    config = current_app.config
    page = dt.timedelta(minutes=config["CHECKOUT_SESSION_MINUTES"])
    allowed = page * config["EXCLUSIVE_HOLD_PAGES_PER_DAY"]
    earlier = list(db.session.scalars(select(ExclusiveHold).where(
        ExclusiveHold.buyer_id == buyer_id, ExclusiveHold.beat_id == beat_id,
        ExclusiveHold.created_at > now - HOLD_TIME_WINDOW).order_by(ExclusiveHold.created_at)))
    used = sum((_time_held(hold, now) for hold in earlier), dt.timedelta())
    if used < allowed:
        return
    # The budget comes back as the oldest holds leave the window.
    again_at = now + HOLD_TIME_WINDOW
    for hold in earlier:
        used -= _time_held(hold, now)
        if used < allowed:
            again_at = hold.created_at + HOLD_TIME_WINDOW
            break
    raise HoldTimeUsedUp(
        f"You have held the exclusive rights of this beat for as long as one buyer may within a day, so "
        f"other buyers get their turn. You can check them out again from {again_at:%Y-%m-%d %H:%M} UTC. "
        "Leases are still on sale.",
        details={"beat_id": beat_id, "available_again_at": again_at.isoformat()})


def _time_held(hold: ExclusiveHold, now: dt.datetime) -> dt.timedelta:
    end = min(hold.released_at or now, hold.expires_at)
    return max(end - hold.created_at, dt.timedelta())


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
