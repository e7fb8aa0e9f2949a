from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.accounts.models import Role, UserStatus
from marketplace.accounts.emails import has_quoted_local_part
from marketplace.accounts.services import QUOTED_EMAIL_MESSAGE, normalise_email
from marketplace.common.text import SingleLine

# Real emails are at most 254 characters; argon2 takes any length, but a 1 MB password is abuse.
EMAIL_MAX = 254
PASSWORD_MIN, PASSWORD_MAX = 10, 256
DISPLAY_NAME_MAX = 80


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("Must not be blank.")


def _unquoted(value: str) -> None:
    if has_quoted_local_part(value):
        raise ma.ValidationError(QUOTED_EMAIL_MESSAGE)


def _dotted_domain(value: str) -> None:
    if "." not in value.rpartition("@")[2] or value.rpartition("@")[2].startswith("["):
        raise ma.ValidationError("Use an email address with a full domain name.")


class RegisterSchema(ma.Schema):
    email = ma.fields.Email(required=True, validate=[validate.Length(max=EMAIL_MAX), _unquoted,
                                                     _dotted_domain])
    password = ma.fields.String(required=True, load_only=True,
                                validate=validate.Length(min=PASSWORD_MIN, max=PASSWORD_MAX))
    display_name = ma.fields.String(required=True, validate=[
        validate.Length(min=1, max=DISPLAY_NAME_MAX), _not_blank, SingleLine("display name")])
    account_type = ma.fields.String(required=True, validate=validate.OneOf(
        [Role.ARTIST.value, Role.BEATMAKER.value]))

    @ma.pre_load
    def strip_email(self, data, **_kwargs):
        # Normalise before validating, so " Ann@Example.com " is accepted as ann@example.com.
        if isinstance(data, dict) and isinstance(data.get("email"), str):
            data = {**data, "email": normalise_email(data["email"])}
        return data


class VerifyEmailSchema(ma.Schema):
    token = ma.fields.String(required=True, validate=validate.Length(min=1, max=500),
                             metadata={"description": "The token of the mailed link."})


class PasswordResetRequestSchema(ma.Schema):
    email = ma.fields.String(required=True, validate=validate.Length(min=1, max=EMAIL_MAX),
                             metadata={"description": "The account's address; the answer is the same "
                                                      "whether or not an account has it."})


class PasswordResetCompleteSchema(ma.Schema):
    token = ma.fields.String(required=True, validate=validate.Length(min=1, max=200),
                             metadata={"description": "The token of the mailed link."})
    password = ma.fields.String(required=True, load_only=True,
                                validate=validate.Length(min=PASSWORD_MIN, max=PASSWORD_MAX))


class LoginSchema(ma.Schema):
    email = ma.fields.String(required=True, validate=validate.Length(min=1, max=EMAIL_MAX))
    password = ma.fields.String(required=True, load_only=True,
                                validate=validate.Length(min=1, max=PASSWORD_MAX))


class TokenSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(required=True, metadata={"description": "seconds"})
    expires_at = ma.fields.DateTime(required=True)


class UserSchema(ma.Schema):
    id = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    display_name = ma.fields.String(required=True)
    email_verified = ma.fields.Boolean(required=True, metadata={
        "description": "whether the owner proved the address; selling, payouts and reports need it"})
    roles = ma.fields.List(ma.fields.String(validate=validate.OneOf([r.value for r in Role])),
                           required=True)
    status = ma.fields.String(required=True,
                              validate=validate.OneOf([s.value for s in UserStatus]))
    created_at = ma.fields.DateTime(required=True)


class SessionSchema(ma.Schema):
    id = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True, metadata={"description": "when it signed in"})
    last_used_at = ma.fields.DateTime(allow_none=True, metadata={"description": "to within five minutes"})
    expires_at = ma.fields.DateTime(required=True)
    user_agent = ma.fields.String(allow_none=True, metadata={"description": "the browser or app that signed in"})
    address = ma.fields.String(allow_none=True, metadata={"description": "the address it signed in from"})
    current = ma.fields.Boolean(required=True, metadata={"description": "the session of this request"})


class ChangePasswordSchema(ma.Schema):
    current_password = ma.fields.String(required=True, load_only=True,
                                        validate=validate.Length(min=1, max=PASSWORD_MAX))
    new_password = ma.fields.String(required=True, load_only=True,
                                    validate=validate.Length(min=PASSWORD_MIN, max=PASSWORD_MAX))


class ChangeEmailSchema(ma.Schema):
    new_email = ma.fields.Email(
        required=True, validate=[validate.Length(max=EMAIL_MAX), _unquoted, _dotted_domain],
        metadata={"description": "The address to use from now on; a link to confirm it is mailed there."})
    password = ma.fields.String(required=True, load_only=True,
                                validate=validate.Length(min=1, max=PASSWORD_MAX),
                                metadata={"description": "The account's current password."})

    @ma.pre_load
    def normalise_new_email(self, data, **_kwargs):
        if isinstance(data, dict) and isinstance(data.get("new_email"), str):
            data = {**data, "new_email": normalise_email(data["new_email"])}
        return data


class EmailChangeSchema(ma.Schema):
    new_email = ma.fields.String(required=True,
                                 metadata={"description": "the address waiting for confirmation"})
    requested_at = ma.fields.DateTime(required=True, attribute="created_at")
    expires_at = ma.fields.DateTime(required=True, metadata={"description": "when its link stops working"})


class ConfirmEmailChangeSchema(ma.Schema):
    token = ma.fields.String(required=True, validate=validate.Length(min=1, max=200),
                             metadata={"description": "The token of the link mailed to the new address."})


class EmailConfirmedSchema(ma.Schema):
    email = ma.fields.String(required=True, metadata={"description": "the account's address from now on"})

class _MailSwitch(ma.fields.Boolean):
    """true or false, and nothing else: "no", 0 or "off" would be guesses about what was meant
    (and 0 == False, so marshmallow's own sets would take it)."""

    default_error_messages = {"invalid": "Use true (send these mails) or false (do not).",
                              "null": "Use true (send these mails) or false (do not)."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def _mail_switch(description: str) -> ma.fields.Boolean:
    return _MailSwitch(metadata={"description": description})


class MailPreferencesSchema(ma.Schema):
    """The mails the account's owner may turn off. Security mails, receipts, moderation
    notices, payouts sent and an exclusive sold over a lease always go."""

    sale_notices = _mail_switch("A mail for each sale of a beat you are credited on, with your share.")
    marketing = _mail_switch("News of the store and offers.")


class MailPreferencesUpdateSchema(MailPreferencesSchema):
    @ma.validates_schema
    def not_empty(self, data, **_kwargs):
        if not data:
            raise ma.ValidationError("Send at least one of: sale_notices, marketing (true or false).",
                                     field_name="_body")


class UnsubscribeArgs(ma.Schema):
    token = ma.fields.String(required=True, validate=validate.Length(min=1, max=500),
                             metadata={"description": "The token of the link in the mail."})


class UnsubscribedSchema(ma.Schema):
    category = ma.fields.String(required=True, metadata={"description": "The mails turned off."})
    preferences = ma.fields.Nested(MailPreferencesSchema, required=True)
