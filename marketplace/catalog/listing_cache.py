"""Listed beats' documents, kept in memory between requests, where the database does not
build them itself (PostgreSQL builds each page's documents in the page's own statement:
search.listing_json).

Building a beat's document (its credits, tags and offers with their terms) costs far more
than finding the beat, and most listings show the same few thousand beats again and again.
So each process keeps the documents it built, under the beat's listing revision, which
every change to what the document shows bumps in the same transaction (catalog.models).
A listing reads each beat's revision with the search itself and builds again only the
documents it does not have at that revision, so it never shows a stale one.

Two things change without a revision: the play count, and whether an open checkout holds
the exclusive rights (holds expire with time). Listings read both fresh on every request.

Revisions only grow, and only writes of this release bump them. So restart every process
after the database is restored from a backup (revisions may go back), and once no process of
an older release is left (those wrote without bumping).
"""

from __future__ import annotations

import collections
import dataclasses
import threading
from typing import Any

from flask import current_app


@dataclasses.dataclass(frozen=True)
class ListedBeat:
    beat_id: str
    revision: int
    document: dict[str, Any]  # its offers as when nothing holds the exclusive
    held_offers: list[dict[str, Any]]  # its offers while a checkout holds the exclusive

    def shown(self, play_count: int, held: bool) -> dict[str, Any]:
        # A shallow copy: its nested values are shared with every request, to be encoded only.
        return {**self.document, "play_count": play_count,
                "offers": self.held_offers if held else self.document["offers"]}


class ListingCache:
    """The most recently listed beats' documents, up to `capacity` of them (0: none kept).
    Safe to share between the threads of one process."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: collections.OrderedDict[str, ListedBeat] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, beat_id: str, revision: int) -> ListedBeat | None:
        with self._lock:
            entry = self._entries.get(beat_id)
            if entry is None or entry.revision != revision:
                return None
            self._entries.move_to_end(beat_id)
            return entry

    def put(self, entry: ListedBeat) -> None:
        if not self.capacity:
            return
        with self._lock:
            kept = self._entries.get(entry.beat_id)
            if kept is not None and kept.revision > entry.revision:
                return  # a slower request built an older document: keep the newer one
            self._entries[entry.beat_id] = entry
            self._entries.move_to_end(entry.beat_id)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def init_listing_cache(app: Any) -> None:
    app.extensions["listing_cache"] = ListingCache(app.config["LISTING_CACHE_BEATS"])


def listing_cache() -> ListingCache:
    return current_app.extensions["listing_cache"]
