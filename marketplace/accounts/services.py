"""Account rules: registration, login, tokens, suspension. Services flush, never commit."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from marketplace.accounts import sessions
from marketplace.accounts.models import AccessToken, Role, User, UserRole, UserStatus
from marketplace.accounts.password_rules import check_password
from marketplace.accounts.passwords import passwords
from marketplace.common.clock import utcnow
from marketplace.common.ratelimit import rate_limits
from marketplace.db import db
from marketplace.errors import AppError, AuthenticationRequired, Conflict, NotFound

TOKEN_PREFIX = "mkt_"  # makes leaked tokens easy to recognise for secret scanners

SELF_SERVICE_ROLES = (Role.ARTIST, Role.BEATMAKER)


class InvalidCredentials(AppError):
    status = 401
    code = "invalid_credentials"
    # The same words whether or not the email exists: no account enumeration.
    message = "The email or password is incorrect."


class InvalidToken(AuthenticationRequired):
    code = "invalid_token"
    message = "The access token is invalid, expired or revoked. Sign in again."


class AccountSuspended(AppError):
    status = 403
    code = "account_suspended"
    message = "This account is suspended."


@dataclasses.dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_at: dt.datetime
    expires_in: int
    user: User


def normalise_email(email: str) -> str:
    """Trimmed and lower case, with the domain in its ASCII (IDNA) form, so one mailbox has
    one spelling: "Ann@Exämple.com" and "ann@xn--exmple-cua.com" are the same account."""
    local, _, domain = email.strip().lower().rpartition("@")
    if not local:
        return email.strip().lower()
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        pass  # not a valid domain; validation refuses it where it matters
    return f"{local}@{domain}"


def hash_token(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def get_user(user_id: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    return user


def create_user(email: str, password: str, display_name: str, role: Role, verified: bool = False) -> User:
    """A new account; `verified` for those an operator makes, whose address is known good."""
    email = normalise_email(email)
    check_password(password, email)
    if find_user_by_email(email) is not None:
        raise _email_taken()
    user = User(email=email, display_name=display_name.strip(),
                password_hash=passwords().hash(password), status=UserStatus.ACTIVE,
                email_verified_at=utcnow() if verified else None)
    user.role_rows.append(UserRole(role=role))
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        # Two registrations raced past the check above and met the unique index. The
        # transaction is spoilt; the edge rolls it back when it answers the error.
        raise _email_taken() from None
    return user


def register(email: str, password: str, display_name: str, account_type: str,
             client_address: str = "unknown") -> User:
    # Each registration costs a password hash and answers whether an email is taken.
    rate_limits().hit(current_app.config["REGISTRATION_LIMIT_PER_ADDRESS"], "register", client_address)
    role = Role(account_type)
    if role not in SELF_SERVICE_ROLES:
        raise AppError("Only artist and beatmaker accounts can be registered.",
                       code="role_not_allowed", status=422)
    return create_user(email, password, display_name, role)


def _email_taken() -> Conflict:
    return Conflict("An account with this email already exists.", code="email_taken")


def login(email: str, password: str, client_address: str) -> IssuedToken:
    """A token for the right password. Attempts are counted before the password is checked
    (atomically, so parallel guesses cannot slip past the limit) and forgiven on success."""
    email = normalise_email(email)
    limits = rate_limits()
    config = current_app.config
    limits.hit(config["LOGIN_LIMIT_PER_ADDRESS"], "login-address", client_address)
    # Per email and address, so one guesser cannot lock the owner out from elsewhere...
    limits.hit(config["LOGIN_FAILURE_LIMIT_PER_EMAIL"], "login-failures", email, client_address)
    # ...and per email overall, so guessing from many addresses is bounded too.
    limits.check(config["LOGIN_FAILURE_LIMIT_PER_ACCOUNT"], "login-account", email)

    user = find_user_by_email(email)
    if not passwords().verify(user.password_hash if user else None, password):
        limits.count(config["LOGIN_FAILURE_LIMIT_PER_ACCOUNT"], "login-account", email)
        raise InvalidCredentials()
    limits.clear(config["LOGIN_FAILURE_LIMIT_PER_EMAIL"], "login-failures", email, client_address)
    if not user.is_active:
        raise AccountSuspended()
    if passwords().needs_rehash(user.password_hash):
        user.password_hash = passwords().hash(password)
    return issue_token(user)


def issue_token(user: User) -> IssuedToken:
    ttl = int(current_app.config["ACCESS_TOKEN_TTL_SECONDS"])
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = utcnow() + dt.timedelta(seconds=ttl)
    token = AccessToken(user=user, token_hash=hash_token(raw), expires_at=expires_at)
    sessions.describe_device(token)
    db.session.add(token)
    db.session.flush()
    return IssuedToken(access_token=raw, expires_at=expires_at, expires_in=ttl, user=user)


def _stored_token(raw_token: str) -> AccessToken | None:
    """The stored token for a raw bearer value. Lookup is by SHA-256 of the presented value,
    so no comparison ever runs over the secret itself and timing reveals nothing."""
    return db.session.scalar(select(AccessToken).where(AccessToken.token_hash == hash_token(raw_token)))


def find_token(raw_token: str) -> AccessToken:
    token = _stored_token(raw_token)
    if token is None or not token.is_usable(utcnow()):
        raise InvalidToken()
    return token


def user_for_token(raw_token: str) -> User:
    token = _stored_token(raw_token)
    if token is not None and not token.user.is_active:
        raise AccountSuspended()  # the clearer answer, though suspension also revoked it
    if token is None or not token.is_usable(utcnow()):
        raise InvalidToken()
    sessions.note_use(token)
    return token.user


def revoke_token(raw_token: str) -> None:
    find_token(raw_token).revoked_at = utcnow()


def revoke_all_tokens(user: User) -> None:
    db.session.execute(update(AccessToken)
                       .where(AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None))
                       .values(revoked_at=utcnow()))


def set_status(user: User, status: UserStatus) -> None:
    """Suspension takes effect on the very next request: every token checks the status.
    Its tokens are also revoked, so lifting it does not revive old (maybe stolen) tokens."""
    user.status = status
    if status == UserStatus.SUSPENDED:
        revoke_all_tokens(user)
    db.session.flush()


def create_admin(email: str, password: str, display_name: str) -> User:
    return create_user(email, password, display_name, Role.ADMIN, verified=True)
