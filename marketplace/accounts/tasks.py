"""Background jobs of accounts: the mails that let people back into their account, and the
one telling an owner that someone keeps failing to sign in."""

from __future__ import annotations

from flask import current_app

from marketplace.accounts import recovery, verification
from marketplace.accounts.models import User
from marketplace.common.ratelimit import parse_limit
from marketplace.db import db
from marketplace.jobs.queue import BUYER, job
from marketplace.mail import messages


@job("accounts.send_password_reset", queue=BUYER)
def send_password_reset(user_id: str, link_base: str) -> None:
    """Make the link and mail it. Committed before sending: a mail that fails is retried with
    a new link, which voids the one never sent."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        return
    link = recovery.new_reset_link(user, link_base)
    db.session.commit()
    messages.send("password_reset", user, {"link": link, "minutes": recovery.link_minutes()}, link_base=link_base)


@job("accounts.warn_of_failed_sign_ins", queue=BUYER)
def warn_of_failed_sign_ins(user_id: str) -> None:
    user = db.session.get(User, user_id)
    if user is None:
        return
    failures = parse_limit(current_app.config["LOGIN_SLOWDOWN_AFTER_FAILURES"]).amount
    messages.send("failed_sign_ins", user, {"failures": failures,
                                            "account_link": f"{messages.public_base_url()}/account"})


@job("accounts.send_verification", queue=BUYER)
def send_verification(user_id: str, link_base: str) -> None:
    user = db.session.get(User, user_id)
    if user is None or user.email_verified:
        return
    messages.send("verify_email", user, {"link": verification.verification_link(user, link_base),
                                         "hours": current_app.config["EMAIL_VERIFICATION_LINK_HOURS"]},
                  link_base=link_base)
