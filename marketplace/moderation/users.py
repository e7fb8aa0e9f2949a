"""Strikes and suspensions. Enough active strikes (MODERATION_STRIKES_TO_SUSPEND) suspend an
account automatically. A suspension stops sign-in and every token at once and hides the
user's beats; lifting it brings back exactly the beats it hid."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import func, select

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, User, UserStatus
from marketplace.checkout import services as checkout
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.common.errors import Conflict, NotFound
from marketplace.moderation import audit, beats
from marketplace.moderation.audit import SYSTEM, Actor
from marketplace.moderation.models import ActorKind, Strike
from marketplace.moderation.tasks import link, notify


def strikes_to_suspend() -> int:
    return int(current_app.config["MODERATION_STRIKES_TO_SUSPEND"])


def active_strike_count(user_id: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Strike).where(
        Strike.user_id == user_id, Strike.lifted_at.is_(None))) or 0


def strikes_of(user_id: str) -> list[Strike]:
    return list(db.session.scalars(select(Strike).where(Strike.user_id == user_id).order_by(Strike.id.desc())))


def get_strike(strike_id: str) -> Strike:
    strike = db.session.get(Strike, strike_id)
    if strike is None:
        raise NotFound("No such strike.", code="strike_not_found")
    return strike


def user_state(user: User) -> dict[str, Any]:
    return {"status": user.status, "active_strikes": active_strike_count(user.id)}


def _locked(user: User) -> User:
    """The user's row, locked: strikes and suspensions of one account happen one at a time,
    so two strikes at once still suspend exactly once."""
    return db.session.get(User, user.id, with_for_update=True, populate_existing=True)


def _refuse_admin_target(user: User, actor: Actor) -> None:
    # Admins are made and unmade by operators only (`flask users ...`), never by each other.
    if actor.kind == ActorKind.ADMIN and user.has_role(Role.ADMIN):
        raise Conflict("Administrators cannot be struck or suspended here.", code="target_is_admin")


def strike(user: User, actor: Actor, reason: str) -> Strike:
    user = _locked(user)
    _refuse_admin_target(user, actor)
    row = Strike(user_id=user.id, reason=reason, created_by_id=actor.user_id)
    db.session.add(row)
    db.session.flush()
    count, limit = active_strike_count(user.id), strikes_to_suspend()
    audit.record(db.session, actor, "user.strike", "user", user.id, reason=reason,
                 before={**user_state(user), "active_strikes": count - 1},
                 after={**user_state(user), "strike_id": row.id})
    notify(user.id, "strike_recorded", reason=reason, count=count, limit=limit, account_link=link("/account"))
    if count >= limit and user.is_active:
        suspend(user, SYSTEM, f"{count} active strikes (the limit is {limit}).")
    db.session.flush()
    return row


def lift_strike(row: Strike, actor: Actor, reason: str) -> Strike:
    """A strike withdrawn no longer counts. Lifting one does not end a suspension."""
    user = _locked(db.session.get(User, row.user_id))
    row = db.session.get(Strike, row.id, populate_existing=True)  # as it stands now, under the lock
    if row.lifted_at is not None:
        raise Conflict("This strike was already lifted.", code="strike_lifted")
    before = user_state(user)
    row.lifted_at, row.lifted_by_id, row.lift_reason = utcnow(), actor.user_id, reason
    db.session.flush()
    audit.record(db.session, actor, "strike.lift", "user", user.id, reason=reason,
                 before={**before, "strike_id": row.id}, after={**user_state(user), "strike_id": row.id})
    notify(user.id, "strike_lifted", reason=row.reason, account_link=link("/account"))
    return row


def suspend(user: User, actor: Actor, reason: str) -> list[str]:
    """Suspend the account and hide its published beats; answers the ids of the beats hidden."""
    user = _locked(user)
    _refuse_admin_target(user, actor)
    if not user.is_active:
        raise Conflict("This account is already suspended.", code="already_suspended")
    before = user_state(user)
    accounts.set_status(user, UserStatus.SUSPENDED)
    hidden = beats.hide_beats_of(user, actor, reason)
    checkout.close_checkouts_of_seller(user.id)  # of the beats hidden, and of those sold exclusively
    action = "user.auto_suspend" if actor.kind == ActorKind.SYSTEM else "user.suspend"
    audit.record(db.session, actor, action, "user", user.id, reason=reason, before=before,
                 after={**user_state(user), "hidden_beats": hidden})
    notify(user.id, "account_suspended", reason=reason, store_link=link("/"))
    db.session.flush()
    return hidden


def unsuspend(user: User, actor: Actor, reason: str | None) -> list[str]:
    """Lift a suspension; answers the ids of the beats back in the store."""
    user = _locked(user)
    if user.is_closed:
        # Closed by its owner, and anonymised: nobody could sign in to it again.
        raise Conflict("This account was closed by its owner; it cannot be made active again.",
                       code="account_closed")
    if user.is_active:
        raise Conflict("This account is not suspended.", code="not_suspended")
    before = user_state(user)
    accounts.set_status(user, UserStatus.ACTIVE)
    restored = beats.unhide_beats_of(user, actor)
    audit.record(db.session, actor, "user.unsuspend", "user", user.id, reason=reason, before=before,
                 after={**user_state(user), "restored_beats": restored})
    notify(user.id, "account_reinstated", signin_link=link("/signin"))
    db.session.flush()
    return restored
