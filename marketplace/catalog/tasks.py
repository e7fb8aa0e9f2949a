"""Background jobs of the catalogue: rendering previews, and the sweep that rescues beats
whose processing was lost (a worker killed, a queue flushed)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import tempfile
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update

from marketplace.audio.errors import AudioProcessingFailed
from marketplace.audio.preview import render_preview
from marketplace.catalog import lifecycle, voice_tags
from marketplace.catalog.lifecycle import BeatStatus
from marketplace.catalog.models import Beat, BeatFile
from marketplace.catalog.replacements import (
    REPLACEMENT_FAILED,
    REPLACEMENT_PENDING,
    forget_if_unused,
    replacement_preview_keys,
    swap_in_master,
)
from marketplace.catalog.services import publish_processed
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.jobs.queue import enqueue, job
from marketplace.storage.base import MissingFile
from marketplace.storage.service import delete_after_commit, save_atomically, storage

log = logging.getLogger("marketplace.catalog.tasks")


def preview_key(beat_id: str) -> str:
    return f"previews/{beat_id}.mp3"


def waveform_key(beat_id: str) -> str:
    return f"waveforms/{beat_id}.json"


@job("catalog.render_preview")
def render_preview_job(beat_id: str, first_render: bool = False) -> None:
    """Render a beat's tagged preview and peaks; publish the beat if it was processing.
    Idempotent: a second run renders the same files and finds the beat already published.
    A `first_render` (of an upload, or queued again by the sweep) is done once: a worker killed
    mid-way has its job delivered again and re-queued by the sweep, and the later of the two
    finds the beat published and leaves it alone.
    Re-renders after a voice tag change are coalesced: this one takes the beat's queued re-render
    before reading the tag, so changes made from now on queue a render of their own."""
    voice_tags.take_queued_rerender(beat_id)
    db.session.commit()
    beat = db.session.get(Beat, beat_id)
    if beat is None or beat.master_key is None or beat.status == BeatStatus.FAILED:
        return
    if first_render and _first_render_done(beat):
        return
    if beat.status == BeatStatus.PROCESSING:
        beat.processing_attempts += 1
        db.session.commit()
    rendered_master = beat.master_key
    try:
        _render_files(beat, rendered_master, preview_key(beat_id), waveform_key(beat_id))
    except (AudioProcessingFailed, MissingFile) as error:
        log.warning("preview_failed", extra={"beat_id": beat_id, "error": str(error)[-500:]})
        _fail(beat_id, "We could not decode this audio to make its preview. Export it again and re-upload.")
        return
    beat = db.session.get(Beat, beat_id, with_for_update=True, populate_existing=True)
    if first_render and _first_render_done(beat):
        db.session.commit()  # another run published it meanwhile, with files as good as these
        return
    if beat.master_key != rendered_master:
        # A replaced master took over while this rendered the old one: render the new one,
        # with the tag settings of now (the replacement's render may have read older ones).
        enqueue("catalog.render_preview", beat_id)
        db.session.commit()
        return
    forget_rendered_files(beat, preview_key(beat_id), waveform_key(beat_id))
    beat.preview_key, beat.waveform_key = preview_key(beat_id), waveform_key(beat_id)
    beat.preview_version += 1
    if beat.status == BeatStatus.PROCESSING:
        publish_processed(beat)
    db.session.commit()


def _first_render_done(beat: Beat) -> bool:
    return beat.status != BeatStatus.PROCESSING and beat.preview_key is not None


def _render_files(beat: Beat, master_key: str, preview_to: str, waveform_to: str,
                  duration_ms: int | None = None) -> None:
    """Render the preview and the waveform of `master_key` (the beat's master, or a master
    replacing it), and move each into place complete."""
    tag = voice_tags.voice_tag_for(beat.owner_id)
    with tempfile.TemporaryDirectory(prefix="render-") as folder, \
            storage().local_copy(master_key) as master, voice_tags.tag_audio(tag) as tag_path:
        out = Path(folder) / "preview.mp3"
        waveform = render_preview(master, tag_path, voice_tags.placement(tag),
                                  duration_ms or beat.duration_ms or 0, out,
                                  title=beat.title, artist=beat.owner.display_name)
        peaks = Path(folder) / "waveform.json"
        peaks.write_text(json.dumps(waveform, separators=(",", ":")))
        save_atomically(out, preview_to, "audio/mpeg")
        save_atomically(peaks, waveform_to, "application/json")


def forget_rendered_files(beat: Beat, preview_to: str, waveform_to: str) -> None:
    """The beat's preview and waveform files give way to new ones (stored under other keys
    after a replaced master): the old ones are deleted once the change commits."""
    for old, new in ((beat.preview_key, preview_to), (beat.waveform_key, waveform_to)):
        if old is not None and old != new:
            delete_after_commit(old)


@job("catalog.render_replacement")
def render_replacement(file_id: str) -> None:
    """Render the preview of a master waiting to replace its beat's, then swap both in at once.
    Until then the beat keeps its master and preview; a render that fails leaves them too,
    and says why on the replacement. A replacement cancelled meanwhile is left alone."""
    replacement = db.session.get(BeatFile, file_id)
    if replacement is None or replacement.replacement != REPLACEMENT_PENDING:
        return
    beat = db.session.get(Beat, replacement.beat_id)
    preview_to, waveform_to = replacement_preview_keys(beat.id, file_id)
    try:
        _render_files(beat, replacement.key, preview_to, waveform_to, replacement.duration_ms)
    except (AudioProcessingFailed, MissingFile) as error:
        log.warning("replacement_preview_failed", extra={"beat_id": beat.id, "error": str(error)[-500:]})
        _fail_replacement(file_id, "We could not decode this audio to make its preview. "
                                   "Export it again and replace the master once more.")
        return
    beat = db.session.get(Beat, beat.id, with_for_update=True, populate_existing=True)
    replacement = db.session.get(BeatFile, file_id, populate_existing=True)
    if replacement is None or replacement.replacement != REPLACEMENT_PENDING:
        for key in (preview_to, waveform_to):
            storage().delete(key)  # cancelled while it rendered: the beat stays as it was
        db.session.commit()
        return
    swap_in_master(beat, replacement)
    forget_rendered_files(beat, preview_to, waveform_to)
    beat.preview_key, beat.waveform_key = preview_to, waveform_to
    beat.preview_version += 1
    if beat.status == BeatStatus.FAILED:
        lifecycle.move(beat, BeatStatus.PROCESSING)  # a good master mends a beat that never rendered
    if beat.status == BeatStatus.PROCESSING:
        publish_processed(beat)
    db.session.commit()


def _fail_replacement(file_id: str, reason: str) -> None:
    db.session.rollback()
    replacement = db.session.get(BeatFile, file_id, with_for_update=True, populate_existing=True)
    if replacement is not None and replacement.replacement == REPLACEMENT_PENDING:
        replacement.replacement, replacement.failure_reason = REPLACEMENT_FAILED, reason
    db.session.commit()


@job("catalog.forget_replaced_file")
def forget_replaced_file(file_id: str) -> None:
    """Delete a replaced master or stems ZIP once no license delivers it."""
    forget_if_unused(file_id)
    db.session.commit()


def _fail(beat_id: str, reason: str) -> None:
    db.session.rollback()
    beat = db.session.get(Beat, beat_id, with_for_update=True, populate_existing=True)
    if beat.status == BeatStatus.PROCESSING:
        lifecycle.move(beat, BeatStatus.FAILED)
        beat.failure_reason = reason
    db.session.commit()


@job("catalog.sweep_processing", every_seconds=300)
def sweep_processing() -> int:
    """Re-queue beats stuck in `processing`; fail those that used up their attempts."""
    config = current_app.config
    cutoff = utcnow() - dt.timedelta(seconds=config["PROCESSING_STUCK_AFTER_SECONDS"])
    # Locked, and skipped when a render holds them, so a slow render is not overwritten.
    stuck = list(db.session.scalars(select(Beat).where(Beat.status == BeatStatus.PROCESSING,
                                                       Beat.updated_at < cutoff)
                                    .with_for_update(skip_locked=True)))
    for beat in stuck:
        if beat.processing_attempts >= config["PROCESSING_MAX_ATTEMPTS"]:
            lifecycle.move(beat, BeatStatus.FAILED)
            beat.failure_reason = "Processing did not finish after several attempts. Please upload again."
        else:
            beat.updated_at = utcnow()  # not again until the next cutoff
            enqueue("catalog.render_preview", beat.id, True,  # once per attempt, however often swept
                    key=f"catalog.first_render:{beat.id}:{beat.processing_attempts}")
    lost = _requeue_lost_rerenders(cutoff)
    db.session.commit()
    return len(stuck) + lost


def _requeue_lost_rerenders(cutoff: dt.datetime) -> int:
    """Re-renders queued long ago and never started were lost (a broker down at dispatch): queue
    them again, or those previews would keep an old tag until the producer's next change."""
    beats = Beat.__table__
    lost = list(db.session.scalars(select(beats.c.id).where(beats.c.rerender_queued_at < cutoff)
                                   .order_by(beats.c.id).with_for_update(skip_locked=True)))
    if lost:
        db.session.execute(update(beats).where(beats.c.id.in_(lost))
                           .values(rerender_queued_at=utcnow(), updated_at=beats.c.updated_at))
    for beat_id in lost:
        enqueue("catalog.render_preview", beat_id)
    return len(lost)


def beats_to_reprocess(beat_id: str | None) -> list[str]:
    """The beats `flask audio reprocess` renders: one, or all with a master. Failed beats are
    moved back to processing so that a good render publishes them."""
    query = select(Beat).where(Beat.master_key.is_not(None))
    if beat_id is not None:
        query = query.where(Beat.id == beat_id)
    beats = list(db.session.scalars(query.order_by(Beat.created_at)))
    if beat_id is not None and not beats:
        raise LookupError(f"no beat {beat_id} with a master")
    for beat in beats:
        if beat.status == BeatStatus.FAILED:
            lifecycle.move(beat, BeatStatus.PROCESSING)
            beat.processing_attempts = 0
    return [beat.id for beat in beats]


def is_failed(beat_id: str) -> bool:
    return db.session.get(Beat, beat_id).status == BeatStatus.FAILED
