"""Beats out of the store: takedowns and restores, pre-moderation reviews, the beats a
suspension hides, and revoking (and refunding) the licenses of a beat.

A beat is out of the store (status `taken_down`) while it has an active restriction, and each
restriction says why: a takedown, its owner's suspension, or a pending review. Lifting one
brings the beat back to the status it had only when no other restriction remains.
Services flush, never commit.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.catalog import lifecycle
from marketplace.catalog import services as catalog
from marketplace.catalog.lifecycle import BeatStatus
from marketplace.catalog.models import Beat
from marketplace.checkout import services as checkout
from marketplace.checkout.models import Order, OrderItem
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.common.errors import Conflict
from marketplace.licensing.issuing import revoke_license
from marketplace.licensing.models import License, LicenseStatus, TierKind
from marketplace.licensing.offers import reoffer_leases
from marketplace.moderation import audit
from marketplace.moderation.audit import SYSTEM, Actor
from marketplace.moderation.models import BeatRestriction, Report, ReportStatus, RestrictionCause
from marketplace.moderation.tasks import link, notify

# A beat can be taken down from wherever the public or its owner can bring it back to the store.
TAKEDOWN_FROM = frozenset({BeatStatus.PUBLISHED, BeatStatus.SOLD_EXCLUSIVE, BeatStatus.ARCHIVED,
                           BeatStatus.TAKEN_DOWN})


def beat_state(beat: Beat) -> dict[str, Any]:
    """What the audit log keeps of a beat before and after an action."""
    return {"status": beat.status, "title": beat.title, "owner_id": beat.owner_id}


def _locked(beat: Beat) -> Beat:
    """The beat's row, locked: two admins acting on one beat at once act one after the other."""
    return db.session.get(Beat, beat.id, with_for_update=True, populate_existing=True)


def active_restrictions(beat_id: str) -> list[BeatRestriction]:
    return list(db.session.scalars(select(BeatRestriction).where(
        BeatRestriction.beat_id == beat_id, BeatRestriction.lifted_at.is_(None))
        .order_by(BeatRestriction.created_at, BeatRestriction.id)))


def active_restriction(beat_id: str, cause: RestrictionCause) -> BeatRestriction | None:
    return next((row for row in active_restrictions(beat_id) if row.cause == cause), None)


def _restrict(beat: Beat, cause: RestrictionCause, actor: Actor, reason: str,
              restore_to: BeatStatus | None = None, close_checkouts: bool = True) -> BeatRestriction:
    """Hold the beat out of the store for one more reason, remembering where it comes back to.
    A beat leaving the store ends its open checkouts (a suspension ends all of its owner's
    at once instead: `close_checkouts` False)."""
    current = active_restrictions(beat.id)
    if current:
        restore_to = BeatStatus(current[0].restore_to)
    elif beat.status == BeatStatus.TAKEN_DOWN:
        restore_to = restore_to or BeatStatus.PUBLISHED  # taken down before restrictions were kept
    else:
        restore_to = restore_to or BeatStatus(beat.status)
        lifecycle.move(beat, BeatStatus.TAKEN_DOWN)
        if close_checkouts:
            checkout.close_checkouts_of_beat(beat)
    row = BeatRestriction(beat=beat, beat_id=beat.id, cause=cause, reason=reason, restore_to=restore_to,
                          created_by_id=actor.user_id)
    db.session.add(row)
    db.session.flush()
    return row


def _lift(row: BeatRestriction, actor: Actor, note: str | None) -> bool:
    """Lift one restriction; True when it was the last and the beat is back."""
    row.lifted_at, row.lifted_by_id, row.note = utcnow(), actor.user_id, note
    db.session.flush()
    if active_restrictions(row.beat_id):
        return False
    _return(row.beat, BeatStatus(row.restore_to))
    return True


def _return(beat: Beat, status: BeatStatus) -> None:
    if status == BeatStatus.PUBLISHED and beat.sold_exclusive_at is None and catalog.family_sold_exclusively(beat):
        status = BeatStatus.SOLD_EXCLUSIVE  # its original or a version was sold exclusively meanwhile
    lifecycle.move(beat, status)
    db.session.flush()


def _studio_link(beat: Beat) -> str:
    """The beat's page in its owner's studio, which says why it is out of the store."""
    return link(f"/studio/beats/{beat.id}")


# -- takedowns ----------------------------------------------------------------------------

def take_down(beat: Beat, actor: Actor, reason: str) -> BeatRestriction:
    """Take a beat out of the store at once: no listing, no preview, no sale. Licenses sold
    stay valid. Every open report on it is answered by the takedown."""
    beat = _locked(beat)
    if beat.status not in TAKEDOWN_FROM:
        raise Conflict(f"A beat that is {beat.status} is not in the store and cannot be taken down.",
                       code="beat_not_takedownable")
    if active_restriction(beat.id, RestrictionCause.TAKEDOWN) is not None:
        raise Conflict("This beat is already taken down.", code="already_taken_down")
    before = beat_state(beat)
    row = _restrict(beat, RestrictionCause.TAKEDOWN, actor, reason)
    closed = close_open_reports(beat, actor, reason)
    audit.record(db.session, actor, "beat.takedown", "beat", beat.id, reason=reason, before=before,
                 after={**beat_state(beat), "closed_reports": closed})
    notify(beat.owner_id, "beat_taken_down", title=beat.title, reason=reason, beat_link=_studio_link(beat))
    db.session.flush()
    return row


def close_open_reports(beat: Beat, actor: Actor, note: str) -> list[str]:
    """Answer every open report on the beat: it was taken down."""
    reports = list(db.session.scalars(select(Report).where(Report.beat_id == beat.id,
                                                           Report.status == ReportStatus.OPEN)
                                      .order_by(Report.id)))
    for report in reports:
        report.status, report.resolved_at = ReportStatus.TAKEN_DOWN, utcnow()
        report.resolved_by_id, report.resolution_note = actor.user_id, note
        notify(report.reporter_id, "report_outcome", title=beat.title, taken_down=True, store_link=link("/beats"))
    return [report.id for report in reports]


def restore(beat: Beat, actor: Actor, reason: str | None) -> None:
    """Lift a takedown. The beat comes back unless another restriction (a suspension, a review)
    still holds it. A beat whose exclusive sale was refunded is also brought back to the store."""
    beat = _locked(beat)
    before = beat_state(beat)
    takedown = active_restriction(beat.id, RestrictionCause.TAKEDOWN)
    if takedown is not None:
        _lift(takedown, actor, reason)
    elif beat.status == BeatStatus.TAKEN_DOWN and not active_restrictions(beat.id):
        _return(beat, BeatStatus.PUBLISHED)
    elif beat.status == BeatStatus.SOLD_EXCLUSIVE and _exclusive_refunded(beat):
        lifecycle.move(beat, BeatStatus.PUBLISHED)  # its leases are offered again, never the exclusive
        reoffer_leases(beat)
    else:
        raise Conflict("This beat is not taken down.", code="not_taken_down")
    audit.record(db.session, actor, "beat.restore", "beat", beat.id, reason=reason, before=before,
                 after={**beat_state(beat), "held_by": [row.cause for row in active_restrictions(beat.id)]})
    notify(beat.owner_id, "beat_restored", title=beat.title, back_in_store=beat.status != BeatStatus.TAKEN_DOWN,
           beat_link=_studio_link(beat))
    db.session.flush()


def _exclusive_refunded(beat: Beat) -> bool:
    return db.session.scalar(select(License.id).where(
        License.beat_id == beat.id, License.kind == TierKind.EXCLUSIVE,
        License.status == LicenseStatus.REVOKED).limit(1)) is not None


# -- pre-moderation -----------------------------------------------------------------------

def approved_beat_count(owner_id: str, except_beat_id: str) -> int:
    """Beats of the owner that went into the store (approved, or published before reviews)
    and are not taken down now."""
    return db.session.scalar(select(func.count()).select_from(Beat).where(
        Beat.owner_id == owner_id, Beat.id != except_beat_id, Beat.published_at.is_not(None),
        Beat.status != BeatStatus.TAKEN_DOWN)) or 0


def needs_review(beat: Beat) -> bool:
    threshold = current_app.config["PREMODERATION_MIN_APPROVED_BEATS"]
    return threshold > 0 and approved_beat_count(beat.owner_id, beat.id) < threshold


def hold_back_on_publication(beat: Beat, to: BeatStatus) -> bool:
    """Called when a processed beat would go into the store (as `to`). True when it is held
    back instead: its owner is suspended, or pre-moderation wants an admin to look first."""
    if not beat.owner.is_active:
        _restrict(beat, RestrictionCause.SUSPENSION, SYSTEM, "The beatmaker's account is suspended.", to)
        audit.record(db.session, SYSTEM, "beat.hide_for_suspension", "beat", beat.id,
                     reason="The beatmaker's account is suspended.",
                     before={**beat_state(beat), "status": BeatStatus.PROCESSING}, after=beat_state(beat))
        return True
    if needs_review(beat):
        reason = "New beatmakers' first beats are reviewed before they are published."
        _restrict(beat, RestrictionCause.REVIEW, SYSTEM, reason, to)
        audit.record(db.session, SYSTEM, "beat.review_queued", "beat", beat.id, reason=reason,
                     before={**beat_state(beat), "status": BeatStatus.PROCESSING}, after=beat_state(beat))
        notify(beat.owner_id, "beat_waiting_for_review", title=beat.title, reason=reason,
               beat_link=_studio_link(beat))
        return True
    return False


def approve(beat: Beat, actor: Actor, note: str | None) -> None:
    """Publish a beat waiting for review (or one rejected before: admins may change their mind)."""
    beat = _locked(beat)
    review = active_restriction(beat.id, RestrictionCause.REVIEW)
    if review is None:
        raise Conflict("This beat is not waiting for review.", code="not_under_review")
    before = beat_state(beat)
    _lift(review, actor, note)
    audit.record(db.session, actor, "beat.approve", "beat", beat.id, reason=note, before=before,
                 after=beat_state(beat))
    notify(beat.owner_id, "beat_approved", title=beat.title, in_store=beat.status != BeatStatus.TAKEN_DOWN,
           beat_link=_studio_link(beat))
    db.session.flush()


def reject(beat: Beat, actor: Actor, reason: str) -> None:
    """Refuse a beat waiting for review: it stays out of the store, and its owner is told why."""
    beat = _locked(beat)
    review = active_restriction(beat.id, RestrictionCause.REVIEW)
    if review is None or review.rejected_at is not None:
        raise Conflict("This beat is not waiting for review.", code="not_under_review")
    review.rejected_at, review.note = utcnow(), reason
    audit.record(db.session, actor, "beat.reject", "beat", beat.id, reason=reason,
                 before={**beat_state(beat), "review": "pending"},
                 after={**beat_state(beat), "review": "rejected"})
    notify(beat.owner_id, "beat_rejected", title=beat.title, reason=reason, beat_link=_studio_link(beat))
    db.session.flush()


# -- suspensions --------------------------------------------------------------------------

def hide_beats_of(user: User, actor: Actor, reason: str) -> list[str]:
    """Take the user's published beats out of the store while the account is suspended."""
    beats = list(db.session.scalars(select(Beat).where(Beat.owner_id == user.id,
                                                       Beat.status == BeatStatus.PUBLISHED)))
    for beat in beats:
        _restrict(beat, RestrictionCause.SUSPENSION, actor, reason, close_checkouts=False)
    return [beat.id for beat in beats]


def unhide_beats_of(user: User, actor: Actor) -> list[str]:
    """Lift the suspension's restrictions: exactly the beats it hid come back, unless they
    are also held for another reason."""
    rows = list(db.session.scalars(select(BeatRestriction).join(Beat, Beat.id == BeatRestriction.beat_id).where(
        Beat.owner_id == user.id, BeatRestriction.cause == RestrictionCause.SUSPENSION,
        BeatRestriction.lifted_at.is_(None))))
    return [row.beat_id for row in rows if _lift(row, actor, "The account's suspension was lifted.")]


# -- licenses -----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Revocation:
    revoked: list[str]  # license ids
    refunds_requested: list[str]  # order ids refunded through the payment provider, in full or line by line
    refund_by_hand: list[str]  # order ids that cannot be refunded now (disputed, or nothing left to refund)
    lines_refunded: list[str] = dataclasses.field(default_factory=list)  # order lines refunded on their own


def revoke_licenses(beat: Beat, actor: Actor, reason: str) -> Revocation:
    """Revoke every active license of the beat at once and refund what was paid for them. An
    order that licensed only this beat is refunded in full; in an order with other beats, only
    this beat's line is refunded (with the lines of its bulk deal, if it was bought under one:
    no free line stands without the lines that paid for it). An order that cannot be refunded
    now (a disputed one) is listed for a refund by hand."""
    licenses = list(db.session.scalars(select(License).where(License.beat_id == beat.id,
                                                             License.status == LicenseStatus.ACTIVE)))
    for license_ in licenses:
        revoke_license(license_, "moderation")
        audit.record(db.session, actor, "license.revoke", "license", license_.id, reason=reason,
                     before={"status": LicenseStatus.ACTIVE, "beat_id": beat.id},
                     after={"status": license_.status, "beat_id": beat.id})
        notify(license_.buyer_id, "license_revoked", license_number=license_.license_number, title=beat.title,
               reason=reason, license_link=link(f"/licenses/{license_.id}"))
    requested, by_hand, lines = _refund_orders([license_.id for license_ in licenses], beat.id)
    db.session.flush()
    return Revocation([license_.id for license_ in licenses], requested, by_hand, lines)


def _refund_orders(license_ids: list[str], beat_id: str) -> tuple[list[str], list[str], list[str]]:
    if not license_ids:
        return [], [], []
    paid_for = select(OrderItem.order_id).where(OrderItem.license_id.in_(license_ids))
    orders = list(db.session.scalars(select(Order).where(Order.id.in_(paid_for)).order_by(Order.id)))
    requested, by_hand, lines = [], [], []
    for order in orders:
        licensed_beats = {item.beat_id for item in order.items if item.license_id}
        try:
            if licensed_beats == {beat_id}:
                checkout.request_refund(order)
            else:
                ours = [item.id for item in order.items if item.license_id in license_ids]
                refunded = checkout.refund_lines(order, ours, "moderation", whole_deals=True)
                lines += [item.id for item in refunded]
        except Conflict:  # disputed, or nothing left to refund
            by_hand.append(order.id)
            continue
        requested.append(order.id)
    return requested, by_hand, lines
