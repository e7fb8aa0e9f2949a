from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.api.schemas import MoneySchema
from marketplace.checkout.models import CouponKind, ItemStatus, OrderStatus
from marketplace.common.money import MAX_PRICE_MINOR
from marketplace.common.text import SingleLine
from marketplace.licensing.schemas import MoneyInSchema

ID = validate.Length(min=1, max=40)
LINE_KINDS = ("purchase", "upgrade", "proposal")


class CartItemSchema(ma.Schema):
    kind = ma.fields.String(load_default="purchase", validate=validate.OneOf(LINE_KINDS), metadata={
        "description": "purchase (a beat under a tier), upgrade (a license of yours to a higher tier "
                       "of its beat, for the difference) or proposal (your accepted offer, at the price "
                       "agreed)"})
    beat_id = ma.fields.String(load_default=None, validate=ID, metadata={
        "description": "required for a purchase; an upgrade's beat is its license's"})
    tier_id = ma.fields.String(load_default=None, validate=ID, metadata={
        "description": "the tier bought, or upgraded to (a proposal's is the proposal's)"})
    license_id = ma.fields.String(load_default=None, validate=ID, metadata={
        "description": "an upgrade only: your license it replaces (see GET /licenses/{id}/upgrades)"})
    proposal_id = ma.fields.String(load_default=None, validate=ID, metadata={
        "description": "a proposal only: your accepted offer (see GET /proposals)"})

    @ma.validates_schema
    def _what_is_bought(self, data, **_kwargs):
        if data["kind"] == "upgrade" and not data["license_id"]:
            raise ma.ValidationError("An upgrade names the license it replaces.", "license_id")
        if data["kind"] != "upgrade" and data["license_id"]:
            raise ma.ValidationError("Only an upgrade names a license: set kind to upgrade.", "license_id")
        if data["kind"] == "proposal" and not data["proposal_id"]:
            raise ma.ValidationError("A private checkout names your accepted offer.", "proposal_id")
        if data["kind"] != "proposal" and data["proposal_id"]:
            raise ma.ValidationError("Only a line of kind proposal names an offer.", "proposal_id")
        if data["kind"] != "proposal" and not data["tier_id"]:
            raise ma.ValidationError("Name the license (its tier).", "tier_id")
        if data["kind"] == "purchase" and not data["beat_id"]:
            raise ma.ValidationError("Name the beat to buy.", "beat_id")


class CheckoutInSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CartItemSchema), required=True, validate=validate.Length(min=1, max=20))
    coupon_code = ma.fields.String(load_default=None, allow_none=True, validate=[
        validate.Length(min=1, max=40), SingleLine("coupon code")])


class CheckoutOutSchema(ma.Schema):
    order_id = ma.fields.String(required=True)
    checkout_url = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "the payment page; open it in a browser (none for a free order, licensed at once)"})
    expires_at = ma.fields.DateTime(required=True, metadata={
        "description": "when the payment page closes and any exclusive hold ends"})


class QuoteBeatmakerSchema(ma.Schema):
    id = ma.fields.String(required=True)
    display_name = ma.fields.String(required=True)


class QuoteItemSchema(ma.Schema):
    beat_id = ma.fields.String(required=True)
    tier_id = ma.fields.String(required=True)
    beat_title = ma.fields.String(required=True)
    beatmaker = ma.fields.Nested(QuoteBeatmakerSchema, required=True)
    tier_name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    list_price = ma.fields.Nested(MoneySchema, required=True)
    discount = ma.fields.Nested(MoneySchema, required=True)
    price = ma.fields.Nested(MoneySchema, required=True, metadata={
        "description": "what checkout charges for it"})
    discounts = ma.fields.List(ma.fields.Dict(), required=True, metadata={
        "description": "how the discount comes about: {type: deal, label, amount}, "
                       "{type: coupon, code, amount} or, on an upgrade, {type: upgrade, label, amount} "
                       "(what was paid for the license it replaces)"})
    upgrade_of_license_id = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "an upgrade line: the license it replaces"})


class QuoteSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(QuoteItemSchema), required=True)
    subtotal = ma.fields.Nested(MoneySchema, required=True)
    discount = ma.fields.Nested(MoneySchema, required=True)
    total = ma.fields.Nested(MoneySchema, required=True, metadata={
        "description": "what checkout charges now"})
    coupon_code = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "the code as applied (upper-case), or null without one"})


class OrderItemSchema(ma.Schema):
    id = ma.fields.String(required=True)
    beat_id = ma.fields.String(required=True)
    tier_id = ma.fields.String(required=True)
    beat_title = ma.fields.String(required=True)
    tier_name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf([s.value for s in ItemStatus]))
    list_price = ma.fields.Nested(MoneySchema, required=True)
    discount = ma.fields.Nested(MoneySchema, required=True)
    price = ma.fields.Nested(MoneySchema, required=True, metadata={"description": "what was paid for it"})
    discounts = ma.fields.List(ma.fields.Dict(), required=True)
    terms = ma.fields.Dict(required=True, metadata={"description": "the license terms frozen at checkout"})
    license_id = ma.fields.String(allow_none=True, required=True)
    upgrade_of_license_id = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "a line of kind upgrade: the license it supersedes once paid"})
    refund_reason = ma.fields.String(allow_none=True, required=True)


class OrderLicenseSchema(ma.Schema):
    id = ma.fields.String(required=True)
    license_number = ma.fields.String(required=True)
    beat_id = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    status = ma.fields.String(required=True)


class OrderSchema(ma.Schema):
    id = ma.fields.String(required=True, metadata={"description": "also the order number receipts name"})
    status = ma.fields.String(required=True, validate=validate.OneOf([s.value for s in OrderStatus]))
    payment_under_way = ma.fields.Boolean(required=True, metadata={
        "description": "pending with a bank payment submitted on the payment page, settling (days)"})
    status_reason = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "why, when the status needs explaining, e.g. exclusive_unavailable"})
    items = ma.fields.List(ma.fields.Nested(OrderItemSchema), required=True)
    subtotal = ma.fields.Nested(MoneySchema, required=True)
    discount = ma.fields.Nested(MoneySchema, required=True)
    total = ma.fields.Nested(MoneySchema, required=True)
    refunded = ma.fields.Nested(MoneySchema, required=True)
    coupon_code = ma.fields.String(allow_none=True, required=True)
    checkout_url = ma.fields.String(allow_none=True, required=True, metadata={"description": "while pending"})
    expires_at = ma.fields.DateTime(required=True)
    created_at = ma.fields.DateTime(required=True)
    paid_at = ma.fields.DateTime(allow_none=True, required=True)
    refund_requested_at = ma.fields.DateTime(allow_none=True, required=True)
    licenses = ma.fields.List(ma.fields.Nested(OrderLicenseSchema), required=True)


class RefundInSchema(ma.Schema):
    items = ma.fields.List(
        ma.fields.String(validate=ID), load_default=None, validate=validate.Length(min=1, max=20),
        metadata={"description": (
            "ids of the order's lines to refund; without it (or without a body) the whole order is "
            "refunded. Lines bought together under a bulk deal are refunded together: naming only "
            "some of them is a 409 refund_splits_deal that lists them all.")})


class CouponInSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=[SingleLine("coupon code"), validate.Regexp(
        r"^[A-Za-z0-9_-]{3,40}$", error="3 to 40 letters, digits, '-' or '_'.")])
    kind = ma.fields.String(required=True, validate=validate.OneOf([k.value for k in CouponKind]))
    percent_off = ma.fields.Integer(strict=True, load_default=None, allow_none=True,
                                    validate=validate.Range(min=1, max=100))
    amount_off = ma.fields.Nested(MoneyInSchema, load_default=None, allow_none=True)
    beat_id = ma.fields.String(load_default=None, allow_none=True, validate=ID,
                               metadata={"description": "only this beat; every beat of yours when absent"})
    expires_at = ma.fields.AwareDateTime(load_default=None, allow_none=True)
    max_redemptions = ma.fields.Integer(strict=True, load_default=None, allow_none=True,
                                        validate=validate.Range(min=1, max=1_000_000))

    @ma.validates_schema
    def _one_kind_of_discount(self, data, **_kwargs):
        if data["kind"] == CouponKind.PERCENT and (data["percent_off"] is None or data["amount_off"] is not None):
            raise ma.ValidationError("A percent coupon has percent_off and no amount_off.", "percent_off")
        if data["kind"] == CouponKind.FIXED and (data["amount_off"] is None or data["percent_off"] is not None):
            raise ma.ValidationError("A fixed coupon has amount_off and no percent_off.", "amount_off")
        if data["amount_off"] is not None and not 0 < data["amount_off"]["amount"] <= MAX_PRICE_MINOR:
            raise ma.ValidationError(f"More than 0 and at most {MAX_PRICE_MINOR}.", "amount_off")


class CouponEditSchema(ma.Schema):
    expires_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "null: never ends"})
    max_redemptions = ma.fields.Integer(strict=True, allow_none=True,
                                        validate=validate.Range(min=1, max=1_000_000),
                                        metadata={"description": "only raised, or lifted with null"})
    active = ma.fields.Boolean(metadata={"description": "false ends the coupon, true starts it again"})


class CouponSchema(ma.Schema):
    id = ma.fields.String(required=True)
    code = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    percent_off = ma.fields.Integer(allow_none=True, required=True)
    amount_off = ma.fields.Nested(MoneySchema, allow_none=True, required=True)
    beat_id = ma.fields.String(allow_none=True, required=True)
    expires_at = ma.fields.DateTime(allow_none=True, required=True)
    max_redemptions = ma.fields.Integer(allow_none=True, required=True)
    redemptions = ma.fields.Integer(required=True)
    active = ma.fields.Boolean(required=True)


class DealInSchema(ma.Schema):
    buy_count = ma.fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=20))
    free_count = ma.fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=20))


class DealSchema(ma.Schema):
    id = ma.fields.String(required=True)
    buy_count = ma.fields.Integer(required=True)
    free_count = ma.fields.Integer(required=True)
    active = ma.fields.Boolean(required=True)
    label = ma.fields.String(required=True)


class UpgradeOptionSchema(ma.Schema):
    tier_id = ma.fields.String(required=True)
    tier_name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(["lease", "exclusive"]))
    list_price = ma.fields.Nested(MoneySchema, required=True,
                                  metadata={"description": "the tier's price today"})
    credit = ma.fields.Nested(MoneySchema, required=True, metadata={
        "description": "what you paid for the license (and the licenses it replaced), net of discounts"})
    price = ma.fields.Nested(MoneySchema, required=True, metadata={
        "description": "what checkout charges for the upgrade now: the difference, at least the "
                       "seller's floor; 0 when too small to charge"})
    deliverables = ma.fields.List(ma.fields.String(), required=True)
    term_years = ma.fields.Integer(allow_none=True, required=True)
    available = ma.fields.Boolean(required=True)
    reason = ma.fields.String(allow_none=True, required=True,
                              metadata={"description": "why it cannot be bought now"})


class UpgradesSchema(ma.Schema):
    license_id = ma.fields.String(required=True)
    license_number = ma.fields.String(required=True)
    upgradable = ma.fields.Boolean(required=True)
    reason = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "why this license cannot be upgraded (revoked, superseded, disputed, expired...)"})
    options = ma.fields.List(ma.fields.Nested(UpgradeOptionSchema), required=True)
