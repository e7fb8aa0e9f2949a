"""Background jobs of accounts: the mails that let people back into their account, the one
telling an owner that someone keeps failing to sign in, and those of a change of address and
of a closed account."""

from __future__ import annotations

from flask import current_app

from marketplace.accounts import email_change, recovery, verification
from marketplace.accounts.models import EmailChangeRequest, User
from marketplace.common.ratelimit import parse_limit
from marketplace.db import db
from marketplace.jobs.queue import BUYER, job
from marketplace.mail import messages


@job("accounts.send_password_reset", kind="email", queue=BUYER)
def send_password_reset(user_id: str, link_base: str) -> None:
    """Make the link and mail it. Committed before sending: a mail that fails is retried with
    a new link, which voids the one never sent."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        return
    link = recovery.new_reset_link(user, link_base)
    db.session.commit()
    messages.send("password_reset", user, {"link": link, "minutes": recovery.link_minutes()}, link_base=link_base)


@job("accounts.warn_of_failed_sign_ins", kind="email", queue=BUYER)
def warn_of_failed_sign_ins(user_id: str) -> None:
    user = db.session.get(User, user_id)
    if user is None:
        return
    failures = parse_limit(current_app.config["LOGIN_SLOWDOWN_AFTER_FAILURES"]).amount
    messages.send("failed_sign_ins", user, {"failures": failures,
                                            "account_link": f"{messages.public_base_url()}/account"})


@job("accounts.send_verification", kind="email", queue=BUYER)
def send_verification(user_id: str, link_base: str) -> None:
    user = db.session.get(User, user_id)
    if user is None or user.email_verified:
        return
    messages.send("verify_email", user, {"link": verification.verification_link(user, link_base),
                                         "hours": current_app.config["EMAIL_VERIFICATION_LINK_HOURS"]},
                  link_base=link_base)


@job("accounts.send_email_change_confirmation", kind="email", queue=BUYER)
def send_email_change_confirmation(change_id: str, link_base: str) -> None:
    """Make the link and mail it to the new address. Committed before sending: a mail that
    fails is retried with a new link, which voids the one never sent."""
    change = db.session.get(EmailChangeRequest, change_id)
    user = db.session.get(User, change.user_id) if change is not None else None
    if user is None or not user.is_active:
        return
    link = email_change.new_confirmation_link(change, link_base)
    if link is None:
        return  # confirmed, voided or expired meanwhile
    db.session.commit()
    messages.send_to_address("email_change_confirm", change.new_email, user.display_name,
                             {"link": link, "hours": email_change.link_hours()}, link_base=link_base)


@job("accounts.tell_old_address_of_email_change", kind="email", queue=BUYER)
def tell_old_address_of_email_change(user_id: str, old_email: str, new_email: str) -> None:
    user = db.session.get(User, user_id)
    if user is None:
        return
    messages.send_to_address("email_changed", old_email, user.display_name,
                             {"masked_new_email": email_change.mask_email(new_email)})


@job("accounts.send_account_closed", kind="email", queue=BUYER)
def send_account_closed(address: str, display_name: str) -> None:
    """Tell the owner their account is closed, at the address it had (the account no longer
    holds it)."""
    messages.send_to_address("account_closed", address, display_name,
                             {"signup_link": f"{messages.public_base_url()}/signup"})
