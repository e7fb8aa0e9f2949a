"""Account rules: registration, login, tokens, suspension. Services flush, never commit."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import secrets

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from marketplace.accounts import emails, sessions
from marketplace.accounts.models import (MAIL_CATEGORIES, AccessToken, Role, SignInAddress, User, UserRole,
                                         UserStatus)
from marketplace.accounts.password_rules import check_password
from marketplace.accounts.passwords import passwords
from marketplace.common.clock import utcnow
from marketplace.common.ratelimit import parse_limit, rate_limits
from marketplace.db import db
from marketplace.common.errors import AppError, AuthenticationRequired, Conflict, NotFound
from marketplace.jobs.queue import enqueue

TOKEN_PREFIX = "mkt_"  # makes leaked tokens easy to recognise for secret scanners

SELF_SERVICE_ROLES = (Role.ARTIST, Role.BEATMAKER)


class InvalidCredentials(AppError):
    status = 401
    code = "invalid_credentials"
    # The same words whether or not the email exists: no account enumeration.
    message = "The email or password is incorrect."

    def __init__(self, owner_to_warn: str | None = None) -> None:
        super().__init__()
        # The account whose owner should hear about the failures piling up (the edge mails
        # them, since the failed attempt's own transaction is rolled back).
        self.owner_to_warn = owner_to_warn


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
    """The stored spelling of an address (see accounts.emails): "Ann@Exämple.com",
    "ａｎｎ@exämple.com" and "ann@xn--exmple-cua.com" are the same account."""
    return emails.normalise_email(email)


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
    if emails.has_quoted_local_part(email):
        raise AppError(QUOTED_EMAIL_MESSAGE, code="invalid_email", status=422,
                       details={"email": [QUOTED_EMAIL_MESSAGE]})
    key = emails.email_key(email)
    # One mailbox, one account: the same address, or one a person cannot tell from it.
    if db.session.scalar(select(User.id).where(or_(User.email == email, User.email_key == key))) is not None:
        raise _email_taken()
    user = User(email=email, email_key=key, display_name=display_name.strip(),
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


QUOTED_EMAIL_MESSAGE = "Use an email address without quotation marks in the part before the @."


def _email_taken() -> Conflict:
    return Conflict("An account with this email already exists.", code="email_taken")


def login(email: str, password: str, client_address: str) -> IssuedToken:
    """A token for the right password. Attempts are counted before the password is checked
    (atomically, so parallel guesses cannot slip past the limit) and forgiven on success.

    Failures are limited per address and per email and address, never per email alone: a
    guesser elsewhere never locks the owner out. Guessing one email from many addresses is
    slowed instead, for addresses its account never signed in from."""
    email = normalise_email(email)
    limits = rate_limits()
    config = current_app.config
    limits.hit(config["LOGIN_LIMIT_PER_ADDRESS"], "login-address", client_address)
    limits.check(config["LOGIN_FAILURE_LIMIT_PER_ADDRESS"], "login-address-failures", client_address)
    limits.hit(config["LOGIN_FAILURE_LIMIT_PER_EMAIL"], "login-failures", email, client_address)
    user = find_user_by_email(email)
    if not signed_in_from(user, client_address):
        _wait_turn_of_strangers(email)

    if not passwords().verify(user.password_hash if user else None, password):
        raise InvalidCredentials(owner_to_warn=_count_failure(email, client_address, user))
    limits.clear(config["LOGIN_FAILURE_LIMIT_PER_EMAIL"], "login-failures", email, client_address)
    if not user.is_active:
        raise AccountSuspended()
    if passwords().needs_rehash(user.password_hash):
        user.password_hash = passwords().hash(password)
    _remember_address(user, client_address)
    return issue_token(user)


def slowdown_seconds(failures: int) -> int:
    """How long addresses an account never signed in from wait between attempts, once its
    email has `failures` failures in the window: 0 below the threshold, then 2, 4, 8 s..."""
    config = current_app.config
    threshold = parse_limit(config["LOGIN_SLOWDOWN_AFTER_FAILURES"]).amount
    if failures < threshold:
        return 0
    return min(config["LOGIN_SLOWDOWN_MAX_SECONDS"], 2 ** min(failures - threshold + 1, 30))


def _wait_turn_of_strangers(email: str) -> None:
    """One attempt at a time, spaced by the slowdown, from all unknown addresses together."""
    limits = rate_limits()
    wait = slowdown_seconds(limits.tallied(current_app.config["LOGIN_SLOWDOWN_AFTER_FAILURES"],
                                           "login-email-failures", email))
    if wait:
        limits.space(wait, "login-strangers", email)


def _count_failure(email: str, client_address: str, user: User | None) -> str | None:
    """Count a failure; answer the account whose owner should now be warned, if any."""
    limits = rate_limits()
    config = current_app.config
    limits.count(config["LOGIN_FAILURE_LIMIT_PER_ADDRESS"], "login-address-failures", client_address)
    window = config["LOGIN_SLOWDOWN_AFTER_FAILURES"]
    wait = slowdown_seconds(limits.tally(window, "login-email-failures", email))
    if not wait:
        return None
    limits.space_from_now(wait, "login-strangers", email)  # the wait grew with this failure
    if user is not None and limits.first_in_window(window, "login-warning", email):
        return user.id
    return None


def warn_owner_of_failed_sign_ins(user_id: str) -> None:
    """Mail the owner that sign-ins to their account keep failing (after the edge commits)."""
    enqueue("accounts.warn_of_failed_sign_ins", user_id)


def _address_hash(client_address: str) -> str:
    """Addresses are kept keyed-hashed: a copy of the table says nothing about where anyone was."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, client_address.encode(), hashlib.sha256).hexdigest()


def signed_in_from(user: User | None, client_address: str) -> bool:
    """Whether this account signed in with its password from this address before."""
    if user is None:
        return False
    return db.session.get(SignInAddress, (user.id, _address_hash(client_address))) is not None


def _remember_address(user: User, client_address: str) -> None:
    known = db.session.get(SignInAddress, (user.id, _address_hash(client_address)))
    if known is not None:
        known.last_signed_in_at = utcnow()
        return
    try:
        with db.session.begin_nested():
            db.session.add(SignInAddress(user_id=user.id, address_hash=_address_hash(client_address)))
    except IntegrityError:
        pass  # the same address signed in at the same moment: remembered either way


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
    if token is not None and token.user.is_closed:
        raise InvalidToken()  # its sessions ended when it closed: nothing more to say about it
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


def mail_preferences(user: User) -> dict[str, bool]:
    """The mail categories the user may turn off, each on (True) or off."""
    return {category: getattr(user, f"mail_{category}") for category in MAIL_CATEGORIES}


def set_mail_preferences(user: User, changes: dict[str, bool]) -> dict[str, bool]:
    for category, wanted in changes.items():
        if category not in MAIL_CATEGORIES:
            raise ValueError(f"no mail category {category}")
        setattr(user, f"mail_{category}", wanted)
    db.session.flush()
    return mail_preferences(user)
