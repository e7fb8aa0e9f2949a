"""Background jobs of licensing: the contract, the delivered files, notices to lessees, and
the sweep that finishes any of them a crash interrupted."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import tempfile
from pathlib import Path

from flask import current_app
from sqlalchemy import func, or_, select

from marketplace.accounts.models import User
from marketplace.audio.deliver import encode_mp3, encode_wav, tag_mp3
from marketplace.catalog.models import Beat, BeatFile
from marketplace.collaborators.models import SplitVersion
from marketplace.common.clock import utcnow
from marketplace.common.text import one_line
from marketplace.db import db
from marketplace.jobs.failures import args_key, open_failures
from marketplace.jobs.queue import BUYER, enqueue, job
from marketplace.licensing.certificates import sign_certificate, verification_url
from marketplace.licensing.contracts import (
    CURRENT_TEMPLATE,
    Parties,
    Verification,
    contract_values,
    render_contract_pdf,
    render_contract_text,
)
from marketplace.licensing.models import FreeLicense, License, LicenseFile, TierKind
from marketplace.mail import messages
from marketplace.storage.service import save_atomically, storage

log = logging.getLogger("marketplace.licensing.tasks")
COMPOSER_ROLES = ("songwriter", "composer")


@job("licensing.render_contract", kind="contract", queue=BUYER)
def render_contract(license_id: str) -> None:
    """Render the contract once; a license that has one keeps it forever."""
    # A sold license, or a free download's (its own template: non-profit use of the preview).
    license_ = db.session.get(License, license_id) or db.session.get(FreeLicense, license_id)
    if license_ is None or license_.contract_key is not None:
        return
    template = CURRENT_TEMPLATE[license_.kind]
    versions = select(Beat.id).where(Beat.version_of_id == license_.beat_id)
    earlier = db.session.scalar(select(func.count(License.id)).where(
        or_(License.beat_id == license_.beat_id, License.beat_id.in_(versions)),
        License.kind == TierKind.LEASE, License.status == "active",
        License.issued_at < license_.issued_at)) or 0
    # A free license names no split version: nobody is paid for it.
    split_version_id = getattr(license_, "split_version_id", None)
    split_version = db.session.get(SplitVersion, split_version_id) if split_version_id else None
    text = render_contract_text(template, contract_values(license_, earlier, _parties(license_), split_version))
    with tempfile.TemporaryDirectory(prefix="contract-") as folder:
        pdf = Path(folder) / "contract.pdf"
        render_contract_pdf(text, pdf, f"License {license_.license_number}",
                            Verification(license_.license_number, verification_url(license_.license_number)))
        sha256 = save_atomically(pdf, f"contracts/{license_.id}.pdf", "application/pdf").sha256
    license_.contract_key, license_.contract_template, license_.contract_sha256 = (
        f"contracts/{license_.id}.pdf", template, sha256)
    db.session.commit()


def _parties(license_: License) -> Parties:
    """How to reach each party (their account email at issue) and what the platform states."""
    seller, buyer = db.session.get(User, license_.seller_id), db.session.get(User, license_.buyer_id)
    config = current_app.config
    return Parties(licensor_contact=seller.email, licensee_contact=buyer.email,
                   platform=config["PLATFORM_NAME"], governing_law=config["CONTRACT_GOVERNING_LAW"])


def download_name(license_: License, extension: str) -> str:
    # one_line also drops direction overrides, which could show "evil\u202egnp.exe" as "evilexe.png".
    title = one_line(license_.beat_snapshot["title"])
    title = re.sub(r'[\x00-\x1f\\/:*?"<>|]+', " ", title).strip()[:80] or "beat"
    return f"{title} ({license_.license_number}).{extension}"


@job("licensing.build_files", kind="delivery", queue=BUYER)
def build_files(license_id: str) -> None:
    """Build each deliverable not built yet (MP3 320 with license tags, WAV, stems), then sign
    the license's certificate, which states their checksums."""
    license_ = db.session.get(License, license_id)
    if license_ is None:
        return
    beat = db.session.get(Beat, license_.beat_id)
    for delivered in license_.files:
        if delivered.key is None:
            _build(delivered, license_, beat)
            delivered.ready_at = utcnow()
            db.session.commit()
    if sign_certificate(license_):
        db.session.commit()


@dataclasses.dataclass(frozen=True)
class Source:
    """The stored file a delivered file is made from."""

    key: str
    sha256: str | None
    size: int | None
    audio_format: str | None = None


def _source(delivered: LicenseFile, beat: Beat) -> Source:
    """The master or stems the license was sold with; licenses sold before files were kept
    per sale name none, and get the beat's (which were never replaced before then)."""
    if delivered.source_file_id is not None:
        row = db.session.get(BeatFile, delivered.source_file_id)
        return Source(row.key, row.sha256, row.size, row.audio_format)
    if delivered.kind == "stems":
        return Source(beat.stems_key, beat.stems_sha256, beat.stems_size)
    return Source(beat.master_key, beat.master_sha256, beat.master_size, beat.master_format)


def _build(delivered: LicenseFile, license_: License, beat: Beat) -> None:
    source = _source(delivered, beat)
    if delivered.kind == "stems":
        delivered.key, delivered.sha256, delivered.size = source.key, source.sha256, source.size
        delivered.filename = download_name(license_, "zip")
        return
    if delivered.kind == "wav" and source.audio_format == "wav":
        # The master itself: delivered as uploaded, bit for bit.
        delivered.key, delivered.sha256, delivered.size = source.key, source.sha256, source.size
        delivered.filename = download_name(license_, "wav")
        return
    extension = "mp3" if delivered.kind == "mp3" else "wav"
    key = f"deliveries/{license_.id}/{delivered.kind}.{extension}"
    with tempfile.TemporaryDirectory(prefix="delivery-") as folder, \
            storage().local_copy(source.key) as master:
        out = Path(folder) / f"delivery.{extension}"
        if delivered.kind == "mp3":
            seed = bytes.fromhex(license_.watermark_seed) if license_.watermark_seed else None
            encode_mp3(master, out, mark_seed=seed)
            _tag(out, license_)
        else:
            encode_wav(master, out)
        saved = save_atomically(out, key, "audio/mpeg" if extension == "mp3" else "audio/wav")
        delivered.sha256, delivered.size = saved.sha256, saved.size
    delivered.key, delivered.filename = key, download_name(license_, extension)


def _tag(path: Path, license_: License) -> None:
    credits = license_.credits
    snapshot = license_.beat_snapshot
    tag_mp3(path, title=one_line(snapshot["title"]), artist=one_line(snapshot["beatmaker"]),
            involved_people=[(c["role"].replace("_", " "), one_line(c["name"])) for c in credits],
            composers=[one_line(c["name"]) for c in credits if c["role"] in COMPOSER_ROLES],
            license_number=license_.license_number, credit_line=one_line(license_.terms["credit_line"]))


@job("licensing.notify_exclusive_sold", kind="email", queue=BUYER)
def notify_exclusive_sold(lease_id: str, sold_at: str) -> None:
    """Tell a lessee once, however often the job runs (retries, redeliveries)."""
    lease = db.session.get(License, lease_id, with_for_update=True)
    buyer = db.session.get(User, lease.buyer_id) if lease else None
    if buyer is None or lease.exclusive_notice_sent_at is not None:
        return
    day = dt.datetime.fromisoformat(sold_at).strftime("%B %d, %Y")
    messages.send("exclusive_sold", buyer, {
        "title": lease.beat_snapshot["title"], "day": day, "license_number": lease.license_number,
        "license_link": f"{messages.public_base_url()}/licenses/{lease.id}"})
    lease.exclusive_notice_sent_at = utcnow()
    db.session.commit()


@job("licensing.sweep", every_seconds=300)
def sweep_licenses() -> int:
    """Re-queue contracts, files and certificates that a crash left unfinished (older than 10
    minutes; licenses sold before certificates existed get theirs too). Work whose job failed
    every retry waits for an admin instead (see jobs.failures)."""
    cutoff = utcnow() - dt.timedelta(minutes=10)
    active = (License.issued_at < cutoff, License.status == "active")
    unfinished = {
        "licensing.render_contract": [*db.session.scalars(
            select(License.id).where(*active, License.contract_key.is_(None))), *db.session.scalars(
            # Free licenses too: their file and certificate are made at once, their document by this job.
            select(FreeLicense.id).where(FreeLicense.issued_at < cutoff, FreeLicense.status == "active",
                                         FreeLicense.contract_key.is_(None)))],
        "licensing.build_files": list(db.session.scalars(
            select(License.id).outerjoin(LicenseFile).where(
                *active, or_(LicenseFile.key.is_(None), License.certificate.is_(None))).distinct())),
    }
    waiting_for_admin = open_failures(list(unfinished))
    queued = set()
    for name, license_ids in unfinished.items():
        for license_id in license_ids:
            if (name, args_key([license_id])) not in waiting_for_admin:
                enqueue(name, license_id)
                queued.add(license_id)
    db.session.commit()
    return len(queued)
