"""Telling the people a moderation action affects, by mail, once the action commits."""

from __future__ import annotations

from typing import Any

from marketplace.mail.messages import public_base_url
from marketplace.mail.tasks import mail_user


def notify(user_id: str, message: str, **context: Any) -> None:
    """Mail message `message` (marketplace/mail/templates) to a user once the action commits
    (never when it rolls back)."""
    mail_user(message, user_id, context)


def link(path: str) -> str:
    """An absolute link to a page of the store, for a notice."""
    return f"{public_base_url()}{path}"
