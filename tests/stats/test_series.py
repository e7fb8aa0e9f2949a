"""The charts' series: plays per day from the daily plays, sales, earnings, fees, refunds and
disputes from the ledger, every day or week of the range listed (zeros when quiet, UTC), and
the totals equal to what the ledger holds."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter, defaultdict

import pytest
import requests
from sqlalchemy import select

from marketplace.catalog.models import Beat, BeatDailyPlays
from marketplace.catalog.services import daily_play_upsert
from marketplace.checkout.models import OrderItem
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.payouts.models import LedgerEntry
from tests.checkout.conftest import wait_for
from tests.conftest import postgres_only


def _ledger(app, **where):
    with app.app_context():
        query = select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.created_at, LedgerEntry.order_id,
                       LedgerEntry.payee_id, OrderItem.beat_id).outerjoin(
            OrderItem, OrderItem.id == LedgerEntry.order_item_id)
        for column, value in where.items():
            query = query.where(getattr(LedgerEntry, column) == value)
        return list(db.session.execute(query))


def _by_day(rows, kinds, value=lambda row: row.amount):
    days: dict[dt.date, int] = defaultdict(int)
    for row in rows:
        if row.kind in kinds:
            days[row.created_at.date()] += value(row)
    return days


def _plays_on(app, beat_id: str, day: dt.date, plays: int) -> None:
    """Plays counted on an earlier day, through the same statement a play runs."""
    with app.app_context():
        for _ in range(plays):
            db.session.execute(daily_play_upsert(beat_id, day))
        db.session.commit()


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


@pytest.fixture
def sold_store(app, client, payments, beatmaker, new_buyer, buy, admin_headers, backdate, order_of,
               session_of):
    """Anna's two beats and Ben's one, sold on three days; one of Anna's orders refunded and
    one of Ben's disputed. Answers the sellers and their beats."""
    anna, anna_headers, anna_beat, anna_tiers = beatmaker("Anna")
    ben, ben_headers, ben_beat, ben_tiers = beatmaker("Ben")
    _, buyer_headers = new_buyer()
    early = buy(buyer_headers, [(anna_beat, anna_tiers["Basic"]["id"]), (ben_beat, ben_tiers["Basic"]["id"])])
    backdate(early["id"], 3)
    middle = buy(buyer_headers, [(anna_beat, anna_tiers["Premium"]["id"])])
    backdate(middle["id"], 1)
    refunded = buy(buyer_headers, [(anna_beat, anna_tiers["Unlimited"]["id"])])
    disputed = buy(buyer_headers, [(ben_beat, ben_tiers["Premium"]["id"])])
    answer = client.post(f"/api/v1/orders/{refunded['id']}/refund", headers=admin_headers)
    assert answer.status_code == 202, answer.json
    assert wait_for(lambda: _ledger(app, order_id=refunded["id"], kind="refund"), seconds=30)
    intent = payments.session(session_of(disputed["id"]))["payment_intent"]
    payments.dispute(intent, deliver="sync")
    assert order_of(disputed["id"], buyer_headers)["status"] == "disputed"
    return {"anna": (anna, anna_headers, anna_beat), "ben": (ben, ben_headers, ben_beat),
            "orders": [early, middle, refunded, disputed]}


def test_the_store_series_add_up_to_the_ledger_day_by_day(app, client, sold_store, admin_headers):
    today = utcnow().date()
    first = today - dt.timedelta(days=6)
    answer = client.get("/api/v1/admin/stats", headers=admin_headers,
                        query_string={"from": first.isoformat(), "to": today.isoformat()})
    assert answer.status_code == 200, answer.json
    stats = answer.json
    days = _days(first, today)
    assert stats["interval"] == "day" and stats["time_zone"] == "UTC"
    assert stats["periods"] == [day.isoformat() for day in days]
    rows = [row for row in _ledger(app) if first <= row.created_at.date() <= today]
    expected = {
        "sales": _by_day(rows, {"platform_fee"}, lambda row: 1),
        "gross": _by_day(rows, {"sale", "platform_fee"}),
        "fees": _by_day(rows, {"platform_fee"}),
        "refunds": _by_day(rows, {"refund"}, lambda row: -row.amount),
        "disputed": _by_day(rows, {"dispute_hold"}, lambda row: -row.amount),
    }
    for name, per_day in expected.items():
        assert stats[name] == [per_day.get(day, 0) for day in days], name
        assert stats["totals"][name] == sum(per_day.values()), name
    # What the lines sold for is what the buyers paid; what was refunded is the refunded order.
    orders = sold_store["orders"]
    assert stats["totals"]["gross"] == sum(order["total"]["amount"] for order in orders)
    assert stats["totals"]["refunds"] == orders[2]["total"]["amount"]
    assert stats["totals"]["sales"] == sum(len(order["items"]) for order in orders)
    assert stats["totals"]["disputes"] == 1 and sum(stats["disputes"]) == 1
    assert stats["totals"]["disputed"] > 0
    # Sold on three days, nothing on the others: they are there with zeros.
    assert sum(1 for count in stats["sales"] if count) == 3
    assert stats["sales"][0] == stats["gross"][0] == 0


def test_per_week_the_range_is_whole_weeks_and_adds_up_to_the_days(client, sold_store, admin_headers):
    today = utcnow().date()
    first = today - dt.timedelta(days=20)
    query = {"from": first.isoformat(), "to": today.isoformat()}
    days = client.get("/api/v1/admin/stats", query_string=query, headers=admin_headers).json
    weeks = client.get("/api/v1/admin/stats", query_string={**query, "interval": "week"},
                       headers=admin_headers).json
    monday = first - dt.timedelta(days=first.weekday())
    assert weeks["from"] == monday.isoformat()
    assert weeks["to"] == (today + dt.timedelta(days=6 - today.weekday())).isoformat()
    assert weeks["periods"] == [(monday + dt.timedelta(weeks=n)).isoformat()
                                for n in range(len(weeks["periods"]))]
    assert all(dt.date.fromisoformat(start).weekday() == 0 for start in weeks["periods"])
    for name in ("sales", "gross", "fees", "refunds", "disputes", "disputed"):
        assert len(weeks[name]) == len(weeks["periods"])
        assert sum(weeks[name]) == sum(days[name]) == weeks["totals"][name], name
    per_week = Counter()
    for start, count in zip(days["periods"], days["sales"]):
        day = dt.date.fromisoformat(start)
        per_week[(day - dt.timedelta(days=day.weekday())).isoformat()] += count
    assert weeks["sales"] == [per_week.get(start, 0) for start in weeks["periods"]]


def test_the_studio_series_are_the_beatmakers_own_plays_and_ledger(app, client, sold_store):
    anna, anna_headers, anna_beat = sold_store["anna"]
    _ben, _ben_headers, ben_beat = sold_store["ben"]
    today = utcnow().date()
    first = today - dt.timedelta(days=6)
    _plays_on(app, anna_beat, today - dt.timedelta(days=5), 4)
    _plays_on(app, anna_beat, today - dt.timedelta(days=3), 7)
    _plays_on(app, ben_beat, today - dt.timedelta(days=3), 50)  # not Anna's
    assert client.get(f"/api/v1/beats/{anna_beat}/preview").status_code == 200  # a play today, counted live
    answer = client.get("/api/v1/me/stats", query_string={"from": first.isoformat(), "to": today.isoformat()},
                        headers=anna_headers)
    assert answer.status_code == 200, answer.json
    stats = answer.json
    days = _days(first, today)
    assert stats["periods"] == [day.isoformat() for day in days]
    plays = {today - dt.timedelta(days=5): 4, today - dt.timedelta(days=3): 7, today: 1}
    assert stats["plays"] == [plays.get(day, 0) for day in days]
    mine = [row for row in _ledger(app, payee_id=anna) if first <= row.created_at.date() <= today]
    sales = _by_day(mine, {"sale"}, lambda row: 1)
    earnings = _by_day(mine, {"sale"})
    refunded = _by_day(mine, {"refund"}, lambda row: -row.amount)
    assert stats["sales"] == [sales.get(day, 0) for day in days]
    assert stats["earnings"] == [earnings.get(day, 0) for day in days]
    assert stats["refunded"] == [refunded.get(day, 0) for day in days]
    assert stats["totals"] == {"plays": 12, "sales": 3, "earnings": sum(earnings.values()),
                               "refunded": sum(refunded.values()), "free_downloads": 0, "conversion": round(3 / 12, 4)}
    assert [beat["beat_id"] for beat in stats["top_beats"]] == [anna_beat]
    top = stats["top_beats"][0]
    assert (top["plays"], top["sales"], top["conversion"]) == (12, 3, 0.25)
    assert top["earnings"] == sum(earnings.values()) - sum(refunded.values())
    # One beat's series: the same here, as Anna has one beat.
    only = client.get("/api/v1/me/stats", query_string={"from": first.isoformat(), "to": today.isoformat(),
                                                        "beat_id": anna_beat}, headers=anna_headers).json
    assert only["plays"] == stats["plays"] and only["sales"] == stats["sales"]
    assert only["beat_id"] == anna_beat


def test_a_quiet_studio_has_every_day_at_zero(client, beatmaker):
    _user, headers, _beat, _tiers = beatmaker("Quiet")
    stats = client.get("/api/v1/me/stats", headers=headers).json
    assert len(stats["periods"]) == 30 and stats["periods"][-1] == utcnow().date().isoformat()
    for name in ("plays", "sales", "earnings", "refunded"):
        assert stats[name] == [0] * 30
    assert stats["totals"]["conversion"] is None and stats["top_beats"] == []


def test_plays_are_counted_per_day_through_the_preview(app, client, beatmaker):
    _user, _headers, beat_id, _tiers = beatmaker("Player")
    for _ in range(3):
        assert client.get(f"/api/v1/beats/{beat_id}/preview").status_code == 200
    # A later part of the file (seeking) is no new play.
    assert client.get(f"/api/v1/beats/{beat_id}/preview", headers={"Range": "bytes=100-"}).status_code == 206
    with app.app_context():
        rows = list(db.session.execute(select(BeatDailyPlays.day, BeatDailyPlays.plays)
                                       .where(BeatDailyPlays.beat_id == beat_id)))
        assert [(day, plays) for day, plays in rows] == [(utcnow().date(), 3)]
        assert db.session.get(Beat, beat_id).play_count == 3


@pytest.mark.parametrize("query, field, words", [
    ({"from": "2026-12-07", "to": "2026-12-01"}, "from", "on or before the end date"),
    ({"from": "2020-01-01", "to": "2026-12-01"}, "from", "at most 731 days"),
    ({"interval": "month"}, "interval", "per day or per week"),
    ({"from": "yesterday"}, "from", "date"),
])
def test_a_range_that_cannot_be_charted_is_refused_in_words(client, beatmaker, admin_headers, query, field,
                                                             words):
    _user, headers, _beat, _tiers = beatmaker("Asker")
    for path, who in (("/api/v1/me/stats", headers), ("/api/v1/admin/stats", admin_headers)):
        answer = client.get(path, query_string=query, headers=who)
        assert answer.status_code == 422, answer.json
        assert words in str(answer.json["error"]).lower() or words in str(answer.json["error"])
        assert f"'{field}'" in str(answer.json["error"]["details"])


def test_another_beatmakers_beat_is_not_found(client, beatmaker):
    _anna, anna_headers, _anna_beat, _ = beatmaker("Anna")
    _ben, _ben_headers, ben_beat, _ = beatmaker("Ben")
    answer = client.get("/api/v1/me/stats", query_string={"beat_id": ben_beat}, headers=anna_headers)
    assert answer.status_code == 404 and answer.json["error"]["code"] == "beat_not_found"


@postgres_only("concurrent first plays of a day on one row")
def test_concurrent_first_plays_of_a_day_are_all_counted(app, live_server, beatmaker):
    _user, _headers, beat_id, _tiers = beatmaker("Racer")
    listeners = 8
    barrier = threading.Barrier(listeners)
    statuses: list[int] = []
    lock = threading.Lock()

    def listen() -> None:
        barrier.wait()
        response = requests.get(f"{live_server}/api/v1/beats/{beat_id}/preview", timeout=30)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=listen) for _ in range(listeners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * listeners
    with app.app_context():
        counted = select(BeatDailyPlays.plays).where(BeatDailyPlays.beat_id == beat_id)
        assert db.session.scalar(counted) == listeners
        assert db.session.get(Beat, beat_id).play_count == listeners
