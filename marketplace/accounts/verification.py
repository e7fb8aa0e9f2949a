"""Proving an address: a signed link mailed at sign-up (and on request) that verifies it.

The token alone verifies, with no sign-in, since people open mail on another device. It is
signed (never stored), names the account and the address it was sent to, expires, and works
once: a verified address, or an account whose address changed since, refuses it. Unverified
accounts may browse and buy; selling, being paid and reporting need a verified address.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from marketplace.accounts.models import User
from marketplace.common.clock import utcnow
from marketplace.common.ratelimit import rate_limits
from marketplace.db import db
from marketplace.common.errors import AppError, PermissionDenied
from marketplace.jobs.queue import enqueue

_SALT = "verify-email"


class VerificationLinkUnusable(AppError):
    status = 400
    code = "verification_link_unusable"
    message = ("This verification link has expired or does not match your account's address any more. "
               "Ask for a new one from your account page.")


class AlreadyVerified(AppError):
    status = 409
    code = "email_already_verified"
    message = "This address is already verified."


class EmailNotVerified(PermissionDenied):
    code = "email_not_verified"


def require_verified(user: User, to_do: str) -> None:
    """Refuse, in words, what needs a verified address."""
    if not user.email_verified:
        raise EmailNotVerified(f"Verify your email address to {to_do}: open the link we mailed to {user.email}, "
                               "or ask for a new one on your account page.")


def send_verification(user: User, link_base: str) -> None:
    """Mail a verification link once this commits."""
    enqueue("accounts.send_verification", user.id, link_base)


def resend_verification(user: User, link_base: str) -> None:
    if user.email_verified:
        raise AlreadyVerified()
    rate_limits().hit(current_app.config["VERIFICATION_MAILS_PER_ACCOUNT"], "verify-email-mail", user.id)
    send_verification(user, link_base)


def verification_link(user: User, link_base: str) -> str:
    token = _serializer().dumps({"user_id": user.id, "email": user.email})
    return f"{link_base}/verify-email?token={token}"


def verify_email(token: str) -> User:
    try:
        claims = _serializer().loads(token, max_age=int(current_app.config["EMAIL_VERIFICATION_LINK_HOURS"]) * 3600)
    except (BadSignature, SignatureExpired):
        raise VerificationLinkUnusable() from None
    user = db.session.get(User, claims.get("user_id")) if isinstance(claims, dict) else None
    if user is None or user.email != claims.get("email"):
        raise VerificationLinkUnusable()
    if user.email_verified:
        raise AlreadyVerified()
    mark_verified(user)
    return user


def mark_verified(user: User) -> None:
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        db.session.flush()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)
