"""Messages people read say things in words: percentages, not basis points; names, not field names.
The `details` keep the API's field keys, so clients that branch on them are unchanged."""

from __future__ import annotations

import pytest

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.db import db
from marketplace.licensing import tiers
from marketplace.licensing.models import Offer


@pytest.fixture
def owned_beat(make_user, make_beat, headers_for):
    owner = make_user(Role.BEATMAKER, "Metro")
    return owner, make_beat(owner), headers_for(owner)


def _refusal(response, status=422):
    assert response.status_code == status, response.json
    return response.json["error"]


@pytest.mark.parametrize("shares, field, sentence", [
    ({"profit_share_bps": [6000, 3000]}, "profit_share_bps",
     "Profit shares must add up to 100%; they add up to 90%."),
    ({"profit_share_bps": [6667, 3334]}, "profit_share_bps",
     "Profit shares must add up to 100%; they add up to 100.01%."),
    ({"publishing_share_bps": [6000, 5000]}, "publishing_share_bps",
     "Publishing shares add up to 110%, more than 100%."),
    ({"master_points_bps": [7000, 3500]}, "master_points_bps",
     "Master points add up to 105%, more than 100%."),
])
def test_credit_shares_are_told_in_percent(client, owned_beat, make_user, shares, field, sentence):
    owner, beat, headers = owned_beat
    [(name, (mine, theirs))] = shares.items()
    credits = [{"name": "Metro", "user_id": owner, "role": "producer", name: mine},
               {"name": "Wheezy", "role": "co_producer", name: theirs}]
    error = _refusal(client.put(f"/api/v1/beats/{beat}/credits", json=credits, headers=headers))
    assert error["message"] == sentence
    assert error["details"] == {field: [sentence]}
    assert "10000" not in error["message"] and "bps" not in error["message"]


def test_a_share_out_of_range_is_told_in_percent(client, owned_beat):
    owner, beat, headers = owned_beat
    credits = [{"name": "Metro", "user_id": owner, "role": "producer", "profit_share_bps": 20000}]
    error = _refusal(client.put(f"/api/v1/beats/{beat}/credits", json=credits, headers=headers))
    assert error["details"]["0"]["profit_share_bps"] == ["Must be a share from 0% to 100%."]


def test_a_tier_share_out_of_range_is_told_in_percent(client, make_user, headers_for):
    headers = headers_for(make_user(Role.BEATMAKER))
    tier = client.get("/api/v1/license-tiers", headers=headers).json[0]
    error = _refusal(client.patch(f"/api/v1/license-tiers/{tier['id']}", json={"publishing_share_bps": -1},
                                  headers=headers))
    assert error["details"]["publishing_share_bps"] == ["Must be a share from 0% to 100%."]


@pytest.mark.parametrize("query, field, sentence", [
    ("bpm_min=150&bpm_max=90", "bpm_min", "Minimum BPM must not be above the maximum."),
    ("price_min=5000&price_max=100", "price_min", "Minimum price must not be above the maximum."),
])
def test_search_ranges_are_told_by_name(client, query, field, sentence):
    error = _refusal(client.get(f"/api/v1/beats?{query}"))
    assert error["details"][field] == [sentence]


def test_the_report_queue_age_range_is_told_by_name(client, make_user, headers_for):
    headers = headers_for(make_user(Role.ADMIN))
    error = _refusal(client.get("/api/v1/admin/reports?min_age_hours=5&max_age_hours=1", headers=headers))
    assert error["details"]["min_age_hours"] == ["Minimum age must not be above the maximum."]


@pytest.mark.parametrize("beats, offered_on", [
    (2, '"Beat A" and 1 other beat'),
    (3, '"Beat A" and 2 other beats'),
])
def test_an_offered_tier_counts_its_beats_in_words(app, client, make_user, make_beat, headers_for, beats,
                                                   offered_on):
    owner = make_user(Role.BEATMAKER)
    headers = headers_for(owner)
    ids = [make_beat(owner, title=f"Beat {letter}") for letter in "ABC"[:beats]]
    with app.app_context():
        tier = next(t for t in tiers.list_tiers(accounts.get_user(owner)) if t.kind == "lease")
        db.session.add_all([Offer(beat_id=beat_id, tier_id=tier.id, price_amount=2999, currency="usd")
                            for beat_id in ids])
        db.session.commit()
        tier_id = tier.id
    error = _refusal(client.patch(f"/api/v1/license-tiers/{tier_id}", json={"kind": "exclusive"},
                                  headers=headers), status=409)
    assert f"This tier is offered on {offered_on}, so it cannot turn" in error["message"]
    assert error["details"] == {"kind": [f"Offered on {offered_on}."]}
