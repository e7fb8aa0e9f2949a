"""Reports: any signed-in user complains about a beat; admins dismiss the complaint or take
the beat down. The beatmaker sees the reports against their beats, never who filed them."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import User
from marketplace.accounts.verification import require_verified
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Beat
from marketplace.common.clock import utcnow
from marketplace.common.ratelimit import rate_limits
from marketplace.db import db
from marketplace.common.errors import Conflict, NotFound, PermissionDenied
from marketplace.moderation import audit, beats
from marketplace.moderation.audit import Actor
from marketplace.moderation.models import Report, ReportStatus, RestrictionCause
from marketplace.moderation.tasks import link, notify

OWNER_VIEW_LIMIT = 200


def _already_reported() -> Conflict:
    return Conflict("You already reported this beat; an administrator will look at it.",
                    code="report_already_open")


def file_report(reporter: User, beat_id: str, reason: str, details: str) -> Report:
    """One open report per user and beat (the database's unique index settles races)."""
    require_verified(reporter, "report a beat")
    rate_limits().hit(current_app.config["REPORT_LIMIT_PER_USER"], "report", reporter.id)
    beat = catalog.get_visible_beat(beat_id, reporter)
    if beat.owner_id == reporter.id:
        raise PermissionDenied("You cannot report your own beat.", code="own_beat")
    open_report = db.session.scalar(select(Report.id).where(
        Report.beat_id == beat.id, Report.reporter_id == reporter.id, Report.status == ReportStatus.OPEN))
    if open_report is not None:
        raise _already_reported()
    report = Report(beat=beat, beat_id=beat.id, reporter=reporter, reporter_id=reporter.id, reason=reason,
                    details=details, status=ReportStatus.OPEN)
    try:
        # In a savepoint, so the loser of a race leaves the session usable for its answer.
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError:
        raise _already_reported() from None  # a concurrent report of the same user won
    return report


def get_report(report_id: str) -> Report:
    report = db.session.get(Report, report_id)
    if report is None:
        raise NotFound("No such report.", code="report_not_found")
    return report


def reports_against(owner: User, beat_id: str | None = None) -> list[Report]:
    """Reports on the owner's beats (or one of them), newest first."""
    query = select(Report).join(Beat, Beat.id == Report.beat_id).where(Beat.owner_id == owner.id)
    if beat_id is not None:
        query = query.where(Report.beat_id == beat_id)
    return list(db.session.scalars(query.order_by(Report.id.desc()).limit(OWNER_VIEW_LIMIT)))


def resolve(report: Report, actor: Actor, action: str, note: str) -> Report:
    """Dismiss the report, or take its beat down (which answers every open report on it)."""
    report = db.session.get(Report, report.id, with_for_update=True, populate_existing=True)  # one answer
    if report.status != ReportStatus.OPEN:
        raise Conflict(f"This report was already resolved ({report.status}).", code="report_resolved")
    if action == "dismiss":
        _dismiss(report, actor, note)
    elif beats.active_restriction(report.beat_id, RestrictionCause.TAKEDOWN) is not None:
        beats.close_open_reports(report.beat, actor, note)  # taken down meanwhile, by another admin
    else:
        beats.take_down(report.beat, actor, note)
    audit.record(db.session, actor, f"report.{action}", "report", report.id, reason=note,
                 before={"status": ReportStatus.OPEN, "beat_id": report.beat_id},
                 after={"status": report.status, "beat_id": report.beat_id})
    db.session.flush()
    return report


def _dismiss(report: Report, actor: Actor, note: str) -> None:
    report.status, report.resolved_at = ReportStatus.DISMISSED, utcnow()
    report.resolved_by_id, report.resolution_note = actor.user_id, note
    notify(report.reporter_id, "report_outcome", title=report.beat.title, taken_down=False, store_link=link("/beats"))
    notify(report.beat.owner_id, "report_on_your_beat", title=report.beat.title,
           beat_link=link(f"/studio/beats/{report.beat_id}"))
