from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.common.ids import ID_LENGTH
from marketplace.stats.periods import INTERVALS, MAX_DAYS


class StatsArgs(ma.Schema):
    interval = ma.fields.String(load_default="day",
                                validate=validate.OneOf(INTERVALS, error="Choose per day or per week."),
                                metadata={"description": "day, or week (Monday first)"})
    from_ = ma.fields.Date(data_key="from", load_default=None, metadata={
        "description": f"first day (UTC), e.g. 2026-11-01; 30 days before `to` when absent, "
                       f"{MAX_DAYS} days at most"})
    to = ma.fields.Date(load_default=None, metadata={"description": "last day (UTC); today when absent"})


class BeatmakerStatsArgs(StatsArgs):
    beat_id = ma.fields.String(load_default=None, validate=validate.Length(max=ID_LENGTH),
                               metadata={"description": "only this beat of yours"})


AMOUNTS = "amounts in minor units of `currency`, one per period"


class _FrameSchema(ma.Schema):
    interval = ma.fields.String(required=True)
    from_ = ma.fields.Date(data_key="from", attribute="from", required=True,
                           metadata={"description": "the first day counted (a Monday per week)"})
    to = ma.fields.Date(required=True, metadata={"description": "the last day counted (a Sunday per week)"})
    time_zone = ma.fields.String(required=True, metadata={"description": "always UTC"})
    currency = ma.fields.String(required=True)
    periods = ma.fields.List(ma.fields.Date(), required=True, metadata={
        "description": "the first day of each period; every series has one number per period, 0 when quiet"})


class TopBeatSchema(ma.Schema):
    beat_id = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    plays = ma.fields.Integer(required=True)
    sales = ma.fields.Integer(required=True)
    earnings = ma.fields.Integer(required=True, metadata={"description": "less refunds, minor units"})
    conversion = ma.fields.Float(required=True, allow_none=True, metadata={
        "description": "sales per play (0.05 is 5%); null without plays"})


class BeatmakerTotalsSchema(ma.Schema):
    plays = ma.fields.Integer(required=True)
    sales = ma.fields.Integer(required=True)
    earnings = ma.fields.Integer(required=True)
    refunded = ma.fields.Integer(required=True)
    free_downloads = ma.fields.Integer(required=True)
    conversion = ma.fields.Float(required=True, allow_none=True)


class BeatmakerStatsSchema(_FrameSchema):
    beat_id = ma.fields.String(required=True, allow_none=True)
    plays = ma.fields.List(ma.fields.Integer(), required=True, metadata={"description": "previews started"})
    free_downloads = ma.fields.List(ma.fields.Integer(), required=True, metadata={
        "description": "free licenses for non-profit use taken of your beats (an account once per beat)"})
    sales = ma.fields.List(ma.fields.Integer(), required=True, metadata={
        "description": "lines sold that you earn from (your beats and those you are credited on)"})
    earnings = ma.fields.List(ma.fields.Integer(), required=True, metadata={
        "description": f"your shares of those lines; {AMOUNTS}"})
    refunded = ma.fields.List(ma.fields.Integer(), required=True, metadata={
        "description": f"your shares taken back by refunds; {AMOUNTS}"})
    totals = ma.fields.Nested(BeatmakerTotalsSchema, required=True)
    top_beats = ma.fields.List(ma.fields.Nested(TopBeatSchema), required=True, metadata={
        "description": "up to 10 beats, most sold first, then most played"})


class StoreTotalsSchema(ma.Schema):
    sales = ma.fields.Integer(required=True)
    gross = ma.fields.Integer(required=True)
    fees = ma.fields.Integer(required=True)
    refunds = ma.fields.Integer(required=True)
    disputes = ma.fields.Integer(required=True)
    disputed = ma.fields.Integer(required=True)


class StoreStatsSchema(_FrameSchema):
    sales = ma.fields.List(ma.fields.Integer(), required=True, metadata={"description": "lines sold"})
    gross = ma.fields.List(ma.fields.Integer(), required=True, metadata={
        "description": f"what those lines sold for; {AMOUNTS}"})
    fees = ma.fields.List(ma.fields.Integer(), required=True,
                          metadata={"description": f"platform fees; {AMOUNTS}"})
    refunds = ma.fields.List(ma.fields.Integer(), required=True, metadata={
        "description": f"refunded to buyers; {AMOUNTS}"})
    disputes = ma.fields.List(ma.fields.Integer(), required=True, metadata={"description": "orders disputed"})
    disputed = ma.fields.List(ma.fields.Integer(), required=True, metadata={
        "description": f"held by those disputes; {AMOUNTS}"})
    totals = ma.fields.Nested(StoreTotalsSchema, required=True)
