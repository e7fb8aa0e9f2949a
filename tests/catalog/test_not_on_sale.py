"""A published beat with no active offer is not on sale: the store neither lists it nor finds
it, while its page, preview, waveform and cover still answer and its status stays
`published`. It comes back, as it is now, as soon as it is offered again."""

from __future__ import annotations

import io
import threading

from PIL import Image

from tests.catalog.test_listing_cache import fresh_listing, listed
from tests.conftest import postgres_only
from tests.licensing.conftest import masters, offer_all, seller, tiers_of, upload_beat  # noqa: F401


SEARCH = {"q": "lanterns"}


def cover_png() -> tuple[io.BytesIO, str]:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (91, 61, 245)).save(buffer, "PNG")
    buffer.seek(0)
    return buffer, "cover.png"


def found(client, **query) -> set[str]:
    response = client.get("/api/v1/beats", query_string={"limit": 100, **query})
    assert response.status_code == 200, response.json
    return {item["id"] for item in response.json["items"]}


def assert_reachable_but_not_in_store(client, beat_id, headers):
    page = client.get(f"/api/v1/beats/{beat_id}")
    assert page.status_code == 200, page.json
    beat = page.json
    assert (beat["status"], beat["offers"], beat["price_from"]) == ("published", [], None)
    files = (beat["preview_url"], beat["waveform_url"], beat["cover_url"], f"{beat['cover_url']}?size=400")
    for url in files:
        assert client.get(url).status_code == 200, url
    assert beat_id not in found(client)
    assert beat_id not in found(client, q="lanterns")
    assert beat_id not in found(client, genre="lo-fi")
    assert beat_id not in found(client, beatmaker=beat["beatmaker"]["id"])
    assert listed(client, beat_id) is None
    mine = {item["id"]: item for item in client.get("/api/v1/me/beats", headers=headers).json}
    assert mine[beat_id]["status"] == "published" and mine[beat_id]["price_from"] is None


def test_a_beat_without_offers_is_not_listed_until_it_is_offered(client, seller, upload_beat, tiers_of):  # noqa: F811
    _seller_id, headers = seller
    beat_id = upload_beat(headers, title="Paper Lanterns", genre="Lo-Fi", cover=cover_png())
    assert_reachable_but_not_in_store(client, beat_id, headers)

    basic = tiers_of(headers)["Basic lease"]
    response = client.put(f"/api/v1/beats/{beat_id}/offers", headers=headers,
                          json=[{"tier_id": basic["id"], "price": basic["default_price"]}])
    assert response.status_code == 200, response.json
    assert found(client, q="lanterns") == found(client, genre="lo-fi") == {beat_id}
    assert fresh_listing(client, beat_id)["price_from"] == basic["default_price"]


def test_removing_every_offer_takes_it_out_and_offering_again_brings_it_back(client, seller, upload_beat,  # noqa: F811
                                                                             tiers_of, offer_all):  # noqa: F811
    _seller_id, headers = seller
    beat_id = upload_beat(headers, title="Paper Lanterns", genre="lo-fi", cover=cover_png())
    tiers = offer_all(headers, beat_id)
    assert len(fresh_listing(client, beat_id)["offers"]) == len(tiers)  # its document is now kept

    response = client.put(f"/api/v1/beats/{beat_id}/offers", headers=headers, json=[])
    assert response.status_code == 200, response.json
    assert_reachable_but_not_in_store(client, beat_id, headers)

    # Offered again at a new price: listed as it is now, not as the listing last kept it.
    basic = tiers["Basic lease"]
    response = client.put(f"/api/v1/beats/{beat_id}/offers", headers=headers,
                          json=[{"tier_id": basic["id"], "price": {"amount": 1234, "currency": "usd"}}])
    assert response.status_code == 200, response.json
    item = fresh_listing(client, beat_id)
    assert [offer["price"]["amount"] for offer in item["offers"]] == [1234]
    assert item["price_from"]["amount"] == 1234

    # An offer kept but switched off is no offer either.
    response = client.put(f"/api/v1/beats/{beat_id}/offers", headers=headers, json=[
        {"tier_id": basic["id"], "price": {"amount": 1234, "currency": "usd"}, "active": False}])
    assert response.status_code == 200, response.json
    assert_reachable_but_not_in_store(client, beat_id, headers)


def test_archiving_the_only_tier_offered_takes_the_beat_out(client, seller, upload_beat, tiers_of):  # noqa: F811
    _seller_id, headers = seller
    beat_id = upload_beat(headers, title="Paper Lanterns", genre="lo-fi", cover=cover_png())
    premium = tiers_of(headers)["Premium lease"]
    client.put(f"/api/v1/beats/{beat_id}/offers", headers=headers,
               json=[{"tier_id": premium["id"], "price": premium["default_price"]}])
    assert listed(client, beat_id) is not None
    response = client.delete(f"/api/v1/license-tiers/{premium['id']}", headers=headers)
    assert response.status_code == 204, response.json
    assert_reachable_but_not_in_store(client, beat_id, headers)


@postgres_only("concurrent requests on one database")
def test_listings_during_offer_changes_never_show_a_beat_not_on_sale(live_server, seller, upload_beat,  # noqa: F811
                                                                     tiers_of):  # noqa: F811
    """A beat taken off sale and put back again and again, while others list the store: every
    listing that shows it shows it with an offer, and once its offers are gone, none shows it."""
    import requests

    _seller_id, headers = seller
    beat_id = upload_beat(headers, title="Paper Lanterns")
    basic = tiers_of(headers)["Basic lease"]
    with_offer = [{"tier_id": basic["id"], "price": basic["default_price"]}]
    stop = threading.Event()
    shown_without_offers: list[dict] = []
    listings = 0

    def list_store():
        nonlocal listings
        with requests.Session() as session:
            while not stop.is_set():
                items = session.get(f"{live_server}/api/v1/beats", params=SEARCH, timeout=30).json()["items"]
                listings += 1
                shown_without_offers.extend(item for item in items
                                            if not item["offers"] or not item["price_from"])

    readers = [threading.Thread(target=list_store) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        with requests.Session() as session:
            for round_number in range(16):  # the last round takes its offers away
                body = with_offer if round_number % 2 == 0 else []
                response = session.put(f"{live_server}/api/v1/beats/{beat_id}/offers", json=body,
                                       headers=headers, timeout=30)
                assert response.status_code == 200, response.text
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=60)
    assert listings > 0
    assert shown_without_offers == []
    assert requests.get(f"{live_server}/api/v1/beats", params=SEARCH, timeout=30).json()["items"] == []
