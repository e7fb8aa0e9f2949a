"""Shares in basis points (10000 = 100%), as the API stores them, and in percent, as people read them."""

from __future__ import annotations

from marshmallow import validate

FULL_SHARE_BPS = 10_000

# Every share field of the API: people are told the range in percent, the field keeps its name.
SHARE_RANGE = validate.Range(min=0, max=FULL_SHARE_BPS,
                             error="Must be a share from 0% to 100%.")


def percent(bps: int) -> str:
    """9000 -> "90%", 3333 -> "33.33%"."""
    return f"{bps / 100:g}%"
