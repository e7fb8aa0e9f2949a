"""Leak tracing: which license a suspect audio file was delivered under, from the inaudible
mark in every lease's MP3 (see audio/WATERMARK.md).

The detector is informed: it first recognises the beat among the masters of marked licenses
(the suspect is aligned to each), then scores the marks of that beat's licenses. A license is
named only when its score is far beyond chance and clear of every other license of the beat;
otherwise the answer is "no mark found", never a guess.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
from sqlalchemy import select

from marketplace.audio import watermark
from marketplace.audio.errors import AudioProcessingFailed
from marketplace.catalog.models import Beat, BeatFile
from marketplace.db import db
from marketplace.common.errors import AppError
from marketplace.licensing.models import License, LicenseFile
from marketplace.storage.service import storage

# The suspect must resemble a master this much (normalised correlation) to be that beat.
SIMILARITY_MIN = 0.4
SHORTEST_SECONDS = 5


class NotAudio(AppError):
    status = 422
    code = "not_audio"
    message = "This file could not be read as audio. Upload an MP3, AAC, WAV, FLAC or OGG file."


class TooShort(AppError):
    status = 422
    code = "audio_too_short"
    message = f"This recording is too short to trace: it takes at least {SHORTEST_SECONDS} seconds."


@dataclasses.dataclass(frozen=True)
class Trace:
    found: bool
    license: License | None = None
    beat_title: str | None = None  # the beat recognised, even when no mark is found
    z_score: float | None = None
    chance: float | None = None  # how likely so high a score is without the mark
    similarity: float | None = None
    offset_seconds: float | None = None  # where in the master the suspect starts

    @property
    def confidence(self) -> float | None:
        return None if self.chance is None else 1.0 - self.chance


def trace_file(path: Path) -> Trace:
    suspect = _decode_mono(path)
    if len(suspect) < SHORTEST_SECONDS * watermark.RATE:
        raise TooShort()
    recognised = _recognise(suspect)
    if recognised is None:
        return Trace(found=False)
    master, alignments, licenses = recognised
    title = licenses[0].beat_snapshot.get("title")
    seeds = {lic.id: bytes.fromhex(lic.watermark_seed) for lic in licenses}
    detection = watermark.detect(suspect, master, seeds, alignments)
    best = max(detection.scores.values())
    chance = watermark.chance_probability(best, len(seeds) * detection.places)
    common = {"beat_title": title, "z_score": round(best, 2), "similarity": round(detection.alignment.similarity, 3),
              "offset_seconds": round(detection.alignment.offset / watermark.RATE, 2)}
    # Named only far beyond chance and clear of the beat's other licenses (watermark.decide).
    named = watermark.decide(detection)
    if named is None:
        return Trace(found=False, **common)
    return Trace(found=True, license=db.session.get(License, named), chance=chance, **common)


def _decode_mono(path: Path) -> np.ndarray:
    try:
        return watermark.mono_mix(watermark.decode(path))
    except (AudioProcessingFailed, ValueError):
        raise NotAudio() from None


def _recognise(suspect: np.ndarray) -> tuple[np.ndarray, list[watermark.Alignment], list[License]] | None:
    """The master the suspect was made from, where it fits, and that master's marked licenses."""
    best = None
    for key, licenses in _marked_masters().items():
        with storage().local_copy(key) as local:
            master = watermark.mono_mix(watermark.decode(local))
        alignments = watermark.align(suspect, master)
        if alignments[0].similarity >= SIMILARITY_MIN and (best is None
                                                            or alignments[0].similarity > best[1][0].similarity):
            best = (master, alignments, licenses)
    return best


def _marked_masters() -> dict[str, list[License]]:
    """Licenses whose delivered MP3 carries a mark, by the stored master it was made from."""
    rows = db.session.execute(
        select(License, LicenseFile.source_file_id, Beat.master_key)
        .join(LicenseFile, LicenseFile.license_id == License.id).join(Beat, Beat.id == License.beat_id)
        .where(License.watermark_seed.is_not(None), LicenseFile.kind == "mp3", LicenseFile.key.is_not(None))
        .order_by(License.issued_at))
    by_master: dict[str, list[License]] = {}
    for license_, source_file_id, beat_master in rows:
        key = db.session.get(BeatFile, source_file_id).key if source_file_id else beat_master
        by_master.setdefault(key, []).append(license_)
    return by_master


def trace_document(trace: Trace) -> dict:
    """The answer as the API, the admin page and the command line show it."""
    license_ = trace.license
    issued: dt.datetime | None = license_.issued_at if license_ else None
    return {
        "found": trace.found,
        "license_number": license_.license_number if license_ else None,
        "license_id": license_.id if license_ else None,
        "buyer_name": license_.buyer_name if license_ else None,
        "buyer_id": license_.buyer_id if license_ else None,
        "issued_at": issued,
        "beat_title": trace.beat_title,
        "z_score": trace.z_score,
        "confidence": trace.confidence,
        "chance": trace.chance,
        "similarity": trace.similarity,
        "offset_seconds": trace.offset_seconds,
    }
