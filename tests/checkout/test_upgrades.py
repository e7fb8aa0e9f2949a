"""License upgrades: from a license they hold, an artist moves up to a higher license of the
same beat and pays the difference, through an ordinary checkout against the Stripe sandbox,
licensed by its real webhooks. The old license is superseded by the new one; refunds and lost
disputes follow the chain."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from marketplace.db import db
from marketplace.licensing.models import License
from marketplace.payouts.models import LedgerEntry, LedgerKind
from tests.checkout.conftest import wait_for
from tests.conftest import postgres_only

BASIC, PREMIUM, TRACKOUT, EXCLUSIVE = 2999, 4999, 9999, 49999


def settle(predicate):
    return wait_for(predicate, seconds=30)


def tier_of(shop, name):
    return shop["tiers"][name]["id"]


def upgrade_item(license_id, tier_id):
    return {"kind": "upgrade", "license_id": license_id, "tier_id": tier_id}


def start_upgrade(client, headers, license_id, tier_id, coupon_code=None):
    body = {"items": [upgrade_item(license_id, tier_id)]}
    if coupon_code:
        body["coupon_code"] = coupon_code
    return client.post("/api/v1/checkout", json=body, headers=headers)


def pay(payments, session_of, order_of, order_id, headers):
    # The sandbox sends the signed webhook; the order page fulfils too if it is slow to arrive.
    payments.complete(session_of(order_id), deliver="sync")
    order = order_of(order_id, headers)
    assert order["status"] == "paid", order
    return order


def buy(checkout, payments, session_of, order_of, headers, shop, tier, coupon_code=None):
    """Buys the shop's beat under a tier; answers the paid order's license id."""
    started = checkout(headers, [(shop["beat_id"], shop["tiers"][tier]["id"])], coupon_code)
    assert started.status_code == 201, started.json
    order = pay(payments, session_of, order_of, started.json["order_id"], headers)
    return order["items"][0]["license_id"], order


def upgrade(client, payments, session_of, order_of, headers, license_id, tier_id):
    """Checks an upgrade out and pays it; answers the paid order."""
    started = start_upgrade(client, headers, license_id, tier_id)
    assert started.status_code == 201, started.json
    return pay(payments, session_of, order_of, started.json["order_id"], headers)


def license_doc(client, license_id, headers):
    response = client.get(f"/api/v1/licenses/{license_id}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def options_of(client, license_id, headers):
    response = client.get(f"/api/v1/licenses/{license_id}/upgrades", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def set_offer(client, shop, prices, floors=None):
    """Offers the shop's beat at these prices (by tier), with these upgrade floors."""
    floors = floors or {}
    wanted = []
    for name, tier in shop["tiers"].items():
        offer = {"tier_id": tier["id"], "price": {"amount": prices.get(name, tier["default_price"]["amount"]),
                                                  "currency": "usd"}}
        if name in floors:
            offer["upgrade_floor"] = {"amount": floors[name], "currency": "usd"}
        wanted.append(offer)
    return client.put(f"/api/v1/beats/{shop['beat_id']}/offers", json=wanted, headers=shop["headers"])


def alter_license(app, license_id, **fields):
    with app.app_context():
        license_ = db.session.get(License, license_id)
        for name, value in fields.items():
            setattr(license_, name, value)
        db.session.commit()


def ledger_of_item(app, item_id):
    with app.app_context():
        rows = db.session.scalars(select(LedgerEntry).where(LedgerEntry.order_item_id == item_id))
        return {(row.kind, row.payee_id): row.amount for row in rows}


# -- the offer and the price ------------------------------------------------------------------

def test_a_license_lists_the_higher_licenses_of_its_beat_priced_at_the_difference(
        client, payments, shop, buyer, checkout, session_of, order_of):
    _buyer_id, headers = buyer
    license_id, _order = buy(checkout, payments, session_of, order_of, headers, shop, "Basic")

    listed = options_of(client, license_id, headers)
    assert listed["upgradable"] is True and listed["reason"] is None
    by_name = {option["tier_name"].split()[0]: option for option in listed["options"]}
    # The license's own tier is not an upgrade; every dearer lease and the exclusive are.
    assert set(by_name) == {"Premium", "Trackout", "Unlimited", "Exclusive"}
    assert by_name["Premium"]["price"] == {"amount": PREMIUM - BASIC, "currency": "usd"}
    assert by_name["Premium"]["credit"]["amount"] == BASIC
    assert by_name["Exclusive"]["price"]["amount"] == EXCLUSIVE - BASIC
    assert by_name["Exclusive"]["kind"] == "exclusive" and all(o["available"] for o in listed["options"])

    # The quote says the same, the credit worded as a discount of the line.
    quoted = client.post("/api/v1/checkout/quote", headers=headers,
                         json={"items": [upgrade_item(license_id, tier_of(shop, "Premium"))]})
    assert quoted.status_code == 200, quoted.json
    [line] = quoted.json["items"]
    assert line["price"]["amount"] == PREMIUM - BASIC and line["list_price"]["amount"] == PREMIUM
    assert line["upgrade_of_license_id"] == license_id
    [credit] = line["discounts"]
    assert credit["type"] == "upgrade" and credit["amount"] == BASIC
    assert "Already paid for license" in credit["label"]


def test_an_upgrade_is_paid_at_the_sandbox_and_supersedes_the_license_with_its_own_terms_and_files(
        app, client, payments, shop, buyer, checkout, session_of, order_of):
    buyer_id, headers = buyer
    license_id, _order = buy(checkout, payments, session_of, order_of, headers, shop, "Basic")

    order = upgrade(client, payments, session_of, order_of, headers, license_id, tier_of(shop, "Premium"))
    [line] = order["items"]
    assert order["total"]["amount"] == PREMIUM - BASIC and line["upgrade_of_license_id"] == license_id
    assert line["status"] == "licensed"
    new = license_doc(client, line["license_id"], headers)
    assert new["status"] == "active" and new["tier"]["name"] == "Premium lease"
    assert new["terms"]["deliverables"] == ["mp3", "wav"] and new["price"]["amount"] == PREMIUM - BASIC
    assert new["upgrade_of"]["id"] == license_id and new["superseded_by"] is None
    settle(lambda: license_doc(client, line["license_id"], headers)["contract_ready"])
    settle(lambda: all(f["ready"] for f in license_doc(client, line["license_id"], headers)["files"]))
    downloads = client.get(f"/api/v1/licenses/{line['license_id']}/downloads", headers=headers)
    assert downloads.status_code == 200 and {link["kind"] for link in downloads.json} == {"mp3", "wav"}

    old = license_doc(client, license_id, headers)
    assert old["status"] == "superseded" and old["superseded_by"]["id"] == line["license_id"]
    assert old["revoked_at"] is None  # not revoked: what was done under it stays covered
    assert client.get(f"/api/v1/licenses/verify/{old['license_number']}").json["status"] == "superseded"
    refused = client.get(f"/api/v1/licenses/{license_id}/downloads", headers=headers)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "license_superseded"
    again = options_of(client, license_id, headers)
    assert again["upgradable"] is False and again["options"] == []
    assert new["license_number"] in again["reason"]
    library = client.get("/api/v1/licenses", headers=headers).json
    assert {item["status"] for item in library} == {"active", "superseded"}

    # The seller's earnings are on the difference paid, split as any line's.
    earned = ledger_of_item(app, line["id"])
    assert sum(earned.values()) == PREMIUM - BASIC
    assert earned[(LedgerKind.SALE, shop["seller_id"])] > 0


def test_an_upgrade_of_an_upgrade_counts_everything_paid_and_the_exclusive_follows_its_rules(
        app, client, payments, shop, buyer, new_buyer, checkout, session_of, order_of, outbox):
    _buyer_id, headers = buyer
    _other, other_headers = new_buyer("Other Lessee")
    other_lease, _order = buy(checkout, payments, session_of, order_of, other_headers, shop, "Basic")
    license_id, _order = buy(checkout, payments, session_of, order_of, headers, shop, "Basic")
    premium = upgrade(client, payments, session_of, order_of, headers, license_id,
                      tier_of(shop, "Premium"))["items"][0]["license_id"]

    option = {o["kind"]: o for o in options_of(client, premium, headers)["options"]}["exclusive"]
    assert option["credit"]["amount"] == PREMIUM and option["price"]["amount"] == EXCLUSIVE - PREMIUM
    started = start_upgrade(client, headers, premium, tier_of(shop, "Exclusive"))
    assert started.status_code == 201, started.json
    # The exclusive is held for this checkout, as any exclusive's.
    _third, third_headers = new_buyer("Third")
    held = checkout(third_headers, [(shop["beat_id"], tier_of(shop, "Exclusive"))])
    assert held.status_code == 409 and held.json["error"]["code"] == "exclusive_unavailable"

    order = pay(payments, session_of, order_of, started.json["order_id"], headers)
    assert order["total"]["amount"] == EXCLUSIVE - PREMIUM
    exclusive = license_doc(client, order["items"][0]["license_id"], headers)
    assert exclusive["kind"] == "exclusive" and exclusive["status"] == "active"
    assert license_doc(client, premium, headers)["status"] == "superseded"
    assert license_doc(client, license_id, headers)["status"] == "superseded"
    # The beat leaves the store; the other artist's earlier lease stays valid, and they are told.
    assert client.get(f"/api/v1/beats/{shop['beat_id']}").json["status"] == "sold_exclusive"
    assert license_doc(client, other_lease, other_headers)["status"] == "active"
    settle(lambda: any("Other Lessee" in mail or "exclusive" in mail.lower() for mail in outbox()))
    assert options_of(client, exclusive["id"], headers)["upgradable"] is False


def test_a_coupon_paid_license_is_credited_what_was_paid_and_coupons_do_not_apply_again(
        client, payments, shop, buyer, checkout, session_of, order_of):
    _buyer_id, headers = buyer
    made = client.post("/api/v1/coupons", headers=shop["headers"],
                       json={"code": "HALF", "kind": "percent", "percent_off": 50})
    assert made.status_code == 201, made.json
    license_id, order = buy(checkout, payments, session_of, order_of, headers, shop, "Basic", "HALF")
    paid = order["items"][0]["price"]["amount"]
    assert paid < BASIC

    premium = tier_of(shop, "Premium")
    option = {o["tier_id"]: o for o in options_of(client, license_id, headers)["options"]}[premium]
    assert option["credit"]["amount"] == paid and option["price"]["amount"] == PREMIUM - paid
    refused = start_upgrade(client, headers, license_id, premium, coupon_code="HALF")
    assert refused.status_code == 422
    assert "does not apply" in str(refused.json["error"]["details"]["coupon_code"])
    # A bulk deal does not make an upgrade free either.
    deal = client.put("/api/v1/deal", json={"buy_count": 1, "free_count": 1}, headers=shop["headers"])
    assert deal.status_code == 200
    quoted = client.post("/api/v1/checkout/quote", headers=headers,
                         json={"items": [upgrade_item(license_id, premium)]})
    assert quoted.json["total"]["amount"] == PREMIUM - paid
    order = upgrade(client, payments, session_of, order_of, headers, license_id, premium)
    assert order["total"]["amount"] == PREMIUM - paid


# -- the seller's floor ------------------------------------------------------------------------

def test_the_sellers_floor_is_the_least_an_upgrade_costs(client, payments, shop, buyer, checkout, session_of,
                                                         order_of):
    _buyer_id, headers = buyer
    license_id, _order = buy(checkout, payments, session_of, order_of, headers, shop, "Basic")
    offered = set_offer(client, shop, {}, floors={"Premium": 2500})
    assert offered.status_code == 200, offered.json
    floors = {offer["name"].split()[0]: offer["upgrade_floor"]["amount"] for offer in offered.json}
    assert floors["Premium"] == 2500 and floors["Basic"] == 0
    # Left out, the floor stays.
    kept = set_offer(client, shop, {"Premium": 5999})
    assert {o["name"].split()[0]: o["upgrade_floor"]["amount"] for o in kept.json}["Premium"] == 2500

    premium = tier_of(shop, "Premium")
    option = {o["tier_id"]: o for o in options_of(client, license_id, headers)["options"]}[premium]
    assert option["price"]["amount"] == 5999 - BASIC  # above the floor: the difference
    set_offer(client, shop, {"Premium": 4999})
    option = {o["tier_id"]: o for o in options_of(client, license_id, headers)["options"]}[premium]
    assert option["price"]["amount"] == 2500  # the difference, 2000, is below the floor
    order = upgrade(client, payments, session_of, order_of, headers, license_id, premium)
    assert order["total"]["amount"] == 2500


@pytest.mark.parametrize("floor, currency, words", [
    (10, "usd", "smallest payment"), (BASIC + 1, "usd", "up to the offer's price"),
    (-5, "usd", "0 (no floor)"),
    (1000, "eur", "Prices are in usd"),
])
def test_a_floor_that_cannot_be_charged_is_refused_in_words(client, shop, floor, currency, words):
    wanted = [{"tier_id": tier_of(shop, "Basic"), "price": {"amount": BASIC, "currency": "usd"},
               "upgrade_floor": {"amount": floor, "currency": currency}}]
    refused = client.put(f"/api/v1/beats/{shop['beat_id']}/offers", json=wanted, headers=shop["headers"])
    assert refused.status_code == 422 and words in str(refused.json["error"]["details"]), refused.json
    lowered = set_offer(client, shop, {}, floors={"Premium": 4000})
    assert lowered.status_code == 200
    below = set_offer(client, shop, {"Premium": 3000})
    assert below.status_code == 422 and "above the new price" in str(below.json["error"]["details"])


def test_a_difference_too_small_to_charge_is_issued_without_payment_and_a_negative_one_refunds_nothing(
        client, payments, shop, buyer, checkout, session_of, order_of):
    _buyer_id, headers = buyer
    license_id, _order = buy(checkout, payments, session_of, order_of, headers, shop, "Basic")
    set_offer(client, shop, {"Premium": BASIC + 20, "Exclusive": 1000})
    premium, exclusive = tier_of(shop, "Premium"), tier_of(shop, "Exclusive")
    options = {o["tier_id"]: o for o in options_of(client, license_id, headers)["options"]}
    assert options[premium]["price"]["amount"] == 0  # 0.20 is below the smallest charge
    assert options[exclusive]["price"]["amount"] == 0  # cheaper than what was paid

    free = start_upgrade(client, headers, license_id, premium)
    assert free.status_code == 201 and free.json["checkout_url"] is None, free.json
    order = order_of(free.json["order_id"], headers)
    assert order["status"] == "paid" and order["total"]["amount"] == 0 and order["items"][0]["license_id"]
    new = order["items"][0]["license_id"]
    assert license_doc(client, license_id, headers)["status"] == "superseded"

    to_exclusive = start_upgrade(client, headers, new, exclusive)
    assert to_exclusive.status_code == 201 and to_exclusive.json["checkout_url"] is None
    order = order_of(to_exclusive.json["order_id"], headers)
    assert order["status"] == "paid" and order["refunded"]["amount"] == 0
    assert payments.events(type="refund.created") == []


# -- what cannot be upgraded -----------------------------------------------------------------

def test_upgrading_what_cannot_be_upgraded_is_refused_in_words(
        app, client, payments, shop, buyer, new_buyer, checkout, session_of, order_of):
    _buyer_id, headers = buyer
    _other, other_headers = new_buyer("Other")
    license_id, _order = buy(checkout, payments, session_of, order_of, headers, shop, "Premium")
    premium, basic, trackout = (shop["tiers"][name]["id"] for name in ("Premium", "Basic", "Trackout"))

    # Someone else's license, or one that does not exist: as if unknown.
    for who in (other_headers, shop["headers"]):
        refused = start_upgrade(client, who, license_id, trackout)
        assert refused.status_code == 422 and "no license with this id" in refused.json["error"]["message"]
        assert client.get(f"/api/v1/licenses/{license_id}/upgrades", headers=who).status_code == 404
    assert start_upgrade(client, headers, "lic_nope", trackout).status_code == 422
    # The same tier, a lower one, another beat's id, or an upgrade without its license.
    for tier, words in ((premium, "the license you have"), (basic, "not higher")):
        refused = start_upgrade(client, headers, license_id, tier)
        assert refused.status_code == 422 and words in refused.json["error"]["message"], refused.json
    wrong_beat = client.post("/api/v1/checkout", headers=headers, json={"items": [
        {**upgrade_item(license_id, trackout), "beat_id": "beat_other"}]})
    assert wrong_beat.status_code == 422 and "same beat" in wrong_beat.json["error"]["message"]
    missing = client.post("/api/v1/checkout", headers=headers, json={"items": [{"kind": "upgrade",
                                                                                "tier_id": trackout}]})
    assert missing.status_code == 422 and "names the license" in str(missing.json["error"]["details"])

    # Paid in another currency than the store's: refused, in words.
    alter_license(app, license_id, currency="eur")
    refused = start_upgrade(client, headers, license_id, trackout)
    assert refused.status_code == 422 and "paid in EUR" in refused.json["error"]["message"]
    assert "paid in EUR" in options_of(client, license_id, headers)["reason"]
    alter_license(app, license_id, currency="usd")
    # Its term ended (10 years for this lease).
    issued = license_doc(client, license_id, headers)["issued_at"]
    alter_license(app, license_id, issued_at=dt.datetime.fromisoformat(issued) - dt.timedelta(days=3660))
    refused = start_upgrade(client, headers, license_id, trackout)
    assert refused.status_code == 422 and "term ended" in refused.json["error"]["message"]
    alter_license(app, license_id, issued_at=dt.datetime.fromisoformat(issued))
    # Disputed.
    alter_license(app, license_id, frozen_at=dt.datetime.now(dt.UTC))
    assert "disputed" in start_upgrade(client, headers, license_id, trackout).json["error"]["message"]
    alter_license(app, license_id, frozen_at=None)
    # Superseded: upgrade the newer one.
    newer = upgrade(client, payments, session_of, order_of, headers, license_id, trackout)
    newer = newer["items"][0]["license_id"]
    refused = start_upgrade(client, headers, license_id, tier_of(shop, "Exclusive"))
    assert refused.status_code == 422 and "already upgraded" in refused.json["error"]["message"]
    # Revoked.
    alter_license(app, newer, status="revoked")
    refused = start_upgrade(client, headers, newer, tier_of(shop, "Exclusive"))
    assert refused.status_code == 422 and "revoked" in refused.json["error"]["message"]


# -- between checkout and payment --------------------------------------------------------------

def test_what_was_quoted_is_charged_when_the_seller_changes_the_price_before_the_payment(
        client, payments, shop, buyer, checkout, session_of, order_of):
    _buyer_id, headers = buyer
    license_id, _order = buy(checkout, payments, session_of, order_of, headers, shop, "Basic")
    premium = tier_of(shop, "Premium")
    started = start_upgrade(client, headers, license_id, premium)
    assert started.status_code == 201

    assert set_offer(client, shop, {"Premium": 9999}, floors={"Premium": 9999}).status_code == 200
    order = pay(payments, session_of, order_of, started.json["order_id"], headers)
    assert order["total"]["amount"] == PREMIUM - BASIC and order["items"][0]["status"] == "licensed"
    assert payments.session(session_of(order["id"]))["amount_total"] == PREMIUM - BASIC


def test_an_upgrade_paid_after_the_beat_left_the_store_is_refunded_and_the_license_stays(
        client, payments, shop, buyer, checkout, session_of, order_of, admin_headers):
    _buyer_id, headers = buyer
    license_id, _order = buy(checkout, payments, session_of, order_of, headers, shop, "Basic")
    started = start_upgrade(client, headers, license_id, tier_of(shop, "Premium"))
    session_id = session_of(started.json["order_id"])
    payments.complete(session_id, deliver="none")  # paid a moment before the takedown
    taken = client.post(f"/api/v1/admin/beats/{shop['beat_id']}/takedown", headers=admin_headers,
                        json={"reason": "Copyright claim by the label.", "revoke_licenses": False})
    assert taken.status_code == 200, taken.json

    order = settle(lambda: (o := order_of(started.json["order_id"], headers))["status"] == "refunded" and o)
    assert order["status_reason"] == "beat_left_store" and order["licenses"] == []
    assert license_doc(client, license_id, headers)["status"] == "active"


def test_an_upgrade_to_a_lease_checked_out_before_the_exclusive_was_sold_is_honoured(
        client, payments, shop, buyer, new_buyer, checkout, session_of, order_of):
    _buyer_id, headers = buyer
    license_id, _order = buy(checkout, payments, session_of, order_of, headers, shop, "Basic")
    started = start_upgrade(client, headers, license_id, tier_of(shop, "Premium"))
    assert started.status_code == 201
    _rival, rival_headers = new_buyer("Rival")
    buy(checkout, payments, session_of, order_of, rival_headers, shop, "Exclusive")

    order = pay(payments, session_of, order_of, started.json["order_id"], headers)
    assert order["items"][0]["status"] == "licensed" and order["refunded"]["amount"] == 0
    assert license_doc(client, license_id, headers)["status"] == "superseded"


def test_an_upgrade_to_the_exclusive_sold_to_another_buyer_first_cannot_be_checked_out(
        client, payments, shop, buyer, new_buyer, checkout, session_of, order_of):
    _buyer_id, headers = buyer
    license_id, _order = buy(checkout, payments, session_of, order_of, headers, shop, "Basic")
    _rival, rival_headers = new_buyer("Rival")
    buy(checkout, payments, session_of, order_of, rival_headers, shop, "Exclusive")
    refused = start_upgrade(client, headers, license_id, tier_of(shop, "Exclusive"))
    assert refused.status_code == 409 and "exclusive" in refused.json["error"]["message"].lower()
    assert license_doc(client, license_id, headers)["status"] == "active"  # the lease stays valid


def test_a_license_refunded_while_its_upgrade_is_being_paid_gets_the_upgrade_refunded(
        client, payments, shop, buyer, checkout, session_of, order_of, admin_headers):
    _buyer_id, headers = buyer
    license_id, base_order = buy(checkout, payments, session_of, order_of, headers, shop, "Basic")
    started = start_upgrade(client, headers, license_id, tier_of(shop, "Premium"))
    refunded = client.post(f"/api/v1/orders/{base_order['id']}/refund", headers=admin_headers,
                           json={"items": [base_order["items"][0]["id"]]})
    assert refunded.status_code == 202, refunded.json

    payments.complete(session_of(started.json["order_id"]), deliver="sync")
    order = settle(lambda: (o := order_of(started.json["order_id"], headers))["refunded"]["amount"] and o)
    [line] = order["items"]
    assert line["status"] == "refunded" and line["refund_reason"] == "upgrade_unavailable"
    assert order["refunded"]["amount"] == PREMIUM - BASIC and order["licenses"] == []


def test_a_second_upgrade_checkout_of_one_license_replaces_the_first_and_a_settling_one_refuses_it(
        client, payments, shop, buyer, checkout, session_of, order_of):
    _buyer_id, headers = buyer
    license_id, _order = buy(checkout, payments, session_of, order_of, headers, shop, "Basic")
    first = start_upgrade(client, headers, license_id, tier_of(shop, "Premium"))
    second = start_upgrade(client, headers, license_id, tier_of(shop, "Trackout"))
    assert first.status_code == second.status_code == 201
    replaced = order_of(first.json["order_id"], headers)
    assert (replaced["status"], replaced["status_reason"]) == ("expired", "replaced_by_new_checkout")

    payments.complete(session_of(second.json["order_id"]), async_payment=True, deliver="sync")  # a bank debit
    refused = start_upgrade(client, headers, license_id, tier_of(shop, "Premium"))
    assert refused.status_code == 409 and refused.json["error"]["code"] == "payment_under_way"


def test_the_database_keeps_one_standing_upgrade_per_license(app, client, payments, shop, buyer, checkout,
                                                             session_of, order_of):
    _buyer_id, headers = buyer
    license_id, _order = buy(checkout, payments, session_of, order_of, headers, shop, "Basic")
    upgraded = upgrade(client, payments, session_of, order_of, headers, license_id, tier_of(shop, "Premium"))
    with app.app_context():
        first = db.session.get(License, upgraded["items"][0]["license_id"])
        twin = License(license_number="LIC-TWIN-TWIN-TWIN-TWIN", sale_reference="twin", beat_id=first.beat_id,
                       tier_id=first.tier_id, buyer_id=first.buyer_id, seller_id=first.seller_id,
                       kind=first.kind,
                       buyer_name=first.buyer_name, price_amount=1, currency="usd", terms=first.terms,
                       credits=first.credits, beat_snapshot=first.beat_snapshot, upgrade_of_id=license_id)
        db.session.add(twin)
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


# -- refunds and disputes ------------------------------------------------------------------------

def test_refunding_an_upgrade_gives_the_superseded_license_back(
        app, client, payments, shop, buyer, checkout, session_of, order_of, admin_headers):
    _buyer_id, headers = buyer
    license_id, _order = buy(checkout, payments, session_of, order_of, headers, shop, "Basic")
    order = upgrade(client, payments, session_of, order_of, headers, license_id, tier_of(shop, "Premium"))
    new = order["items"][0]["license_id"]

    assert client.post(f"/api/v1/orders/{order['id']}/refund", headers=admin_headers).status_code == 202
    settle(lambda: order_of(order["id"], headers)["status"] == "refunded")  # the refund's webhook
    assert license_doc(client, new, headers)["status"] == "revoked"
    restored = license_doc(client, license_id, headers)
    assert restored["status"] == "active" and restored["superseded_by"] is None
    assert client.get(f"/api/v1/licenses/{license_id}/downloads", headers=headers).status_code == 200
    # The seller's share of the difference is taken back; the license can be upgraded again.
    assert sum(ledger_of_item(app, order["items"][0]["id"]).values()) == 0
    again = upgrade(client, payments, session_of, order_of, headers, license_id, tier_of(shop, "Trackout"))
    assert again["total"]["amount"] == TRACKOUT - BASIC


def test_refunding_the_license_an_upgrade_was_based_on_revokes_the_upgrade_too(
        client, payments, shop, buyer, checkout, session_of, order_of, admin_headers):
    _buyer_id, headers = buyer
    license_id, base_order = buy(checkout, payments, session_of, order_of, headers, shop, "Basic")
    order = upgrade(client, payments, session_of, order_of, headers, license_id, tier_of(shop, "Premium"))
    newest = upgrade(client, payments, session_of, order_of, headers, order["items"][0]["license_id"],
                     tier_of(shop, "Trackout"))["items"][0]["license_id"]

    refunded = client.post(f"/api/v1/orders/{base_order['id']}/refund", headers=admin_headers,
                           json={"items": [base_order["items"][0]["id"]]})
    assert refunded.status_code == 202, refunded.json
    for revoked in (license_id, order["items"][0]["license_id"], newest):
        assert license_doc(client, revoked, headers)["status"] == "revoked"
    refused = client.get(f"/api/v1/licenses/{newest}/downloads", headers=headers)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "license_revoked"


def test_losing_a_dispute_on_the_base_license_revokes_its_upgrade(
        client, payments, shop, buyer, checkout, session_of, order_of, app):
    _buyer_id, headers = buyer
    license_id, base_order = buy(checkout, payments, session_of, order_of, headers, shop, "Basic")
    order = upgrade(client, payments, session_of, order_of, headers, license_id, tier_of(shop, "Premium"))
    new = order["items"][0]["license_id"]
    with app.app_context():
        from marketplace.checkout.models import Order
        intent = db.session.get(Order, base_order["id"]).payment_intent_id

    dispute = payments.dispute(intent, deliver="sync")
    # While the base is disputed only its own downloads freeze; the upgrade is not touched yet.
    settle(lambda: license_doc(client, license_id, headers)["downloads_frozen"])
    assert license_doc(client, new, headers)["status"] == "active"
    payments.close_dispute(dispute["dispute"]["id"], "lost", deliver="sync")
    settle(lambda: license_doc(client, new, headers)["status"] == "revoked")
    assert license_doc(client, license_id, headers)["status"] == "revoked"


# -- two upgrades of one license at once -------------------------------------------------------

@pytest.mark.postgres_only
@postgres_only("concurrent checkouts of one license")
def test_two_upgrade_checkouts_of_one_license_at_once_license_one_upgrade(
        app, client, live_server, payments, shop, buyer, checkout, session_of, order_of):
    buyer_id, headers = buyer
    license_id, _order = buy(checkout, payments, session_of, order_of, headers, shop, "Basic")
    targets = [shop["tiers"][name]["id"] for name in ("Premium", "Trackout", "Unlimited")]
    barrier = threading.Barrier(len(targets))
    answers: list[tuple[int, dict]] = []

    def attempt(tier_id):
        barrier.wait()
        response = requests.post(f"{live_server}/api/v1/checkout", headers=headers, timeout=60,
                                 json={"items": [upgrade_item(license_id, tier_id)]})
        answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=attempt, args=(tier_id,)) for tier_id in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(status in (201, 409) for status, _body in answers), answers
    placed = [body["order_id"] for status, body in answers if status == 201]
    assert placed
    # Each page placed is paid, in turn (a buyer with three tabs open).
    for order_id in placed:
        session = payments.session(session_of(order_id))
        if session["status"] == "open":
            payments.complete(session["id"], deliver="sync")
    orders = [settle(lambda oid=order_id: (o := order_of(oid, headers))["status"] != "pending" and o)
              for order_id in placed]
    paid = [o for o in orders if o["status"] == "paid"]
    assert len(paid) == 1, [(o["status"], o["status_reason"]) for o in orders]
    winner = paid[0]["items"][0]["license_id"]
    assert license_doc(client, license_id, headers)["superseded_by"]["id"] == winner
    with app.app_context():
        standing = db.session.scalar(select(func.count()).select_from(License).where(
            License.upgrade_of_id == license_id, License.status != "revoked"))
    assert standing == 1
    # A page paid after its checkout was replaced is given back in full.
    for other in orders:
        if other["id"] != paid[0]["id"] and other["status"] == "refunded":
            settle(lambda oid=other["id"]: any(event["data"]["object"]["metadata"].get("order_id") == oid
                                               for event in payments.events(type="refund.created")))
