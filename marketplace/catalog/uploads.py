"""Beat uploads: every file is checked for what it really is before the beat exists, then
streamed to private storage; rendering the preview is left to a background job."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from flask import current_app

from marketplace.accounts.models import User
from marketplace.accounts.verification import require_verified
from marketplace.audio.errors import AudioRejected
from marketplace.audio.probe import AudioInfo, probe_audio
from marketplace.audio.stems import check_stems_zip
from marketplace.catalog.covers import check_cover
from marketplace.catalog.models import Beat
from marketplace.catalog.services import create_beat
from marketplace.errors import AppError
from marketplace.jobs.queue import enqueue
from marketplace.storage.service import save_in_transaction

AUDIO_CONTENT_TYPES = {"wav": "audio/wav", "aiff": "audio/aiff", "flac": "audio/flac", "mp3": "audio/mpeg"}


def rejected(error: AudioRejected, field: str) -> AppError:
    return AppError(error.message, code=error.code, status=error.status, details={"field": field})


@contextlib.contextmanager
def checked(field: str) -> Iterator[None]:
    """Turn a file's rejection into an API error that names the form field."""
    try:
        yield
    except AudioRejected as error:
        raise rejected(error, field) from None


def probe_master(path: Path) -> AudioInfo:
    config = current_app.config
    with checked("file"):
        return probe_audio(path, min_seconds=config["AUDIO_MIN_SECONDS"], max_seconds=config["AUDIO_MAX_SECONDS"])


def accept_beat_upload(owner: User, fields: Mapping[str, Any], master: Path, stems: Path | None,
                       cover: Path | None) -> Beat:
    """Check the files, create the beat in `processing`, store the files, queue the preview."""
    require_verified(owner, "put beats up for sale")
    config = current_app.config
    info = probe_master(master)
    if stems is not None:
        with checked("stems"):
            check_stems_zip(stems, max_entries=config["STEMS_MAX_ENTRIES"],
                            max_total_bytes=config["STEMS_MAX_UNCOMPRESSED_BYTES"])
    cover_type = check_cover(cover, config["COVER_MAX_BYTES"]) if cover is not None else None

    beat = create_beat(owner, **fields)
    beat.duration_ms = info.duration_ms
    with open(master, "rb") as stream:
        saved = save_in_transaction(f"masters/{beat.id}/master.{info.format}", stream,
                                    AUDIO_CONTENT_TYPES[info.format])
    beat.master_key, beat.master_format, beat.master_lossless = saved.key, info.format, info.lossless
    beat.master_sha256, beat.master_size = saved.sha256, saved.size
    if stems is not None:
        with open(stems, "rb") as stream:
            saved = save_in_transaction(f"stems/{beat.id}/stems.zip", stream, "application/zip")
        beat.stems_key, beat.stems_sha256, beat.stems_size = saved.key, saved.sha256, saved.size
    if cover is not None and cover_type is not None:
        content_type, extension = cover_type
        with open(cover, "rb") as stream:
            beat.cover_key = save_in_transaction(f"covers/{beat.id}.{extension}", stream, content_type).key
        beat.cover_content_type = content_type
    enqueue("catalog.render_preview", beat.id, True)  # its first render
    return beat
