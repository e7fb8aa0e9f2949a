"""The background job that mails a message whose context is known when it is queued (the
moderation notices): the person is looked up, and their mail settings asked, at sending time."""

from __future__ import annotations

from typing import Any

from marketplace.accounts.models import User
from marketplace.db import db
from marketplace.jobs.queue import BUYER, enqueue, job
from marketplace.mail import messages


def mail_user(name: str, user_id: str, context: dict[str, Any]) -> None:
    """Queue message `name` to a user, sent once the current transaction commits (never when it
    rolls back). `context` must hold JSON values only: the job may run in another process."""
    if name not in messages.KINDS:
        raise KeyError(f"no message named {name}")
    enqueue("mail.send", name, user_id, context)


@job("mail.send", kind="email", queue=BUYER)
def send(name: str, user_id: str, context: dict[str, Any]) -> None:
    user = db.session.get(User, user_id)
    if user is None:
        return
    messages.send(name, user, context)
