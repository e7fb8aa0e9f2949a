"""Rate limits kept in memory (one process) or in Redis (shared by every worker).

Features name what they limit and by which key, e.g. login attempts per client address.
A limit that has been reached raises RateLimited, which answers 429 with Retry-After.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Iterator

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from marketplace.common.errors import AppError, RateLimited

log = logging.getLogger("marketplace.ratelimit")


class LimiterUnavailable(AppError):
    status = 503
    code = "rate_limiter_unavailable"
    message = "This is unavailable for a moment. Try again shortly."


@contextlib.contextmanager
def _storage_errors() -> Iterator[None]:
    """The counters live in Redis in production: if it is down, refuse (503) rather than
    let guesses through uncounted."""
    try:
        yield
    except (RateLimited, AppError):
        raise
    except Exception as error:  # the storage backend's own connection errors
        log.error("rate_limit_storage_failed", extra={"error_type": type(error).__name__})
        raise LimiterUnavailable() from None


class RateLimits:
    def __init__(self, storage_uri: str) -> None:
        self.storage: Storage = storage_from_string(storage_uri)
        self._limiter = MovingWindowRateLimiter(self.storage)

    def check(self, limit: str, *key: str) -> None:
        """Raise RateLimited if `limit` has already been used up for this key."""
        item = parse(limit)
        with _storage_errors():
            if not self._limiter.test(item, *key):
                raise RateLimited(self._seconds_until_free(item, key))

    def hit(self, limit: str, *key: str) -> None:
        """Count one attempt; raise RateLimited if it goes over the limit."""
        item = parse(limit)
        with _storage_errors():
            if not self._limiter.hit(item, *key):
                raise RateLimited(self._seconds_until_free(item, key))

    def count(self, limit: str, *key: str) -> None:
        """Count one attempt without refusing it (the refusal comes at the next check)."""
        with _storage_errors():
            self._limiter.hit(parse(limit), *key)

    def clear(self, limit: str, *key: str) -> None:
        """Forget the attempts counted for this key (a successful login, say)."""
        with _storage_errors():
            self._limiter.clear(parse(limit), *key)

    def tally(self, limit: str, *key: str) -> int:
        """Count one event in the window of `limit` (its amount aside) and answer how many
        the window now holds, however many that is."""
        item = _uncapped(limit)
        with _storage_errors():
            self._limiter.hit(item, *key)
        return self.tallied(limit, *key)

    def tallied(self, limit: str, *key: str) -> int:
        """How many events `tally` counted for this key within the window of `limit`."""
        item = _uncapped(limit)
        with _storage_errors():
            return item.amount - self._limiter.get_window_stats(item, *key).remaining

    def first_in_window(self, limit: str, *key: str) -> bool:
        """True once per window of `limit` for this key (to do something at most that often)."""
        item = parse(limit)
        with _storage_errors():
            return self._limiter.hit(type(item)(1, item.multiples), "once", *key)

    def space(self, seconds: int, *key: str) -> None:
        """Let one attempt through per `seconds` for this key (atomically), or raise RateLimited."""
        name = _spacing_key(key)
        with _storage_errors():
            if self.storage.acquire_entry(name, 1, seconds):
                return
            went_through_at, _count = self.storage.get_moving_window(name, 1, seconds)
        raise RateLimited(_whole_seconds_until(went_through_at + seconds))

    def space_from_now(self, seconds: int, *key: str) -> None:
        """Start the wait for this key again, `seconds` long from now (the wait has grown)."""
        name = _spacing_key(key)
        with _storage_errors():
            self.storage.clear(name)
            self.storage.acquire_entry(name, 1, seconds)

    def reset(self) -> None:
        self.storage.reset()

    def healthy(self) -> bool:
        try:
            return bool(self.storage.check())
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False

    def _seconds_until_free(self, item: RateLimitItem, key: tuple[str, ...]) -> int:
        reset_at, _remaining = self._limiter.get_window_stats(item, *key)
        return _whole_seconds_until(reset_at)


def _whole_seconds_until(moment: float) -> int:
    """The whole seconds a client must wait (Retry-After) to be let in at `moment`. The
    storage refuses up to and including that moment, so a wait that lands on it exactly (an
    integer count of seconds from a whole-second clock) would be refused once more: one second
    past it is the first that is sure to pass."""
    return max(1, math.floor(moment - time.time()) + 1)


# Tallies count far past any threshold they are compared with.
_TALLY_CEILING = 1_000_000


def parse_limit(limit: str) -> RateLimitItem:
    """A limit setting such as "20 per hour", read."""
    return parse(limit)


def _spacing_key(key: tuple[str, ...]) -> str:
    return "/".join(("SPACING", *key))


def _uncapped(limit: str) -> RateLimitItem:
    item = parse(limit)
    return type(item)(_TALLY_CEILING, item.multiples)


def init_rate_limits(app: Flask) -> None:
    app.extensions["rate_limits"] = RateLimits(app.config["RATELIMIT_STORAGE_URI"])


def rate_limits() -> RateLimits:
    return current_app.extensions["rate_limits"]
