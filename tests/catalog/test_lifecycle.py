from __future__ import annotations

import types

import pytest

from marketplace.catalog.lifecycle import BeatStatus, IllegalTransition, move

def beat_in(status):
    return types.SimpleNamespace(status=status, published_at=None, sold_exclusive_at=None,
                                 failure_reason="old reason")


@pytest.mark.parametrize("current, target", [
    ("processing", "published"),  # its preview is ready
    ("processing", "failed"),  # its audio could not be processed
    ("failed", "processing"),  # the owner retries with another file
    ("published", "archived"),  # the owner takes it off the store
    ("archived", "published"),  # and puts it back
    ("published", "sold_exclusive"),  # its exclusive is bought
    ("archived", "sold_exclusive"),  # a checkout opened before it was archived is paid
    ("published", "taken_down"),  # an administrator takes it down
    ("taken_down", "published"),  # and restores it
    ("sold_exclusive", "published"),  # the exclusive sale is refunded: its leases sell again
])
def test_these_moves_are_allowed(current, target):
    beat = beat_in(BeatStatus(current))
    move(beat, BeatStatus(target))
    assert beat.status == target


@pytest.mark.parametrize("current, target", [
    ("published", "processing"),
    ("failed", "published"),  # nothing playable to publish
    ("processing", "sold_exclusive"),  # nobody could buy it yet
    ("failed", "sold_exclusive"),
    ("sold_exclusive", "archived"),
    ("published", "failed"),
    ("published", "published"),  # a move to where it is is no move
])
def test_these_moves_are_refused(current, target):
    beat = beat_in(BeatStatus(current))
    with pytest.raises(IllegalTransition) as refused:
        move(beat, BeatStatus(target))
    assert refused.value.status == 409 and refused.value.code == "illegal_status_transition"
    assert beat.status == current


def test_moves_stamp_their_times():
    beat = beat_in(BeatStatus.PROCESSING)
    move(beat, BeatStatus.PUBLISHED)
    first_published = beat.published_at
    assert first_published is not None and beat.failure_reason is None
    move(beat, BeatStatus.ARCHIVED)
    move(beat, BeatStatus.PUBLISHED)
    assert beat.published_at == first_published  # republishing keeps the original date
    move(beat, BeatStatus.SOLD_EXCLUSIVE)
    assert beat.sold_exclusive_at is not None
