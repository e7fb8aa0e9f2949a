"""The owner's view of their sessions (each sign-in's bearer token): which devices are signed
in, from where, last used when; ending one, or all but this one, or all; and changing the
password, which ends every other session in case the old one leaked."""

from __future__ import annotations

import datetime as dt

from flask import current_app, has_request_context, request
from sqlalchemy import select, update

from marketplace.accounts.models import AccessToken, EmailChangeRequest, User
from marketplace.accounts.password_rules import check_password
from marketplace.accounts.passwords import passwords
from marketplace.common.clock import utcnow
from marketplace.common.ratelimit import rate_limits
from marketplace.db import db
from marketplace.common.errors import AppError, NotFound

# A session's "last used" is written at most this often: not a write on every request.
LAST_USED_PRECISION = dt.timedelta(minutes=5)
USER_AGENT_MAX = 256


class WrongCurrentPassword(AppError):
    status = 403
    code = "wrong_current_password"
    message = "The current password is not right."


def describe_device(token: AccessToken) -> None:
    """Note the device and address of the request that signs in."""
    if not has_request_context():
        return
    token.user_agent = (request.headers.get("User-Agent") or "")[:USER_AGENT_MAX] or None
    token.address = request.remote_addr
    token.last_used_at = utcnow()


def note_use(token: AccessToken) -> None:
    """Record that the session was used, now and then, in a transaction of its own: reading
    requests commit nothing, and a refused request must not lose the note either."""
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_PRECISION:
        return
    with db.engine.begin() as connection:
        connection.execute(update(AccessToken).where(AccessToken.id == token.id).values(last_used_at=now))
    token.last_used_at = now


def active_sessions(user: User) -> list[AccessToken]:
    """The user's sessions that still work, most recently used first."""
    sessions = db.session.scalars(select(AccessToken).where(
        AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None), AccessToken.expires_at > utcnow())).all()
    return sorted(sessions, key=lambda token: token.last_used_at or token.created_at, reverse=True)


def end_session(user: User, session_id: str) -> None:
    ended = db.session.execute(update(AccessToken).where(
        AccessToken.id == session_id, AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow()))
    if ended.rowcount != 1:
        raise NotFound("No such session: it may have ended already.", code="session_not_found")


def end_other_sessions(user: User, keep: AccessToken) -> None:
    db.session.execute(update(AccessToken).where(
        AccessToken.user_id == user.id, AccessToken.id != keep.id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow()))


def check_current_password(user: User, password: str) -> None:
    """Raise unless `password` is the account's. Guesses are limited like sign-in failures, per
    account and address, and every form that asks for it (a new password, a new address,
    closing the account) draws on the same allowance: a stolen session gets no more guesses."""
    limit = current_app.config["LOGIN_FAILURE_LIMIT_PER_EMAIL"]
    address = (request.remote_addr if has_request_context() else None) or "unknown"
    rate_limits().hit(limit, "password-change", user.id, address)
    if not passwords().verify(user.password_hash, password):
        raise WrongCurrentPassword()
    rate_limits().clear(limit, "password-change", user.id, address)


def change_password(user: User, current_password: str, new_password: str, keep: AccessToken) -> None:
    """Needs the current password, then ends every other session; a pending change of address
    is voided, in case it was asked for with the old (maybe stolen) password."""
    check_current_password(user, current_password)
    check_password(new_password, user.email)
    user.password_hash = passwords().hash(new_password)
    end_other_sessions(user, keep)
    void_email_changes(user)
    db.session.flush()


def void_email_changes(user: User) -> None:
    """Void the account's pending changes of address (their links stop working)."""
    db.session.execute(update(EmailChangeRequest).where(
        EmailChangeRequest.user_id == user.id, EmailChangeRequest.spent_at.is_(None))
        .values(spent_at=utcnow()))
