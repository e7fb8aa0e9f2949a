"""Hoarding: one buyer cannot keep exclusives off sale, nor drain a coupon with unpaid checkouts."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from marketplace.checkout.holds import HOLD_GRACE, HOLD_TIME_WINDOW
from marketplace.checkout.models import CouponRedemption, ExclusiveHold, Order
from marketplace.common.clock import utcnow
from marketplace.db import db
from tests.conftest import postgres_only
from tests.checkout.test_promotions import coupon


@contextlib.contextmanager
def setting(app, name, value):
    original = app.config[name]
    app.config[name] = value
    try:
        yield
    finally:
        app.config[name] = original


@pytest.fixture
def beats(shop, upload_beat, offer_all):
    """The shop's beat and five more of the same beatmaker, all offered under every tier."""
    more = [upload_beat(shop["headers"], title=f"Beat {index}") for index in range(5)]
    for beat_id in more:
        offer_all(shop["headers"], beat_id)
    return [shop["beat_id"], *more]


def open_holds_of(app, buyer_id):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ExclusiveHold).where(
            ExclusiveHold.buyer_id == buyer_id, ExclusiveHold.released_at.is_(None)))


def live_reservations(app, coupon_id, buyer_id=None):
    with app.app_context():
        query = select(func.count()).select_from(CouponRedemption).where(
            CouponRedemption.coupon_id == coupon_id, CouponRedemption.released_at.is_(None),
            CouponRedemption.redeemed_at.is_(None))
        if buyer_id is not None:
            query = query.where(CouponRedemption.buyer_id == buyer_id)
        return db.session.scalar(query)


# -- exclusive holds ---------------------------------------------------------------------

def test_a_fourth_open_exclusive_hold_is_refused_until_one_closes(app, payments, shop, beats, new_buyer,
                                                                   checkout, session_of):
    exclusive, basic = shop["tiers"]["Exclusive"]["id"], shop["tiers"]["Basic"]["id"]
    buyer_id, headers = new_buyer()
    held = [checkout(headers, [(beat_id, exclusive)]) for beat_id in beats[:3]]
    assert [answer.status_code for answer in held] == [201, 201, 201]
    refused = checkout(headers, [(beats[3], exclusive)])
    assert refused.status_code == 409, refused.json
    assert refused.json["error"]["code"] == "too_many_exclusive_holds"
    assert "3 beats" in refused.json["error"]["message"]
    assert refused.json["error"]["details"]["open_holds_limit"] == 3
    assert open_holds_of(app, buyer_id) == 3
    # Leases are not holds, and another buyer is not affected.
    assert checkout(headers, [(beats[3], basic)]).status_code == 201
    assert checkout(new_buyer("Other")[1], [(beats[3], exclusive)]).status_code == 201
    # Once one of the payment pages closes, its slot is free again.
    payments.expire(session_of(held[0].json["order_id"]), deliver="sync")
    assert checkout(headers, [(beats[4], exclusive)]).status_code == 201
    assert open_holds_of(app, buyer_id) == 3


def test_a_cart_with_more_exclusives_than_the_cap_leaves_nothing_held(app, payments, shop, beats, new_buyer,
                                                                      checkout):
    exclusive = shop["tiers"]["Exclusive"]["id"]
    buyer_id, headers = new_buyer()
    refused = checkout(headers, [(beat_id, exclusive) for beat_id in beats[:4]])
    assert refused.status_code == 409 and refused.json["error"]["code"] == "too_many_exclusive_holds"
    assert open_holds_of(app, buyer_id) == 0
    with app.app_context():
        orders = select(func.count()).select_from(Order).where(Order.buyer_id == buyer_id)
        assert db.session.scalar(orders) == 0


def test_checkouts_are_rate_limited_per_account(app, payments, shop, new_buyer, checkout):
    basic, premium, third = [(shop["beat_id"], tier) for tier in lease_tiers(shop)[:3]]
    _buyer, headers = new_buyer()
    with setting(app, "CHECKOUT_LIMIT_PER_ACCOUNT", "2 per hour"):
        assert checkout(headers, [basic]).status_code == 201
        assert checkout(headers, [premium]).status_code == 201
        limited = checkout(headers, [third])
        assert limited.status_code == 429, limited.json
        assert limited.json["error"]["code"] == "rate_limited"
        assert "many checkouts" in limited.json["error"]["message"]
        assert 1 <= int(limited.headers["Retry-After"]) <= 3600
        assert checkout(new_buyer("Other")[1], [basic]).status_code == 201


def age_hold(app, order_id, by: dt.timedelta) -> None:
    """Moves an order and its hold back in time, as if they had been taken `by` earlier."""
    with app.app_context():
        hold = db.session.scalar(select(ExclusiveHold).where(ExclusiveHold.order_id == order_id))
        hold.created_at -= by
        hold.expires_at -= by
        db.session.get(Order, order_id).expires_at -= by
        db.session.commit()


def test_checking_out_again_and_again_cannot_hold_an_exclusive_for_ever(app, payments, shop, new_buyer,
                                                                       checkout, order_of):
    exclusive = (shop["beat_id"], shop["tiers"]["Exclusive"]["id"])
    _buyer, headers = new_buyer()
    # A page lasts its minutes and a small margin; its hold then has a grace period.
    page = dt.timedelta(minutes=app.config["CHECKOUT_SESSION_MINUTES"] + 3) + HOLD_GRACE
    first_taken_at = None
    for _page in range(app.config["EXCLUSIVE_HOLD_PAGES_PER_DAY"]):
        started = checkout(headers, [exclusive])
        assert started.status_code == 201, (_page, started.json)
        # The buyer sits on the payment page to its end, and then some.
        age_hold(app, started.json["order_id"], page)
        with app.app_context():
            taken_at = db.session.scalar(select(ExclusiveHold.created_at).where(
                ExclusiveHold.order_id == started.json["order_id"]))
        first_taken_at = first_taken_at or taken_at
    refused = checkout(headers, [exclusive])
    assert refused.status_code == 409, refused.json
    error = refused.json["error"]
    assert error["code"] == "exclusive_hold_time_used_up"
    again_at = dt.datetime.fromisoformat(error["details"]["available_again_at"])
    assert again_at == first_taken_at + HOLD_TIME_WINDOW
    assert f"{again_at:%Y-%m-%d %H:%M} UTC" in error["message"]
    # Meanwhile the exclusive is free for everyone else, and leases for this buyer too.
    other = checkout(new_buyer("Other")[1], [exclusive])
    assert other.status_code == 201, other.json
    lease = checkout(headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])])
    assert lease.status_code == 201, lease.json


def test_renewing_a_hold_early_counts_only_the_time_held(app, payments, shop, new_buyer, checkout, order_of):
    """A buyer who comes back to their cart a few times is not refused: only time held counts."""
    exclusive = (shop["beat_id"], shop["tiers"]["Exclusive"]["id"])
    _buyer, headers = new_buyer()
    answers = [checkout(headers, [exclusive]) for _ in range(app.config["EXCLUSIVE_HOLD_PAGES_PER_DAY"] + 2)]
    # The same cart again is the same pending order and page: no new hold, nothing refused.
    assert [answer.status_code for answer in answers] == [201] + [200] * (len(answers) - 1)
    assert {answer.json["order_id"] for answer in answers} == {answers[0].json["order_id"]}
    # Near its page's end, the same cart gets a fresh order and page, and is not refused either.
    with app.app_context():
        db.session.get(Order, answers[0].json["order_id"]).expires_at = utcnow() + dt.timedelta(minutes=1)
        db.session.commit()
    again = checkout(headers, [exclusive])
    assert again.status_code == 201, again.json
    assert order_of(answers[0].json["order_id"], headers)["status_reason"] == "replaced_by_new_checkout"


@pytest.mark.postgres_only
@postgres_only("concurrent transactions of one buyer")
def test_concurrent_checkouts_of_one_buyer_never_hold_more_than_the_cap(app, live_server, payments, shop,
                                                                      beats, new_buyer):
    exclusive = shop["tiers"]["Exclusive"]["id"]
    buyer_id, headers = new_buyer()
    barrier = threading.Barrier(len(beats))
    answers: list[tuple[int, dict]] = []

    def attempt(beat_id):
        barrier.wait()
        response = requests.post(f"{live_server}/api/v1/checkout", headers=headers, timeout=60,
                                 json={"items": [{"beat_id": beat_id, "tier_id": exclusive}]})
        answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=attempt, args=(beat_id,)) for beat_id in beats]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(status for status, _body in answers)
    assert statuses == [201] * 3 + [409] * (len(beats) - 3), answers
    refusals = {body["error"]["code"] for status, body in answers if status == 409}
    assert refusals == {"too_many_exclusive_holds"}
    assert open_holds_of(app, buyer_id) == 3


def test_the_database_refuses_two_holds_in_one_slot(app, payments, shop, beats, new_buyer, checkout):
    exclusive = shop["tiers"]["Exclusive"]["id"]
    buyer_id, headers = new_buyer()
    started = checkout(headers, [(beats[0], exclusive)])
    with app.app_context():
        order = db.session.get(Order, started.json["order_id"])
        db.session.add(ExclusiveHold(beat_id=beats[1], order_id=order.id, buyer_id=buyer_id, slot=1,
                                     expires_at=order.expires_at))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


# -- coupons

def lease_tiers(shop):
    return [shop["tiers"][name]["id"] for name in ("Basic", "Premium", "Trackout", "Unlimited")]

def test_one_buyers_unpaid_checkouts_cannot_drain_a_coupon(app, client, payments, shop, new_buyer,
                                                           checkout, order_of, session_of):
    created = coupon(client, shop["headers"], code="TWICE", max_redemptions=2)
    assert created.status_code == 201
    leases = lease_tiers(shop)
    hoarder_id, hoarder = new_buyer("Hoarder")
    first = checkout(hoarder, [(shop["beat_id"], leases[0])], coupon_code="TWICE")
    second = checkout(hoarder, [(shop["beat_id"], leases[1])], coupon_code="TWICE")
    assert first.status_code == 201 and second.status_code == 201
    replaced = order_of(first.json["order_id"], hoarder)
    assert replaced["status"] == "expired" and replaced["status_reason"] == "replaced_by_new_checkout"
    assert payments.session(session_of(first.json["order_id"]))["status"] == "expired"
    assert live_reservations(app, created.json["id"], hoarder_id) == 1
    # The hoarder holds one use; another buyer still gets the other.
    second = checkout(new_buyer("Second")[1], [(shop["beat_id"], leases[2])], coupon_code="TWICE")
    assert second.status_code == 201
    used_up = checkout(new_buyer("Third")[1], [(shop["beat_id"], leases[3])], coupon_code="TWICE")
    assert used_up.status_code == 422
    assert used_up.json["error"]["details"]["coupon_code"] == [
        "This code has been used as many times as it allows."]


def test_a_paid_use_counts_and_a_reusable_coupon_works_again_in_a_later_order(client, payments, shop,
                                                                              new_buyer, checkout,
                                                                              order_of, session_of):
    assert coupon(client, shop["headers"], code="AGAIN", max_redemptions=2).status_code == 201
    leases = lease_tiers(shop)
    _buyer, headers = new_buyer()
    first = checkout(headers, [(shop["beat_id"], leases[0])], coupon_code="AGAIN")
    payments.complete(session_of(first.json["order_id"]), deliver="sync")
    assert order_of(first.json["order_id"], headers)["status"] == "paid"
    later = checkout(headers, [(shop["beat_id"], leases[1])], coupon_code="AGAIN")
    assert later.status_code == 201, later.json
    assert order_of(first.json["order_id"], headers)["status"] == "paid"  # a paid order is never replaced
    listed = client.get("/api/v1/coupons", headers=shop["headers"]).json
    assert listed[0]["redemptions"] == 2
    other = checkout(new_buyer("Other")[1], [(shop["beat_id"], leases[2])], coupon_code="AGAIN")
    assert other.status_code == 422


def test_a_reservation_whose_bank_payment_is_settling_is_a_clear_409(client, payments, shop, new_buyer, checkout,
                                                                     order_of, session_of):
    """An unpaid checkout holding the code is replaced by the next one, but not while a bank
    payment made on it settles: that one keeps its reservation, and the buyer is told why."""
    assert coupon(client, shop["headers"], code="ONCEMORE").status_code == 201
    leases = lease_tiers(shop)
    _buyer, headers = new_buyer()
    first = checkout(headers, [(shop["beat_id"], leases[0])], coupon_code="ONCEMORE")
    payments.complete(session_of(first.json["order_id"]), async_payment=True, deliver="sync")
    refused = checkout(headers, [(shop["beat_id"], leases[1])], coupon_code="ONCEMORE")
    assert refused.status_code == 409, refused.json
    assert refused.json["error"]["code"] == "payment_under_way"
    assert "bank" in refused.json["error"]["message"]
    assert order_of(first.json["order_id"], headers)["status"] == "pending"


def test_the_database_refuses_a_second_reservation_and_a_shared_seat(app, client, payments, shop,
                                                                     new_buyer, checkout):
    created = coupon(client, shop["headers"], code="SEATS", max_redemptions=5)
    leases = lease_tiers(shop)
    buyer_id, headers = new_buyer()
    other_id, other = new_buyer("Other")
    mine = checkout(headers, [(shop["beat_id"], leases[0])], coupon_code="SEATS").json["order_id"]
    theirs = checkout(other, [(shop["beat_id"], leases[1])], coupon_code="SEATS").json["order_id"]
    with app.app_context():
        seat = db.session.scalar(select(CouponRedemption.seat).where(CouponRedemption.order_id == mine))
        for order_id, buyer, seat_taken in ((theirs, buyer_id, 5), (theirs, other_id, seat)):
            with pytest.raises(IntegrityError):
                with db.session.begin_nested():
                    db.session.add(CouponRedemption(coupon_id=created.json["id"], order_id=order_id,
                                                    buyer_id=buyer, seat=seat_taken))
        db.session.rollback()


@pytest.mark.postgres_only
@postgres_only("concurrent transactions on one coupon")
def test_concurrent_checkouts_never_use_a_coupon_more_than_it_allows(app, client, live_server, payments, shop,
                                                                    new_buyer):
    created = coupon(client, shop["headers"], code="FEW", max_redemptions=3)
    leases = lease_tiers(shop)
    buyers = [new_buyer(f"Buyer {index}")[1] for index in range(8)]
    hoarder_id, hoarder = new_buyer("Hoarder")
    attempts = [(headers, leases[index % len(leases)]) for index, headers in enumerate(buyers)]
    attempts += [(hoarder, tier_id) for tier_id in leases]
    barrier = threading.Barrier(len(attempts))
    answers: list[tuple[str, int, dict]] = []

    def attempt(headers, tier_id):
        barrier.wait()
        response = requests.post(f"{live_server}/api/v1/checkout", headers=headers, timeout=60, json={
            "items": [{"beat_id": shop["beat_id"], "tier_id": tier_id}], "coupon_code": "FEW"})
        answers.append(("hoarder" if headers is hoarder else "buyer", response.status_code, response.json()))

    threads = [threading.Thread(target=attempt, args=pair) for pair in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {status for _who, status, _body in answers} <= {201, 409, 422}, answers
    with app.app_context():
        live = db.session.scalars(select(CouponRedemption).where(
            CouponRedemption.coupon_id == created.json["id"], CouponRedemption.released_at.is_(None))).all()
        assert len(live) <= 3
        assert len({use.seat for use in live}) == len(live)
        assert sum(use.buyer_id == hoarder_id for use in live) <= 1
        kept = {use.order_id for use in live}
    assert live_reservations(app, created.json["id"], hoarder_id) <= 1
    # Every use the database kept belongs to an order that was told 201.
    told = {body["order_id"] for _who, status, body in answers if status == 201}
    assert kept <= told
    assert sum(status == 201 for who, status, _body in answers if who == "buyer") >= 2


def test_the_migration_carries_live_holds_and_coupon_uses_over(app, client, payments, shop, new_buyer, checkout,
                                                               session_of):
    """Orders placed before the upgrade keep counting: uses and holds get their rows and slots."""
    from marketplace.migrate import downgrade, upgrade

    created = coupon(client, shop["headers"], code="BEFORE", max_redemptions=3)
    leases = lease_tiers(shop)
    pending_id, pending = new_buyer("Pending")
    paid_id, paid = new_buyer("Paid")
    holder_id, holder = new_buyer("Holder")
    waiting = checkout(pending, [(shop["beat_id"], leases[0])], coupon_code="BEFORE").json["order_id"]
    done = checkout(paid, [(shop["beat_id"], leases[1])], coupon_code="BEFORE").json["order_id"]
    payments.complete(session_of(done), deliver="sync")
    held = checkout(holder, [(shop["beat_id"], shop["tiers"]["Exclusive"]["id"])]).json["order_id"]
    with app.app_context():
        db.session.remove()
        downgrade(db.engine, "d16f0hoard01-1")  # the revision before this change
        upgrade(db.engine)
        uses = {use.order_id: use for use in db.session.scalars(select(CouponRedemption))}
        assert set(uses) == {waiting, done}
        assert uses[waiting].buyer_id == pending_id and uses[waiting].redeemed_at is None
        assert uses[done].buyer_id == paid_id and uses[done].redeemed_at is not None
        assert {use.seat for use in uses.values()} == {1, 2}
        assert all(use.coupon_id == created.json["id"] and use.released_at is None for use in uses.values())
        hold = db.session.scalar(select(ExclusiveHold).where(ExclusiveHold.order_id == held))
        assert (hold.buyer_id, hold.slot) == (holder_id, 1)
        db.session.remove()
    # The carried-over reservation is the pending buyer's one: checking out again replaces it.
    again = checkout(pending, [(shop["beat_id"], leases[2])], coupon_code="BEFORE")
    assert again.status_code == 201, again.json
    assert live_reservations(app, created.json["id"], pending_id) == 1
