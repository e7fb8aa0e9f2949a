"""Beats declared with uncleared samples are never sold exclusively, even when the exclusive
was offered before the declaration changed; their leases stay on sale."""

from __future__ import annotations


def test_a_beat_declared_uncleared_later_stops_selling_its_exclusive(client, payments, shop, new_buyer, checkout):
    beat = shop["beat_id"]
    patched = client.patch(f"/api/v1/beats/{beat}", json={"samples": "uncleared"}, headers=shop["headers"])
    assert patched.status_code == 200 and patched.json["samples"] == "uncleared"
    offers = {offer["kind"]: offer["available"] for offer in client.get(f"/api/v1/beats/{beat}").json["offers"]}
    assert offers == {"lease": True, "exclusive": False}
    listed = next(item for item in client.get("/api/v1/beats").json["items"] if item["id"] == beat)
    assert [o["available"] for o in listed["offers"] if o["kind"] == "exclusive"] == [False]

    _buyer, headers = new_buyer()
    exclusive = checkout(headers, [(beat, shop["tiers"]["Exclusive"]["id"])])
    assert exclusive.status_code == 422, exclusive.json
    assert "cannot be delivered" in exclusive.json["error"]["message"]
    assert checkout(headers, [(beat, shop["tiers"]["Basic"]["id"])]).status_code == 201
    # Re-offering the exclusive is refused outright.
    tier = shop["tiers"]["Exclusive"]
    again = client.put(f"/api/v1/beats/{beat}/offers", json=[{"tier_id": tier["id"], "price": tier["default_price"]}],
                       headers=shop["headers"])
    assert again.status_code == 422 and "uncleared" in str(again.json["error"]["details"])
