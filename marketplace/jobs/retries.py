"""The one retry policy of failed jobs, followed by both runners (in process and Celery)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

# However many retries are configured, no wait is longer than this.
MAX_WAIT_SECONDS = 600.0


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """A failed job runs again up to `retries` times (JOB_MAX_RETRIES), waiting
    `backoff_seconds` (JOB_RETRY_BACKOFF_SECONDS) before the first retry and twice as long
    before each next one, never more than MAX_WAIT_SECONDS. A job that raises GiveUp is not
    retried."""

    retries: int
    backoff_seconds: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RetryPolicy:
        return cls(retries=int(config["JOB_MAX_RETRIES"]), backoff_seconds=float(config["JOB_RETRY_BACKOFF_SECONDS"]))

    def wait_before_retry(self, retries_done: int) -> float:
        """Seconds to wait before the next attempt, after `retries_done` retries (0 after the first try)."""
        return min(MAX_WAIT_SECONDS, self.backoff_seconds * 2**retries_done)

    def is_last_attempt(self, retries_done: int) -> bool:
        return retries_done >= self.retries
