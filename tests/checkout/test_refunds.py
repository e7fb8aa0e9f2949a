"""Refunds after the sale: lines of an order (by an admin, by moderation), lines bought together
under a bulk deal refunded together, and a beat brought back after its exclusive sale was refunded.
The ledger's side of refunds is in tests/payouts/test_refunds.py."""

from __future__ import annotations

import threading

import requests
from sqlalchemy import select

from marketplace.db import db
from marketplace.payouts.models import LedgerEntry
from tests.checkout.conftest import wait_for
from tests.conftest import postgres_only


def settle(predicate):
    """Waits for what webhooks and jobs do after a request; generous, for a busy machine."""
    return wait_for(predicate, seconds=30)


def buy(checkout, payments, session_of, order_of, headers, items):
    started = checkout(headers, items)
    assert started.status_code == 201, started.json
    payments.complete(session_of(started.json["order_id"]), deliver="sync")
    order = order_of(started.json["order_id"], headers)
    assert order["status"] == "paid", order
    return order


def test_a_beat_restored_after_its_exclusive_was_refunded_sells_leases_and_never_its_exclusive(
        app, client, payments, shop, new_buyer, checkout, session_of, order_of, admin_headers):
    beat, tiers = shop["beat_id"], shop["tiers"]
    _first, first_headers = new_buyer("First")
    exclusive = buy(checkout, payments, session_of, order_of, first_headers,
                    [(beat, tiers["Exclusive"]["id"])])
    assert client.post(f"/api/v1/orders/{exclusive['id']}/refund", headers=admin_headers).status_code == 202
    settle(lambda: order_of(exclusive["id"], first_headers)["status"] == "refunded")

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
    wanted = [{"tier_id": tiers["Exclusive"]["id"], "price": tiers["Exclusive"]["default_price"]}]
    offered = client.put(f"/api/v1/beats/{beat}/offers", headers=shop["headers"], json=wanted)
    assert offered.status_code == 422


def items_by_beat(order):
    return {item["beat_id"]: item for item in order["items"]}


def refund(client, order_id, headers, items=None):
    body = {"items": items} if items is not None else None
    return client.post(f"/api/v1/orders/{order_id}/refund", json=body, headers=headers)


def refunded_amounts(payments):
    return sorted(event["data"]["object"]["amount"] for event in payments.events(type="refund.created"))


def test_lines_bought_together_under_a_bulk_deal_are_refunded_together(
        app, client, payments, shop, upload_beat, offer_all, new_buyer, checkout, session_of, order_of,
        admin_headers, outbox):
    second = upload_beat(shop["headers"], title="Second")
    offer_all(shop["headers"], second)
    deal = client.put("/api/v1/deal", json={"buy_count": 1, "free_count": 1}, headers=shop["headers"])
    assert deal.status_code == 200
    _buyer, headers = new_buyer()
    order = buy(checkout, payments, session_of, order_of, headers,
                [(shop["beat_id"], shop["tiers"]["Premium"]["id"]), (second, shop["tiers"]["Basic"]["id"])])
    paying, free = items_by_beat(order)[shop["beat_id"]], items_by_beat(order)[second]
    assert free["price"]["amount"] == 0 and paying["price"]["amount"] > 0

    for alone in (free, paying):
        refused = refund(client, order["id"], admin_headers, [alone["id"]])
        assert refused.status_code == 409, refused.json
        assert refused.json["error"]["code"] == "refund_splits_deal"
        assert refused.json["error"]["details"]["items_together"] == [paying["id"], free["id"]]
        assert "bought together" in refused.json["error"]["message"]
    unknown = refund(client, order["id"], admin_headers, ["oli_nope"])
    assert unknown.status_code == 422 and "oli_nope" in str(unknown.json["error"]["details"])
    assert refund(client, order["id"], admin_headers, []).status_code == 422
    assert order_of(order["id"], headers)["status"] == "paid" and payments.events(type="refund.created") == []

    links = client.get(f"/api/v1/licenses/{paying['license_id']}/downloads", headers=headers).json
    link = next(link["url"] for link in links if link["ready"])
    assert client.get(link).status_code == 200
    refunded = refund(client, order["id"], admin_headers, [paying["id"], free["id"]])
    assert refunded.status_code == 202, refunded.json
    # The link handed out before the refund stops at once.
    stopped = client.get(link)
    assert stopped.status_code == 403 and stopped.json["error"]["code"] == "license_revoked"
    assert {item["status"] for item in refunded.json["items"]} == {"refunded"}
    assert refunded.json["status"] == "refunded" and refunded.json["status_reason"] == "admin_refund"
    assert {lic["status"] for lic in refunded.json["licenses"]} == {"revoked"}
    # One refund at Stripe, of the paying line's price: the free line cost nothing.
    settle(lambda: order_of(order["id"], headers)["refunded"]["amount"] == paying["price"]["amount"])
    assert refunded_amounts(payments) == [paying["price"]["amount"]]
    [receipt] = settle(lambda: [mail for mail in outbox() if "Refund for your order" in mail])
    assert "Night Drive" in receipt and "Second" in receipt and "revoked" in receipt
    again = refund(client, order["id"], admin_headers, [paying["id"]])
    assert again.status_code == 409 and again.json["error"]["code"] == "order_not_refundable"


def test_revoking_a_free_lines_beat_refunds_its_deal_group_and_leaves_the_rest_of_the_cart(
        app, client, payments, shop, upload_beat, offer_all, make_user, headers_for, new_buyer, checkout,
        session_of, order_of, admin_headers):
    from marketplace.accounts.models import Role

    second = upload_beat(shop["headers"], title="Second")
    offer_all(shop["headers"], second)
    client.put("/api/v1/deal", json={"buy_count": 1, "free_count": 1}, headers=shop["headers"])
    other_headers = headers_for(make_user(Role.BEATMAKER, "Other"))
    elsewhere = upload_beat(other_headers, title="Elsewhere")
    other_tiers = offer_all(other_headers, elsewhere)
    _buyer, headers = new_buyer()
    order = buy(checkout, payments, session_of, order_of, headers,
                [(shop["beat_id"], shop["tiers"]["Premium"]["id"]), (second, shop["tiers"]["Basic"]["id"]),
                 (elsewhere, next(t["id"] for name, t in other_tiers.items() if name.startswith("Basic")))])
    lines = items_by_beat(order)

    revoked = client.post(f"/api/v1/admin/beats/{second}/takedown",
                          json={"reason": "Stolen beat.", "revoke_licenses": True}, headers=admin_headers)
    assert revoked.status_code == 200, revoked.json
    assert revoked.json["licenses"]["refunds_requested"] == [order["id"]]
    assert revoked.json["licenses"]["refund_by_hand"] == []
    assert sorted(revoked.json["licenses"]["lines_refunded"]) == sorted([lines[second]["id"],
                                                                         lines[shop["beat_id"]]["id"]])
    paid_for_the_deal = lines[shop["beat_id"]]["price"]["amount"]
    settle(lambda: order_of(order["id"], headers)["refunded"]["amount"] == paid_for_the_deal)
    assert refunded_amounts(payments) == [paid_for_the_deal]
    after = order_of(order["id"], headers)
    assert after["status"] == "paid"
    assert {lic["beat_id"]: lic["status"] for lic in after["licenses"]} == {
        shop["beat_id"]: "revoked", second: "revoked", elsewhere: "active"}


def test_the_refund_body_is_documented(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/orders/{order_id}/refund"]["post"]
    assert operation["requestBody"]["required"] is False
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    items = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]["items"]
    assert "bulk deal" in items["description"] and "whole order" in items["description"]
    assert "409" in operation["responses"] and "422" in operation["responses"]


@postgres_only("concurrent refunds on row locks")
def test_concurrent_refunds_of_one_line_refund_it_once(
        app, live_server, payments, shop, upload_beat, offer_all, new_buyer, checkout, session_of, order_of,
        admin_headers):
    second = upload_beat(shop["headers"], title="Second")
    offer_all(shop["headers"], second)
    _buyer, headers = new_buyer()
    order = buy(checkout, payments, session_of, order_of, headers,
                [(shop["beat_id"], shop["tiers"]["Basic"]["id"]), (second, shop["tiers"]["Premium"]["id"])])
    line = items_by_beat(order)[shop["beat_id"]]
    barrier = threading.Barrier(6)
    answers: list[tuple[int, str | None]] = []

    def attempt():
        barrier.wait()
        response = requests.post(f"{live_server}/api/v1/orders/{order['id']}/refund", headers=admin_headers,
                                 json={"items": [line["id"]]}, timeout=30)
        answers.append((response.status_code, response.json().get("error", {}).get("code")))

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [(202, None)] + [(409, "line_not_refundable")] * 5
    settle(lambda: order_of(order["id"], headers)["refunded"]["amount"] == line["price"]["amount"])
    assert refunded_amounts(payments) == [line["price"]["amount"]]
    with app.app_context():
        rows = db.session.scalars(select(LedgerEntry).where(LedgerEntry.order_item_id == line["id"],
                                                            LedgerEntry.kind == "refund"))
        assert -sum(row.amount for row in rows) == line["price"]["amount"]
