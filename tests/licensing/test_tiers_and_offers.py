from __future__ import annotations

import pytest

from marketplace.accounts.models import Role
from marketplace.licensing.defaults import DEFAULT_TIERS


def test_a_beatmaker_starts_with_the_five_default_tiers(client, seller, tiers_of):
    _user, headers = seller
    tiers = tiers_of(headers)
    assert list(tiers) == ["Basic lease", "Premium lease", "Trackout lease", "Unlimited lease", "Exclusive rights"]
    basic = tiers["Basic lease"]
    assert basic["kind"] == "lease" and basic["deliverables"] == ["mp3"]
    assert basic["limits"] == {"distribution_copies": 2500, "audio_streams": 50000, "music_videos": 1,
                               "radio_stations": 2, "paid_performances": None}
    assert basic["term_years"] == 10 and basic["default_price"] == {"amount": 2999, "currency": "usd"}
    assert basic["content_id"] == "not_allowed" and basic["publishing_share_bps"] == 5000
    assert tiers["Trackout lease"]["limits"]["radio_stations"] is None
    exclusive = tiers["Exclusive rights"]
    assert exclusive["kind"] == "exclusive" and exclusive["term_years"] is None
    assert exclusive["deliverables"] == ["mp3", "wav", "stems"] and exclusive["default_price"]["amount"] == 49999
    for template in DEFAULT_TIERS:
        assert tiers[template["name"]]["limits"] == template["limits"]
    assert len(tiers_of(headers)) == 5  # seeded once


def test_tiers_are_created_edited_and_removed(client, seller, tiers_of):
    _user, headers = seller
    created = client.post("/api/v1/license-tiers", headers=headers, json={
        "name": "Radio lease", "kind": "lease", "deliverables": ["mp3", "wav"],
        "limits": {"distribution_copies": 1000, "radio_stations": 10}, "term_years": 2,
        "credit_line_template": "Prod. by {producers}", "default_price": {"amount": 1500, "currency": "usd"}})
    assert created.status_code == 201, created.json
    tier = created.json
    assert tier["limits"]["radio_stations"] == 10 and tier["limits"]["audio_streams"] is None
    edited = client.patch(f"/api/v1/license-tiers/{tier['id']}", headers=headers,
                          json={"limits": {"radio_stations": None}, "name": "Radio+"})
    assert edited.status_code == 200 and edited.json["limits"]["radio_stations"] is None
    assert edited.json["limits"]["distribution_copies"] == 1000 and edited.json["name"] == "Radio+"
    assert client.delete(f"/api/v1/license-tiers/{tier['id']}", headers=headers).status_code == 204
    assert "Radio+" not in tiers_of(headers)
    assert client.patch(f"/api/v1/license-tiers/{tier['id']}", headers=headers, json={"name": "x"}).status_code == 404


@pytest.mark.parametrize("change, field", [
    ({"default_price": {"amount": 0, "currency": "usd"}}, "default_price"),
    ({"default_price": {"amount": -100, "currency": "usd"}}, "default_price"),
    ({"default_price": {"amount": 100_000_001, "currency": "usd"}}, "default_price"),
    ({"default_price": {"amount": 2999, "currency": "eur"}}, "default_price"),
    ({"default_price": {"amount": 29.99, "currency": "usd"}}, "default_price"),
    ({"limits": {"audio_streams": -1}}, "limits"),
    ({"limits": {"tiktok_views": 5}}, "limits"),
    ({"publishing_share_bps": 10001}, "publishing_share_bps"),
    ({"master_points_bps": -1}, "master_points_bps"),
    ({"deliverables": []}, "deliverables"),
    ({"deliverables": ["flac"]}, "deliverables"),
    ({"credit_line_template": "Prod. by {name}"}, "credit_line_template"),
    ({"credit_line_template": "Prod. by {"}, "credit_line_template"),
    ({"kind": "rental"}, "kind"),
    ({"term_years": 0}, "term_years"),
])
def test_bad_tier_edits_are_422_and_change_nothing(client, seller, tiers_of, change, field):
    _user, headers = seller
    tier = tiers_of(headers)["Basic lease"]
    response = client.patch(f"/api/v1/license-tiers/{tier['id']}", headers=headers, json=change)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["details"], response.json
    assert tiers_of(headers)["Basic lease"] == tier


def test_tiers_are_the_owners_alone(client, seller, make_user, headers_for, tiers_of):
    _user, headers = seller
    tier = tiers_of(headers)["Basic lease"]
    other = headers_for(make_user(Role.BEATMAKER))
    assert client.patch(f"/api/v1/license-tiers/{tier['id']}", headers=other, json={"name": "Mine"}).status_code == 404
    assert client.delete(f"/api/v1/license-tiers/{tier['id']}", headers=other).status_code == 404
    artist = headers_for(make_user(Role.ARTIST))
    assert client.get("/api/v1/license-tiers", headers=artist).status_code == 403


def test_offers_show_on_the_beat_with_availability_and_price_from(client, seller, upload_beat, offer_all):
    _user, headers = seller
    beat_id = upload_beat(headers)
    offer_all(headers, beat_id)
    beat = client.get(f"/api/v1/beats/{beat_id}").json
    assert [o["name"] for o in beat["offers"]] == ["Basic lease", "Premium lease", "Trackout lease",
                                                   "Unlimited lease", "Exclusive rights"]
    assert all(o["available"] for o in beat["offers"])
    assert beat["offers"][0]["price"] == {"amount": 2999, "currency": "usd"}
    assert beat["price_from"] == {"amount": 2999, "currency": "usd"}
    listed = client.get("/api/v1/beats?price_min=2999&price_max=2999").json["items"]
    assert [item["id"] for item in listed] == [beat_id] and listed[0]["offers"] == beat["offers"]


def test_offers_are_replaced_and_deactivated(client, seller, upload_beat, tiers_of):
    _user, headers = seller
    beat_id = upload_beat(headers)
    tiers = tiers_of(headers)
    basic, premium = tiers["Basic lease"]["id"], tiers["Premium lease"]["id"]
    response = client.put(f"/api/v1/beats/{beat_id}/offers", headers=headers, json=[
        {"tier_id": basic, "price": {"amount": 1999, "currency": "usd"}},
        {"tier_id": premium, "price": {"amount": 3999, "currency": "usd"}, "active": False}])
    assert response.status_code == 200, response.json
    assert [o["tier_id"] for o in response.json] == [basic]
    assert client.get(f"/api/v1/beats/{beat_id}").json["price_from"]["amount"] == 1999
    client.put(f"/api/v1/beats/{beat_id}/offers", headers=headers, json=[])
    beat = client.get(f"/api/v1/beats/{beat_id}").json
    assert beat["offers"] == [] and beat["price_from"] is None


def test_offer_rules(client, seller, make_user, headers_for, upload_beat, tiers_of):
    _user, headers = seller
    tiers = tiers_of(headers)
    no_stems = upload_beat(headers, stems=False)
    lossy = upload_beat(headers, kind="mp3", stems=False)
    uncleared = upload_beat(headers, samples="uncleared")
    foreign_headers = headers_for(make_user(Role.BEATMAKER))
    foreign_tier = tiers_of(foreign_headers)["Basic lease"]["id"]

    def offer(beat_id, tier_id, amount=2999, currency="usd"):
        return client.put(f"/api/v1/beats/{beat_id}/offers", headers=headers,
                          json=[{"tier_id": tier_id, "price": {"amount": amount, "currency": currency}}])

    cases = [
        (no_stems, tiers["Trackout lease"]["id"], 2999, "usd"),  # stems tier, no stems
        (lossy, tiers["Premium lease"]["id"], 2999, "usd"),  # WAV tier, MP3 master
        (uncleared, tiers["Exclusive rights"]["id"], 49999, "usd"),  # exclusive, uncleared samples
        (no_stems, foreign_tier, 2999, "usd"),  # another beatmaker's tier
        (no_stems, tiers["Basic lease"]["id"], 0, "usd"),
        (no_stems, tiers["Basic lease"]["id"], -5, "usd"),
        (no_stems, tiers["Basic lease"]["id"], 100_000_001, "usd"),
        (no_stems, tiers["Basic lease"]["id"], 2999, "gbp"),
    ]
    for beat_id, tier_id, amount, currency in cases:
        response = offer(beat_id, tier_id, amount, currency)
        assert response.status_code == 422, (tier_id, amount, currency, response.json)
        assert client.get(f"/api/v1/beats/{beat_id}").json["offers"] == []
    assert offer(lossy, tiers["Basic lease"]["id"]).status_code == 200  # MP3 is fine for MP3 leases
    assert offer(uncleared, tiers["Unlimited lease"]["id"], 19999).status_code == 200
    twice = client.put(f"/api/v1/beats/{no_stems}/offers", headers=headers, json=[
        {"tier_id": tiers["Basic lease"]["id"], "price": {"amount": 100, "currency": "usd"}}] * 2)
    assert twice.status_code == 422
    stranger = client.put(f"/api/v1/beats/{no_stems}/offers", headers=foreign_headers, json=[])
    assert stranger.status_code == 403
