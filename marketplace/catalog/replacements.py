"""Replacing a beat's files after upload: the master, the stems ZIP and the cover.

The beat keeps its id, its offers and its sales. Each new file passes the checks of an upload
before anything is stored, so a refused file leaves the old one in place. Files are stored
under keys of their own, never over the old ones: licenses already sold deliver the master
and stems they were sold with (see BeatFile), new sales get the new ones. A new master waits
(a pending replacement) until its watermarked preview is rendered, then takes over together
with it; its owner may cancel it, or try again when the render failed. Services flush, never
commit.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import User
from marketplace.accounts.verification import require_verified
from marketplace.audio.probe import AudioInfo
from marketplace.catalog import lifecycle
from marketplace.catalog.covers import (
    COVER_CONTENT_TYPE,
    LARGE,
    WEBP_CONTENT_TYPE,
    WEBP_SIZES,
    render_covers,
    render_webp,
    rendition_key,
    webp_rendition_key,
)
from marketplace.catalog.lifecycle import BeatStatus
from marketplace.catalog.models import Beat, BeatFile
from marketplace.catalog.services import get_owned_beat
from marketplace.common.ids import new_id
from marketplace.db import db
from marketplace.common.errors import Conflict, NotFound
from marketplace.jobs.queue import enqueue
from marketplace.storage.base import StoredFile
from marketplace.storage.service import delete_after_commit, save_in_transaction

REPLACEMENT_PENDING, REPLACEMENT_FAILED = "pending", "failed"


class NothingToRetry(Conflict):
    code = "nothing_to_retry"
    message = "Nothing of this beat failed to process: there is nothing to try again."


class NoReplacement(NotFound):
    code = "no_replacement"
    message = "No new master is waiting to replace this beat's: there is nothing to cancel."


class HeldByModeration(Conflict):
    code = "beat_taken_down"
    message = "This beat is held out of the store by moderation; its files cannot be replaced."


# -- the files of a beat ---------------------------------------------------------------------

def record_file(beat: Beat, kind: str, saved: StoredFile, info: AudioInfo | None = None,
                replacement: str | None = None, file_id: str | None = None) -> BeatFile:
    """The row of a master or stems ZIP just stored for `beat`."""
    row = BeatFile(id=file_id or new_id("bf"), beat_id=beat.id, kind=kind, key=saved.key, sha256=saved.sha256,
                   size=saved.size, audio_format=info.format if info else None,
                   lossless=bool(info and info.lossless), duration_ms=info.duration_ms if info else None,
                   replacement=replacement)
    db.session.add(row)
    return row


def current_file(beat: Beat, kind: str) -> BeatFile | None:
    """The row of the beat's current master or stems (None for a beat without that file)."""
    key = beat.master_key if kind == "master" else beat.stems_key
    if key is None:
        return None
    return db.session.scalar(select(BeatFile).where(BeatFile.key == key))


def waiting_replacement(beat: Beat) -> BeatFile | None:
    return db.session.scalar(select(BeatFile).where(BeatFile.beat_id == beat.id,
                                                    BeatFile.replacement.is_not(None)))


def replacement_preview_keys(beat_id: str, file_id: str) -> tuple[str, str]:
    """Where a replacing master's preview and waveform are rendered: keys of their own, so the
    beat's current preview plays on untouched until the new one takes over."""
    return f"previews/{beat_id}/{file_id}.mp3", f"waveforms/{beat_id}/{file_id}.json"


def files_document(beat: Beat) -> dict[str, Any]:
    """What the owner sees of the beat's files: current master and stems, and any master
    waiting to replace the current one."""
    waiting = waiting_replacement(beat)
    master = stems = None
    if beat.master_key is not None:
        master = {"format": beat.master_format, "lossless": bool(beat.master_lossless),
                  "size": beat.master_size, "sha256": beat.master_sha256, "duration_ms": beat.duration_ms,
                  "uploaded_at": _uploaded_at(current_file(beat, "master"))}
    if beat.stems_key is not None:
        stems = {"size": beat.stems_size, "sha256": beat.stems_sha256,
                 "uploaded_at": _uploaded_at(current_file(beat, "stems"))}
    replacement = None
    if waiting is not None:
        replacement = {"status": waiting.replacement, "failure_reason": waiting.failure_reason,
                       "format": waiting.audio_format, "lossless": waiting.lossless, "size": waiting.size,
                       "sha256": waiting.sha256, "duration_ms": waiting.duration_ms,
                       "uploaded_at": waiting.created_at.isoformat()}
    return {"beat_id": beat.id, "status": beat.status, "failure_reason": beat.failure_reason,
            "master": master, "stems": stems,
            "cover_url": f"/api/v1/beats/{beat.id}/cover" if beat.cover_key else None,
            "replacement": replacement, "can_retry": _can_retry(beat, waiting)}


def _uploaded_at(row: BeatFile | None) -> str | None:
    return row.created_at.isoformat() if row is not None else None


def _can_retry(beat: Beat, waiting: BeatFile | None) -> bool:
    failed_replacement = waiting is not None and waiting.replacement == REPLACEMENT_FAILED
    return failed_replacement or beat.status == BeatStatus.FAILED


# -- replacing ---------------------------------------------------------------------------------

def _replaceable(beat_id: str, owner: User) -> Beat:
    """The owner's beat, if its files may be replaced: checked before a file is looked at, so
    a stranger learns nothing from how their file would be judged."""
    beat = get_owned_beat(beat_id, owner)
    require_verified(owner, "put beats up for sale")
    if beat.status == BeatStatus.TAKEN_DOWN:
        raise HeldByModeration()
    return beat


def _locked(beat: Beat) -> Beat:
    """The beat, locked and read again: a sale issuing a license reads its files under the
    same lock, and moderation may have taken it down while the file was checked."""
    beat = db.session.get(Beat, beat.id, with_for_update=True, populate_existing=True)
    if beat.status == BeatStatus.TAKEN_DOWN:
        raise HeldByModeration()
    return beat


def replace_master(owner: User, beat_id: str, master: Path) -> Beat:
    """Check and store a new master as a pending replacement, and queue its preview. A master
    already waiting (or failed) gives way to this one."""
    from marketplace.catalog.uploads import AUDIO_CONTENT_TYPES, probe_master  # noqa: PLC0415 - uploads builds on this

    beat = _replaceable(beat_id, owner)
    info = probe_master(master)
    beat = _locked(beat)
    _drop_replacement(beat)
    file_id = new_id("bf")
    with open(master, "rb") as stream:
        saved = save_in_transaction(f"masters/{beat.id}/{file_id}/master.{info.format}", stream,
                                    AUDIO_CONTENT_TYPES[info.format])
    record_file(beat, "master", saved, info, replacement=REPLACEMENT_PENDING, file_id=file_id)
    db.session.flush()
    enqueue("catalog.render_replacement", file_id)
    return beat


def replace_stems(owner: User, beat_id: str, stems: Path) -> Beat:
    """Check, rebuild and store a new stems ZIP; it is the beat's at once (stems have no preview)."""
    from marketplace.catalog.uploads import rebuild_stems  # noqa: PLC0415 - uploads builds on this

    beat = _replaceable(beat_id, owner)
    spool = current_app.config.get("UPLOAD_TMP_DIR")
    with tempfile.TemporaryDirectory(prefix="stems-", dir=spool) as folder:
        rebuilt = rebuild_stems(stems, Path(folder))
        beat = _locked(beat)
        file_id = new_id("bf")
        with open(rebuilt, "rb") as stream:
            saved = save_in_transaction(f"stems/{beat.id}/{file_id}/stems.zip", stream, "application/zip")
    old = current_file(beat, "stems")
    record_file(beat, "stems", saved, file_id=file_id)
    beat.stems_key, beat.stems_sha256, beat.stems_size = saved.key, saved.sha256, saved.size
    db.session.flush()
    if old is not None:
        enqueue("catalog.forget_replaced_file", old.id)
    return beat


def replace_cover(owner: User, beat_id: str, cover: Path) -> Beat:
    """Check and render a new cover; its renditions take the old ones' place at once."""
    beat = _replaceable(beat_id, owner)
    config = current_app.config
    spool = config.get("UPLOAD_TMP_DIR")
    with tempfile.TemporaryDirectory(prefix="cover-", dir=spool) as folder:
        renditions = render_covers(cover, Path(folder), max_bytes=config["COVER_MAX_BYTES"],
                                   max_side=config["COVER_MAX_SIDE"], max_pixels=config["COVER_MAX_PIXELS"])
        beat = _locked(beat)
        version = new_id("cv")
        stored = {}
        for size, rendition in renditions.items():
            with open(rendition, "rb") as stream:
                stored[size] = save_in_transaction(f"covers/{beat.id}/{version}/{size}.jpg", stream,
                                                   COVER_CONTENT_TYPE).key
        # The WebP renditions sit beside the JPEGs, where webp_rendition_key looks for them.
        for size, rendition in render_webp(renditions[LARGE], Path(folder)).items():
            with open(rendition, "rb") as stream:
                save_in_transaction(f"covers/{beat.id}/{version}/{size}.webp", stream, WEBP_CONTENT_TYPE)
    if beat.cover_key is not None:
        old_keys = [beat.cover_key, *(rendition_key(beat.cover_key, size) for size in renditions)]
        old_keys += [key for size in WEBP_SIZES if (key := webp_rendition_key(beat.cover_key, size))]
        for old in dict.fromkeys(old_keys):  # covers stored before renditions are one file
            delete_after_commit(old)
    beat.cover_key, beat.cover_content_type = stored[LARGE], COVER_CONTENT_TYPE
    db.session.flush()
    return beat


def swap_in_master(beat: Beat, replacement: BeatFile) -> None:
    """The replacement becomes the beat's master (its preview is ready); the old master is
    deleted later, unless a license still delivers it."""
    old = current_file(beat, "master")
    beat.master_key, beat.master_format, beat.master_lossless = (
        replacement.key, replacement.audio_format, replacement.lossless)
    beat.master_sha256, beat.master_size = replacement.sha256, replacement.size
    beat.duration_ms = replacement.duration_ms
    replacement.replacement, replacement.failure_reason = None, None
    db.session.flush()
    if old is not None:
        enqueue("catalog.forget_replaced_file", old.id)


# -- cancelling and trying again --------------------------------------------------------------

def cancel_replacement(owner: User, beat_id: str) -> Beat:
    """Cancel the master waiting to replace the beat's: the beat stays as it was. A render
    under way finds it gone and throws its preview away."""
    beat = get_owned_beat(beat_id, owner)
    beat = db.session.get(Beat, beat.id, with_for_update=True, populate_existing=True)
    if not _drop_replacement(beat):
        raise NoReplacement()
    db.session.flush()
    return beat


def _drop_replacement(beat: Beat) -> bool:
    waiting = waiting_replacement(beat)
    if waiting is None:
        return False
    db.session.delete(waiting)
    db.session.flush()
    delete_after_commit(waiting.key)
    return True


def retry_processing(owner: User, beat_id: str) -> Beat:
    """Render again what failed: a replacing master whose preview failed, or else a beat whose
    first processing failed (it goes back to processing and is published when it renders)."""
    beat = get_owned_beat(beat_id, owner)
    beat = db.session.get(Beat, beat.id, with_for_update=True, populate_existing=True)
    waiting = waiting_replacement(beat)
    if waiting is not None and waiting.replacement == REPLACEMENT_FAILED:
        waiting.replacement, waiting.failure_reason = REPLACEMENT_PENDING, None
        db.session.flush()
        enqueue("catalog.render_replacement", waiting.id)
        return beat
    if beat.status != BeatStatus.FAILED or beat.master_key is None:
        raise NothingToRetry()
    lifecycle.move(beat, BeatStatus.PROCESSING)
    db.session.flush()
    # The attempts go on counting, so the sweep's own keys for this beat are never used twice.
    enqueue("catalog.render_preview", beat.id, True,
            key=f"catalog.first_render:{beat.id}:retry:{beat.processing_attempts}:{new_id('rt')}")
    return beat


# -- forgetting replaced files ----------------------------------------------------------------

def forget_if_unused(file_id: str) -> bool:
    """Delete a replaced master or stems ZIP (its row now, its file once that commits), unless
    it is still the beat's or still waiting. A license naming it keeps it: the foreign key of
    its delivered files refuses the delete, whatever the code does. The beat is locked as a
    sale locks it, so no license can start naming the file meanwhile."""
    row = db.session.get(BeatFile, file_id)
    if row is None:
        return False
    beat = db.session.get(Beat, row.beat_id, with_for_update=True, populate_existing=True)
    if row.replacement is not None or row.key in (beat.master_key, beat.stems_key):
        return False
    key = row.key
    try:
        with db.session.begin_nested():
            db.session.delete(row)
    except IntegrityError:
        return False  # sold with a license: kept as long as the license is
    delete_after_commit(key)
    return True
