"""The order line is the contract: a license is issued from the line as frozen at checkout (its
kind, deliverables, terms, credits and price), whatever the seller changes while the buyer
pays; where the line can no longer be sold, the payment is refunded with a reason."""

from __future__ import annotations

from sqlalchemy import func, select

from marketplace.db import db
from marketplace.licensing.models import License
from marketplace.payouts.models import LedgerEntry
from tests.consent import credit_with_consent


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def start(checkout, headers, beat_id, tier_id):
    started = checkout(headers, [(beat_id, tier_id)])
    assert started.status_code == 201, started.json
    return started.json["order_id"]


def offer_only(client, shop, names):
    """Offer the shop's beat under these tiers only: the others are taken off it."""
    wanted = [{"tier_id": shop["tiers"][name]["id"], "price": shop["tiers"][name]["default_price"]}
              for name in names]
    response = client.put(f"/api/v1/beats/{shop['beat_id']}/offers", json=wanted, headers=shop["headers"])
    assert response.status_code == 200, response.json


def license_of(client, order, headers):
    [summary] = order["licenses"]
    response = client.get(f"/api/v1/licenses/{summary['id']}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_the_kind_of_an_offered_tier_cannot_change(client, shop, tiers_of):
    for name, other_kind in (("Exclusive", "lease"), ("Basic", "exclusive")):
        tier = shop["tiers"][name]
        refused = client.patch(f"/api/v1/license-tiers/{tier['id']}", json={"kind": other_kind},
                               headers=shop["headers"])
        assert refused.status_code == 409, refused.json
        assert refused.json["error"]["code"] == "tier_offered"
        assert "Night Drive" in refused.json["error"]["message"]
        assert "take it off those beats first" in refused.json["error"]["message"]
        assert tiers_of(shop["headers"])[tier["name"]]["kind"] == tier["kind"]
    # Other edits of an offered tier are still allowed, and so is a kind change once it is off sale.
    renamed = client.patch(f"/api/v1/license-tiers/{shop['tiers']['Basic']['id']}", json={"name": "Starter"},
                           headers=shop["headers"])
    assert renamed.status_code == 200, renamed.json


def test_an_exclusive_checked_out_is_sold_exclusively_after_its_tier_turned_lease(
        app, client, payments, shop, buyer, checkout, session_of, order_of):
    _buyer_id, headers = buyer
    exclusive = shop["tiers"]["Exclusive"]
    order_id = start(checkout, headers, shop["beat_id"], exclusive["id"])
    line = order_of(order_id, headers)["items"][0]
    # The seller takes the offer off the beat, then turns the tier into a lease.
    offer_only(client, shop, ["Basic", "Premium"])
    turned = client.patch(f"/api/v1/license-tiers/{exclusive['id']}", json={"kind": "lease"},
                          headers=shop["headers"])
    assert turned.status_code == 200 and turned.json["kind"] == "lease"

    payments.complete(session_of(order_id), deliver="sync")
    order = order_of(order_id, headers)
    assert order["status"] == "paid"
    license_ = license_of(client, order, headers)
    assert license_["kind"] == "exclusive" and license_["terms"] == line["terms"]
    assert license_["price"] == line["price"]
    assert client.get(f"/api/v1/beats/{shop['beat_id']}").json["status"] == "sold_exclusive"


def test_a_lease_checked_out_stays_a_lease_after_its_tier_turned_exclusive(
        app, client, payments, shop, buyer, checkout, session_of, order_of):
    _buyer_id, headers = buyer
    basic = shop["tiers"]["Basic"]
    order_id = start(checkout, headers, shop["beat_id"], basic["id"])
    offer_only(client, shop, ["Premium", "Exclusive"])
    turned = client.patch(f"/api/v1/license-tiers/{basic['id']}", json={"kind": "exclusive"},
                          headers=shop["headers"])
    assert turned.status_code == 200 and turned.json["kind"] == "exclusive"

    payments.complete(session_of(order_id), deliver="sync")
    order = order_of(order_id, headers)
    assert order["status"] == "paid"
    assert license_of(client, order, headers)["kind"] == "lease"
    beat = client.get(f"/api/v1/beats/{shop['beat_id']}").json
    assert beat["status"] == "published"
    assert {offer["kind"]: offer["available"] for offer in beat["offers"]}["exclusive"] is True


def test_edits_of_terms_files_price_and_credits_and_archived_offers_change_nothing_sold(
        app, client, payments, shop, buyer, make_user, headers_for, checkout, session_of, order_of):
    _buyer_id, headers = buyer
    premium = shop["tiers"]["Premium"]
    order_id = start(checkout, headers, shop["beat_id"], premium["id"])
    line = order_of(order_id, headers)["items"][0]
    # A credit's handle is the person's live public name, not part of what was sold.
    credits_at_checkout = [{key: value for key, value in credit.items() if key != "handle"}
                           for credit in client.get(f"/api/v1/beats/{shop['beat_id']}/credits").json["credits"]]
    assert set(line["terms"]["deliverables"]) == {"mp3", "wav"}

    # While the buyer pays, the seller changes everything the line froze...
    edited = client.patch(f"/api/v1/license-tiers/{premium['id']}", headers=shop["headers"], json={
        "deliverables": ["mp3"], "term_years": 1, "limits": {"audio_streams": 10},
        "default_price": {"amount": 99_00, "currency": "usd"}, "publishing_share_bps": 9000})
    assert edited.status_code == 200, edited.json
    repriced = client.put(f"/api/v1/beats/{shop['beat_id']}/offers", headers=shop["headers"], json=[
        {"tier_id": premium["id"], "price": {"amount": 99_00, "currency": "usd"}}])
    assert repriced.status_code == 200, repriced.json
    partner = make_user(name="Wheezy")
    credited = credit_with_consent(app, client, headers_for, shop["headers"], shop["beat_id"], [
        {"name": "Metro", "user_id": shop["seller_id"], "role": "producer", "profit_share_bps": 1000},
        {"name": "Wheezy", "user_id": partner, "role": "co_producer", "profit_share_bps": 9000}])
    assert credited.json["credits"][1]["user_id"] == partner
    # ... and finally archives the tier, which takes its offer off the beat.
    assert client.delete(f"/api/v1/license-tiers/{premium['id']}", headers=shop["headers"]).status_code == 204

    payments.complete(session_of(order_id), deliver="sync")
    order = order_of(order_id, headers)
    assert order["status"] == "paid"
    license_ = license_of(client, order, headers)
    assert license_["kind"] == "lease" and license_["terms"] == line["terms"]
    assert license_["price"] == line["price"] == premium["default_price"]
    # The license names the split sheet version it was sold under, beside the credits as they were.
    frozen_keys = ("name", "user_id", "role", "role_label", "profit_share_bps", "publishing_share_bps",
                   "master_points_bps", "pro", "ipi", "status")
    assert [{k: c[k] for k in frozen_keys} for c in license_["credits"]] == [
        {k: c[k] for k in frozen_keys} for c in credits_at_checkout]
    assert {c["split_version"] for c in license_["credits"]} == {1}
    downloads = client.get(f"/api/v1/licenses/{license_['id']}/downloads", headers=headers).json
    assert {link["kind"] for link in downloads} == {"mp3", "wav"}
    # The earnings follow the credits the buyer checked out under: the partner added later gets nothing.
    with app.app_context():
        payees = set(db.session.scalars(select(LedgerEntry.payee_id).where(LedgerEntry.order_id == order_id)))
    assert partner not in payees and shop["seller_id"] in payees


def test_an_exclusive_that_can_no_longer_be_sold_is_refunded_with_a_reason(
        app, client, payments, shop, buyer, checkout, session_of, order_of, outbox):
    _buyer_id, headers = buyer
    order_id = start(checkout, headers, shop["beat_id"], shop["tiers"]["Exclusive"]["id"])
    # The seller declares uncleared samples mid-checkout: such a beat is never sold exclusively.
    patched = client.patch(f"/api/v1/beats/{shop['beat_id']}", json={"samples": "uncleared"},
                           headers=shop["headers"])
    assert patched.status_code == 200

    payments.complete(session_of(order_id), deliver="sync")
    order = order_of(order_id, headers)
    assert order["status"] == "refunded" and order["status_reason"] == "exclusive_unavailable"
    assert [(item["status"], item["refund_reason"]) for item in order["items"]] == [
        ("refunded", "exclusive_unavailable")]
    assert order["licenses"] == [] and order["refunded"] == order["total"]
    [refund] = payments.events(type="charge.refunded")
    assert refund["data"]["object"]["amount_refunded"] == order["total"]["amount"]
    assert count(app, License) == 0 and count(app, LedgerEntry) == 0
    assert client.get(f"/api/v1/beats/{shop['beat_id']}").json["status"] == "published"
    assert any("Refunded in full" in mail for mail in outbox())
