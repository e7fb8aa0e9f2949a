from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.catalog.credits import CreditRole
from marketplace.api.schemas import MoneySchema
from marketplace.catalog.schemas import not_blank
from marketplace.common.shares import SHARE_RANGE
from marketplace.common.text import SingleLine


class InviteSchema(ma.Schema):
    email = ma.fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254),
                            metadata={"description": "invite by address: no account is needed yet"})
    handle = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=31),
                              metadata={"description": "or by a producer's public handle"})
    name = ma.fields.String(required=True, validate=[validate.Length(min=1, max=80), not_blank,
                                                     SingleLine("credit name")],
                            metadata={"description": "the name to credit, shown marked pending until they accept"})
    role = ma.fields.String(required=True, validate=validate.OneOf([r.value for r in CreditRole]))
    profit_share_bps = ma.fields.Integer(strict=True, load_default=None, allow_none=True, validate=SHARE_RANGE,
                                         metadata={"description": "taken out of your own profit share"})
    publishing_share_bps = ma.fields.Integer(strict=True, load_default=None, allow_none=True, validate=SHARE_RANGE)
    pro = ma.fields.String(load_default=None, allow_none=True,
                           validate=[validate.Length(max=40), SingleLine("performing rights organisation")])
    ipi = ma.fields.String(load_default=None, allow_none=True, validate=validate.Regexp(
        r"^\s*\d{9,11}\s*$", error="An IPI number is 9 to 11 digits."))


class InvitedBeatSchema(ma.Schema):
    id = ma.fields.String(required=True)
    title = ma.fields.String(required=True)


class InviterSchema(ma.Schema):
    display_name = ma.fields.String(required=True)
    handle = ma.fields.String(required=True, allow_none=True)


class InvitedSchema(ma.Schema):
    email = ma.fields.String(required=True, allow_none=True)
    handle = ma.fields.String(required=True, allow_none=True)


class InvitationSchema(ma.Schema):
    id = ma.fields.String(required=True)
    beat = ma.fields.Nested(InvitedBeatSchema, required=True)
    invited_by = ma.fields.Nested(InviterSchema, required=True)
    name = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    role_label = ma.fields.String(required=True)
    profit_share_bps = ma.fields.Integer(required=True, allow_none=True)
    publishing_share_bps = ma.fields.Integer(required=True, allow_none=True)
    status = ma.fields.String(required=True, metadata={
        "description": "pending, accepted, declined, expired or cancelled"})
    created_at = ma.fields.String(required=True)
    expires_at = ma.fields.String(required=True)
    decided_at = ma.fields.String(required=True, allow_none=True)
    replaces = ma.fields.String(required=True, allow_none=True,
                                metadata={"description": "the invitation this one invites again"})
    invited = ma.fields.Nested(InvitedSchema, metadata={"description": "the owner's view only"})
    held = ma.fields.Nested(MoneySchema, metadata={
        "description": "the owner's view only: what sales hold for this invitation now"})


class InvitationListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(InvitationSchema), required=True)


class InvitationTokenSchema(ma.Schema):
    token = ma.fields.String(required=True, validate=validate.Length(min=1, max=200),
                             metadata={"description": "the token of the mailed link"})


class SplitEntrySchema(ma.Schema):
    name = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    role_label = ma.fields.String(required=True)
    profit_share_bps = ma.fields.Integer(required=True, allow_none=True)
    publishing_share_bps = ma.fields.Integer(required=True, allow_none=True)
    master_points_bps = ma.fields.Integer(required=True, allow_none=True)
    pro = ma.fields.String(required=True, allow_none=True)
    ipi = ma.fields.String(required=True, allow_none=True)
    user_id = ma.fields.String(required=True, allow_none=True, metadata={"description": "the owner's own credit"})
    invitation_id = ma.fields.String(required=True, allow_none=True,
                                     metadata={"description": "a collaborator's credit, by their invitation"})


class SplitAcceptanceSchema(ma.Schema):
    user_id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    accepted_at = ma.fields.String(required=True, allow_none=True, metadata={"description": "null: awaited"})


class SplitVersionSchema(ma.Schema):
    number = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, metadata={
        "description": "proposed (awaits the acceptance of collaborators whose share it changes), in_force, "
                       "superseded or withdrawn"})
    content_hash = ma.fields.String(required=True, metadata={
        "description": "SHA-256 of the version's canonical JSON (keys sorted, no spaces, UTF-8)"})
    created_at = ma.fields.String(required=True)
    in_force_at = ma.fields.String(required=True, allow_none=True)
    ended_at = ma.fields.String(required=True, allow_none=True)
    entries = ma.fields.List(ma.fields.Nested(SplitEntrySchema), required=True)
    acceptances = ma.fields.List(ma.fields.Nested(SplitAcceptanceSchema), required=True)


class SplitSheetSchema(ma.Schema):
    beat_id = ma.fields.String(required=True)
    in_force = ma.fields.Nested(SplitVersionSchema, required=True, allow_none=True,
                                metadata={"description": "what sales follow now"})
    proposed = ma.fields.Nested(SplitVersionSchema, required=True, allow_none=True,
                                metadata={"description": "a change waiting for acceptances, if any"})


class SplitVersionListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SplitVersionSchema), required=True)
