"""Rate limits kept in memory (one process) or in Redis (shared by every worker).

Features name what they limit and by which key, e.g. login attempts per client address.
A limit that has been reached raises RateLimited, which answers 429 with Retry-After.
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from marketplace.errors import RateLimited


class RateLimits:
    def __init__(self, storage_uri: str) -> None:
        self.storage: Storage = storage_from_string(storage_uri)
        self._limiter = MovingWindowRateLimiter(self.storage)

    def check(self, limit: str, *key: str) -> None:
        """Raise RateLimited if `limit` has already been used up for this key."""
        item = parse(limit)
        if not self._limiter.test(item, *key):
            raise RateLimited(self._seconds_until_free(item, key))

    def hit(self, limit: str, *key: str) -> None:
        """Count one attempt; raise RateLimited if it goes over the limit."""
        item = parse(limit)
        if not self._limiter.hit(item, *key):
            raise RateLimited(self._seconds_until_free(item, key))

    def count(self, limit: str, *key: str) -> None:
        """Count one attempt without refusing it (the refusal comes at the next check)."""
        self._limiter.hit(parse(limit), *key)

    def reset(self) -> None:
        self.storage.reset()

    def _seconds_until_free(self, item: RateLimitItem, key: tuple[str, ...]) -> int:
        reset_at, _remaining = self._limiter.get_window_stats(item, *key)
        return max(1, math.ceil(reset_at - time.time()))


def init_rate_limits(app: Flask) -> None:
    app.extensions["rate_limits"] = RateLimits(app.config["RATELIMIT_STORAGE_URI"])


def rate_limits() -> RateLimits:
    return current_app.extensions["rate_limits"]
