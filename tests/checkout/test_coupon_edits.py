"""Editing a coupon from the studio: its end date moves, its limit is raised or lifted (never
lowered, never added to a coupon without one), and an ended coupon can start again. Its code
and discount never change."""

from __future__ import annotations

import datetime as dt

from marketplace.accounts.models import Role
from marketplace.common.clock import utcnow
from tests.checkout.test_quote import quote


def create(client, headers, **fields):
    response = client.post("/api/v1/coupons", json={"code": "EDITME", "kind": "percent", "percent_off": 20,
                                                    **fields}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def edit(client, headers, coupon_id, **fields):
    return client.patch(f"/api/v1/coupons/{coupon_id}", json=fields, headers=headers)


def test_raising_the_limit_lets_another_buyer_use_the_code(client, payments, shop, new_buyer, checkout):
    coupon = create(client, shop["headers"], max_redemptions=1)
    basic = (shop["beat_id"], shop["tiers"]["Basic"]["id"])
    _first, first = new_buyer("First")
    _second, second = new_buyer("Second")
    assert checkout(first, [basic], coupon_code="EDITME").status_code == 201
    assert quote(client, second, [basic], coupon_code="EDITME").status_code == 422
    raised = edit(client, shop["headers"], coupon["id"], max_redemptions=2)
    assert raised.status_code == 200, raised.json
    assert (raised.json["max_redemptions"], raised.json["redemptions"]) == (2, 1)
    assert raised.json["code"] == "EDITME" and raised.json["percent_off"] == 20
    assert checkout(second, [basic], coupon_code="EDITME").status_code == 201


def test_a_limit_is_never_lowered_nor_added_and_says_why(client, shop):
    limited = create(client, shop["headers"], code="LIMITED", max_redemptions=5)
    lowered = edit(client, shop["headers"], limited["id"], max_redemptions=4)
    assert lowered.status_code == 422
    assert lowered.json["error"]["message"] == "A coupon's limit can only be raised."
    assert "can only be raised (it is 5)" in lowered.json["error"]["details"]["max_redemptions"][0]
    open_ended = create(client, shop["headers"], code="OPEN")
    added = edit(client, shop["headers"], open_ended["id"], max_redemptions=10)
    assert added.status_code == 422
    assert "cannot be added to a coupon that had none" in added.json["error"]["details"]["max_redemptions"][0]
    lifted = edit(client, shop["headers"], limited["id"], max_redemptions=None)
    assert lifted.status_code == 200 and lifted.json["max_redemptions"] is None


def test_the_end_date_moves_and_an_ended_coupon_starts_again(client, shop, new_buyer):
    coupon = create(client, shop["headers"])
    _buyer, headers = new_buyer()
    basic = (shop["beat_id"], shop["tiers"]["Basic"]["id"])
    past = (utcnow() - dt.timedelta(hours=1)).isoformat()
    assert edit(client, shop["headers"], coupon["id"], expires_at=past).status_code == 200
    expired = quote(client, headers, [basic], coupon_code="EDITME")
    assert expired.status_code == 422 and "expired" in str(expired.json["error"])
    later = (utcnow() + dt.timedelta(days=30)).isoformat()
    moved = edit(client, shop["headers"], coupon["id"], expires_at=later)
    assert moved.status_code == 200 and moved.json["expires_at"].startswith(later[:16])
    assert quote(client, headers, [basic], coupon_code="EDITME").json["discount"]["amount"] > 0
    assert client.delete(f"/api/v1/coupons/{coupon['id']}", headers=shop["headers"]).json["active"] is False
    assert quote(client, headers, [basic], coupon_code="EDITME").status_code == 422
    started = edit(client, shop["headers"], coupon["id"], active=True)
    assert started.status_code == 200 and started.json["active"] is True
    assert quote(client, headers, [basic], coupon_code="EDITME").json["discount"]["amount"] > 0


def test_nobody_else_edits_a_coupon(client, shop, make_user, headers_for):
    coupon = create(client, shop["headers"])
    other = headers_for(make_user(Role.BEATMAKER, "Other"))
    answer = edit(client, other, coupon["id"], active=False)
    assert answer.status_code == 404 and answer.json["error"]["code"] == "coupon_not_found"
