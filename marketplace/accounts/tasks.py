"""Background jobs of accounts: the mails that let people back into their account, and the
one telling an owner that someone keeps failing to sign in."""

from __future__ import annotations

from flask import current_app

from marketplace.accounts import recovery, verification
from marketplace.accounts.models import User
from marketplace.common.ratelimit import parse_limit
from marketplace.db import db
from marketplace.jobs.mail import send_email
from marketplace.jobs.queue import BUYER, job


@job("accounts.send_password_reset", kind="email", queue=BUYER)
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

@job("accounts.warn_of_failed_sign_ins", kind="email", queue=BUYER)
def warn_of_failed_sign_ins(user_id: str) -> None:
    user = db.session.get(User, user_id)
    if user is None:
        return
    failures = parse_limit(current_app.config["LOGIN_SLOWDOWN_AFTER_FAILURES"]).amount
    send_email(user.email, "Someone is trying to sign in to your account", "\n".join([
        f"Hello {user.display_name},",
        "",
        f"Someone has tried to sign in to your account with a wrong password at least {failures} times",
        "in a short while.",
        "Your account is not locked: you can sign in as usual. Attempts from places you never signed",
        "in from are slowed down for now.",
        "",
        "If this was not you, choose a long password that you use nowhere else.",
        "",
    ]))

@job("accounts.send_verification", kind="email", queue=BUYER)
def send_verification(user_id: str, link_base: str) -> None:
    user = db.session.get(User, user_id)
    if user is None or user.email_verified:
        return
    hours = current_app.config["EMAIL_VERIFICATION_LINK_HOURS"]
    send_email(user.email, "Verify your email address",
               f"Hello {user.display_name},\n\n"
               "Please confirm that this address is yours by opening this link "
               f"(it works for {hours} hours):\n\n"
               f"{verification.verification_link(user, link_base)}\n\n"
               "Until then you can browse and buy; selling beats, payouts and reports need a verified address.\n"
               "If you did not create an account, ignore this mail: without the link, the address stays unverified.\n")
