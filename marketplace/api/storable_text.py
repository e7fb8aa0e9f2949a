"""Text the database can store: whatever a request carries (JSON, query, form, file names,
path ids) is refused with a 4xx when it holds what PostgreSQL and UTF-8 cannot hold."""

from __future__ import annotations

from typing import Any

from marketplace.common.errors import ValidationFailed


def unstorable(text: str) -> bool:
    """NUL and unpaired surrogates cannot be stored (PostgreSQL, UTF-8) or hashed."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_text(value: Any, path: str) -> None:
    """Refuse (422, naming the field by its path) any text in `value` that cannot be stored."""
    if isinstance(value, str):
        if unstorable(value):
            raise ValidationFailed(details={path or "_body": [
                "Text must not contain NUL characters or unpaired surrogates."]})
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, path)
            check_text(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_text(item, f"{path}.{index}" if path else str(index))
