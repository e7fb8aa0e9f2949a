"""Prices the store accepts can be charged: offers and tiers between Stripe's smallest and
largest charge, a cart total below the smallest refused in words, and a free cart (a 100%
coupon) licensed at once without Stripe."""

from __future__ import annotations

import pytest
import requests

from tests.checkout.test_promotions import coupon


def offer_at(client, shop, amount):
    tier = shop["tiers"]["Basic"]
    return client.put(f"/api/v1/beats/{shop['beat_id']}/offers", headers=shop["headers"],
                      json=[{"tier_id": tier["id"], "price": {"amount": amount, "currency": "usd"}}])


@pytest.mark.parametrize("amount", [1, 49, 100_000_000])
def test_an_offer_stripe_cannot_charge_is_refused(client, shop, amount):
    refused = offer_at(client, shop, amount)
    assert refused.status_code == 422, refused.json
    [message] = refused.json["error"]["details"]["0.price"]
    assert "at least USD 0.50" in message and "at most USD 999,999.99" in message


@pytest.mark.parametrize("amount", [50, 99_999_999])
def test_the_smallest_and_largest_charges_are_accepted(client, shop, amount):
    assert offer_at(client, shop, amount).status_code == 200


def test_a_tiers_default_price_is_checked_the_same_way(client, shop):
    tier = shop["tiers"]["Basic"]
    refused = client.patch(f"/api/v1/license-tiers/{tier['id']}", headers=shop["headers"],
                           json={"default_price": {"amount": 30, "currency": "usd"}})
    assert refused.status_code == 422 and "default_price" in refused.json["error"]["details"]


def test_a_cart_whose_total_falls_below_the_smallest_charge_is_refused(client, payments, shop, new_buyer,
                                                                       checkout):
    assert coupon(client, shop["headers"], code="ALMOST", kind="fixed", percent_off=None,
                  amount_off={"amount": 2969, "currency": "usd"}).status_code == 201
    _buyer, headers = new_buyer()
    refused = checkout(headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])], coupon_code="ALMOST")
    assert refused.status_code == 422, refused.json
    assert refused.json["error"]["message"] == (
        "The total after discounts, USD 0.30, is below the smallest payment the payment provider takes "
        "(USD 0.50).")
    assert "total" in refused.json["error"]["details"]


def test_a_free_cart_is_licensed_at_once_without_stripe(client, payments, shop, new_buyer, checkout,
                                                        order_of):
    assert coupon(client, shop["headers"], code="ALL", percent_off=100).status_code == 201
    _buyer, headers = new_buyer()
    started = checkout(headers, [(shop["beat_id"], shop["tiers"]["Exclusive"]["id"])], coupon_code="ALL")
    assert started.status_code == 201, started.json
    assert started.json["checkout_url"] is None
    order = order_of(started.json["order_id"], headers)
    assert order["status"] == "paid" and order["total"]["amount"] == 0
    assert [lic["kind"] for lic in order["licenses"]] == ["exclusive"]
    sessions = requests.get(f"{payments.url}/v1/checkout/sessions", timeout=10,
                            headers={"Authorization": f"Bearer {payments.api_key}"}).json()["data"]
    assert sessions == []
    balance = client.get("/api/v1/payouts/balance", headers=shop["headers"]).json
    assert balance["pending"]["amount"] == 0
