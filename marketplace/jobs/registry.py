"""The jobs there are: each registered once, under a stable name, on one of the queues.

Every other module of jobs/ reads this one and none is read by it, so the runners (in
process, Celery) and the outbox share the names without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

JOBS: dict[str, Callable[..., Any]] = {}
PERIODIC: dict[str, int] = {}  # job name -> interval in seconds
# What a job does for people, in the admin console's words ("contract", "delivery").
KINDS: dict[str, str] = {}
# Buyer-facing work (contracts, delivered files, receipts and other mails) has a queue of its
# own, served ahead of the rest, so that hundreds of preview re-renders never hold up a buyer.
BUYER, DEFAULT = "buyer", "default"
QUEUES = (BUYER, DEFAULT)  # in the order workers serve them
JOB_QUEUES: dict[str, str] = {}  # job name -> its queue


class RetryLater(Exception):
    """Raised by a job when a transient problem (a service down) should be retried."""


class GiveUp(Exception):
    """Raised by a job when trying again cannot help (a mail server refused the address for
    good): the job is recorded as failed for the admins at once, without retries."""


def job(name: str, every_seconds: int | None = None,
        kind: str | None = None, queue: str = DEFAULT) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as a background job under a stable name, on one of QUEUES; with
    `every_seconds`, it also runs periodically (Celery beat in production, a timer in-process).
    `kind` names what it does for the admins who see it fail."""
    if queue not in QUEUES:
        raise ValueError(f"job {name}: queue must be one of {', '.join(QUEUES)}, not {queue!r}")

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        if name in JOBS and JOBS[name] is not function:
            raise ValueError(f"two jobs are named {name}")
        JOBS[name] = function
        JOB_QUEUES[name] = queue
        if every_seconds:
            PERIODIC[name] = every_seconds
        if kind:
            KINDS[name] = kind
        return function

    return register
