"""The price quote: what checkout would charge for a cart, deals and coupons applied, priced by
the same code as checkout, with nothing placed, held or reserved; refusals name every line."""

from __future__ import annotations

from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.checkout.models import CouponRedemption, ExclusiveHold, Order
from marketplace.db import db


def quote(client, headers, items, coupon_code=None):
    body = {"items": [{"beat_id": beat, "tier_id": tier} for beat, tier in items]}
    if coupon_code is not None:
        body["coupon_code"] = coupon_code
    return client.post("/api/v1/checkout/quote", json=body, headers=headers)


def second_seller(client, make_user, headers_for, upload_beat, offer_all):
    user_id = make_user(Role.BEATMAKER, "Kaya Keys")
    headers = headers_for(user_id)
    beat_id = upload_beat(headers, title="Second Beat")
    tiers = {name.split()[0]: tier for name, tier in offer_all(headers, beat_id).items()}
    return {"headers": headers, "beat_id": beat_id, "tiers": tiers}


def rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_the_quote_is_what_checkout_charges_with_a_deal_and_coupons_of_two_beatmakers(
        app, client, payments, shop, new_buyer, checkout, order_of, session_of, make_user, headers_for,
        upload_beat, offer_all):
    # The first beatmaker: "buy 1 get 1 free" and 10% off with TEN; the second: 5.00 off with TEN.
    first_beat_two = upload_beat(shop["headers"], title="First Beat Two")
    offer_all(shop["headers"], first_beat_two)
    assert client.put("/api/v1/deal", json={"buy_count": 1, "free_count": 1},
                      headers=shop["headers"]).status_code == 200
    assert client.post("/api/v1/coupons", json={"code": "TEN", "kind": "percent", "percent_off": 10},
                       headers=shop["headers"]).status_code == 201
    other = second_seller(client, make_user, headers_for, upload_beat, offer_all)
    assert client.post("/api/v1/coupons", json={"code": "TEN", "kind": "fixed",
                                                "amount_off": {"amount": 500, "currency": "usd"}},
                       headers=other["headers"]).status_code == 201
    _buyer, headers = new_buyer()
    premium, basic = shop["tiers"]["Premium"], shop["tiers"]["Basic"]
    cart = [(shop["beat_id"], premium["id"]), (first_beat_two, basic["id"]),
            (other["beat_id"], other["tiers"]["Basic"]["id"])]

    quoted = quote(client, headers, cart, coupon_code="ten")
    assert quoted.status_code == 200, quoted.json
    premium_price = premium["default_price"]["amount"]
    basic_price = basic["default_price"]["amount"]
    other_price = other["tiers"]["Basic"]["default_price"]["amount"]
    items = quoted.json["items"]
    assert [item["beat_title"] for item in items] == ["Night Drive", "First Beat Two", "Second Beat"]
    assert [item["beatmaker"]["display_name"] for item in items][2] == "Kaya Keys"
    assert [item["tier_name"] for item in items] == ["Premium lease", "Basic lease", "Basic lease"]
    # The cheaper lease of the first beatmaker is free; their code takes 10% off the other; the
    # second beatmaker's code takes 5.00 off theirs.
    assert [item["discount"]["amount"] for item in items] == [premium_price // 10, basic_price, 500]
    assert [[d["type"] for d in item["discounts"]] for item in items] == [["coupon"], ["deal"], ["coupon"]]
    assert items[1]["discounts"][0]["label"] == "Buy 1 get 1 free"
    assert items[0]["discounts"][0]["code"] == "TEN"
    total = premium_price - premium_price // 10 + other_price - 500
    assert quoted.json["total"] == {"amount": total, "currency": "usd"}
    assert quoted.json["subtotal"]["amount"] == premium_price + basic_price + other_price
    assert quoted.json["discount"]["amount"] == premium_price // 10 + basic_price + 500
    assert quoted.json["coupon_code"] == "TEN"
    # Nothing was placed, reserved or counted.
    assert rows(app, Order) == 0 and rows(app, CouponRedemption) == 0

    # Checking out the same cart charges exactly the quote, line by line, on one payment page.
    started = checkout(headers, cart, coupon_code="ten")
    assert started.status_code == 201, started.json
    order = order_of(started.json["order_id"], headers)
    assert order["total"] == quoted.json["total"]
    assert [(item["price"], item["discount"]) for item in order["items"]] == [
        (item["price"], item["discount"]) for item in items]
    assert payments.session(session_of(order["id"]))["amount_total"] == total
    payments.complete(session_of(order["id"]), deliver="sync")
    paid = order_of(order["id"], headers)
    assert paid["status"] == "paid" and len(paid["licenses"]) == 3


def test_a_quote_holds_no_exclusive_and_refuses_one_another_buyer_is_paying_for(
        app, client, payments, shop, new_buyer, checkout):
    exclusive = (shop["beat_id"], shop["tiers"]["Exclusive"]["id"])
    _buyer, headers = new_buyer("Quoting")
    assert quote(client, headers, [exclusive]).status_code == 200
    assert rows(app, ExclusiveHold) == 0

    _rival, rival_headers = new_buyer("Rival")
    assert checkout(rival_headers, [exclusive]).status_code == 201
    refused = quote(client, headers, [exclusive])
    assert refused.status_code == 409, refused.json
    assert refused.json["error"]["code"] == "exclusive_unavailable"
    assert refused.json["error"]["details"]["items"] == {"0": [refused.json["error"]["message"]]}
    # The rival's own quote of the cart they are paying for still answers.
    assert quote(client, rival_headers, [exclusive]).status_code == 200


def test_refusals_name_every_line_that_cannot_be_bought(client, payments, shop, new_buyer, checkout):
    _buyer, headers = new_buyer()
    archived = client.delete(f"/api/v1/beats/{shop['beat_id']}", headers=shop["headers"])
    assert archived.status_code == 200, archived.json
    cart = [(shop["beat_id"], shop["tiers"]["Basic"]["id"]), ("bt_gone", shop["tiers"]["Basic"]["id"])]
    for answer in (quote(client, headers, cart), checkout(headers, cart)):
        assert answer.status_code == 422, answer.json
        assert answer.json["error"]["details"]["items"] == {
            "0": ["This beat is not for sale."], "1": ["This beat is not for sale."]}


def test_an_exclusive_with_another_license_of_the_same_beat_is_refused_in_words(
        client, payments, shop, new_buyer, upload_beat, offer_all):
    version = upload_beat(shop["headers"], title="Night Drive (clean)", version_of=shop["beat_id"])
    offer_all(shop["headers"], version)
    _buyer, headers = new_buyer()
    refused = quote(client, headers, [(shop["beat_id"], shop["tiers"]["Exclusive"]["id"]),
                                      (version, shop["tiers"]["Basic"]["id"])])
    assert refused.status_code == 422, refused.json
    assert list(refused.json["error"]["details"]["items"]) == ["0"]
    assert "cover all its versions" in refused.json["error"]["details"]["items"]["0"][0]


def test_a_code_nobody_in_the_cart_has_is_refused_in_words(client, payments, shop, new_buyer):
    _buyer, headers = new_buyer()
    refused = quote(client, headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])], coupon_code="NOPE")
    assert refused.status_code == 422, refused.json
    assert refused.json["error"]["details"] == {
        "coupon_code": ["No coupon with this code for the beats in your cart."]}


def test_a_quote_needs_an_account_and_a_cart(client, new_buyer):
    assert client.post("/api/v1/checkout/quote", json={"items": []}).status_code == 401
    _buyer, headers = new_buyer()
    empty = client.post("/api/v1/checkout/quote", json={"items": []}, headers=headers)
    assert empty.status_code == 422 and empty.json["error"]["code"] == "validation_failed"


def test_an_offer_in_another_currency_than_the_store_is_refused_on_its_line(
        app, client, payments, shop, new_buyer, make_user, headers_for, upload_beat, offer_all):
    from marketplace.licensing.models import Offer

    other = second_seller(client, make_user, headers_for, upload_beat, offer_all)
    with app.app_context():  # priced before the store changed currency: it cannot be paid with the rest
        offer = db.session.scalar(select(Offer).where(Offer.beat_id == other["beat_id"],
                                                      Offer.tier_id == other["tiers"]["Basic"]["id"]))
        offer.currency = "eur"
        db.session.commit()
    _buyer, headers = new_buyer()
    refused = quote(client, headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"]),
                                      (other["beat_id"], other["tiers"]["Basic"]["id"])])
    assert refused.status_code == 422, refused.json
    assert refused.json["error"]["details"]["items"] == {"1": ["This offer is not in the store's currency (usd)."]}


def test_guessing_codes_through_quotes_is_slowed_down_while_a_real_code_works_before(
        app, client, payments, shop, new_buyer):
    from tests.checkout.test_hoarding import setting

    assert client.post("/api/v1/coupons", json={"code": "PRIVATE", "kind": "percent", "percent_off": 50},
                       headers=shop["headers"]).status_code == 201
    _buyer, headers = new_buyer()
    cart = [(shop["beat_id"], shop["tiers"]["Basic"]["id"])]
    with setting(app, "COUPON_MISSES_PER_ACCOUNT", "3 per hour"):
        assert quote(client, headers, cart, coupon_code="PRIVATE").status_code == 200  # a hit costs nothing
        for guess in ("AAAA", "AAAB", "AAAC"):
            assert quote(client, headers, cart, coupon_code=guess).status_code == 422
        # The limit is used up: even the right code waits, so guessing cannot go on.
        slowed = quote(client, headers, cart, coupon_code="PRIVATE")
        assert slowed.status_code == 429, slowed.json
        assert "coupon codes" in slowed.json["error"]["message"]
        # A cart without a code is still priced, and so is another buyer's guess.
        assert quote(client, headers, cart).status_code == 200
        _other, other_headers = new_buyer()
        assert quote(client, other_headers, cart, coupon_code="AAAD").status_code == 422
