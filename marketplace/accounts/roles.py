"""Roles an account takes on itself: an artist who starts selling becomes a beatmaker too.

One account holds both roles, so it keeps its orders, licenses and sign-in; it only gains
the studio. Roles are never taken away here (that is moderation's business).
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import Role, User, UserRole
from marketplace.accounts.verification import require_verified
from marketplace.db import db
from marketplace.common.errors import Conflict, PermissionDenied


class AccountSuspendedConflict(Conflict):
    code = "account_suspended"
    message = "This account is suspended, so it cannot start selling beats."


def become_beatmaker(user: User) -> User:
    """Give `user` the beatmaker role; asking again changes nothing."""
    if not user.is_active:
        raise AccountSuspendedConflict()
    if user.has_role(Role.ADMIN):
        # Admins judge beatmakers' beats and reports: selling from the same account would mix the two.
        raise PermissionDenied("An admin account cannot sell beats. Sign up a separate account to sell.",
                               code="role_not_allowed")
    require_verified(user, "start selling beats")
    if user.has_role(Role.BEATMAKER):
        return user
    try:
        with db.session.begin_nested():
            user.role_rows.append(UserRole(role=Role.BEATMAKER))
            db.session.flush()
    except IntegrityError:  # a concurrent request gave the role first: the outcome is the same
        db.session.refresh(user, ["role_rows"])
    return user
