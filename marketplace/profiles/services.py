"""Claiming a handle, editing a profile and its avatar, and reading a public profile.
Services flush, never commit."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import User, UserStatus
from marketplace.catalog.covers import COVER_CONTENT_TYPE, render_covers
from marketplace.catalog.credits import ROLE_LABELS
from marketplace.catalog.lifecycle import BeatStatus
from marketplace.catalog.models import Beat, BeatCredit
from marketplace.db import db
from marketplace.common.errors import Conflict, NotFound, ValidationFailed
from marketplace.profiles.handles import HandleRefused, check_handle, handle_key
from marketplace.profiles.models import ProducerProfile
from marketplace.storage.service import save_in_transaction

BIO_MAX = 1000
MAX_LINKS = 5
LINK_MAX_LENGTH = 300
# The large avatar is the profile page's; the small one sits beside names in credit lines.
AVATAR_SIZES = (400, 96)
AVATAR_LARGE = AVATAR_SIZES[0]
# A profile page lists this many of the person's beats and credits at most, newest first.
PAGE_ITEMS = 100


def check_link(url: str) -> str:
    """A link as stored, or a ValueError in words: https only (a `javascript:` or `data:` link
    would run in the visitor's page, and a plain http one could be rewritten on the way), with
    a real host name and no password in it."""
    link = url.strip()
    if len(link) > LINK_MAX_LENGTH:
        raise ValueError(f"Links are at most {LINK_MAX_LENGTH} characters long.")
    if any(character.isspace() or ord(character) < 32 or ord(character) == 127 for character in link):
        raise ValueError("A link cannot hold spaces or control characters.")
    try:
        parts = urlsplit(link)
        host = parts.hostname or ""
    except ValueError:
        raise ValueError(f"{link[:60]} is not a web address.") from None
    if parts.scheme.lower() != "https":
        raise ValueError("Links must start with https:// (secure web addresses only).")
    if "." not in host or host.startswith(".") or host.endswith("."):
        raise ValueError("A link needs a full host name, such as https://example.com/you.")
    if parts.username is not None or parts.password is not None:
        raise ValueError("A link cannot hold a user name or password.")
    return link


def profile_of(user: User) -> ProducerProfile:
    """The user's profile row, made empty on first use."""
    profile = db.session.get(ProducerProfile, user.id)
    if profile is None:
        profile = ProducerProfile(user_id=user.id, bio="", links=[])
        db.session.add(profile)
    return profile


def update_profile(user: User, *, handle: str | None, display_name: str, bio: str, links: list[str]) -> User:
    """Set the whole public profile. A handle another account holds, in any case, is a 409;
    a handle given up is free for anyone at once (see README: Producer profiles)."""
    _claim_handle(user, handle)
    user.display_name = display_name.strip()
    profile = profile_of(user)
    profile.bio = bio.strip()
    profile.links = list(links)
    db.session.flush()
    return user


def _claim_handle(user: User, written: str | None) -> None:
    if written is None or not written.strip():
        user.handle = user.handle_key = None
        return
    try:
        handle = check_handle(written)
    except HandleRefused as refusal:
        raise ValidationFailed(details={"handle": [str(refusal)]}) from None
    key = handle_key(handle)
    holder = db.session.scalar(select(User.id).where(User.handle_key == key))
    if holder is not None and holder != user.id:
        raise _taken(handle)
    user.handle, user.handle_key = handle, key
    try:
        # In a savepoint: when another account claimed it meanwhile, the unique index refuses
        # this one, and the session stays usable for the 409.
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise _taken(handle) from None


def _taken(handle: str) -> Conflict:
    return Conflict(f"@{handle} is already someone's handle; choose another one.", code="handle_taken",
                    details={"field": "handle"})


def upload_avatar(user: User, image: Path) -> ProducerProfile:
    """Check the image as covers are checked, store its square renditions, and use them."""
    config = current_app.config
    profile = profile_of(user)
    with tempfile.TemporaryDirectory(prefix="avatar-", dir=config.get("UPLOAD_TMP_DIR")) as folder:
        renditions = render_covers(image, Path(folder), max_bytes=config["COVER_MAX_BYTES"],
                                   max_side=config["COVER_MAX_SIDE"], max_pixels=config["COVER_MAX_PIXELS"],
                                   sizes=AVATAR_SIZES, noun="avatar", field="file", square=True)
        version = (profile.avatar_version or 0) + 1
        for size, rendition in renditions.items():
            with open(rendition, "rb") as stream:
                key = save_in_transaction(f"avatars/{user.id}/{version}/{size}.jpg", stream,
                                          COVER_CONTENT_TYPE).key
            if size == AVATAR_LARGE:
                profile.avatar_key = key
    profile.avatar_version = version
    db.session.flush()
    return profile


def avatar_of(user: User) -> ProducerProfile | None:
    """The user's profile when it has an avatar."""
    profile = db.session.get(ProducerProfile, user.id)
    return profile if profile is not None and profile.avatar_key else None


def avatar_key(profile: ProducerProfile, size: int) -> str:
    """The stored key of the avatar's rendition of this size."""
    return profile.avatar_key.removesuffix(f"/{AVATAR_LARGE}.jpg") + f"/{size}.jpg"


def public_user(handle: str) -> User:
    """The active account with this handle; closed and suspended accounts have no public page."""
    user = db.session.scalar(select(User).where(User.handle_key == handle_key(handle.removeprefix("@"))))
    if user is None or user.status != UserStatus.ACTIVE:
        raise NotFound(f"Nobody has the handle @{handle[:40]}.", code="profile_not_found")
    return user


def profile_document(user: User) -> dict[str, Any]:
    profile = db.session.get(ProducerProfile, user.id)
    avatar_url = None
    if profile is not None and profile.avatar_key and user.handle:
        avatar_url = f"/api/v1/profiles/{user.handle}/avatar?v={profile.avatar_version}"
    return {"handle": user.handle, "display_name": user.display_name,
            "bio": profile.bio if profile else "", "links": list(profile.links) if profile else [],
            "avatar_url": avatar_url}


def public_profile_document(user: User) -> dict[str, Any]:
    return {**profile_document(user), "beats": _listed_beats_of(user), "credits": _credits_of(user)}


def _listed() -> Any:
    """Beats in the store: published, of an active beatmaker (as the store's listings)."""
    return (select(Beat).join(User, User.id == Beat.owner_id)
            .where(Beat.status == BeatStatus.PUBLISHED, User.status == UserStatus.ACTIVE))


def _beat_summary(beat: Beat) -> dict[str, Any]:
    price = None
    if beat.price_from_amount is not None:
        price = {"amount": beat.price_from_amount, "currency": beat.price_currency}
    return {"id": beat.id, "title": beat.title, "bpm": beat.bpm, "genre": beat.genre, "price_from": price,
            "cover_url": f"/api/v1/beats/{beat.id}/cover?size=400" if beat.cover_key else None,
            "beatmaker": {"id": beat.owner_id, "display_name": beat.owner.display_name,
                          "handle": beat.owner.handle}}


def _listed_beats_of(user: User) -> list[dict[str, Any]]:
    beats = db.session.scalars(_listed().where(Beat.owner_id == user.id)
                               .order_by(Beat.published_at.desc(), Beat.id.desc()).limit(PAGE_ITEMS))
    return [_beat_summary(beat) for beat in beats]


def _credits_of(user: User) -> list[dict[str, Any]]:
    """The person's credits on other beatmakers' beats in the store, one entry per beat."""
    # Only an accepted credit links an account (the database checks it): a pending one is a typed name.
    credited = (select(BeatCredit.beat_id).where(BeatCredit.user_id == user.id)
                .group_by(BeatCredit.beat_id).subquery())
    beats = list(db.session.scalars(
        _listed().where(Beat.id.in_(select(credited.c.beat_id)), Beat.owner_id != user.id)
        .order_by(Beat.published_at.desc(), Beat.id.desc()).limit(PAGE_ITEMS)))
    documents = []
    for beat in beats:
        roles = list(dict.fromkeys(credit.role for credit in beat.credits if credit.user_id == user.id))
        documents.append({"roles": roles, "role_labels": [ROLE_LABELS[role] for role in roles],
                          "beat": _beat_summary(beat)})
    return documents


def handle_availability(written: str, asker: User | None) -> dict[str, Any]:
    """Whether a handle may be claimed, and if not why, for a form to say so while it is typed."""
    try:
        handle = check_handle(written)
    except HandleRefused as refusal:
        return {"handle": written.strip().removeprefix("@")[:60], "available": False, "reason": str(refusal)}
    holder = db.session.scalar(select(User.id).where(User.handle_key == handle_key(handle)))
    if holder is not None and (asker is None or holder != asker.id):
        return {"handle": handle, "available": False, "reason": _taken(handle).message}
    return {"handle": handle, "available": True, "reason": None}
