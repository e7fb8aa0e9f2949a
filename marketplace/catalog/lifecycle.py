"""The beat lifecycle: every status a beat can have, and the only moves between them.

processing ──> published ──> archived ──> published (and archived versions follow an exclusive sale)
     │             │  └────> taken_down ──> published (restored by an admin)
     v             └───────> sold_exclusive ──> published (restored by an admin after a refund)
   failed ──> processing (reprocessing)

A beat taken down (by an admin, its owner's suspension, or a pending review) goes back to the
status it had: published, archived or sold_exclusive. Moderation decides when; owners cannot
move a taken-down beat anywhere (see catalog.services).
"""

from __future__ import annotations

import enum

from marketplace.common.clock import utcnow
from marketplace.common.errors import Conflict


class BeatStatus(enum.StrEnum):
    PROCESSING = "processing"
    PUBLISHED = "published"
    FAILED = "failed"
    ARCHIVED = "archived"
    TAKEN_DOWN = "taken_down"
    SOLD_EXCLUSIVE = "sold_exclusive"


ALLOWED_MOVES: dict[BeatStatus, frozenset[BeatStatus]] = {
    BeatStatus.PROCESSING: frozenset({BeatStatus.PUBLISHED, BeatStatus.FAILED, BeatStatus.ARCHIVED,
                                      BeatStatus.TAKEN_DOWN}),
    BeatStatus.FAILED: frozenset({BeatStatus.PROCESSING, BeatStatus.ARCHIVED}),
    BeatStatus.PUBLISHED: frozenset({BeatStatus.ARCHIVED, BeatStatus.TAKEN_DOWN,
                                     BeatStatus.SOLD_EXCLUSIVE}),
    BeatStatus.ARCHIVED: frozenset({BeatStatus.PUBLISHED, BeatStatus.TAKEN_DOWN, BeatStatus.SOLD_EXCLUSIVE}),
    BeatStatus.TAKEN_DOWN: frozenset({BeatStatus.PUBLISHED, BeatStatus.ARCHIVED, BeatStatus.SOLD_EXCLUSIVE}),
    BeatStatus.SOLD_EXCLUSIVE: frozenset({BeatStatus.PUBLISHED, BeatStatus.TAKEN_DOWN}),
}

# Seen by anyone. Other statuses are visible to the owner and admins only.
PUBLIC_STATUSES = frozenset({BeatStatus.PUBLISHED, BeatStatus.SOLD_EXCLUSIVE})


class IllegalTransition(Conflict):
    code = "illegal_status_transition"


def move(beat, to: BeatStatus) -> None:
    """Move `beat` to status `to`, or raise IllegalTransition. Stamps the time of the move."""
    current = BeatStatus(beat.status)
    if to not in ALLOWED_MOVES[current]:
        raise IllegalTransition(f"A beat that is {current} cannot become {to}.",
                                details={"from": current.value, "to": to.value})
    now = utcnow()
    beat.status = to
    if to == BeatStatus.PUBLISHED and beat.published_at is None:
        beat.published_at = now
    if to == BeatStatus.SOLD_EXCLUSIVE and beat.sold_exclusive_at is None:
        beat.sold_exclusive_at = now  # an exclusive is sold once: coming back from a takedown keeps its date
    if to != BeatStatus.FAILED:
        beat.failure_reason = None
