"""Getting back into an account: a password reset link mailed to the account's address.

Asking answers the same whether or not an account has the address, so the form tells nobody
who has an account. The link is single use and short-lived; completing it sets the password
and ends every session of the account, in case the old password leaked.
"""

from __future__ import annotations

import datetime as dt
import secrets

from flask import current_app
from sqlalchemy import select, update

from marketplace.accounts.models import PasswordResetLink, User
from marketplace.accounts.password_rules import check_password
from marketplace.accounts.passwords import passwords
from marketplace.accounts.services import find_user_by_email, hash_token, revoke_all_tokens
from marketplace.accounts.sessions import void_email_changes
from marketplace.accounts.verification import mark_verified
from marketplace.common.clock import utcnow
from marketplace.common.ratelimit import RateLimited, rate_limits
from marketplace.db import db
from marketplace.common.errors import AppError
from marketplace.jobs.queue import enqueue

RESET_TOKEN_PREFIX = "rst_"


class ResetLinkUnusable(AppError):
    status = 400
    code = "reset_link_unusable"
    message = ("This password reset link has expired or was already used. "
               "Ask for a new one: links work once, for a short while.")


def request_password_reset(email: str, client_address: str, link_base: str) -> None:
    """Mail a reset link to the account with this address, if there is one. Per address the
    asking is limited (429); per account only the mails are, so nobody can use up the resets
    of someone else: the answer is the same and the newest link mailed still works."""
    rate_limits().hit(current_app.config["PASSWORD_RESET_LIMIT_PER_ADDRESS"], "password-reset", client_address)
    user = find_user_by_email(email)
    if user is None or not user.is_active or not _may_mail(user):
        return
    # The link is made by the job that mails it, so its token is never in a queue or a log.
    enqueue("accounts.send_password_reset", user.id, link_base)


def new_reset_link(user: User, link_base: str) -> str:
    """A new reset link for the account, voiding the earlier ones: the newest link mailed is
    the one that works."""
    raw_token = RESET_TOKEN_PREFIX + secrets.token_urlsafe(32)
    _void_open_links(user)
    db.session.add(PasswordResetLink(user_id=user.id, token_hash=hash_token(raw_token),
                                     expires_at=utcnow() + dt.timedelta(minutes=link_minutes())))
    db.session.flush()
    return f"{link_base}/reset-password?token={raw_token}"


def link_minutes() -> int:
    return int(current_app.config["PASSWORD_RESET_LINK_MINUTES"])


def _may_mail(user: User) -> bool:
    try:
        rate_limits().hit(current_app.config["PASSWORD_RESET_MAILS_PER_ACCOUNT"], "password-reset-mail", user.id)
    except RateLimited:
        return False
    return True


def complete_password_reset(raw_token: str, new_password: str) -> User:
    """Set the password from a valid link; the link and every session of the account end."""
    link = db.session.scalar(select(PasswordResetLink).where(PasswordResetLink.token_hash == hash_token(raw_token))
                             .with_for_update())
    now = utcnow()
    if link is None or link.spent_at is not None or link.expires_at <= now:
        raise ResetLinkUnusable()
    user = db.session.get(User, link.user_id)
    if user is None or not user.is_active:
        raise ResetLinkUnusable()
    check_password(new_password, user.email)  # before the link is spent: a refusal keeps it usable
    # Spent with a guarded UPDATE: two tabs completing the same link at once, one wins.
    spent = db.session.execute(update(PasswordResetLink)
                               .where(PasswordResetLink.id == link.id, PasswordResetLink.spent_at.is_(None))
                               .values(spent_at=now))
    if spent.rowcount != 1:
        raise ResetLinkUnusable()
    user.password_hash = passwords().hash(new_password)
    # The link reached the mailbox: its owner is proven, and takes over an unverified account
    # someone else may have made with the address.
    mark_verified(user)
    _void_open_links(user)
    revoke_all_tokens(user)
    void_email_changes(user)  # someone who had the account may have asked to move it elsewhere
    db.session.flush()
    return user


def _void_open_links(user: User) -> None:
    db.session.execute(update(PasswordResetLink)
                       .where(PasswordResetLink.user_id == user.id, PasswordResetLink.spent_at.is_(None))
                       .values(spent_at=utcnow()))
