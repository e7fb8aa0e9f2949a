from __future__ import annotations

import pytest

from marketplace.accounts.models import Role
from marketplace.catalog.credits import render_credit_line
from tests.consent import credit_with_consent


@pytest.mark.parametrize("credits, line", [
    ([("A", "producer"), ("B", "producer")], "Prod. by A & B"),
    ([("C", "beatmaker")], "Beat by C"),
    ([("A", "producer"), ("B", "co_producer")], "Prod. by A, co-prod. by B"),
    ([("A", "producer"), ("B", "producer"), ("C", "producer")], "Prod. by A, B & C"),
    ([("B", "co_producer"), ("A", "producer"), ("C", "beatmaker")], "Prod. by A, beat by C, co-prod. by B"),
    ([("A", "producer"), ("W", "songwriter"), ("M", "mix_engineer")], "Prod. by A"),
    ([("W", "songwriter"), ("M", "mix_engineer")], "Written by W, mixed by M"),
    ([("A", "producer"), ("A", "producer")], "Prod. by A"),
])
def test_credit_line_wording(credits, line):
    assert render_credit_line(credits) == line


@pytest.mark.parametrize("role, line", [
    ("songwriter", "Written by W"), ("composer", "Music by W"), ("recording_engineer", "Recorded by W"),
    ("mix_engineer", "Mixed by W"), ("mastering_engineer", "Mastered by W"),
    ("executive_producer", "Executive produced by W"),
])
def test_a_credit_without_a_production_role_reads_with_its_industry_label(role, line):
    assert render_credit_line([("W", role)]) == line


@pytest.fixture
def owned_beat(make_user, make_beat, headers_for):
    owner = make_user(Role.BEATMAKER, "Metro")
    beat = make_beat(owner)
    return owner, beat, headers_for(owner)


def put_credits(client, beat, headers, credits):
    return client.put(f"/api/v1/beats/{beat}/credits", json=credits, headers=headers)


def test_new_beats_credit_their_owner_as_producer(client, owned_beat):
    owner, beat, _ = owned_beat
    body = client.get(f"/api/v1/beats/{beat}/credits").json
    assert body["credit_line"] == "Prod. by Metro"
    assert body["credits"] == [{"name": "Metro", "user_id": owner, "handle": None, "role": "producer",
                                "role_label": "Produced by", "profit_share_bps": 10000,
                                "publishing_share_bps": None, "master_points_bps": None,
                                "pro": None, "ipi": None, "status": "accepted", "paid_to": "account",
                                "invitation_id": None}]


def test_owner_replaces_credits_and_they_show_on_the_beat(app, client, owned_beat, make_user, headers_for):
    owner, beat, headers = owned_beat
    partner = make_user(Role.BEATMAKER, "Wheezy")
    response = credit_with_consent(app, client, headers_for, headers, beat, [
        {"name": "Metro", "user_id": owner, "role": "producer", "profit_share_bps": 6000,
         "publishing_share_bps": 2500, "master_points_bps": 300},
        {"name": "Wheezy", "user_id": partner, "role": "co_producer", "profit_share_bps": 4000,
         "publishing_share_bps": 2500},
        {"name": "Sam Engineer", "role": "mix_engineer"},
    ])
    assert response.status_code == 200, response.json
    assert response.json["credit_line"] == "Prod. by Metro, co-prod. by Wheezy"
    beat_json = client.get(f"/api/v1/beats/{beat}").json
    assert beat_json["credit_line"] == "Prod. by Metro, co-prod. by Wheezy"
    assert [c["role_label"] for c in beat_json["credits"]] == ["Produced by", "Co-produced by", "Mixed by"]
    assert [c["profit_share_bps"] for c in beat_json["credits"]] == [6000, 4000, None]


def test_beatmaker_and_producer_are_told_apart(client, owned_beat):
    owner, beat, headers = owned_beat
    response = put_credits(client, beat, headers, [
        {"name": "Metro", "user_id": owner, "role": "beatmaker"},
        {"name": "Rick", "role": "producer"},
    ])
    assert response.status_code == 200
    assert response.json["credit_line"] == "Prod. by Rick, beat by Metro"


@pytest.mark.parametrize("credits, field", [
    ([{"name": "Metro", "user_id": "OWNER", "role": "producer", "profit_share_bps": 5000},
      {"name": "B", "role": "co_producer", "profit_share_bps": 4000}], "profit_share_bps"),
    ([{"name": "Metro", "user_id": "OWNER", "role": "producer", "profit_share_bps": 10000},
      {"name": "B", "role": "co_producer", "profit_share_bps": 1}], "profit_share_bps"),
    ([{"name": "Metro", "user_id": "OWNER", "role": "producer", "publishing_share_bps": 6000},
      {"name": "W", "role": "songwriter", "publishing_share_bps": 5000}], "publishing_share_bps"),
    ([{"name": "Metro", "user_id": "OWNER", "role": "producer", "master_points_bps": 9000},
      {"name": "W", "role": "co_producer", "master_points_bps": 2000}], "master_points_bps"),
    ([{"name": "Someone Else", "role": "producer"}], "credits"),
    ([{"name": "Metro", "user_id": "OWNER", "role": "producer"},
      {"name": "Metro", "user_id": "OWNER", "role": "producer"}], "credits"),
    ([{"name": "Metro", "user_id": "OWNER", "role": "producer"},
      {"name": "Ann", "role": "songwriter"}, {"name": "ANN", "role": "songwriter"}], "credits"),
    ([{"name": "Metro", "user_id": "OWNER", "role": "rapper"}], "0"),
    ([{"name": "Metro", "user_id": "OWNER", "role": "producer", "profit_share_bps": -1}], "0"),
    ([{"name": "Metro", "user_id": "OWNER", "role": "producer", "profit_share_bps": 10001}], "0"),
    ([{"name": "", "user_id": "OWNER", "role": "producer"}], "0"),
    ([], "credits"),
])
def test_broken_credit_rules_are_422_and_change_nothing(client, owned_beat, credits, field):
    owner, beat, headers = owned_beat
    before = client.get(f"/api/v1/beats/{beat}/credits").json
    for credit in credits:
        if credit.get("user_id") == "OWNER":
            credit["user_id"] = owner
    response = put_credits(client, beat, headers, credits)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_failed"
    assert field in response.json["error"]["details"], response.json
    assert client.get(f"/api/v1/beats/{beat}/credits").json == before


def test_a_person_may_hold_two_roles(client, owned_beat):
    owner, beat, headers = owned_beat
    response = put_credits(client, beat, headers, [
        {"name": "Metro", "user_id": owner, "role": "producer"},
        {"name": "Metro", "user_id": owner, "role": "mix_engineer"},
    ])
    assert response.status_code == 200


def test_only_the_owner_replaces_credits(client, owned_beat, make_user, headers_for):
    owner, beat, _ = owned_beat
    other = headers_for(make_user(Role.BEATMAKER))
    credits = [{"name": "Thief", "user_id": owner, "role": "producer"}]
    response = put_credits(client, beat, other, credits)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "not_beat_owner"
    assert put_credits(client, beat, {}, credits).status_code == 401
    artist = headers_for(make_user(Role.ARTIST))
    assert put_credits(client, beat, artist, credits).status_code == 403


def test_credits_are_searchable_by_name(client, owned_beat):
    owner, beat, headers = owned_beat
    put_credits(client, beat, headers, [{"name": "Metro", "user_id": owner, "role": "producer"},
                                        {"name": "Zaytoven", "role": "co_producer"}])
    items = client.get("/api/v1/beats?q=zayto").json["items"]
    assert [item["id"] for item in items] == [beat]
