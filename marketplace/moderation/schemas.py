from __future__ import annotations

import datetime as dt

import marshmallow as ma
from marshmallow import validate

from marketplace.accounts.models import Role, UserStatus
from marketplace.api.schemas import cursor_field, limit_field, page_of
from marketplace.catalog.lifecycle import BeatStatus
from marketplace.catalog.models import SAMPLE_DECLARATIONS
from marketplace.catalog.schemas import not_blank
from marketplace.common.text import MultiLine, SingleLine
from marketplace.moderation.models import (
    DETAILS_MAX,
    REASON_MAX,
    ActorKind,
    ReportReason,
    ReportStatus,
    RestrictionCause,
)

ID = validate.Length(min=1, max=64)


def reason_field(required: bool = True, description: str = "why, in words the user will read") -> ma.fields.String:
    validators = [validate.Length(min=1, max=REASON_MAX), not_blank, MultiLine("reason")]
    if required:
        return ma.fields.String(required=True, validate=validators, metadata={"description": description})
    return ma.fields.String(load_default=None, allow_none=True, validate=validators,
                            metadata={"description": description})


# -- reports --------------------------------------------------------------------------------

class ReportInSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=validate.OneOf([r.value for r in ReportReason]))
    details = ma.fields.String(load_default="",
                               validate=[validate.Length(max=DETAILS_MAX), MultiLine("report details")],
                               metadata={"description": "what is wrong; the beatmaker reads it (never who sent it)"})

    @ma.validates_schema
    def other_needs_details(self, data, **_kwargs):
        if data.get("reason") == ReportReason.OTHER and not data.get("details", "").strip():
            raise ma.ValidationError("Say what is wrong when the reason is other.", field_name="details")


class ReportSchema(ma.Schema):
    """A report as its beatmaker (and its reporter) see it: who filed it is not said."""

    id = ma.fields.String(required=True)
    beat_id = ma.fields.String(required=True)
    beat_title = ma.fields.String(required=True)
    reason = ma.fields.String(required=True, validate=validate.OneOf([r.value for r in ReportReason]))
    details = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf([s.value for s in ReportStatus]))
    created_at = ma.fields.DateTime(required=True)
    resolved_at = ma.fields.DateTime(allow_none=True, required=True)
    resolution_note = ma.fields.String(allow_none=True, required=True)


class AccountSchema(ma.Schema):
    id = ma.fields.String(required=True)
    display_name = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf([s.value for s in UserStatus]))


class BeatSummarySchema(ma.Schema):
    id = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf([s.value for s in BeatStatus]))
    samples = ma.fields.String(required=True, validate=validate.OneOf(SAMPLE_DECLARATIONS))
    beatmaker = ma.fields.Nested(AccountSchema, required=True)


class ReportedBeatSchema(BeatSummarySchema):
    preview_url = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "its watermarked preview, so the report can be judged by ear; admins may play it "
                       "whatever the beat's status (with their token once it is out of the store)"})


class AdminReportSchema(ReportSchema):
    beat = ma.fields.Nested(ReportedBeatSchema, required=True)
    reporter = ma.fields.Nested(AccountSchema, required=True)
    resolved_by = ma.fields.String(allow_none=True, required=True, metadata={"description": "the admin's user id"})


AdminReportPageSchema = page_of(AdminReportSchema)


class ReportQueueArgs(ma.Schema):
    status = ma.fields.String(validate=validate.OneOf([s.value for s in ReportStatus]),
                              metadata={"description": "all statuses when absent"})
    reason = ma.fields.String(validate=validate.OneOf([r.value for r in ReportReason]))
    beatmaker = ma.fields.String(validate=ID, metadata={"description": "the reported beat's owner (user id)"})
    beat_id = ma.fields.String(validate=ID)
    samples = ma.fields.String(validate=validate.OneOf(SAMPLE_DECLARATIONS),
                               metadata={"description": "the reported beat's sample declaration"})
    min_age_hours = ma.fields.Integer(validate=validate.Range(min=0, max=24 * 3650),
                                      metadata={"description": "filed at least this many hours ago"})
    max_age_hours = ma.fields.Integer(validate=validate.Range(min=0, max=24 * 3650),
                                      metadata={"description": "filed at most this many hours ago"})
    cursor = cursor_field()
    limit = limit_field()

    @ma.validates_schema
    def ages_are_ordered(self, data, **_kwargs):
        if data.get("min_age_hours") is not None and data.get("max_age_hours") is not None \
                and data["min_age_hours"] > data["max_age_hours"]:
            raise ma.ValidationError("Minimum age must not be above the maximum.", field_name="min_age_hours")


class ResolveSchema(ma.Schema):
    action = ma.fields.String(required=True, validate=validate.OneOf(["dismiss", "takedown"]))
    note = reason_field(description="why; a takedown's note is the reason its beatmaker is given")


# -- beats ------------------------------------------------------------------------------------

class ReasonSchema(ma.Schema):
    reason = reason_field()


class OptionalReasonSchema(ma.Schema):
    reason = reason_field(required=False)


class TakedownSchema(ma.Schema):
    reason = reason_field()
    revoke_licenses = ma.fields.Boolean(load_default=False, metadata={
        "description": "also revoke the beat's licenses and refund them (otherwise they stay valid)"})


class RestrictionSchema(ma.Schema):
    id = ma.fields.String(required=True)
    cause = ma.fields.String(required=True, validate=validate.OneOf([c.value for c in RestrictionCause]))
    reason = ma.fields.String(required=True)
    since = ma.fields.DateTime(required=True)
    restore_to = ma.fields.String(required=True, metadata={"description": "the status the beat returns to"})
    review = ma.fields.String(allow_none=True, required=True, validate=validate.OneOf(["pending", "rejected"]),
                              metadata={"description": "for a review: pending or rejected"})
    note = ma.fields.String(allow_none=True, required=True, metadata={"description": "why it was rejected"})


class ModeratedBeatSchema(BeatSummarySchema):
    created_at = ma.fields.DateTime(required=True)
    published_at = ma.fields.DateTime(allow_none=True, required=True)
    held_by = ma.fields.List(ma.fields.Nested(RestrictionSchema), required=True,
                             metadata={"description": "why the beat is out of the store, if it is"})


ModeratedBeatPageSchema = page_of(ModeratedBeatSchema)


class AdminBeatArgs(ma.Schema):
    q = ma.fields.String(validate=[validate.Length(min=1, max=120), SingleLine("search text")],
                         metadata={"description": "part of the title, in any case"})
    status = ma.fields.String(validate=validate.OneOf([s.value for s in BeatStatus]))
    samples = ma.fields.String(validate=validate.OneOf(SAMPLE_DECLARATIONS),
                               metadata={"description": "e.g. uncleared"})
    beatmaker = ma.fields.String(validate=ID)
    held = ma.fields.String(validate=validate.OneOf([c.value for c in RestrictionCause]),
                            metadata={"description": "only beats held out of the store for this cause"})
    cursor = cursor_field()
    limit = limit_field()


class ReviewQueueArgs(ma.Schema):
    state = ma.fields.String(load_default="pending", validate=validate.OneOf(["pending", "rejected"]))
    cursor = cursor_field()
    limit = limit_field()


class RevocationSchema(ma.Schema):
    revoked = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "license ids"})
    refunds_requested = ma.fields.List(ma.fields.String(), required=True, metadata={
        "description": "order ids refunded through the payment provider: in full when the order licensed "
                       "only this beat, otherwise this beat's line (see lines_refunded)"})
    refund_by_hand = ma.fields.List(ma.fields.String(), required=True, metadata={
        "description": "order ids that cannot be refunded now (disputed, or nothing left to refund)"})
    lines_refunded = ma.fields.List(ma.fields.String(), required=True, metadata={
        "description": "order line ids refunded on their own, with the lines of their bulk deal"})


class TakedownResultSchema(ModeratedBeatSchema):
    licenses = ma.fields.Nested(RevocationSchema, allow_none=True, required=True,
                                metadata={"description": "when revoke_licenses was asked for"})


# -- users ---------------------------------------------------------------------------------------

class StrikeSchema(ma.Schema):
    id = ma.fields.String(required=True)
    reason = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)
    active = ma.fields.Boolean(required=True)
    lifted_at = ma.fields.DateTime(allow_none=True, required=True)
    lift_reason = ma.fields.String(allow_none=True, required=True)


class ModeratedUserSchema(AccountSchema):
    roles = ma.fields.List(ma.fields.String(), required=True)
    active_strikes = ma.fields.Integer(required=True)
    strikes_to_suspend = ma.fields.Integer(required=True)
    strikes = ma.fields.List(ma.fields.Nested(StrikeSchema), required=True)


class AdminUserSchema(AccountSchema):
    roles = ma.fields.List(ma.fields.String(), required=True)
    created_at = ma.fields.DateTime(required=True)


AdminUserPageSchema = page_of(AdminUserSchema)


class AdminUserArgs(ma.Schema):
    q = ma.fields.String(validate=[validate.Length(min=1, max=254), SingleLine("search text")],
                         metadata={"description": "part of the email or the display name, in any case"})
    status = ma.fields.String(validate=validate.OneOf([s.value for s in UserStatus]))
    role = ma.fields.String(validate=validate.OneOf([r.value for r in Role]))
    cursor = cursor_field()
    limit = limit_field()


class HeldBeatSchema(RestrictionSchema):
    beat_id = ma.fields.String(required=True)
    beat_title = ma.fields.String(required=True)


class MyModerationSchema(ma.Schema):
    status = ma.fields.String(required=True)
    active_strikes = ma.fields.Integer(required=True)
    strikes_to_suspend = ma.fields.Integer(required=True)
    strikes = ma.fields.List(ma.fields.Nested(StrikeSchema), required=True)
    held_beats = ma.fields.List(ma.fields.Nested(HeldBeatSchema), required=True,
                                metadata={"description": "your beats out of the store, and why"})


# -- the audit log ---------------------------------------------------------------------------------

class AuditEntrySchema(ma.Schema):
    id = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)
    actor_kind = ma.fields.String(required=True, validate=validate.OneOf([k.value for k in ActorKind]))
    actor_id = ma.fields.String(allow_none=True, required=True)
    actor_name = ma.fields.String(allow_none=True, required=True,
                                  metadata={"description": "the acting admin's display name, as it is now"})
    actor_email = ma.fields.String(allow_none=True, required=True,
                                   metadata={"description": "the acting admin's email"})
    action = ma.fields.String(required=True, metadata={"example": "beat.takedown"})
    target_type = ma.fields.String(required=True)
    target_id = ma.fields.String(required=True)
    target_name = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "a beat's title, an account's display name, or for a report the reported beat's "
                       "title; null for other targets or when it no longer exists"})
    target_email = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "an account's email, when the target is an account"})
    reason = ma.fields.String(allow_none=True, required=True)
    before = ma.fields.Dict(required=True)
    after = ma.fields.Dict(required=True)
    request_id = ma.fields.String(allow_none=True, required=True)


AuditPageSchema = page_of(AuditEntrySchema)


class AwareTime(ma.fields.AwareDateTime):
    """A time with its zone, answered in UTC; times UTC cannot represent are a 422, not a crash."""

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError:
            raise ma.ValidationError("This time is out of range.") from None


class AuditFilterArgs(ma.Schema):
    action = ma.fields.String(validate=validate.Length(min=1, max=40))
    actor_id = ma.fields.String(validate=ID)
    actor_kind = ma.fields.String(validate=validate.OneOf([k.value for k in ActorKind]))
    target_type = ma.fields.String(validate=validate.Length(min=1, max=20))
    target_id = ma.fields.String(validate=ID)
    since = AwareTime(metadata={"description": "ISO 8601 with a time zone; entries at or after it"})
    until = AwareTime(metadata={"description": "ISO 8601 with a time zone; entries before it"})


class AuditPageArgs(AuditFilterArgs):
    cursor = cursor_field()
    limit = limit_field()
