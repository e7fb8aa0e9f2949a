"""Refunds after the sale: one line of an order (by an admin, by moderation), lines bought together
under a bulk deal, partial refunds made in Stripe's dashboard, and a beat brought back after its
exclusive sale was refunded."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.db import db
from marketplace.payouts.models import LedgerEntry
from tests.checkout.conftest import wait_for


def buy(checkout, payments, session_of, order_of, headers, items):
    started = checkout(headers, items)
    assert started.status_code == 201, started.json
    payments.complete(session_of(started.json["order_id"]), deliver="sync")
    order = order_of(started.json["order_id"], headers)
    assert order["status"] == "paid", order
    return order


def offers_of(client, beat_id):
    return {offer["kind"] + ":" + offer["name"]: offer["available"]
            for offer in client.get(f"/api/v1/beats/{beat_id}").json["offers"]}


def test_a_beat_restored_after_its_exclusive_was_refunded_sells_leases_and_never_its_exclusive(
        app, client, payments, shop, new_buyer, checkout, session_of, order_of, admin_headers):
    beat, tiers = shop["beat_id"], shop["tiers"]
    _first, first_headers = new_buyer("First")
    exclusive = buy(checkout, payments, session_of, order_of, first_headers, [(beat, tiers["Exclusive"]["id"])])
    assert client.post(f"/api/v1/orders/{exclusive['id']}/refund", headers=admin_headers).status_code == 202
    wait_for(lambda: order_of(exclusive["id"], first_headers)["status"] == "refunded")

    restored = client.post(f"/api/v1/admin/beats/{beat}/restore", json={"reason": "Refunded sale."},
                           headers=admin_headers)
    assert restored.status_code == 200 and restored.json["status"] == "published", restored.json
    # The listing offers the leases again, and no exclusive.
    listed = client.get(f"/api/v1/beats/{beat}").json["offers"]
    assert listed and all(offer["available"] for offer in listed if offer["kind"] == "lease")
    assert not any(offer["available"] for offer in listed if offer["kind"] == "exclusive")
    listing = {item["id"]: item for item in client.get("/api/v1/beats?limit=100").json["items"]}
    assert beat in listing and not any(offer["kind"] == "exclusive" and offer["available"]
                                       for offer in listing[beat]["offers"])

    _second, second_headers = new_buyer("Second")
    refused = checkout(second_headers, [(beat, tiers["Exclusive"]["id"])])
    assert refused.status_code == 409 and refused.json["error"]["code"] == "exclusive_unavailable"
    # A lease is sold and licensed, not paid and refunded.
    lease = buy(checkout, payments, session_of, order_of, second_headers, [(beat, tiers["Basic"]["id"])])
    assert [item["status"] for item in lease["items"]] == ["licensed"]
    assert lease["licenses"][0]["status"] == "active" and lease["refunded"]["amount"] == 0
    assert len(payments.events(type="refund.created")) == 1  # the exclusive's only
    # The seller cannot offer the exclusive again either.
    offered = client.put(f"/api/v1/beats/{beat}/offers", headers=shop["headers"],
                         json=[{"tier_id": tiers["Exclusive"]["id"], "price": tiers["Exclusive"]["default_price"]}])
    assert offered.status_code == 422


def ledger_rows(app, order_id):
    with app.app_context():
        return [(row.order_item_id, row.kind, row.payee_id, row.amount) for row in db.session.scalars(
            select(LedgerEntry).where(LedgerEntry.order_id == order_id).order_by(LedgerEntry.id))]
