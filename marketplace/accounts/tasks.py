"""Background jobs of accounts: the mails that let people back into their account, the one
telling an owner that someone keeps failing to sign in, and those of a change of address and
of a closed account."""

from __future__ import annotations

from flask import current_app

from marketplace.accounts import email_change, recovery, verification
from marketplace.accounts.models import EmailChangeRequest, User
from marketplace.common.text import one_line
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


@job("accounts.send_email_change_confirmation", queue=BUYER)
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
    send_email(change.new_email, "Confirm your new email address",
               f"Hello {one_line(user.display_name)},\n\n"
               "You asked to use this address for your account. Confirm it by opening this link "
               f"(it works once, for {email_change.link_hours()} hours):\n\n"
               f"{link}\n\n"
               "Once confirmed, you sign in with this address, and every other device signed in to "
               "your account is signed out.\n"
               "If you did not ask, ignore this mail: without the link, nothing changes.\n")


@job("accounts.tell_old_address_of_email_change", queue=BUYER)
def tell_old_address_of_email_change(user_id: str, old_email: str, new_email: str) -> None:
    user = db.session.get(User, user_id)
    if user is None:
        return
    send_email(old_email, "Your account's email address was changed",
               f"Hello {one_line(user.display_name)},\n\n"
               f"The email address of your account was changed to {email_change.mask_email(new_email)}: "
               "this address no longer signs in, and every device signed in to the account was signed "
               "out.\n\n"
               "If this was not you, someone else may have your password. Reply to this mail at once so "
               "we can give the account back to you.\n")


@job("accounts.send_account_closed", queue=BUYER)
def send_account_closed(address: str, display_name: str) -> None:
    """Tell the owner their account is closed, at the address it had (the account no longer
    holds it)."""
    send_email(address, "Your account is closed",
               f"Hello {one_line(display_name)},\n\n"
               "Your account is closed: your name and address were removed from it, every device was "
               "signed out, and your beats left the store.\n"
               "Licenses you bought stay valid: keep the files and contracts you downloaded, as you can no "
               "longer sign in. Licenses you sold stay valid too, and money you earned and not yet received "
               "is still paid to your payout account.\n\n"
               "You can create a new account with this address at any time.\n")
