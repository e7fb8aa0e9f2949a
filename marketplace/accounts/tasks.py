"""Background jobs of accounts: the mails that let people back into their account."""

from __future__ import annotations

from marketplace.accounts import recovery
from marketplace.accounts.models import User
from marketplace.db import db
from marketplace.jobs.mail import send_email
from marketplace.jobs.queue import job


@job("accounts.send_password_reset")
def send_password_reset(user_id: str, link_base: str) -> None:
    """Make the link and mail it. Committed before sending: a mail that fails is retried with
    a new link, which voids the one never sent."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        return
    link = recovery.new_reset_link(user, link_base)
    db.session.commit()
    send_email(user.email, "Reset your password",
               f"Hello {user.display_name},\n\n"
               f"Someone, hopefully you, asked to reset the password of your account.\n"
               f"Choose a new password here (the link works once, for {recovery.link_minutes()} minutes):\n\n"
               f"{link}\n\n"
               "Setting a new password signs you out everywhere. If you did not ask, ignore this "
               "mail: your password stays as it is.\n")
