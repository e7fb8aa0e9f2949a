"""Genres, moods and tags compare case-insensitively, so they are stored normalised."""

from __future__ import annotations

import re


def normalise_label(value: str | None) -> str | None:
    """Trimmed, single-spaced, lower case, without a leading '#'; None when nothing is left."""
    if value is None:
        return None
    cleaned = re.sub(r"\s+", " ", value.strip().lstrip("#").strip()).casefold()
    return cleaned or None
