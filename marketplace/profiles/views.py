from __future__ import annotations

import marshmallow as ma

from marketplace.accounts.auth import auth_required, current_user, optional_user
from marketplace.api import Blueprint, document_errors
from marketplace.catalog.covers import COVER_CONTENT_TYPE
from marketplace.catalog.views import spooled_path
from marketplace.db import db
from marketplace.common.errors import NotFound
from marketplace.profiles import services
from marketplace.profiles.schemas import (AvatarArgs, AvatarUploadSchema, HandleAvailabilitySchema,
                                          ProfileSchema, ProfileUpdateSchema, PublicProfileSchema)
from marketplace.storage.views import file_response

blp = Blueprint("profiles", __name__, description="Producer profiles: handles and public pages")

AVATAR_CACHE_SECONDS = 3600


@blp.get("/me/profile")
@auth_required()
@blp.response(200, ProfileSchema)
def my_profile():
    """Your public profile as you last saved it (handle null until you claim one)."""
    return services.profile_document(current_user())


@blp.put("/me/profile")
@auth_required()
@blp.arguments(ProfileUpdateSchema)
@blp.response(200, ProfileSchema)
@document_errors(409)
def update_my_profile(payload):
    """Set your handle, display name, bio and links. A handle someone else holds (in any case)
    is a 409; the handle you had is free for anyone once you change it."""
    user = services.update_profile(current_user(), **payload)
    db.session.commit()
    return services.profile_document(user)


@blp.post("/me/profile/avatar")
@auth_required()
@blp.arguments(AvatarUploadSchema, location="files")
@blp.response(200, ProfileSchema)
def upload_my_avatar(files):
    """Upload your avatar: checked as covers are (JPEG, PNG or WebP, bounded size), cropped to a
    square and re-encoded without its metadata."""
    user = current_user()
    services.upload_avatar(user, spooled_path(files["file"]))
    db.session.commit()
    return services.profile_document(user)


@blp.get("/handles/<handle>")
@blp.response(200, HandleAvailabilitySchema)
def handle_availability(handle):
    """Whether a handle can be claimed (by you, when signed in), and if not why."""
    return services.handle_availability(handle, optional_user())


@blp.get("/profiles/<handle>")
@blp.response(200, PublicProfileSchema)
@document_errors(404)
def public_profile(handle):
    """A beatmaker's or collaborator's public profile, with their beats in the store and their
    credits on others' beats. Closed and suspended accounts have none (404)."""
    return services.public_profile_document(services.public_user(handle))


@blp.get("/profiles/<handle>/avatar")
@blp.arguments(AvatarArgs, location="query", unknown=ma.RAISE)
@blp.response(200, description="The avatar (JPEG), square, re-encoded by the platform")
@blp.alt_response(302, description="Redirect to the file when stored in S3", success=True)
@document_errors(404)
def avatar(args, handle):
    """A profile's avatar, 400 pixels on a side, or 96 with `size=96`."""
    profile = services.avatar_of(services.public_user(handle))
    if profile is None:
        raise NotFound("This profile has no avatar.", code="avatar_not_found")
    return file_response(services.avatar_key(profile, args["size"]), COVER_CONTENT_TYPE,
                         cache_seconds=AVATAR_CACHE_SECONDS)
