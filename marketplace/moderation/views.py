from __future__ import annotations

from collections.abc import Callable

import marshmallow as ma
from flask import Response, stream_with_context

from marketplace.accounts import services as accounts
from marketplace.accounts.auth import auth_required, current_user
from marketplace.accounts.models import Role, User
from marketplace.api import Blueprint, document_errors
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Beat
from marketplace.db import db
from marketplace.common.errors import PermissionDenied
from marketplace.moderation import beats, listings, reports, users
from marketplace.moderation.audit import Actor
from marketplace.moderation.documents import (
    admin_report_document,
    admin_user_document,
    moderated_beat_document,
    moderated_beat_documents,
    moderated_user_document,
    my_moderation_document,
    report_document,
)
from marketplace.moderation.schemas import (
    AdminBeatArgs,
    AdminReportPageSchema,
    AdminReportSchema,
    AdminUserArgs,
    AdminUserPageSchema,
    AuditFilterArgs,
    AuditPageArgs,
    AuditPageSchema,
    ModeratedBeatPageSchema,
    ModeratedBeatSchema,
    ModeratedUserSchema,
    MyModerationSchema,
    OptionalReasonSchema,
    ReasonSchema,
    ReportInSchema,
    ReportQueueArgs,
    ReportSchema,
    ResolveSchema,
    ReviewQueueArgs,
    RevocationSchema,
    TakedownResultSchema,
    TakedownSchema,
)

blp = Blueprint("moderation", __name__, description="Reporting beats; your standing with moderation")
admin_blp = Blueprint("admin", __name__, url_prefix="/admin",
                      description="Moderation by admins: reports, takedowns, reviews, strikes, suspensions, audit log")


def _admin() -> Actor:
    return Actor.admin(current_user())


def _act_on_beat(beat_id: str, action: Callable[[Beat, Actor], object]) -> Beat:
    """Run one admin action on a beat and commit it (the action writes its audit entry)."""
    beat = catalog.get_beat(beat_id)
    action(beat, _admin())
    db.session.commit()
    return beat


def _act_on_user(user_id: str, action: Callable[[User, Actor], object]) -> dict:
    user = accounts.get_user(user_id)
    action(user, _admin())
    db.session.commit()
    return moderated_user_document(user)


# -- everyone -------------------------------------------------------------------------------

@blp.post("/beats/<beat_id>/reports")
@auth_required()
@blp.arguments(ReportInSchema)
@blp.response(201, ReportSchema)
@document_errors(404, 409, 429)
def report_beat(payload, beat_id):
    """Report a beat to the admins. One open report per beat at a time; the beatmaker sees the
    report and its details, never who sent it."""
    report = reports.file_report(current_user(), beat_id, payload["reason"], payload["details"])
    db.session.commit()
    return report_document(report)


@blp.get("/beats/<beat_id>/reports")
@auth_required()
@blp.response(200, ReportSchema(many=True))
@document_errors(404)
def reports_on_beat(beat_id):
    """Reports against one of your beats (owner or admin), newest first."""
    user = current_user()
    beat = catalog.get_visible_beat(beat_id, user)
    if beat.owner_id != user.id and not user.has_role(Role.ADMIN):
        raise PermissionDenied("Only the beat's owner sees its reports.", code="not_beat_owner")
    return [report_document(report) for report in reports.reports_against(beat.owner, beat.id)]


@blp.get("/me/reports")
@auth_required(Role.BEATMAKER)
@blp.response(200, ReportSchema(many=True))
def reports_on_my_beats():
    """Reports filed against your beats, newest first (the latest 200)."""
    return [report_document(report) for report in reports.reports_against(current_user())]


@blp.get("/me/moderation")
@auth_required()
@blp.response(200, MyModerationSchema)
def my_moderation():
    """Your strikes, and which of your beats are out of the store and why."""
    return my_moderation_document(current_user())


# -- reports --------------------------------------------------------------------------------

@admin_blp.get("/reports")
@auth_required(Role.ADMIN)
@admin_blp.arguments(ReportQueueArgs, location="query", as_kwargs=True, unknown=ma.RAISE)
@admin_blp.response(200, AdminReportPageSchema)
def report_queue(**filters):
    """The report queue, oldest first: filter by status (e.g. `open`), reason, beatmaker, beat,
    the beat's sample declaration, and age in hours."""
    page = listings.report_queue(**filters)
    return page.as_document(lambda rows: [admin_report_document(report) for report in rows])


@admin_blp.get("/reports/<report_id>")
@auth_required(Role.ADMIN)
@admin_blp.response(200, AdminReportSchema)
@document_errors(404)
def get_report(report_id):
    return admin_report_document(reports.get_report(report_id))


@admin_blp.post("/reports/<report_id>/resolve")
@auth_required(Role.ADMIN)
@admin_blp.arguments(ResolveSchema)
@admin_blp.response(200, AdminReportSchema)
@document_errors(404, 409)
def resolve_report(payload, report_id):
    """Dismiss the report, or take the beat down (answering every open report on it). The
    note is the reason given to the beatmaker for a takedown."""
    report = reports.resolve(reports.get_report(report_id), _admin(), payload["action"], payload["note"])
    db.session.commit()
    return admin_report_document(report)


# -- beats ----------------------------------------------------------------------------------

@admin_blp.get("/beats")
@auth_required(Role.ADMIN)
@admin_blp.arguments(AdminBeatArgs, location="query", as_kwargs=True, unknown=ma.RAISE)
@admin_blp.response(200, ModeratedBeatPageSchema)
def list_beats(**filters):
    """Beats in any status, newest first: e.g. `q=night` (part of the title), `samples=uncleared`,
    or `held=takedown`."""
    page = listings.beats_for_admin(**filters)
    return page.as_document(moderated_beat_documents)


@admin_blp.get("/beats/<beat_id>")
@auth_required(Role.ADMIN)
@admin_blp.response(200, ModeratedBeatSchema)
@document_errors(404)
def get_beat(beat_id):
    """A beat and what holds it out of the store, if anything."""
    return moderated_beat_document(catalog.get_beat(beat_id))


@admin_blp.post("/beats/<beat_id>/takedown")
@auth_required(Role.ADMIN)
@admin_blp.arguments(TakedownSchema)
@admin_blp.response(200, TakedownResultSchema)
@document_errors(404, 409, 502, 503)
def take_down(payload, beat_id):
    """Take a beat out of the store at once: listing, previews and sales stop. Its licenses stay
    valid unless `revoke_licenses` is true: then they are revoked and refunded."""
    beat, admin, reason = catalog.get_beat(beat_id), _admin(), payload["reason"]
    beats.take_down(beat, admin, reason)
    revocation = beats.revoke_licenses(beat, admin, reason) if payload["revoke_licenses"] else None
    db.session.commit()
    return {**moderated_beat_document(beat), "licenses": revocation}


@admin_blp.post("/beats/<beat_id>/restore")
@auth_required(Role.ADMIN)
@admin_blp.arguments(OptionalReasonSchema)
@admin_blp.response(200, ModeratedBeatSchema)
@document_errors(404, 409)
def restore(payload, beat_id):
    """Lift a takedown (the beat stays out if a suspension or review still holds it), or bring
    back a beat whose exclusive sale was refunded."""
    return moderated_beat_document(_act_on_beat(beat_id, lambda beat, admin: beats.restore(
        beat, admin, payload["reason"])))


@admin_blp.post("/beats/<beat_id>/revoke-licenses")
@auth_required(Role.ADMIN)
@admin_blp.arguments(ReasonSchema)
@admin_blp.response(200, RevocationSchema)
@document_errors(404, 502, 503)
def revoke_licenses(payload, beat_id):
    """Revoke every active license of the beat and refund the orders that paid for them."""
    revocation = beats.revoke_licenses(catalog.get_beat(beat_id), _admin(), payload["reason"])
    db.session.commit()
    return revocation


@admin_blp.get("/review-queue")
@auth_required(Role.ADMIN)
@admin_blp.arguments(ReviewQueueArgs, location="query", as_kwargs=True, unknown=ma.RAISE)
@admin_blp.response(200, ModeratedBeatPageSchema)
def review_queue(state, cursor=None, limit=50):
    """Uploads waiting for review (pre-moderation), oldest first; `state=rejected` for refused ones."""
    page = listings.review_queue(state=state, cursor=cursor, limit=limit)
    return page.as_document(lambda rows: moderated_beat_documents([row.beat for row in rows]))


@admin_blp.post("/beats/<beat_id>/approve")
@auth_required(Role.ADMIN)
@admin_blp.arguments(OptionalReasonSchema)
@admin_blp.response(200, ModeratedBeatSchema)
@document_errors(404, 409)
def approve(payload, beat_id):
    """Publish a beat waiting for review."""
    return moderated_beat_document(_act_on_beat(beat_id, lambda beat, admin: beats.approve(
        beat, admin, payload["reason"])))


@admin_blp.post("/beats/<beat_id>/reject")
@auth_required(Role.ADMIN)
@admin_blp.arguments(ReasonSchema)
@admin_blp.response(200, ModeratedBeatSchema)
@document_errors(404, 409)
def reject(payload, beat_id):
    """Refuse a beat waiting for review; its owner is told the reason."""
    return moderated_beat_document(_act_on_beat(beat_id, lambda beat, admin: beats.reject(
        beat, admin, payload["reason"])))


# -- users ----------------------------------------------------------------------------------

@admin_blp.get("/users")
@auth_required(Role.ADMIN)
@admin_blp.arguments(AdminUserArgs, location="query", as_kwargs=True, unknown=ma.RAISE)
@admin_blp.response(200, AdminUserPageSchema)
def list_users(**filters):
    """Find accounts, newest first: `q` matches part of the email or the display name; filter
    by status (e.g. `suspended`) and role."""
    page = listings.users_for_admin(**filters)
    return page.as_document(lambda rows: [admin_user_document(user) for user in rows])


@admin_blp.get("/users/<user_id>")
@auth_required(Role.ADMIN)
@admin_blp.response(200, ModeratedUserSchema)
@document_errors(404)
def get_user(user_id):
    """An account's status and strikes."""
    return moderated_user_document(accounts.get_user(user_id))


@admin_blp.post("/users/<user_id>/strike")
@auth_required(Role.ADMIN)
@admin_blp.arguments(ReasonSchema)
@admin_blp.response(200, ModeratedUserSchema)
@document_errors(404, 409)
def strike(payload, user_id):
    """Record a strike. At MODERATION_STRIKES_TO_SUSPEND active strikes the account is suspended."""
    return _act_on_user(user_id, lambda user, admin: users.strike(user, admin, payload["reason"]))


@admin_blp.post("/strikes/<strike_id>/lift")
@auth_required(Role.ADMIN)
@admin_blp.arguments(ReasonSchema)
@admin_blp.response(200, ModeratedUserSchema)
@document_errors(404, 409)
def lift_strike(payload, strike_id):
    """Withdraw a strike: it no longer counts (a suspension it caused stays until lifted)."""
    strike_row = users.lift_strike(users.get_strike(strike_id), _admin(), payload["reason"])
    db.session.commit()
    return moderated_user_document(accounts.get_user(strike_row.user_id))


@admin_blp.post("/users/<user_id>/suspend")
@auth_required(Role.ADMIN)
@admin_blp.arguments(ReasonSchema)
@admin_blp.response(200, ModeratedUserSchema)
@document_errors(404, 409)
def suspend(payload, user_id):
    """Suspend an account: sign-in and every token stop at once, its beats leave the store."""
    return _act_on_user(user_id, lambda user, admin: users.suspend(user, admin, payload["reason"]))


@admin_blp.post("/users/<user_id>/unsuspend")
@auth_required(Role.ADMIN)
@admin_blp.arguments(OptionalReasonSchema)
@admin_blp.response(200, ModeratedUserSchema)
@document_errors(404, 409)
def unsuspend(payload, user_id):
    """Lift a suspension: the beats it hid come back (old tokens stay revoked)."""
    return _act_on_user(user_id, lambda user, admin: users.unsuspend(user, admin, payload["reason"]))


# -- the audit log --------------------------------------------------------------------------

@admin_blp.get("/audit-log")
@auth_required(Role.ADMIN)
@admin_blp.arguments(AuditPageArgs, location="query", unknown=ma.RAISE)
@admin_blp.response(200, AuditPageSchema)
def audit_log(args):
    """Every moderation action, admin or automatic, newest first. Append-only."""
    page = listings.audit_page(args, args.get("cursor"), args["limit"])
    return page.as_document(listings.named_entries)


@admin_blp.get("/audit-log.csv")
@auth_required(Role.ADMIN)
@admin_blp.arguments(AuditFilterArgs, location="query", unknown=ma.RAISE)
@admin_blp.response(200, description="The matching entries as CSV, oldest first", content_type="text/csv")
def audit_log_csv(filters):
    """The audit log as CSV, with the same filters."""
    return Response(stream_with_context(listings.audit_csv(filters)), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'})
