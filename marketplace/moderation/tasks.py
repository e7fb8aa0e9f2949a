"""Background jobs of moderation: telling the people a moderation action affects."""

from __future__ import annotations

from marketplace.accounts.models import User
from marketplace.common.text import one_line
from marketplace.db import db
from marketplace.jobs.mail import send_email
from marketplace.jobs.queue import BUYER, enqueue, job


def notify(user_id: str, subject: str, body: str) -> None:
    """Email a user once the action commits (never when it rolls back)."""
    enqueue("moderation.send_notice", user_id, subject, body)


@job("moderation.send_notice", kind="email", queue=BUYER)
def send_notice(user_id: str, subject: str, body: str) -> None:
    user = db.session.get(User, user_id)
    if user is None:
        return
    send_email(user.email, subject, f"Hello {one_line(user.display_name)},\n\n{body}\n")
