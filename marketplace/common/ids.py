"""Opaque, prefixed, time-ordered ids such as ``usr_01JD6Q3V7M9X2K4T8B5N0C1R2S``.

The prefix tells a reader what an id names (as Stripe's ids do); the body is a ULID:
48 bits of milliseconds then 80 random bits, in Crockford base32. Ids made later sort
later, which keeps B-tree inserts local and gives keyset pagination a stable tiebreak.
"""

from __future__ import annotations

import secrets
import threading
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_LENGTH = 40  # column width: prefix, underscore and 26 characters, with room to spare


_last_ordered = 0
_ordered_lock = threading.Lock()


def new_id(prefix: str) -> str:
    return _encode(prefix, (int(time.time() * 1000) << 80) | secrets.randbits(80))


def new_ordered_id(prefix: str) -> str:
    """Like new_id, but strictly increasing within this process: ids made in the same
    millisecond (two rows of one transaction) still sort in the order they were made."""
    global _last_ordered
    with _ordered_lock:
        value = max((int(time.time() * 1000) << 80) | secrets.randbits(80), _last_ordered + 1)
        _last_ordered = value
    return _encode(prefix, value)


def _encode(prefix: str, value: int) -> str:
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"
