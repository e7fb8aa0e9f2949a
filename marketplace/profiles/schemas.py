from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import validate

from marketplace.accounts.schemas import DISPLAY_NAME_MAX
from marketplace.api.schemas import MoneySchema
from marketplace.catalog.schemas import BeatmakerSchema, not_blank
from marketplace.common.text import MultiLine, SingleLine
from marketplace.profiles.handles import HANDLE_MAX
from marketplace.profiles.services import AVATAR_SIZES, BIO_MAX, MAX_LINKS, check_link


def _secure_link(value: str) -> None:
    try:
        check_link(value)
    except ValueError as refusal:
        raise ma.ValidationError(str(refusal)) from None


class ProfileUpdateSchema(ma.Schema):
    handle = ma.fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=HANDLE_MAX + 10),
        metadata={"description": "`@name`: 3 to 30 letters A-Z, digits, `_` and `.` (no dot first, last or "
                                 "twice in a row), unique whatever the case; null or empty gives it up."})
    display_name = ma.fields.String(required=True, validate=[
        validate.Length(min=1, max=DISPLAY_NAME_MAX), not_blank, SingleLine("display name")])
    bio = ma.fields.String(load_default="", validate=[validate.Length(max=BIO_MAX), MultiLine("bio")])
    links = ma.fields.List(ma.fields.String(validate=_secure_link), load_default=list,
                           validate=validate.Length(max=MAX_LINKS, error=f"At most {MAX_LINKS} links."),
                           metadata={"description": f"Up to {MAX_LINKS} https:// addresses."})


class ProfileSchema(ma.Schema):
    handle = ma.fields.String(allow_none=True, required=True, metadata={"description": "null until claimed"})
    display_name = ma.fields.String(required=True)
    bio = ma.fields.String(required=True)
    links = ma.fields.List(ma.fields.String(), required=True)
    avatar_url = ma.fields.String(allow_none=True, required=True)


class ProfileBeatSchema(ma.Schema):
    id = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    bpm = ma.fields.Integer(required=True)
    genre = ma.fields.String(allow_none=True, required=True)
    price_from = ma.fields.Nested(MoneySchema, allow_none=True, required=True)
    cover_url = ma.fields.String(allow_none=True, required=True)
    beatmaker = ma.fields.Nested(BeatmakerSchema, required=True)


class ProfileCreditSchema(ma.Schema):
    roles = ma.fields.List(ma.fields.String(), required=True)
    role_labels = ma.fields.List(ma.fields.String(), required=True, metadata={"example": ["Co-produced by"]})
    beat = ma.fields.Nested(ProfileBeatSchema, required=True)


class PublicProfileSchema(ProfileSchema):
    beats = ma.fields.List(ma.fields.Nested(ProfileBeatSchema), required=True,
                           metadata={"description": "their beats in the store, newest first"})
    credits = ma.fields.List(ma.fields.Nested(ProfileCreditSchema), required=True, metadata={
        "description": "their credits on other beatmakers' beats in the store"})


class HandleAvailabilitySchema(ma.Schema):
    handle = ma.fields.String(required=True)
    available = ma.fields.Boolean(required=True)
    reason = ma.fields.String(allow_none=True, required=True, metadata={"description": "why not, in words"})


class AvatarUploadSchema(ma.Schema):
    file = Upload(required=True, metadata={"description": "JPEG, PNG or WebP; cropped to a square"})


class AvatarArgs(ma.Schema):
    size = ma.fields.Integer(load_default=AVATAR_SIZES[0], validate=validate.OneOf(AVATAR_SIZES),
                             metadata={"description": "Pixels on a side: 400 (the profile page) or 96."})
    v = ma.fields.Integer(metadata={"description": "the avatar's version, so caches never show an old one"})
