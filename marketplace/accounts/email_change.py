"""Changing the account's address: asked for with the current password, confirmed by a link
mailed to the new address, and told to the old one.

The link is single use and expires (EMAIL_CHANGE_LINK_HOURS); asking again voids the earlier
one. Like the verification link, its token alone confirms, with no sign-in, since people
often open mail on another device. Confirming makes the new address the account's (and
verified: the link reached it), and ends every session of the account but the one confirming,
when that one is signed in to it: the address that signs in has changed. The old address is
told, in case it was not its owner who asked.

One mailbox, one account: an address that another account holds (by its email_key) is refused
when asked for and again when confirmed; two accounts confirming the same address at once
meet the unique index on users.email_key, and one of them is refused.
"""

from __future__ import annotations

import datetime as dt
import secrets

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from marketplace.accounts import emails
from marketplace.accounts.models import AccessToken, EmailChangeRequest, User
from marketplace.accounts.services import hash_token, normalise_email
from marketplace.accounts.sessions import check_current_password, void_email_changes
from marketplace.common.clock import utcnow
from marketplace.common.ratelimit import rate_limits
from marketplace.db import db
from marketplace.common.errors import AppError, Conflict
from marketplace.jobs.queue import enqueue

TOKEN_PREFIX = "eml_"


class EmailUnchanged(AppError):
    status = 422
    code = "email_unchanged"
    message = "This is already your account's address."


class EmailChangeLinkUnusable(AppError):
    status = 400
    code = "email_change_link_unusable"
    message = ("This confirmation link has expired, was already used, or a newer request replaced it. "
               "Ask again from your account page: the newest link works for a while, once.")


def _address_taken() -> Conflict:
    return Conflict("Another account uses this address. Choose another one.", code="email_taken")


def link_hours() -> int:
    return int(current_app.config["EMAIL_CHANGE_LINK_HOURS"])


def request_email_change(user: User, new_email: str, password: str, link_base: str) -> EmailChangeRequest:
    """Record the change and mail its link to the new address once this commits."""
    check_current_password(user, password)
    new_email = normalise_email(new_email)
    key = emails.email_key(new_email)
    if new_email == user.email or key == user.email_key:
        raise EmailUnchanged()
    if _held_by_another(user, new_email, key):
        raise _address_taken()
    # Each request mails an address the asker typed: a few an hour, per account.
    rate_limits().hit(current_app.config["EMAIL_CHANGE_MAILS_PER_ACCOUNT"], "email-change-mail", user.id)
    void_email_changes(user)
    change = EmailChangeRequest(user_id=user.id, new_email=new_email,
                                expires_at=utcnow() + dt.timedelta(hours=link_hours()))
    db.session.add(change)
    db.session.flush()
    # The link is made by the job that mails it, so its token is never in a queue or a log.
    enqueue("accounts.send_email_change_confirmation", change.id, link_base)
    return change


def pending_change(user: User) -> EmailChangeRequest | None:
    """The change waiting for its confirmation, if any."""
    return db.session.scalar(select(EmailChangeRequest).where(
        EmailChangeRequest.user_id == user.id, EmailChangeRequest.spent_at.is_(None),
        EmailChangeRequest.expires_at > utcnow()).order_by(EmailChangeRequest.created_at.desc()).limit(1))


def new_confirmation_link(change: EmailChangeRequest, link_base: str) -> str | None:
    """A fresh link for a change still pending (None otherwise). Made anew at each try of the
    mailing job: a link never sent stops working."""
    if change.spent_at is not None or change.expires_at <= utcnow():
        return None
    raw_token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    change.token_hash = hash_token(raw_token)
    db.session.flush()
    return f"{link_base}/confirm-email?token={raw_token}"


def confirm_email_change(raw_token: str, confirming: AccessToken | None) -> tuple[User, str]:
    """Make the new address the account's; answers the account and its old address.
    `confirming` is the session of the request, kept signed in when it is the account's."""
    change = db.session.scalar(select(EmailChangeRequest).where(
        EmailChangeRequest.token_hash == hash_token(raw_token)).with_for_update())
    now = utcnow()
    if change is None or change.spent_at is not None or change.expires_at <= now:
        raise EmailChangeLinkUnusable()
    user = db.session.get(User, change.user_id, with_for_update=True)
    if user is None or not user.is_active:
        raise EmailChangeLinkUnusable()
    key = emails.email_key(change.new_email)
    if _held_by_another(user, change.new_email, key):
        raise _address_taken()
    # Spent with a guarded UPDATE: the same link opened twice at once confirms once.
    spent = db.session.execute(update(EmailChangeRequest).where(
        EmailChangeRequest.id == change.id, EmailChangeRequest.spent_at.is_(None))
        .values(spent_at=now, confirmed_at=now))
    if spent.rowcount != 1:
        raise EmailChangeLinkUnusable()
    old_email = user.email
    user.email, user.email_key, user.email_verified_at = change.new_email, key, now
    try:
        db.session.flush()
    except IntegrityError:
        # Another account confirmed the same address at the same moment and met the unique
        # index first. The transaction is spoilt; the edge rolls it back when it answers.
        raise _address_taken() from None
    _end_sessions_but(user, confirming)
    enqueue("accounts.tell_old_address_of_email_change", user.id, old_email, change.new_email,
            key=f"email-changed:{change.id}")
    return user, old_email


def mask_email(email: str) -> str:
    """An address partly hidden, for a mail to another mailbox: "n***e@example.org"."""
    local, _, domain = email.rpartition("@")
    if len(local) <= 2:
        return f"{local[:1]}***@{domain}"
    return f"{local[0]}***{local[-1]}@{domain}"


def _held_by_another(user: User, email: str, key: str) -> bool:
    return db.session.scalar(select(User.id).where(
        or_(User.email == email, User.email_key == key), User.id != user.id).limit(1)) is not None


def _end_sessions_but(user: User, confirming: AccessToken | None) -> None:
    keep = confirming.id if confirming is not None and confirming.user_id == user.id else None
    query = update(AccessToken).where(AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None))
    if keep is not None:
        query = query.where(AccessToken.id != keep)
    db.session.execute(query.values(revoked_at=utcnow()))
