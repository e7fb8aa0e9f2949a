from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.api.schemas import MoneySchema
from marketplace.common.text import MultiLine
from marketplace.proposals.models import ProposalStatus

ID = validate.Length(min=1, max=40)
MESSAGE = [validate.Length(max=2000), MultiLine("message")]
AMOUNT = {"description": "integer minor units of the offer's currency (the store's)"}


class ProposalInSchema(ma.Schema):
    beat_id = ma.fields.String(required=True, validate=ID)
    tier_id = ma.fields.String(required=True, validate=ID, metadata={
        "description": "the license offered for: the exclusive, or a tier its seller opened to offers"})
    amount = ma.fields.Integer(required=True, strict=True, metadata=AMOUNT)
    message = ma.fields.String(load_default="", validate=MESSAGE, metadata={"description": "to the seller"})


class CounterInSchema(ma.Schema):
    amount = ma.fields.Integer(required=True, strict=True, metadata=AMOUNT)
    message = ma.fields.String(load_default="", validate=MESSAGE, metadata={"description": "to the artist"})


class ProposalSchema(ma.Schema):
    id = ma.fields.String(required=True)
    beat_id = ma.fields.String(required=True)
    beat_title = ma.fields.String(required=True)
    tier_id = ma.fields.String(required=True)
    tier_name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "lease or exclusive"})
    artist_id = ma.fields.String(required=True)
    artist_name = ma.fields.String(required=True)
    seller_id = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf([s.value for s in ProposalStatus]))
    amount = ma.fields.Nested(MoneySchema, required=True, metadata={"description": "the artist's offer"})
    message = ma.fields.String(required=True)
    counter = ma.fields.Nested(MoneySchema, allow_none=True, required=True,
                               metadata={"description": "the seller's counter-offer"})
    counter_message = ma.fields.String(allow_none=True, required=True)
    agreed = ma.fields.Nested(MoneySchema, allow_none=True, required=True,
                              metadata={"description": "the price agreed, once accepted"})
    waiting_for = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "seller, artist (a counter to answer) or none"})
    expires_at = ma.fields.DateTime(required=True, metadata={
        "description": "when an unanswered offer expires"})
    checkout_until = ma.fields.DateTime(allow_none=True, required=True, metadata={
        "description": "an accepted offer: until when its private checkout may be opened "
                       "(POST /checkout with an item {kind: proposal, proposal_id})"})
    closed_reason = ma.fields.String(allow_none=True, required=True)
    created_at = ma.fields.DateTime(required=True)


class ProposalTermsInSchema(ma.Schema):
    open = ma.fields.Boolean(required=True, metadata={"description": "whether the tier takes offers"})
    minimum_amount = ma.fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0), metadata={
        "description": "the least an offer may be, integer minor units (0: none of your own)"})


class ProposalTermsSchema(ma.Schema):
    tier_id = ma.fields.String(required=True)
    tier_name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    open = ma.fields.Boolean(required=True)
    minimum = ma.fields.Nested(MoneySchema, required=True)
