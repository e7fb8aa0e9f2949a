"""Producer tags: the audio a beatmaker has mixed over their previews, and where it lands."""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from marketplace.accounts.models import User
from marketplace.audio import DEFAULT_TAG_PATH
from marketplace.audio.errors import AudioProcessingFailed
from marketplace.audio.preview import TagPlacement, TagSilent, normalise_tag
from marketplace.audio.probe import VOICE_TAG, probe_audio
from marketplace.catalog.lifecycle import BeatStatus
from marketplace.catalog.models import Beat, VoiceTag
from marketplace.catalog.uploads import checked
from marketplace.common.clock import utcnow
from marketplace.common.ratelimit import rate_limits
from marketplace.db import db
from marketplace.common.errors import AppError, RateLimited, ValidationFailed
from marketplace.jobs.queue import enqueue
from marketplace.storage.service import save_in_transaction, storage

DEFAULT_TAG_MS = 2769  # the platform tag's length, for placement checks without a custom tag
# Beats whose previews follow the tag: all that have (or are getting) a preview.
RENDERED_STATUSES = (BeatStatus.PROCESSING, BeatStatus.PUBLISHED, BeatStatus.ARCHIVED,
                     BeatStatus.TAKEN_DOWN, BeatStatus.SOLD_EXCLUSIVE)


def voice_tag_for(user_id: str) -> VoiceTag:
    """The user's tag settings; the defaults (not yet stored) when they never set any."""
    existing = db.session.get(VoiceTag, user_id)
    return existing or VoiceTag(user_id=user_id, tag_key=None, duration_ms=None, interval_seconds=30.0,
                                gain_db=0.0, first_at_seconds=0.0)


def placement(tag: VoiceTag) -> TagPlacement:
    return TagPlacement(interval_seconds=tag.interval_seconds, gain_db=tag.gain_db,
                        first_at_seconds=tag.first_at_seconds)


@contextlib.contextmanager
def tag_audio(tag: VoiceTag) -> Iterator[Path]:
    """A local path to the tag's audio: the beatmaker's own, or the platform's default."""
    if tag.tag_key is None:
        yield DEFAULT_TAG_PATH
        return
    with storage().local_copy(tag.tag_key) as path:
        yield path


def upload_tag(user: User, path: Path) -> VoiceTag:
    config = current_app.config
    _count_change(user)
    with checked("file"):
        info = probe_audio(path, min_seconds=0.3, max_seconds=config["VOICE_TAG_MAX_SECONDS"], use=VOICE_TAG)
    tag = _stored(user)
    _check_fits(info.duration_ms, tag.interval_seconds)
    # A new key each time: renders already running keep reading the tag they started with.
    key = f"voice-tags/{user.id}/{secrets.token_hex(8)}.wav"
    with tempfile.TemporaryDirectory(prefix="tag-") as folder:
        wav = Path(folder) / "tag.wav"
        try:
            normalise_tag(path, wav, channels=info.channels, max_seconds=config["VOICE_TAG_MAX_SECONDS"])
        except AudioProcessingFailed:
            raise AppError("This tag cannot be decoded.", code="unreadable_audio", status=422,
                           details={"field": "file"}) from None
        except TagSilent:
            raise AppError("This tag is silent: nothing in it can be heard. Record it again.",
                           code="tag_silent", status=422, details={"field": "file"}) from None
        with open(wav, "rb") as stream:
            save_in_transaction(key, stream, "audio/wav")
    tag.tag_key, tag.duration_ms = key, info.duration_ms
    rerender_previews(user)
    return tag


def update_placement(user: User, changes: Mapping[str, Any]) -> VoiceTag:
    _count_change(user)
    tag = _stored(user)
    for field in ("interval_seconds", "gain_db", "first_at_seconds"):
        if field in changes:
            setattr(tag, field, changes[field])
    _check_fits(tag.duration_ms or DEFAULT_TAG_MS, tag.interval_seconds)
    rerender_previews(user)
    return tag


def remove_tag(user: User) -> VoiceTag:
    _count_change(user)
    tag = _stored(user)
    tag.tag_key, tag.duration_ms = None, None
    rerender_previews(user)
    return tag


def _count_change(user: User) -> None:
    """Each change renders every preview of the producer again: a limit per producer keeps a
    script (or a hand on the slider) from filling the render queue. 429 when it is reached."""
    try:
        rate_limits().hit(current_app.config["VOICE_TAG_CHANGE_LIMIT"], "voice-tag-change", user.id)
    except RateLimited as limited:
        seconds = limited.details["retry_after_seconds"]
        raise RateLimited(seconds, "Your voice tag was changed too many times in a row, and each change "
                                   f"renders all your previews again. Try again in {seconds} s.") from None


def _stored(user: User) -> VoiceTag:
    tag = voice_tag_for(user.id)
    db.session.add(tag)
    return tag


def _check_fits(tag_ms: int, interval_seconds: float) -> None:
    if tag_ms > interval_seconds * 1000:
        raise ValidationFailed(details={"interval_seconds": [
            f"The tag lasts {tag_ms / 1000:.1f} s, longer than the {interval_seconds:g} s interval."]})


def rerender_previews(user: User) -> int:
    """Queue a new preview for each of the user's beats (after commit), except beats whose
    re-render is queued and not started yet: a render reads the tag settings when it starts, so
    that one will use these (the latest settings win, and 40 changes in a row cost one render
    per beat). Returns how many were queued."""
    db.session.flush()
    beats = Beat.__table__
    now = utcnow()
    # A marker this old belongs to a render that was lost (a broker down at dispatch).
    lost_before = now - dt.timedelta(seconds=current_app.config["PROCESSING_STUCK_AFTER_SECONDS"])
    # The rows are locked (in id order, as everywhere) even when already marked: a render that
    # starts meanwhile clears its marker only after this commits, then reads these settings.
    rows = db.session.execute(
        select(beats.c.id, beats.c.rerender_queued_at)
        .where(beats.c.owner_id == user.id, beats.c.status.in_(RENDERED_STATUSES),
               beats.c.master_key.is_not(None))
        .order_by(beats.c.id).with_for_update()).all()
    beat_ids = [beat_id for beat_id, queued_at in rows if queued_at is None or queued_at < lost_before]
    if beat_ids:
        db.session.execute(update(beats).where(beats.c.id.in_(beat_ids))
                           .values(rerender_queued_at=now, updated_at=beats.c.updated_at))  # not an edit
    for beat_id in beat_ids:
        enqueue("catalog.render_preview", beat_id)
    return len(beat_ids)


def take_queued_rerender(beat_id: str) -> None:
    """Called when a render starts, before it reads the tag settings: changes from now on
    need a render of their own."""
    beats = Beat.__table__
    db.session.execute(update(beats).where(beats.c.id == beat_id, beats.c.rerender_queued_at.is_not(None))
                       .values(rerender_queued_at=None, updated_at=beats.c.updated_at))
