"""Issuing licenses at sale: frozen terms, the exclusive rules, files and contract queued.

Called by fulfilment (checkout), inside its transaction. Idempotent: the same sale line
issues one license however often it is fulfilled.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import User
from marketplace.catalog import lifecycle
from marketplace.catalog.credits import PRODUCER_ROLES
from marketplace.catalog.lifecycle import BeatStatus
from marketplace.catalog.models import Beat
from marketplace.catalog.replacements import current_file
from marketplace.collaborators import versions
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.common.errors import Conflict, NotFound
from marketplace.jobs.queue import enqueue
from marketplace.licensing.models import License, LicenseFile, LicenseStatus, LicenseTier, TierKind
from marketplace.licensing.offers import refresh_listing_price, stop_offers

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class ExclusiveUnavailable(Conflict):
    code = "exclusive_unavailable"
    message = "The exclusive rights of this beat are no longer available."


def new_license_number() -> str:
    """"LIC-7K3Q-M9XD-2HPA-WB4E": 80 random bits, so no number can be guessed from another."""
    body = "".join(secrets.choice(_CROCKFORD) for _ in range(16))
    return "LIC-" + "-".join(body[i:i + 4] for i in range(0, 16, 4))


def terms_snapshot(tier: LicenseTier, beat: Beat) -> dict[str, Any]:
    """Everything the contract states, frozen at sale: later edits of the tier change nothing."""
    credit_line = tier.credit_line_template.format(
        credit_line=beat.credit_line, beat_title=beat.title,
        producers=" & ".join(c.name for c in beat.credits if c.role in PRODUCER_ROLES)
        or beat.owner.display_name)
    return {
        "tier_name": tier.name, "kind": tier.kind, "deliverables": tier.deliverables, "limits": tier.limits,
        "term_years": tier.term_years, "credit_line": credit_line,
        "publishing_share_bps": tier.publishing_share_bps, "master_points_bps": tier.master_points_bps,
        "content_id": tier.content_id, "samples": beat.samples,
    }


def credits_snapshot(beat: Beat) -> list[dict[str, Any]]:
    """The credits a sale freezes: those of the split sheet version in force, each naming an
    account only when its holder consented (see collaborators.versions)."""
    return versions.frozen_credits(beat)


def split_version_of(credits: list[dict[str, Any]]) -> str | None:
    """The split sheet version frozen credits came from (None: frozen before split sheets)."""
    return next((c.get("split_version_id") for c in credits if c.get("split_version_id")), None)


def beat_snapshot(beat: Beat) -> dict[str, Any]:
    return {"id": beat.id, "title": beat.title, "bpm": beat.bpm, "key": beat.musical_key,
            "duration_ms": beat.duration_ms, "beatmaker": beat.owner.display_name,
            "beatmaker_id": beat.owner_id, "credit_line": beat.credit_line,
            "master_sha256": beat.master_sha256}


@dataclasses.dataclass(frozen=True)
class Sale:
    """One paid line of an order, as fulfilment hands it over."""

    reference: str  # unique per sale line, e.g. the order line id
    beat_id: str
    tier_id: str
    buyer: User
    price_amount: int
    currency: str
    terms: dict[str, Any] | None = None  # frozen at checkout; taken from the tier when None
    checkout_started_at: dt.datetime | None = None
    # What the buyer checked out, frozen then: later edits of the tier or the credits change
    # nothing. Taken from the tier and the beat when None.
    kind: str | None = None
    credits: list[dict[str, Any]] | None = None


def issue_license(sale: Sale) -> License:
    existing = db.session.scalar(select(License).where(License.sale_reference == sale.reference))
    if existing is not None:
        return existing
    tier = db.session.get(LicenseTier, sale.tier_id)
    kind = sale.kind or (tier.kind if tier is not None else None)
    exclusive = kind == TierKind.EXCLUSIVE
    # Every sale locks the row of the beat's family (the original), then the beat's own, so an
    # exclusive and the leases of any beat of one family are issued one after the other.
    beat = db.session.get(Beat, sale.beat_id)
    if beat is not None and beat.version_of_id is not None:
        db.session.get(Beat, beat.version_of_id, with_for_update=True)
    beat = db.session.get(Beat, sale.beat_id, with_for_update=True, populate_existing=True)
    if beat is None or tier is None or tier.owner_id != beat.owner_id:
        raise NotFound("The beat or tier of this sale does not exist.", code="sale_not_found")
    # Looked up again under the lock: a concurrent fulfilment of this very sale (webhook and
    # success page) may have issued it while this one waited.
    existing = db.session.scalar(select(License).where(License.sale_reference == sale.reference))
    if existing is not None:
        return existing
    if exclusive and (beat.status != BeatStatus.PUBLISHED or _exclusive_sold_at(beat) is not None):
        raise ExclusiveUnavailable()  # rule 1: sold once, ever, even if that sale was refunded
    if exclusive and beat.samples == "uncleared":
        # Declared after the checkout began: such a beat is never sold exclusively.
        raise ExclusiveUnavailable("A beat with uncleared samples cannot be sold exclusively.")
    sold_exclusively = _exclusive_sold_at(beat, standing_only=True)
    if not exclusive and sold_exclusively is not None and not _began_before(sale, sold_exclusively):
        # A lease is honoured only if its checkout began while the beat was still on sale.
        raise ExclusiveUnavailable("This beat was sold exclusively before this purchase began.")
    license_ = License(
        license_number=new_license_number(), sale_reference=sale.reference, beat_id=beat.id, tier_id=tier.id,
        buyer_id=sale.buyer.id, seller_id=beat.owner_id, kind=kind, status=LicenseStatus.ACTIVE,
        buyer_name=sale.buyer.display_name, price_amount=sale.price_amount, currency=sale.currency,
        terms=sale.terms or terms_snapshot(tier, beat),
        credits=sale.credits if sale.credits is not None else credits_snapshot(beat),
        beat_snapshot=beat_snapshot(beat), issued_at=utcnow(),
        # Leases carry a mark in their MP3; an exclusive's files go out unmarked.
        watermark_seed=None if exclusive else secrets.token_hex(32))
    license_.split_version_id = split_version_of(license_.credits)
    # Each file names the beat's master or stems of now: replacing them later changes nothing
    # for this license, and keeps the files it delivers stored.
    sold_with = {kind: current_file(beat, kind) for kind in ("master", "stems")}
    license_.files = [LicenseFile(kind=deliverable, source_file_id=_source_id(sold_with, deliverable))
                      for deliverable in license_.terms["deliverables"]]
    db.session.add(license_)
    try:
        db.session.flush()
    except IntegrityError:
        # The database's one-exclusive-per-beat index answered a race the checks missed.
        raise ExclusiveUnavailable() from None
    if exclusive:
        _close_exclusive(beat, license_)
    enqueue("licensing.render_contract", license_.id)
    enqueue("licensing.build_files", license_.id)
    return license_


def _source_id(sold_with: dict[str, Any], deliverable: str) -> str | None:
    source = sold_with["stems" if deliverable == "stems" else "master"]
    return source.id if source is not None else None


def _exclusive_sold_at(beat: Beat, *, standing_only: bool = False) -> dt.datetime | None:
    """When the exclusive rights of this beat's family (original and versions) were sold. With
    `standing_only`, an exclusive revoked since (refunded, charged back) does not count: it no
    longer keeps leases off sale once an admin has brought the beat back."""
    original_id = beat.version_of_id or beat.id
    family = select(Beat.id).where(or_(Beat.id == original_id, Beat.version_of_id == original_id))
    query = select(License.issued_at).where(License.beat_id.in_(family), License.kind == TierKind.EXCLUSIVE)
    if standing_only:
        query = query.where(License.status != LicenseStatus.REVOKED)
    return db.session.scalar(query.limit(1))


def _began_before(sale: Sale, moment: dt.datetime) -> bool:
    return sale.checkout_started_at is not None and sale.checkout_started_at < moment


def _close_exclusive(beat: Beat, license_: License) -> None:
    """The whole family (the original and every version) leaves the store; earlier lessees
    keep their licenses and are told."""
    original_id = beat.version_of_id or beat.id
    family = list(db.session.scalars(select(Beat).where(or_(Beat.id == original_id,
                                                            Beat.version_of_id == original_id))))
    versions = [member for member in family if member.id != beat.id]
    lifecycle.move(beat, BeatStatus.SOLD_EXCLUSIVE)
    for version in versions:
        # A version taken down stays down; moderation brings it back as sold when it restores it.
        if version.status in (BeatStatus.PUBLISHED, BeatStatus.ARCHIVED):
            lifecycle.move(version, BeatStatus.SOLD_EXCLUSIVE)
    stop_offers([b.id for b in [beat, *versions]])
    db.session.flush()
    for sold in [beat, *versions]:
        refresh_listing_price(sold)
    # The buyer of the exclusive is not told of their own purchase (a lease they upgraded).
    lessees = db.session.scalars(select(License).where(License.beat_id.in_([b.id for b in [beat, *versions]]),
                                                       License.kind == TierKind.LEASE,
                                                       License.status == LicenseStatus.ACTIVE,
                                                       License.buyer_id != license_.buyer_id))
    for lease in lessees:
        enqueue("licensing.notify_exclusive_sold", lease.id, license_.issued_at.isoformat(),
                key=f"exclusive-sold:{lease.id}")


# Why an upgrade is revoked along with the license it was priced on.
BASE_REVOKED = "upgraded_license_revoked"


def revoke_license(license_: License, reason: str) -> None:
    """Refunds and chargebacks revoke; a revoked license downloads nothing. A revoked
    exclusive leaves the beat out of the store until an admin restores it.

    Upgrades: a revoked upgrade gives the license it superseded back to the buyer; a revoked
    license takes down the upgrade that was priced on it (the base is revoked first, so it is
    not given back)."""
    if license_.status == LicenseStatus.REVOKED:
        return
    license_.status, license_.revoked_at, license_.revoke_reason = LicenseStatus.REVOKED, utcnow(), reason
    db.session.flush()
    if license_.superseded_by_id is not None:
        revoke_license(db.session.get(License, license_.superseded_by_id), BASE_REVOKED)
    base = db.session.get(License, license_.upgrade_of_id) if license_.upgrade_of_id else None
    if base is not None and base.superseded_by_id == license_.id and base.status == LicenseStatus.ACTIVE:
        base.superseded_by_id, base.superseded_at = None, None
        db.session.flush()


def freeze_license(license_: License) -> None:
    """A disputed payment freezes downloads until the dispute closes."""
    if license_.frozen_at is None:
        license_.frozen_at = utcnow()
        db.session.flush()


def unfreeze_license(license_: License) -> None:
    license_.frozen_at = None
    db.session.flush()
