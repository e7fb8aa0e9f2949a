from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.api.schemas import MoneySchema, cursor_field, limit_field, page_of
from marketplace.common.money import MAX_PRICE_MINOR
from marketplace.payouts.models import LedgerKind, TransferStatus

ACCOUNT_STATUSES = ("not_connected", "onboarding", "restricted", "disconnected", "enabled")


class FeeArgs(ma.Schema):
    price = ma.fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_PRICE_MINOR),
                              metadata={"description": "a price in minor units, to see its fee worked out"})


class FeeExampleSchema(ma.Schema):
    price = ma.fields.Nested(MoneySchema, required=True)
    fee = ma.fields.Nested(MoneySchema, required=True)
    net = ma.fields.Nested(MoneySchema, required=True, metadata={"description": "shared among the credits"})


class PlatformFeeSchema(ma.Schema):
    percent_bps = ma.fields.Integer(required=True, metadata={"description": "basis points of each line's price"})
    fixed = ma.fields.Nested(MoneySchema, required=True, metadata={"description": "added per line"})
    rule = ma.fields.String(required=True)
    example = ma.fields.Nested(FeeExampleSchema, required=True, allow_none=True)


class ConnectInSchema(ma.Schema):
    country = ma.fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{2}$"),
                               metadata={"description": "ISO 3166-1 alpha-2 country of the account holder",
                                         "example": "US"})


class PayoutAccountSchema(ma.Schema):
    status = ma.fields.String(required=True, validate=validate.OneOf(ACCOUNT_STATUSES), metadata={
        "description": "not_connected; onboarding (details not given yet); restricted (Stripe holds payouts "
                       "until it gets what it asks); disconnected (no transfers can be made); enabled"})
    stripe_account_id = ma.fields.String(required=True, allow_none=True)
    details_submitted = ma.fields.Boolean(required=True)
    payouts_enabled = ma.fields.Boolean(required=True)
    transfers_enabled = ma.fields.Boolean(required=True)
    disabled_reason = ma.fields.String(required=True, allow_none=True,
                                       metadata={"description": "Stripe's code, e.g. requirements.past_due"})
    why_disabled = ma.fields.String(required=True, allow_none=True,
                                    metadata={"description": "disabled_reason in words, and what to do"})
    may_connect = ma.fields.Boolean(metadata={
        "description": "whether this account may set up payouts: it sells beats or is credited on one"})
    connected_at = ma.fields.DateTime(required=True, allow_none=True)


class OnboardingSchema(ma.Schema):
    url = ma.fields.String(required=True, metadata={"description": "Stripe's onboarding page; open it once"})
    expires_at = ma.fields.DateTime(required=True)
    account = ma.fields.Nested(PayoutAccountSchema, required=True)


class PayoutBalanceSchema(ma.Schema):
    pending = ma.fields.Nested(MoneySchema, required=True, metadata={
        "description": "earned and not yet sent (negative: a refund after a payout, taken off the next ones)"})
    paid = ma.fields.Nested(MoneySchema, required=True, metadata={"description": "sent, less what was taken back"})
    currency = ma.fields.String(required=True)
    account_status = ma.fields.String(required=True, validate=validate.OneOf(ACCOUNT_STATUSES))
    why_pending = ma.fields.String(required=True, allow_none=True,
                                   metadata={"description": "why the pending balance is not being sent, if it is not"})


class LedgerArgs(ma.Schema):
    limit = limit_field()
    cursor = cursor_field()


class LedgerRowSchema(ma.Schema):
    id = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf([k.value for k in LedgerKind]))
    amount = ma.fields.Nested(MoneySchema, required=True)
    order_id = ma.fields.String(required=True)
    order_item_id = ma.fields.String(required=True, allow_none=True)
    provider_id = ma.fields.String(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)


LedgerPageSchema = page_of(LedgerRowSchema, name="LedgerPage")


class SalesRowSchema(ma.Schema):
    beat_id = ma.fields.String(required=True)
    beat_title = ma.fields.String(required=True)
    tier_name = ma.fields.String(required=True)
    sales = ma.fields.Integer(required=True, metadata={"description": "lines sold"})
    gross = ma.fields.Nested(MoneySchema, required=True, metadata={"description": "what buyers paid for them"})
    fees = ma.fields.Nested(MoneySchema, required=True, metadata={"description": "the platform's fees on them"})
    earnings = ma.fields.Nested(MoneySchema, required=True, metadata={"description": "your share"})
    refunded = ma.fields.Nested(MoneySchema, required=True, metadata={"description": "of your share, given back"})


class FeeMonthSchema(ma.Schema):
    month = ma.fields.String(required=True, metadata={"example": "2026-11"})
    lines = ma.fields.Integer(required=True)
    fees = ma.fields.Nested(MoneySchema, required=True)
    refunded = ma.fields.Nested(MoneySchema, required=True)
    net = ma.fields.Nested(MoneySchema, required=True)


class PlatformFeesSchema(ma.Schema):
    total = ma.fields.Nested(MoneySchema, required=True, metadata={"description": "fees less those refunded"})
    months = ma.fields.List(ma.fields.Nested(FeeMonthSchema), required=True)


class PayoutTransferArgs(ma.Schema):
    status = ma.fields.String(load_default=None, validate=validate.OneOf([s.value for s in TransferStatus]))
    limit = limit_field()


class PayoutTransferSchema(ma.Schema):
    id = ma.fields.String(required=True)
    payee_id = ma.fields.String(required=True)
    order_id = ma.fields.String(required=True, allow_none=True)
    amount = ma.fields.Nested(MoneySchema, required=True)
    amount_reversed = ma.fields.Nested(MoneySchema, required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf([s.value for s in TransferStatus]))
    failure_code = ma.fields.String(required=True, allow_none=True)
    failure_reason = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "why Stripe refused it, in words"})
    provider_transfer_id = ma.fields.String(required=True, allow_none=True)
    destination = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)
    paid_at = ma.fields.DateTime(required=True, allow_none=True)
