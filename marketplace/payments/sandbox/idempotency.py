"""Idempotent requests as Stripe keeps them.

The first answer to a POST carrying an ``Idempotency-Key`` is saved for 24 hours per API key
and idempotency key, with a fingerprint of the request. The same request again gets the saved
answer; the same key on a different request is an ``idempotency_error``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from marketplace.payments.sandbox.errors import StripeError
from marketplace.payments.sandbox.state import State

KEY_MAX_LENGTH = 255
KEEP_SECONDS = 24 * 3600

SavedAnswer = tuple[int, dict[str, Any]]


def check_key(key: str) -> None:
    if len(key) > KEY_MAX_LENGTH:
        raise StripeError(f"Keys for idempotent requests can only be up to {KEY_MAX_LENGTH} characters "
                          f"long; yours is {len(key)}.", code="idempotency_key_too_long")


def fingerprint(method: str, path: str, params: dict[str, Any]) -> str:
    canonical = json.dumps([method, path, params], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def saved_answer(state: State, api_key: str, key: str, request_fingerprint: str,
                 now: int) -> SavedAnswer | None:
    """The answer saved for this key, if the same request made it; None for a new key."""
    saved = state.idempotency.get(_slot(api_key, key))
    if saved is None or saved["created"] + KEEP_SECONDS <= now:
        return None
    if saved["fingerprint"] != request_fingerprint:
        raise StripeError(
            "Keys for idempotent requests can only be used with the same parameters they were first "
            f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
            type="idempotency_error")
    return saved["status"], saved["body"]


def save_answer(state: State, api_key: str, key: str, request_fingerprint: str, answer: SavedAnswer,
                now: int) -> None:
    for slot in [slot for slot, saved in state.idempotency.items() if saved["created"] + KEEP_SECONDS <= now]:
        del state.idempotency[slot]
    status, body = answer
    state.idempotency[_slot(api_key, key)] = {
        "fingerprint": request_fingerprint, "status": status, "body": body, "created": now}


def _slot(api_key: str, key: str) -> str:
    return f"{api_key} {key}"
