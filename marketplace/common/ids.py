"""Opaque, prefixed, time-ordered ids such as ``usr_01JD6Q3V7M9X2K4T8B5N0C1R2S``.

The prefix tells a reader what an id names (as Stripe's ids do); the body is a ULID:
48 bits of milliseconds then 80 random bits, in Crockford base32. Ids made later sort
later, which keeps B-tree inserts local and gives keyset pagination a stable tiebreak.
"""

from __future__ import annotations

import secrets
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_LENGTH = 40  # column width: prefix, underscore and 26 characters, with room to spare


def new_id(prefix: str) -> str:
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"
