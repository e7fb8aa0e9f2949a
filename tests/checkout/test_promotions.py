"""Coupons and bulk deals: set by beatmakers, applied on the server, frozen in the order."""

from __future__ import annotations

import datetime as dt

import pytest

from marketplace.common.clock import utcnow


def coupon(client, headers, **fields):
    body = {"code": "SUMMER", "kind": "percent", "percent_off": 20, **fields}
    return client.post("/api/v1/coupons", json=body, headers=headers)


def test_a_percent_coupon_is_applied_and_frozen(client, payments, shop, new_buyer, checkout, order_of,
                                                session_of):
    created = coupon(client, shop["headers"], code="summer")
    assert created.status_code == 201, created.json
    assert created.json["code"] == "SUMMER" and created.json["redemptions"] == 0
    _buyer, headers = new_buyer()
    basic = shop["tiers"]["Basic"]
    started = checkout(headers, [(shop["beat_id"], basic["id"])], coupon_code="Summer")
    assert started.status_code == 201, started.json
    price = basic["default_price"]["amount"]
    order = order_of(started.json["order_id"], headers)
    assert order["discount"]["amount"] == price * 20 // 100
    assert order["total"]["amount"] == price - price * 20 // 100
    assert order["items"][0]["discounts"][0]["code"] == "SUMMER"
    assert payments.session(session_of(order["id"]))["amount_total"] == order["total"]["amount"]
    # Ending the coupon later changes nothing for this order.
    client.delete(f"/api/v1/coupons/{created.json['id']}", headers=shop["headers"])
    assert order_of(order["id"], headers)["total"] == order["total"]
    listed = client.get("/api/v1/coupons", headers=shop["headers"]).json
    assert listed[0]["active"] is False and listed[0]["redemptions"] == 1


def test_a_fixed_coupon_on_one_beat(client, payments, shop, new_buyer, checkout, order_of, upload_beat,
                                    offer_all):
    other_beat = upload_beat(shop["headers"], title="Other")
    offer_all(shop["headers"], other_beat)
    assert coupon(client, shop["headers"], code="FIVE", kind="fixed", percent_off=None,
                  amount_off={"amount": 500, "currency": "usd"}, beat_id=other_beat).status_code == 201
    _buyer, headers = new_buyer()
    basic = shop["tiers"]["Basic"]["id"]
    started = checkout(headers, [(shop["beat_id"], basic), (other_beat, basic)], coupon_code="five")
    order = order_of(started.json["order_id"], headers)
    assert [item["discount"]["amount"] for item in order["items"]] == [0, 500]


def test_a_usage_limit_counts_live_orders_and_gives_back_expired_ones(client, payments, shop, new_buyer,
                                                                     checkout, session_of):
    assert coupon(client, shop["headers"], code="ONCE", max_redemptions=1).status_code == 201
    basic = (shop["beat_id"], shop["tiers"]["Basic"]["id"])
    _first, first = new_buyer("First")
    _second, second = new_buyer("Second")
    used = checkout(first, [basic], coupon_code="ONCE")
    assert used.status_code == 201
    refused = checkout(second, [basic], coupon_code="ONCE")
    assert refused.status_code == 422 and "coupon_code" in refused.json["error"]["details"]
    payments.expire(session_of(used.json["order_id"]), deliver="sync")
    assert checkout(second, [basic], coupon_code="ONCE").status_code == 201


@pytest.mark.parametrize("problem", ["expired", "unknown", "other_seller"])
def test_unusable_coupons_are_refused_with_a_reason(client, payments, shop, new_buyer, checkout, make_user,
                                                    headers_for, problem):
    from marketplace.accounts.models import Role

    code = "NOPE"
    if problem == "expired":
        past = (utcnow() - dt.timedelta(hours=1)).isoformat()
        assert coupon(client, shop["headers"], code=code, expires_at=past).status_code == 201
    elif problem == "other_seller":
        assert coupon(client, headers_for(make_user(Role.BEATMAKER, "Someone")), code=code).status_code == 201
    _buyer, headers = new_buyer()
    refused = checkout(headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])], coupon_code=code)
    assert refused.status_code == 422 and refused.json["error"]["details"]["coupon_code"]


@pytest.mark.parametrize("body", [
    {"code": "X", "kind": "percent", "percent_off": 10},  # too short
    {"code": "BAD CODE", "kind": "percent", "percent_off": 10},
    {"code": "ZERO", "kind": "percent", "percent_off": 0},
    {"code": "MORE", "kind": "percent", "percent_off": 101},
    {"code": "BOTH", "kind": "percent", "percent_off": 10, "amount_off": {"amount": 5, "currency": "usd"}},
    {"code": "NEG", "kind": "fixed", "amount_off": {"amount": -5, "currency": "usd"}},
    {"code": "EUR", "kind": "fixed", "amount_off": {"amount": 500, "currency": "eur"}},
    {"code": "LIMIT", "kind": "percent", "percent_off": 10, "max_redemptions": 0},
    {"code": "NOBEAT", "kind": "percent", "percent_off": 10, "beat_id": "bt_nope"},
])
def test_bad_coupons_are_refused(client, shop, body):
    refused = client.post("/api/v1/coupons", json=body, headers=shop["headers"])
    assert refused.status_code == 422, (body, refused.json)
    assert client.get("/api/v1/coupons", headers=shop["headers"]).json == []


def test_coupon_codes_are_unique_per_beatmaker_and_artists_cannot_make_them(client, shop, new_buyer):
    assert coupon(client, shop["headers"]).status_code == 201
    assert coupon(client, shop["headers"], code="summer").status_code == 409
    _buyer, headers = new_buyer()
    assert coupon(client, headers).status_code == 403
    assert client.delete("/api/v1/coupons/cpn_nope", headers=shop["headers"]).status_code == 404


def test_buy_two_get_one_free(client, payments, shop, new_buyer, checkout, order_of, upload_beat, offer_all):
    assert client.get("/api/v1/deal", headers=shop["headers"]).status_code == 404
    deal = client.put("/api/v1/deal", json={"buy_count": 2, "free_count": 1}, headers=shop["headers"])
    assert deal.status_code == 200 and deal.json["label"] == "Buy 2 get 1 free"
    beats = [shop["beat_id"]] + [upload_beat(shop["headers"], title=f"Beat {i}") for i in range(2)]
    for beat_id in beats[1:]:
        offer_all(shop["headers"], beat_id)
    tiers = shop["tiers"]
    _buyer, headers = new_buyer()
    items = [(beats[0], tiers["Premium"]["id"]), (beats[1], tiers["Basic"]["id"]),
             (beats[2], tiers["Trackout"]["id"])]
    started = checkout(headers, items)
    order = order_of(started.json["order_id"], headers)
    prices = {item["tier_name"]: item["price"]["amount"] for item in order["items"]}
    assert prices["Basic lease"] == 0  # the cheapest of the three
    assert order["discount"]["amount"] == tiers["Basic"]["default_price"]["amount"]
    client.delete("/api/v1/deal", headers=shop["headers"])
    assert client.get("/api/v1/deal", headers=shop["headers"]).status_code == 404


def test_a_coupon_never_takes_the_total_below_the_smallest_charge(client, payments, shop, new_buyer,
                                                                    checkout):
    assert coupon(client, shop["headers"], code="ALMOST", percent_off=99).status_code == 201
    _buyer, headers = new_buyer()
    refused = checkout(headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])], coupon_code="ALMOST")
    assert refused.status_code == 422 and "total" in refused.json["error"]["details"]


def test_a_coupon_cannot_name_another_beatmakers_beat(client, shop, make_user, headers_for, upload_beat):
    from marketplace.accounts.models import Role

    other = headers_for(make_user(Role.BEATMAKER, "Other"))
    refused = coupon(client, other, code="THEIRS", beat_id=shop["beat_id"])
    assert refused.status_code == 422 and "beat_id" in refused.json["error"]["details"]
