"""Free downloads next to real sales: a free license never stands in the way of the exclusive
bought through checkout, and the seller's sales, ledger and balance count the paid sale only."""

from __future__ import annotations

from tests.checkout.conftest import (  # noqa: F401
    checkout,
    new_buyer,
    order_of,
    payments,
    session_of,
    shop,
)
from tests.licensing.conftest import buyer, masters, offer_all, seller, tiers_of, upload_beat  # noqa: F401

ENDED = "Free downloads ended when the exclusive rights were sold."


def test_the_exclusive_is_bought_after_a_free_download_and_only_it_is_a_sale(
        client, shop, payments, checkout, session_of, order_of, new_buyer):  # noqa: F811
    switched = client.patch(f"/api/v1/beats/{shop['beat_id']}", json={"free_download": True},
                            headers=shop["headers"])
    assert switched.status_code == 200, switched.json
    _listener_id, listener = new_buyer("Listener")
    free = client.post(f"/api/v1/beats/{shop['beat_id']}/free-download", headers=listener)
    assert free.status_code == 200, free.json
    empty_sales = client.get("/api/v1/payouts/sales", headers=shop["headers"]).json
    assert empty_sales == []

    _buyer_id, exclusive_buyer = new_buyer("Label")
    started = checkout(exclusive_buyer, [(shop["beat_id"], shop["tiers"]["Exclusive"]["id"])])
    assert started.status_code == 201, started.json
    payments.complete(session_of(started.json["order_id"]), deliver="sync")
    order = order_of(started.json["order_id"], exclusive_buyer)
    assert order["status"] == "paid", order
    license_id = order["items"][0]["license_id"]
    exclusive = client.get(f"/api/v1/licenses/{license_id}", headers=exclusive_buyer).json
    assert exclusive["kind"] == "exclusive" and exclusive["status"] == "active"

    sales = client.get("/api/v1/payouts/sales", headers=shop["headers"]).json
    assert sum(row["sales"] for row in sales) == 1, sales
    assert [row["tier_name"] for row in sales] == [shop["tiers"]["Exclusive"]["name"]]
    ledger = client.get("/api/v1/payouts/ledger", headers=shop["headers"]).json
    assert ledger["items"] and {entry["order_id"] for entry in ledger["items"]} == {order["id"]}

    # The free license stays valid for non-profit use; new ones are refused in words.
    verified = client.get(f"/api/v1/licenses/verify/{free.json['license']['license_number']}").json
    assert verified["status"] == "active" and verified["kind"] == "free"
    _late_id, late = new_buyer("Late listener")
    refused = client.post(f"/api/v1/beats/{shop['beat_id']}/free-download", headers=late)
    assert refused.status_code == 409 and refused.json["error"]["message"] == ENDED
