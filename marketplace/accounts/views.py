from __future__ import annotations

from flask import Response, request

from marketplace.accounts import services
from marketplace.accounts.auth import auth_required, bearer_token_from_request, current_user
from marketplace.accounts.schemas import LoginSchema, RegisterSchema, TokenSchema, UserSchema
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
    """Exchange email and password for a bearer token. Failures are limited per address; once
    an account has many, addresses it never signed in from wait a few seconds between attempts
    (429 with Retry-After), and its owner is told by mail."""
    try:
        issued = services.login(payload["email"], payload["password"], request.remote_addr or "unknown")
    except services.InvalidCredentials as failure:
        db.session.rollback()
        if failure.owner_to_warn:
            services.warn_owner_of_failed_sign_ins(failure.owner_to_warn)
            db.session.commit()
        raise
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


@blp.get("/me")
@auth_required()
@blp.response(200, UserSchema)
def me():
    """The signed-in user."""
    return current_user()
