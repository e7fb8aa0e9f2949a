"""A buyer whose name has an emoji pays through the Stripe sandbox and gets a contract that
prints the name as typed (on SQLite and PostgreSQL)."""

from __future__ import annotations

from tests.checkout.conftest import wait_for
from tests.licensing.pdf_fonts import drawn_characters, extracted_text


def test_a_buyer_named_with_an_emoji_pays_and_gets_a_contract(client, payments, shop, new_buyer, checkout,
                                                             order_of, session_of):
    name = "DJ 🎧 Fan"
    _buyer_id, headers = new_buyer(name)
    started = checkout(headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])])
    assert started.status_code == 201, started.json
    order_id = started.json["order_id"]
    payments.complete(session_of(order_id), deliver="sync")

    # The webhook's answer may come after the sandbox stops waiting on a busy machine: the
    # order is looked at, not the delivery.
    assert wait_for(lambda: order_of(order_id, headers)["licenses"], seconds=120)
    license_id = order_of(order_id, headers)["licenses"][0]["id"]
    license_path = f"/api/v1/licenses/{license_id}"
    assert wait_for(lambda: client.get(license_path, headers=headers).json["contract_ready"], seconds=120)
    contract = client.get(f"/api/v1/licenses/{license_id}/contract.pdf", headers=headers)
    assert contract.status_code == 200 and contract.mimetype == "application/pdf"
    assert f'and {name} ("Licensee")' in extracted_text(contract.data)
    drawn, problems = drawn_characters(contract.data)
    assert problems == [] and set(name) - {" "} <= drawn
