"""A buyer whose name has an emoji pays through the Stripe sandbox and gets a contract that
prints the name as typed (on SQLite and PostgreSQL)."""

from __future__ import annotations

from tests.licensing.pdf_fonts import drawn_characters, extracted_text


def test_a_buyer_named_with_an_emoji_pays_and_gets_a_contract(client, payments, shop, new_buyer, checkout,
                                                             order_of, session_of):
    name = "DJ 🎧 Fan"
    _buyer_id, headers = new_buyer(name)
    started = checkout(headers, [(shop["beat_id"], shop["tiers"]["Premium"]["id"])])
    assert started.status_code == 201, started.json
    order_id = started.json["order_id"]
    completed = payments.complete(session_of(order_id), deliver="sync")
    assert completed["delivery"]["status"] == 200, completed["delivery"]

    order = order_of(order_id, headers)
    assert order["status"] == "paid"
    license_id = order["licenses"][0]["id"]
    license_ = client.get(f"/api/v1/licenses/{license_id}", headers=headers).json
    assert license_["contract_ready"] is True, license_
    contract = client.get(f"/api/v1/licenses/{license_id}/contract.pdf", headers=headers)
    assert contract.status_code == 200 and contract.mimetype == "application/pdf"
    assert f'and {name} ("Licensee")' in extracted_text(contract.data)
    drawn, problems = drawn_characters(contract.data)
    assert problems == [] and set(name) - {" "} <= drawn
