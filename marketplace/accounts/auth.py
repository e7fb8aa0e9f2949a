"""Who is calling: bearer-token authentication and role checks for views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request
from flask_smorest import Blueprint

from marketplace.accounts import services
from marketplace.accounts.models import Role, User
from marketplace.api import BEARER_SECURITY, document_errors
from marketplace.common.errors import AuthenticationRequired, PermissionDenied

F = TypeVar("F", bound=Callable[..., Any])


def bearer_token_from_request() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_user() -> User:
    """The authenticated caller; only valid inside a view guarded by auth_required."""
    return g.current_user


def authenticate_request() -> User:
    token = bearer_token_from_request()
    if token is None:
        raise AuthenticationRequired()
    user = services.user_for_token(token)
    g.current_user = user
    return user


def optional_user() -> User | None:
    """The caller when a token is sent (a bad token is still a 401), else None."""
    if bearer_token_from_request() is None:
        return None
    return authenticate_request()


def auth_required(*roles: Role) -> Callable[[F], F]:
    """Require a valid token, and one of `roles` when any are given. Documents the security."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = authenticate_request()
            if roles and not any(user.has_role(role) for role in roles):
                raise PermissionDenied(
                    f"This needs a {' or '.join(roles)} account.", code="role_required")
            return view(*args, **kwargs)

        documented = document_errors(401, 403)(wrapper)
        return Blueprint.doc(security=BEARER_SECURITY)(documented)  # type: ignore[return-value]

    return decorator
