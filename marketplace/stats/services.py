"""The series behind the charts. Plays come from the daily plays of a beatmaker's beats, money
and sales from the ledger (so every chart adds up to what the ledger says), each bucketed by
the UTC day or week of its row."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from flask import current_app
from sqlalchemy import select

from marketplace.catalog.models import Beat, BeatDailyPlays
from marketplace.checkout.models import OrderItem
from marketplace.db import db
from marketplace.licensing.models import FreeLicense
from marketplace.common.errors import NotFound
from marketplace.payouts.models import LedgerEntry, LedgerKind
from marketplace.stats.periods import Periods

TOP_BEATS = 10


def _series(periods: Periods, counts: dict[Any, int]) -> list[int]:
    return [int(counts.get(start, 0)) for start in periods.starts]


def _conversion(sales: int, plays: int) -> float | None:
    """Sales per play, as a fraction (None without plays: nothing to convert from)."""
    return round(sales / plays, 4) if plays else None


def _frame(periods: Periods) -> dict[str, Any]:
    return {"interval": periods.interval, "from": periods.first, "to": periods.last, "time_zone": "UTC",
            "currency": current_app.config["STORE_CURRENCY"], "periods": periods.starts}


# -- the studio: one beatmaker's plays, sales and earnings ---------------------------------

def beatmaker_stats(user_id: str, periods: Periods, beat_id: str | None = None) -> dict[str, Any]:
    if beat_id is not None and db.session.scalar(
            select(Beat.id).where(Beat.id == beat_id, Beat.owner_id == user_id)) is None:
        raise NotFound("You have no beat with this id.", code="beat_not_found")
    plays_by_beat, plays = _plays(user_id, periods, beat_id)
    beats, sales, earnings, refunded = _earnings(user_id, periods, beat_id)
    free_downloads = _free_downloads(user_id, periods, beat_id)
    document = {**_frame(periods), "beat_id": beat_id, "plays": _series(periods, plays),
                "free_downloads": _series(periods, free_downloads),
                "sales": _series(periods, sales), "earnings": _series(periods, earnings),
                "refunded": _series(periods, refunded)}
    total_plays, total_sales = sum(plays.values()), sum(sales.values())
    document["totals"] = {"plays": total_plays, "sales": total_sales, "earnings": sum(earnings.values()),
                          "refunded": sum(refunded.values()), "free_downloads": sum(free_downloads.values()),
                          "conversion": _conversion(total_sales, total_plays)}
    document["top_beats"] = _top_beats(user_id, plays_by_beat, beats)
    return document


def _plays(user_id: str, periods: Periods, beat_id: str | None) -> tuple[dict[str, int], dict[Any, int]]:
    """Plays of the beatmaker's beats in the range: per beat, and per period."""
    query = (select(BeatDailyPlays.beat_id, BeatDailyPlays.day, BeatDailyPlays.plays)
             .join(Beat, Beat.id == BeatDailyPlays.beat_id)
             .where(Beat.owner_id == user_id, BeatDailyPlays.day >= periods.first,
                    BeatDailyPlays.day <= periods.last))
    if beat_id is not None:
        query = query.where(BeatDailyPlays.beat_id == beat_id)
    by_beat: dict[str, int] = defaultdict(int)
    by_period: dict[Any, int] = defaultdict(int)
    for row in db.session.execute(query):
        by_beat[row.beat_id] += row.plays
        by_period[periods.start_of(row.day)] += row.plays
    return by_beat, by_period


def _free_downloads(user_id: str, periods: Periods, beat_id: str | None) -> dict[Any, int]:
    """Free licenses taken of the beatmaker's beats, per period (an account once per beat)."""
    start = dt.datetime.combine(periods.first, dt.time(), tzinfo=dt.timezone.utc)
    end = dt.datetime.combine(periods.last + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
    query = select(FreeLicense.issued_at).where(FreeLicense.seller_id == user_id,
                                                FreeLicense.issued_at >= start, FreeLicense.issued_at < end)
    if beat_id is not None:
        query = query.where(FreeLicense.beat_id == beat_id)
    by_period: dict[Any, int] = defaultdict(int)
    for issued_at in db.session.scalars(query):
        by_period[periods.start_of(issued_at.astimezone(dt.timezone.utc).date())] += 1
    return by_period


def _earnings(user_id: str, periods: Periods, beat_id: str | None):
    """The user's sale and refund rows in the range (their own beats and those they share in):
    per beat (sales, earnings), and per period (sales, earnings, refunded)."""
    query = (select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.created_at, OrderItem.beat_id,
                    OrderItem.beat_title)
             .join(OrderItem, OrderItem.id == LedgerEntry.order_item_id)
             .where(LedgerEntry.payee_id == user_id,
                    LedgerEntry.kind.in_((LedgerKind.SALE, LedgerKind.REFUND)),
                    LedgerEntry.created_at >= periods.since, LedgerEntry.created_at < periods.until))
    if beat_id is not None:
        query = query.where(OrderItem.beat_id == beat_id)
    beats: dict[str, dict[str, Any]] = {}
    sales: dict[Any, int] = defaultdict(int)
    earnings: dict[Any, int] = defaultdict(int)
    refunded: dict[Any, int] = defaultdict(int)
    for row in db.session.execute(query):
        start = periods.start_of(row.created_at)
        beat = beats.setdefault(row.beat_id, {"title": row.beat_title, "sales": 0, "earnings": 0})
        if row.kind == LedgerKind.SALE:
            sales[start] += 1
            earnings[start] += row.amount
            beat["sales"] += 1
            beat["earnings"] += row.amount
        else:
            refunded[start] -= row.amount
            beat["earnings"] += row.amount
    return beats, sales, earnings, refunded


def _top_beats(user_id: str, plays_by_beat: dict[str, int], sold: dict[str, dict[str, Any]]) -> list[dict]:
    """The beats sold or played most in the range: sales first, then plays."""
    ids = set(plays_by_beat) | set(sold)
    titles = {row.id: row.title
              for row in db.session.execute(select(Beat.id, Beat.title).where(Beat.id.in_(ids)))}
    rows = []
    for beat_id in ids:
        sales = sold.get(beat_id, {}).get("sales", 0)
        plays = plays_by_beat.get(beat_id, 0)
        rows.append({"beat_id": beat_id, "title": titles.get(beat_id) or sold[beat_id]["title"],
                     "plays": plays,
                     "sales": sales, "earnings": sold.get(beat_id, {}).get("earnings", 0),
                     "conversion": _conversion(sales, plays)})
    rows.sort(key=lambda row: (-row["sales"], -row["plays"], row["title"].casefold(), row["beat_id"]))
    return rows[:TOP_BEATS]


# -- the admin console: the store's money over time ----------------------------------------

def store_stats(periods: Periods) -> dict[str, Any]:
    """Per period: lines sold and what they sold for, the platform's fees, what was refunded to
    buyers (every share and fee taken back), and disputes opened with the money they hold."""
    lines: dict[Any, int] = defaultdict(int)
    gross: dict[Any, int] = defaultdict(int)
    fees: dict[Any, int] = defaultdict(int)
    refunds: dict[Any, int] = defaultdict(int)
    disputed: dict[Any, int] = defaultdict(int)
    disputes: dict[Any, set[str]] = defaultdict(set)
    kinds = (LedgerKind.SALE, LedgerKind.PLATFORM_FEE, LedgerKind.REFUND, LedgerKind.DISPUTE_HOLD)
    for row in db.session.execute(
            select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.created_at, LedgerEntry.order_id)
            .where(LedgerEntry.kind.in_(kinds), LedgerEntry.created_at >= periods.since,
                   LedgerEntry.created_at < periods.until)):
        start = periods.start_of(row.created_at)
        if row.kind == LedgerKind.PLATFORM_FEE:  # one per line sold
            lines[start] += 1
            fees[start] += row.amount
            gross[start] += row.amount
        elif row.kind == LedgerKind.SALE:
            gross[start] += row.amount
        elif row.kind == LedgerKind.REFUND:
            refunds[start] -= row.amount
        else:
            disputed[start] -= row.amount
            disputes[start].add(row.order_id)
    dispute_counts = {start: len(orders) for start, orders in disputes.items()}
    series = {"sales": lines, "gross": gross, "fees": fees, "refunds": refunds, "disputes": dispute_counts,
              "disputed": disputed}
    return {**_frame(periods), **{name: _series(periods, values) for name, values in series.items()},
            "totals": {name: sum(values.values()) for name, values in series.items()}}
