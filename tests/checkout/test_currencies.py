"""Money in every currency: shown with the currency's own decimals (JPY none, KWD three) in
contracts, receipts and CSV reports, and charged in Stripe's own minor units (ISK is sent with
two decimals, three-decimal amounts end in 0), checked when prices are set."""

from __future__ import annotations

import io

import pypdf
import pytest

from marketplace.common.money import (
    AmountNotAccepted,
    charge_step,
    decimal_amount,
    format_money,
    from_stripe_amount,
    stripe_amount_problem,
    to_stripe_amount,
)
from marketplace.db import db

# Written out by hand from ISO 4217 and Stripe's currency rules.
FORMATTED = [(2999, "usd", "USD 29.99"), (3000, "jpy", "JPY 3,000"), (12345, "kwd", "KWD 12.345"),
             (5, "isk", "ISK 5"), (150000, "krw", "KRW 150,000"), (1234567, "bhd", "BHD 1,234.567"),
             (12345, "clf", "CLF 1.2345"), (-250, "eur", "EUR -2.50"), (7, "usd", "USD 0.07"),
             (123456789, "usd", "USD 1,234,567.89"), (1999, "huf", "HUF 19.99")]
TO_STRIPE = [(2999, "usd", 2999), (3000, "jpy", 3000), (5, "isk", 500), (1000, "ugx", 100000),
             (12340, "kwd", 12340), (500, "mga", 5), (100, "huf", 100), (2500, "twd", 2500), (7, "vnd", 7)]
REFUSED = [(12345, "kwd"), (1, "bhd"), (150, "mga"), (1999, "huf"), (2550, "twd"), (9, "omr")]


@pytest.mark.parametrize(("amount", "currency", "expected"), FORMATTED)
def test_money_is_formatted_with_the_currency_exponent(amount, currency, expected):
    assert format_money(amount, currency) == expected
    assert format_money(amount, currency.upper()) == expected


@pytest.mark.parametrize(("amount", "currency", "sent"), TO_STRIPE)
def test_amounts_are_sent_to_stripe_in_its_own_minor_units(amount, currency, sent):
    assert stripe_amount_problem(amount, currency) is None
    assert to_stripe_amount(amount, currency) == sent
    assert from_stripe_amount(sent, currency) == amount


@pytest.mark.parametrize(("amount", "currency"), REFUSED)
def test_amounts_stripe_cannot_charge_are_refused_in_words(amount, currency):
    problem = stripe_amount_problem(amount, currency)
    assert problem and problem.startswith(f"{currency.upper()} amounts are charged in steps of"), problem
    with pytest.raises(AmountNotAccepted):
        to_stripe_amount(amount, currency)
    lower = amount - amount % charge_step(currency)
    assert stripe_amount_problem(lower, currency) is None
    assert stripe_amount_problem(lower + charge_step(currency), currency) is None


def test_the_kwd_message_names_the_amounts_that_can_be_charged():
    assert stripe_amount_problem(12345, "kwd") == (
        "KWD amounts are charged in steps of KWD 0.010: 12.345 cannot be charged, 12.340 or 12.350 can.")
    assert decimal_amount(12340, "kwd") == "12.340" and decimal_amount(3000, "jpy") == "3000"


@pytest.fixture
def store_in(app, monkeypatch):
    def set_currency(currency: str) -> None:
        monkeypatch.setitem(app.config, "STORE_CURRENCY", currency)
    return set_currency


def _contract_text(client, license_id, headers) -> str:
    response = client.get(f"/api/v1/licenses/{license_id}/contract.pdf", headers=headers)
    assert response.status_code == 200, response.data[:300]
    pages = pypdf.PdfReader(io.BytesIO(response.data)).pages
    return " ".join("\n".join(page.extract_text() for page in pages).split())


def test_a_kwd_store_refuses_prices_stripe_cannot_charge(client, store_in, seller, upload_beat, tiers_of):
    store_in("kwd")
    _seller_id, headers = seller
    beat_id = upload_beat(headers)
    tiers = tiers_of(headers)
    # The default tiers are seeded at prices Stripe can charge (29.99 becomes 2.990 KWD).
    assert tiers["Basic lease"]["default_price"] == {"amount": 2990, "currency": "kwd"}
    tier_id = tiers["Basic lease"]["id"]
    refused = client.put(f"/api/v1/beats/{beat_id}/offers", headers=headers,
                         json=[{"tier_id": tier_id, "price": {"amount": 12345, "currency": "kwd"}}])
    assert refused.status_code == 422, refused.json
    assert refused.json["error"]["details"]["0.price"] == [
        "KWD amounts are charged in steps of KWD 0.010: 12.345 cannot be charged, 12.340 or 12.350 can."]
    coupon = client.post("/api/v1/coupons", headers=headers, json={
        "code": "FIVE", "kind": "fixed", "amount_off": {"amount": 1005, "currency": "kwd"}})
    assert coupon.status_code == 422, coupon.json
    assert "steps of KWD 0.010" in coupon.json["error"]["details"]["amount_off"][0]
    accepted = client.put(f"/api/v1/beats/{beat_id}/offers", headers=headers,
                          json=[{"tier_id": tier_id, "price": {"amount": 12340, "currency": "kwd"}}])
    assert accepted.status_code == 200, accepted.json


def test_an_isk_sale_is_charged_with_two_decimals_and_shown_with_none(
        app, client, payments, store_in, seller, buyer, upload_beat, tiers_of, checkout, session_of, order_of,
        outbox):
    store_in("isk")
    _seller_id, headers = seller
    beat_id = upload_beat(headers)
    tier_id = tiers_of(headers)["Basic lease"]["id"]
    offered = client.put(f"/api/v1/beats/{beat_id}/offers", headers=headers,
                         json=[{"tier_id": tier_id, "price": {"amount": 2990, "currency": "isk"}}])
    assert offered.status_code == 200, offered.json
    _buyer_id, buyer_headers = buyer
    started = checkout(buyer_headers, [(beat_id, tier_id)])
    assert started.status_code == 201, started.json
    order_id = started.json["order_id"]

    session = payments.session(session_of(order_id))
    # 2,990 ISK, which Stripe takes as 299000 (two decimals that are always 00).
    assert session["currency"] == "isk" and session["amount_total"] == 299000, session
    completed = payments.complete(session_of(order_id), deliver="sync")
    assert completed["delivery"]["status"] == 200, completed["delivery"]
    order = order_of(order_id, buyer_headers)
    assert order["status"] == "paid", order
    assert order["total"] == {"amount": 2990, "currency": "isk"}

    receipts = [mail for mail in outbox() if mail.startswith(f"Subject: Your order {order_id}")]
    assert len(receipts) == 1 and "Total paid: ISK 2,990" in receipts[0], receipts
    license_id = order["licenses"][0]["id"]
    assert "PRICE. ISK 2,990, paid in full." in _contract_text(client, license_id, buyer_headers)


def test_a_jpy_sale_has_no_decimals_in_the_contract_or_the_sales_report(
        app, client, payments, store_in, seller, buyer, upload_beat, tiers_of, checkout, session_of,
        order_of):
    store_in("jpy")
    _seller_id, headers = seller
    beat_id = upload_beat(headers)
    tier_id = tiers_of(headers)["Basic lease"]["id"]
    assert client.put(f"/api/v1/beats/{beat_id}/offers", headers=headers, json=[
        {"tier_id": tier_id, "price": {"amount": 3000, "currency": "jpy"}}]).status_code == 200
    _buyer_id, buyer_headers = buyer
    started = checkout(buyer_headers, [(beat_id, tier_id)])
    assert started.status_code == 201, started.json
    order_id = started.json["order_id"]
    assert payments.session(session_of(order_id))["amount_total"] == 3000
    payments.complete(session_of(order_id), deliver="sync")
    order = order_of(order_id, buyer_headers)
    assert order["status"] == "paid", order
    text = _contract_text(client, order["licenses"][0]["id"], buyer_headers)
    assert "PRICE. JPY 3,000, paid in full." in text, text
    report = client.get("/api/v1/payouts/sales.csv", headers=headers).get_data(as_text=True).splitlines()
    assert report[1].startswith(f"{beat_id},Night Drive,Basic lease,1,3000,"), report
    assert report[1].endswith(",0,jpy"), report
    assert "." not in report[1].split(",", 4)[4], report


def test_a_price_stored_before_the_rules_is_refused_in_words_at_checkout(
        app, client, payments, store_in, seller, buyer, upload_beat, tiers_of, checkout):
    from marketplace.licensing.models import Offer

    store_in("kwd")
    _seller_id, headers = seller
    beat_id = upload_beat(headers)
    tier_id = tiers_of(headers)["Basic lease"]["id"]
    assert client.put(f"/api/v1/beats/{beat_id}/offers", headers=headers, json=[
        {"tier_id": tier_id, "price": {"amount": 12340, "currency": "kwd"}}]).status_code == 200
    with app.app_context():
        db.session.query(Offer).filter_by(beat_id=beat_id).update({"price_amount": 12345})
        db.session.commit()
    response = checkout(buyer[1], [(beat_id, tier_id)])
    assert response.status_code == 502, response.json
    assert response.json["error"]["code"] == "payment_provider_error"
    assert "KWD amounts are charged in steps of KWD 0.010" in response.json["error"]["message"]
