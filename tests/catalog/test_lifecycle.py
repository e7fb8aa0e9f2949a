from __future__ import annotations

import itertools
import types

import pytest

from marketplace.catalog.lifecycle import ALLOWED_MOVES, BeatStatus, IllegalTransition, move

EXPECTED_MOVES = {
    ("processing", "published"), ("processing", "failed"), ("processing", "archived"),
    ("processing", "taken_down"),
    ("failed", "processing"), ("failed", "archived"),
    ("published", "archived"), ("published", "taken_down"), ("published", "sold_exclusive"),
    ("archived", "published"), ("archived", "taken_down"), ("archived", "sold_exclusive"),
    ("taken_down", "published"), ("taken_down", "archived"), ("taken_down", "sold_exclusive"),
    ("sold_exclusive", "published"), ("sold_exclusive", "taken_down"),
}


def beat_in(status):
    return types.SimpleNamespace(status=status, published_at=None, sold_exclusive_at=None,
                                 failure_reason="old reason")


@pytest.mark.parametrize("current, target", list(itertools.product(BeatStatus, BeatStatus)))
def test_only_the_listed_moves_are_allowed(current, target):
    beat = beat_in(current)
    if (current.value, target.value) in EXPECTED_MOVES:
        move(beat, target)
        assert beat.status == target
    else:
        with pytest.raises(IllegalTransition) as refused:
            move(beat, target)
        assert refused.value.status == 409
        assert beat.status == current


def test_table_and_expectation_agree():
    table = {(a.value, b.value) for a, targets in ALLOWED_MOVES.items() for b in targets}
    assert table == EXPECTED_MOVES


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
