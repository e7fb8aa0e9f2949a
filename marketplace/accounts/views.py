from __future__ import annotations

from flask import Response, request

from marketplace.accounts import email_change, recovery, roles, services, sessions, verification
from marketplace.accounts.auth import auth_required, bearer_token_from_request, current_user
from marketplace.accounts.schemas import (ChangeEmailSchema, ChangePasswordSchema, ConfirmEmailChangeSchema,
                                          EmailChangeSchema, EmailConfirmedSchema, LoginSchema,
                                          MailPreferencesSchema, MailPreferencesUpdateSchema,
                                          PasswordResetCompleteSchema, PasswordResetRequestSchema,
                                          RegisterSchema, SessionSchema, TokenSchema, UnsubscribeArgs,
                                          UnsubscribedSchema, UserSchema, VerifyEmailSchema)
from marketplace.api import Blueprint, accepts_one_click_form, document_errors
from marketplace.common.links import request_base_url
from marketplace.db import db
from marketplace.mail import unsubscribe

blp = Blueprint("accounts", __name__, description="Accounts and sign-in")


@blp.post("/auth/register")
@blp.arguments(RegisterSchema)
@blp.response(201, UserSchema)
@document_errors(409, 429)
def register(payload):
    """Create an artist or beatmaker account. A link to verify its address is mailed to it:
    selling, payouts and reports wait for it; browsing and buying do not."""
    user = services.register(**payload, client_address=request.remote_addr or "unknown")
    verification.send_verification(user, request_base_url())
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


@blp.post("/auth/verify-email")
@blp.arguments(VerifyEmailSchema)
@blp.response(204)
@document_errors(400, 409)
def verify_email(payload):
    """Verify an address with the token of the mailed link; no sign-in needed (mail is often
    opened on another device)."""
    verification.verify_email(payload["token"])
    db.session.commit()
    return Response(status=204)


@blp.post("/me/verification-email")
@auth_required()
@blp.response(202)
@document_errors(409, 429)
def resend_verification():
    """Mail the verification link again (a few times an hour at most)."""
    verification.resend_verification(current_user(), request_base_url())
    db.session.commit()
    return Response(status=202)


@blp.post("/auth/password-reset")
@blp.arguments(PasswordResetRequestSchema)
@blp.response(202)
@document_errors(429)
def request_password_reset(payload):
    """Mail a password reset link to the account with this address, if there is one. The
    answer is 202 either way, so it tells nobody who has an account."""
    recovery.request_password_reset(payload["email"], request.remote_addr or "unknown", request_base_url())
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


@blp.get("/me")
@auth_required()
@blp.response(200, UserSchema)
def me():
    """The signed-in user."""
    return current_user()


@blp.post("/me/become-beatmaker")
@auth_required()
@blp.response(200, UserSchema)
@document_errors(409)
def become_beatmaker():
    """Start selling beats from this account: it gains the beatmaker role and keeps buying, its
    orders and its licenses. Needs a verified address; asking again changes nothing."""
    user = roles.become_beatmaker(current_user())
    db.session.commit()
    return user


@blp.get("/me/mail-preferences")
@auth_required()
@blp.response(200, MailPreferencesSchema)
def get_mail_preferences():
    """The mails you may turn off, each on (true) or off. Security mails (verification, password
    reset, failed sign-ins), receipts, moderation notices, payouts sent and an exclusive sold
    over your lease always go."""
    return services.mail_preferences(current_user())


@blp.patch("/me/mail-preferences")
@auth_required()
@blp.arguments(MailPreferencesUpdateSchema)
@blp.response(200, MailPreferencesSchema)
def update_mail_preferences(changes):
    """Turn sale notices or marketing mails on (true) or off (false); fields left out stay as
    they are. Answers every preference as it now stands."""
    preferences = services.set_mail_preferences(current_user(), changes)
    db.session.commit()
    return preferences


@blp.post("/mail-preferences/unsubscribe")
@accepts_one_click_form
@blp.arguments(UnsubscribeArgs, location="query")
@blp.response(200, UnsubscribedSchema)
@document_errors(400)
def unsubscribe_by_link(args):
    """Turn off the mails a mailed unsubscribe link names, without signing in (mail programs post
    here from the message's List-Unsubscribe header). Doing it twice changes nothing more."""
    user, category = unsubscribe.unsubscribe(args["token"])
    db.session.commit()
    return {"category": category, "preferences": services.mail_preferences(user)}


@blp.post("/auth/logout-everywhere")
@auth_required()
@blp.response(204)
def logout_everywhere():
    """End every session of the account, this one included: for a lost phone or a shared
    computer."""
    services.revoke_all_tokens(current_user())
    db.session.commit()
    return Response(status=204)


@blp.get("/me/sessions")
@auth_required()
@blp.response(200, SessionSchema(many=True))
def list_sessions():
    """The account's sessions that still work (each sign-in), most recently used first."""
    current = services.find_token(bearer_token_from_request())
    return [{"id": token.id, "created_at": token.created_at, "last_used_at": token.last_used_at,
             "expires_at": token.expires_at, "user_agent": token.user_agent, "address": token.address,
             "current": token.id == current.id} for token in sessions.active_sessions(current_user())]


@blp.delete("/me/sessions/<session_id>")
@auth_required()
@blp.response(204)
@document_errors(404)
def end_session(session_id):
    """End one session of the account: its token stops working at once."""
    sessions.end_session(current_user(), session_id)
    db.session.commit()
    return Response(status=204)


@blp.post("/me/password")
@auth_required()
@blp.arguments(ChangePasswordSchema)
@blp.response(204)
@document_errors(403, 422, 429)
def change_password(payload):
    """Change the password (the current one is needed). Every other session ends; this one
    stays signed in."""
    current = services.find_token(bearer_token_from_request())
    sessions.change_password(current_user(), payload["current_password"], payload["new_password"], current)
    db.session.commit()
    return Response(status=204)


@blp.post("/me/email")
@auth_required()
@blp.arguments(ChangeEmailSchema)
@blp.response(202, EmailChangeSchema)
@document_errors(403, 409, 422, 429)
def change_email(payload):
    """Ask to use another address (the current password is needed). A link to confirm it is
    mailed to the new address; until it is opened, the account keeps its address. Asking
    again replaces the earlier request."""
    change = email_change.request_email_change(current_user(), payload["new_email"], payload["password"],
                                               request_base_url())
    db.session.commit()
    return change


@blp.get("/me/email-change")
@auth_required()
@blp.response(200, EmailChangeSchema)
@blp.alt_response(204, description="No change of address is waiting for confirmation.")
def pending_email_change():
    """The change of address waiting for its confirmation; 204 (no content) when there is none,
    an ordinary answer for the account page that asks on every visit (not an error to log)."""
    change = email_change.pending_change(current_user())
    if change is None:
        return Response(status=204)
    return change


@blp.delete("/me/email-change")
@auth_required()
@blp.response(204)
def cancel_email_change():
    """Cancel a pending change of address: its link stops working."""
    sessions.void_email_changes(current_user())
    db.session.commit()
    return Response(status=204)


@blp.post("/auth/confirm-email")
@blp.arguments(ConfirmEmailChangeSchema)
@blp.response(200, EmailConfirmedSchema)
@document_errors(400, 409)
def confirm_email_change(payload):
    """Confirm a change of address with the token of the link mailed to the new address; no
    sign-in needed (mail is often opened on another device). Every session of the account
    ends, except this request's when it is signed in to the same account; the old address is
    told of the change. Answers the new address (the link's holder was mailed it)."""
    user, _ = email_change.confirm_email_change(payload["token"], _session_of_request())
    db.session.commit()
    return {"email": user.email}


def _session_of_request():
    """The session this request was made with, if it is a valid one (the page may hold a
    stale token: that is no reason to refuse the link)."""
    raw = bearer_token_from_request()
    if raw is None:
        return None
    try:
        return services.find_token(raw)
    except services.InvalidToken:
        return None
