"""The words the store filters by: genres, moods and keys, each with how many beats on sale
carry it. The store shows them as choices and the studio suggests them, so a buyer picks
"trap" instead of guessing how beatmakers spelled it.

Genres and moods stay free text (beatmakers name new ones; every stored label stays valid):
the vocabulary is a short list of common ones plus the labels the beats on sale use most.
Counting reads every listed beat, so each process keeps the answer for
VOCABULARY_CACHE_SECONDS: a count may lag that long behind the store, never the listing.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Any

from flask import current_app
from sqlalchemy import func

from marketplace.catalog.keys import CANONICAL_KEYS
from marketplace.catalog.models import Beat
from marketplace.catalog.search import listed_beats
from marketplace.db import db

SUGGESTED_GENRES = ("afrobeats", "boom bap", "dancehall", "drill", "hip hop", "house", "jersey club", "lo-fi",
                    "phonk", "pop", "r&b", "rage", "reggaeton", "soul", "trap")
SUGGESTED_MOODS = ("aggressive", "bouncy", "chill", "dark", "dreamy", "energetic", "epic", "happy",
                   "melancholic", "nostalgic", "romantic", "sad")
# Labels in use beyond the suggested ones, the most common first: enough for a store's
# choices, few enough that a label on one beat does not crowd them.
MOST_LABELS_IN_USE = 40

_lock = threading.Lock()


def vocabulary() -> dict[str, list[dict[str, Any]]]:
    """The genres, moods and keys with the number of listed beats of each, as answered."""
    kept = _kept()
    if kept is not None:
        return kept
    with _lock:  # requests arriving meanwhile wait for this count instead of counting again
        kept = _kept()
        if kept is not None:
            return kept
        answer = _count_vocabulary()
        seconds = current_app.config["VOCABULARY_CACHE_SECONDS"]
        current_app.extensions["catalog_vocabulary"] = (time.monotonic() + seconds, answer)
    return answer


def _kept() -> dict[str, list[dict[str, Any]]] | None:
    kept = current_app.extensions.get("catalog_vocabulary")
    return kept[1] if kept is not None and time.monotonic() < kept[0] else None


def _count_vocabulary() -> dict[str, list[dict[str, Any]]]:
    genres: collections.Counter[str] = collections.Counter()
    moods: collections.Counter[str] = collections.Counter()
    keys: collections.Counter[str] = collections.Counter()
    # One pass over the listed beats: a few thousand groups at most (genres x moods x keys).
    statement = (listed_beats().add_columns(Beat.genre, Beat.mood, Beat.musical_key, func.count())
                 .group_by(Beat.genre, Beat.mood, Beat.musical_key))
    for genre, mood, key, count in db.session.execute(statement):
        genres[genre] += count
        moods[mood] += count
        keys[key] += count
    return {"genres": _labels(genres, SUGGESTED_GENRES), "moods": _labels(moods, SUGGESTED_MOODS),
            "keys": [{"value": key, "count": keys[key]} for key in CANONICAL_KEYS]}


def _labels(counts: collections.Counter[str], suggested: tuple[str, ...]) -> list[dict[str, Any]]:
    """Labels in use, the most common first (then alphabetically), then the suggested ones
    no listed beat uses."""
    in_use = sorted((item for item in counts.items() if item[0]), key=_most_common_first)
    kept = dict(in_use[:MOST_LABELS_IN_USE])
    for label in suggested:
        kept.setdefault(label, counts[label])
    return [{"value": label, "count": count} for label, count in sorted(kept.items(), key=_most_common_first)]


def _most_common_first(item: tuple[str, int]) -> tuple[int, str]:
    label, count = item
    return -count, label
