from __future__ import annotations

from flask import Response, current_app, request

from marketplace.accounts import recovery, services
from marketplace.accounts.auth import auth_required, bearer_token_from_request, current_user
from marketplace.accounts.schemas import (LoginSchema, PasswordResetCompleteSchema, PasswordResetRequestSchema,
                                          RegisterSchema, TokenSchema, UserSchema)
from marketplace.api import Blueprint, document_errors
from marketplace.db import db

blp = Blueprint("accounts", __name__, description="Accounts and sign-in")


@blp.post("/auth/register")
@blp.arguments(RegisterSchema)
@blp.response(201, UserSchema)
@document_errors(409, 429)
def register(payload):
    """Create an artist or beatmaker account."""
    user = services.register(**payload, client_address=request.remote_addr or "unknown")
    db.session.commit()
    return user


@blp.post("/auth/login")
@blp.arguments(LoginSchema)
@blp.response(200, TokenSchema)
@document_errors(401, 403, 429)
def login(payload):
    """Exchange email and password for a bearer token."""
    issued = services.login(payload["email"], payload["password"], request.remote_addr or "unknown")
    db.session.commit()
    return {"access_token": issued.access_token, "token_type": "Bearer",
            "expires_in": issued.expires_in, "expires_at": issued.expires_at}


@blp.post("/auth/logout")
@auth_required()
@blp.response(204)
def logout():
    """Revoke the token this request was made with."""
    services.revoke_token(bearer_token_from_request())
    db.session.commit()
    return Response(status=204)


@blp.post("/auth/password-reset")
@blp.arguments(PasswordResetRequestSchema)
@blp.response(202)
@document_errors(429)
def request_password_reset(payload):
    """Mail a password reset link to the account with this address, if there is one. The
    answer is 202 either way, so it tells nobody who has an account."""
    recovery.request_password_reset(payload["email"], request.remote_addr or "unknown", _link_base())
    db.session.commit()
    return Response(status=202)


@blp.post("/auth/password-reset/complete")
@blp.arguments(PasswordResetCompleteSchema)
@blp.response(204)
@document_errors(400)
def complete_password_reset(payload):
    """Set a new password with the mailed link's token. The link works once, for 30 minutes
    (PASSWORD_RESET_LINK_MINUTES); every session of the account ends."""
    recovery.complete_password_reset(payload["token"], payload["password"])
    db.session.commit()
    return Response(status=204)


def _link_base() -> str:
    """Where mailed links point. PUBLIC_BASE_URL, which production requires: links built from
    the request's Host header could be pointed at an attacker's site by whoever asks."""
    return (current_app.config["PUBLIC_BASE_URL"] or request.host_url).rstrip("/")


@blp.get("/me")
@auth_required()
@blp.response(200, UserSchema)
def me():
    """The signed-in user."""
    return current_user()
