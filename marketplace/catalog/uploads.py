"""Beat uploads: every file is checked for what it really is before the beat exists, then
streamed to private storage; rendering the preview is left to a background job."""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from flask import current_app

from marketplace.accounts.models import User
from marketplace.accounts.verification import require_verified
from marketplace.audio.errors import AudioRejected
from marketplace.audio.probe import FORMATS, MASTER, VOICE_TAG, AudioInfo, AudioUse, probe_audio
from marketplace.audio.stems import STEM_EXTENSIONS, check_stems_zip
from marketplace.catalog.covers import (
    ACCEPTED_IMAGES,
    COVER_CONTENT_TYPE,
    LARGE,
    WEBP_CONTENT_TYPE,
    render_covers,
    render_webp,
)
from marketplace.catalog.models import Beat
from marketplace.catalog.replacements import record_file
from marketplace.catalog.services import create_beat
from marketplace.common.errors import AppError
from marketplace.jobs.queue import enqueue
from marketplace.storage.service import save_in_transaction

log = logging.getLogger(__name__)

AUDIO_CONTENT_TYPES = {name: audio_format.content_types[0] for name, audio_format in FORMATS.items()}


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
    # The platform's own files (rebuilt stems, cover renditions) are made next to the spooled uploads.
    spool = current_app.config.get("UPLOAD_TMP_DIR")
    with tempfile.TemporaryDirectory(prefix="upload-", dir=spool) as folder:
        return _accept(owner, fields, master, stems, cover, Path(folder))


def rebuild_stems(stems: Path, folder: Path) -> Path:
    """The stems ZIP buyers will receive: made by the platform from the entries it checked."""
    config = current_app.config
    rebuilt = folder / "stems.zip"
    with checked("stems"):
        archive = check_stems_zip(stems, rebuilt, max_entries=config["STEMS_MAX_ENTRIES"],
                                  max_total_bytes=config["STEMS_MAX_UNCOMPRESSED_BYTES"])
    if archive.dropped:
        log.info("stems_entries_dropped",
                 extra={"dropped": len(archive.dropped), "kept": len(archive.entries)})
    return rebuilt


def _accept(owner: User, fields: Mapping[str, Any], master: Path, stems: Path | None, cover: Path | None,
            folder: Path) -> Beat:
    config = current_app.config
    info = probe_master(master)
    if stems is not None:
        stems = rebuild_stems(stems, folder)
    covers, webp_covers = {}, {}
    if cover is not None:
        covers = render_covers(cover, folder, max_bytes=config["COVER_MAX_BYTES"],
                               max_side=config["COVER_MAX_SIDE"], max_pixels=config["COVER_MAX_PIXELS"])
        webp_covers = render_webp(covers[LARGE], folder)

    beat = create_beat(owner, **fields)
    beat.duration_ms = info.duration_ms
    with open(master, "rb") as stream:
        saved = save_in_transaction(f"masters/{beat.id}/master.{info.format}", stream,
                                    AUDIO_CONTENT_TYPES[info.format])
    beat.master_key, beat.master_format, beat.master_lossless = saved.key, info.format, info.lossless
    beat.master_sha256, beat.master_size = saved.sha256, saved.size
    record_file(beat, "master", saved, info)
    if stems is not None:
        with open(stems, "rb") as stream:
            saved = save_in_transaction(f"stems/{beat.id}/stems.zip", stream, "application/zip")
        beat.stems_key, beat.stems_sha256, beat.stems_size = saved.key, saved.sha256, saved.size
        record_file(beat, "stems", saved)
    for size, rendition in covers.items():
        with open(rendition, "rb") as stream:
            key = save_in_transaction(f"covers/{beat.id}/{size}.jpg", stream, COVER_CONTENT_TYPE).key
        if size == LARGE:
            beat.cover_key, beat.cover_content_type = key, COVER_CONTENT_TYPE
    for size, rendition in webp_covers.items():
        with open(rendition, "rb") as stream:
            save_in_transaction(f"covers/{beat.id}/{size}.webp", stream, WEBP_CONTENT_TYPE)
    # Its first render; the sweep queues it again under the same key until a render starts.
    enqueue("catalog.render_preview", beat.id, True, key=f"catalog.first_render:{beat.id}:0")
    return beat


def accepted_formats() -> dict[str, dict[str, Any]]:
    """What each upload field accepts, for pages to filter their file dialogs and check a
    chosen file before sending it. The server checks the content whatever the name says."""
    config = current_app.config
    largest = config["MAX_CONTENT_LENGTH"]
    stem_labels = ", ".join(sorted(extension.lstrip(".").upper() for extension in STEM_EXTENSIONS))
    return {
        "master": _audio_formats(MASTER, largest, (
            f"WAV, AIFF or FLAC at 44.1 kHz or more (sold as WAV), or MP3; mono or stereo, "
            f"{config['AUDIO_MIN_SECONDS']:g} s to {config['AUDIO_MAX_SECONDS'] / 60:g} min.")),
        "stems": {"extensions": [".zip"], "max_bytes": largest,
                  "content_types": ["application/zip", "application/x-zip-compressed"],
                  "description": f"A ZIP of up to {config['STEMS_MAX_ENTRIES']} audio files ({stem_labels}); "
                                 "folders and system files (__MACOSX, dot files) are left out of what buyers "
                                 "receive."},
        "cover": {"extensions": [ext for extensions, _type in ACCEPTED_IMAGES.values() for ext in extensions],
                  "content_types": [content_type for _exts, content_type in ACCEPTED_IMAGES.values()],
                  "max_bytes": config["COVER_MAX_BYTES"],
                  "description": f"JPEG, PNG or WebP, at most {config['COVER_MAX_SIDE']:,} pixels on a side; "
                                 "shown at 1400 and 400 pixels, without its EXIF data."},
        "voice_tag": _audio_formats(VOICE_TAG, largest, (
            f"{VOICE_TAG.labels} at any sample rate, mono or stereo, up to "
            f"{config['VOICE_TAG_MAX_SECONDS']:g} s; stored at 44.1 kHz, quiet recordings raised to a "
            "common loudness.")),
    }


def _audio_formats(use: AudioUse, max_bytes: int, description: str) -> dict[str, Any]:
    formats = [FORMATS[name] for name in use.formats]
    return {"extensions": [ext for f in formats for ext in f.extensions],
            "content_types": [content_type for f in formats for content_type in f.content_types],
            "max_bytes": max_bytes, "description": description}
