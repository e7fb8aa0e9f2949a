from __future__ import annotations

import pytest

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, UserStatus
from marketplace.catalog import services as catalog
from marketplace.catalog.lifecycle import BeatStatus
from marketplace.db import db
from tests.consent import credit_with_consent


@pytest.fixture
def owner(make_user):
    return make_user(Role.BEATMAKER, "Metro")


def test_published_beat_has_the_api_shape(client, owner, make_beat):
    beat = make_beat(owner, title="Night Drive", bpm=142, key="F sharp minor", genre=" Trap ",
                     mood="Dark", tags=["#808", "Night", "night"], samples="cleared", price=2999)
    body = client.get(f"/api/v1/beats/{beat}").json
    assert body["id"] == beat and body["title"] == "Night Drive"
    assert body["status"] == "published" and body["published_at"]
    assert body["bpm"] == 142 and body["key"] == "F# minor"
    assert body["genre"] == "trap" and body["mood"] == "dark"
    assert body["tags"] == ["808", "night"]
    assert body["samples"] == "cleared"
    assert body["beatmaker"] == {"id": owner, "display_name": "Metro", "handle": None}
    assert body["credit_line"] == "Prod. by Metro"
    assert body["price_from"] == {"amount": 2999, "currency": "usd"}
    assert body["play_count"] == 0 and body["version_of"] is None


def test_unknown_beat_is_404(client):
    response = client.get("/api/v1/beats/bt_nothing")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "beat_not_found"


@pytest.mark.parametrize("status", ["processing", "failed", "archived", "taken_down"])
def test_non_public_beats_are_seen_by_owner_and_admin_only(app, client, owner, make_user, make_beat,
                                                           headers_for, status):
    beat = make_beat(owner, publish=False)
    with app.app_context():
        record = catalog.get_beat(beat)
        record.status = status
        db.session.commit()
    assert client.get(f"/api/v1/beats/{beat}").status_code == 404
    assert client.get(f"/api/v1/beats/{beat}", headers=headers_for(make_user(Role.ARTIST))).status_code == 404
    assert client.get(f"/api/v1/beats/{beat}", headers=headers_for(owner)).json["status"] == status
    assert client.get(f"/api/v1/beats/{beat}", headers=headers_for(make_user(Role.ADMIN))).status_code == 200


def test_sold_exclusive_beats_stay_visible_with_their_date(app, client, owner, make_beat):
    beat = make_beat(owner)
    with app.app_context():
        from marketplace.catalog import lifecycle

        lifecycle.move(catalog.get_beat(beat), BeatStatus.SOLD_EXCLUSIVE)
        db.session.commit()
    body = client.get(f"/api/v1/beats/{beat}").json
    assert body["status"] == "sold_exclusive" and body["sold_exclusive_at"]
    assert client.get("/api/v1/beats").json["items"] == []


def test_owner_edits_metadata_with_normalisation(client, owner, make_beat, headers_for):
    beat = make_beat(owner, genre="trap")
    response = client.patch(f"/api/v1/beats/{beat}", headers=headers_for(owner), json={
        "title": "  Renamed ", "bpm": 90, "key": "Gbm", "genre": "Boom  Bap", "tags": ["Dusty", "#Vinyl"],
        "description": "Warm keys.", "samples": "uncleared"})
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["title"], body["bpm"], body["key"], body["genre"]) == ("Renamed", 90, "F# minor", "boom bap")
    assert body["tags"] == ["dusty", "vinyl"] and body["samples"] == "uncleared"
    # Only the fields sent change.
    again = client.patch(f"/api/v1/beats/{beat}", headers=headers_for(owner), json={"mood": "chill"}).json
    assert again["title"] == "Renamed" and again["mood"] == "chill" and again["tags"] == ["dusty", "vinyl"]
    # Clearing optional fields.
    cleared = client.patch(f"/api/v1/beats/{beat}", headers=headers_for(owner),
                           json={"key": None, "genre": None, "tags": []}).json
    assert cleared["key"] is None and cleared["genre"] is None and cleared["tags"] == []


def test_edits_are_searchable_at_once(client, owner, make_beat, headers_for):
    beat = make_beat(owner, title="Old Name")
    client.patch(f"/api/v1/beats/{beat}", headers=headers_for(owner), json={"title": "Velvet Rain"})
    assert [b["id"] for b in client.get("/api/v1/beats?q=velvet").json["items"]] == [beat]
    assert client.get("/api/v1/beats?q=old").json["items"] == []


@pytest.mark.parametrize("payload, field", [
    ({"bpm": 39}, "bpm"), ({"bpm": 301}, "bpm"), ({"bpm": "fast"}, "bpm"), ({"bpm": 120.5}, "bpm"),
    ({"key": "H minor"}, "key"), ({"title": ""}, "title"), ({"title": "x" * 121}, "title"),
    ({"samples": "maybe"}, "samples"), ({"status": "sold_exclusive"}, "status"),
    ({"tags": ["a"] * 16}, "tags"), ({"tags": ["x" * 31]}, "tags"), ({"owner_id": "usr_x"}, "owner_id"),
    ({"play_count": 1000000}, "play_count"), ({"version_of": "bt_missing"}, "version_of"),
])
def test_bad_edits_are_422_and_change_nothing(client, owner, make_beat, headers_for, payload, field):
    beat = make_beat(owner, title="Keep Me", bpm=100)
    before = client.get(f"/api/v1/beats/{beat}").json
    response = client.patch(f"/api/v1/beats/{beat}", headers=headers_for(owner), json=payload)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["details"], response.json
    assert client.get(f"/api/v1/beats/{beat}").json == before


def test_only_the_owner_edits_or_archives(client, owner, make_user, make_beat, headers_for):
    beat = make_beat(owner)
    stranger = headers_for(make_user(Role.BEATMAKER))
    admin = headers_for(make_user(Role.ADMIN))
    for headers in (stranger, admin):
        assert client.patch(f"/api/v1/beats/{beat}", headers=headers, json={"title": "Mine"}).status_code == 403
        assert client.delete(f"/api/v1/beats/{beat}", headers=headers).status_code == 403
    assert client.patch(f"/api/v1/beats/{beat}", json={"title": "Mine"}).status_code == 401
    assert client.get(f"/api/v1/beats/{beat}").json["status"] == "published"


def test_archive_removes_from_the_store_and_publish_brings_it_back(client, owner, make_beat, headers_for):
    beat = make_beat(owner)
    headers = headers_for(owner)
    archived = client.delete(f"/api/v1/beats/{beat}", headers=headers)
    assert archived.status_code == 200 and archived.json["status"] == "archived"
    assert client.get("/api/v1/beats").json["items"] == []
    assert client.get(f"/api/v1/beats/{beat}").status_code == 404
    again = client.delete(f"/api/v1/beats/{beat}", headers=headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "illegal_status_transition"
    restored = client.patch(f"/api/v1/beats/{beat}", headers=headers, json={"status": "published"})
    assert restored.status_code == 200 and restored.json["status"] == "published"
    assert [b["id"] for b in client.get("/api/v1/beats").json["items"]] == [beat]


def test_a_beat_never_rendered_cannot_be_published_by_archiving_it(client, owner, make_beat, headers_for):
    beat = make_beat(owner, publish=False)  # still processing: no preview
    headers = headers_for(owner)
    assert client.delete(f"/api/v1/beats/{beat}", headers=headers).status_code == 200
    refused = client.patch(f"/api/v1/beats/{beat}", headers=headers, json={"status": "published"})
    assert refused.status_code == 422 and "status" in refused.json["error"]["details"]
    assert client.get("/api/v1/beats").json["items"] == []


def test_alternate_versions_point_at_an_original_of_the_same_owner(client, owner, make_user, make_beat,
                                                                   headers_for):
    original = make_beat(owner, title="Original")
    version = make_beat(owner, title="Version", version_of=original)
    assert client.get(f"/api/v1/beats/{version}").json["version_of"] == original
    headers = headers_for(owner)
    # A version of a version, a beat with versions becoming one, another owner's beat: refused.
    third = make_beat(owner)
    assert client.patch(f"/api/v1/beats/{third}", headers=headers, json={"version_of": version}).status_code == 422
    assert client.patch(f"/api/v1/beats/{original}", headers=headers,
                        json={"version_of": third}).status_code == 422
    foreign = make_beat(make_user(Role.BEATMAKER))
    assert client.patch(f"/api/v1/beats/{third}", headers=headers, json={"version_of": foreign}).status_code == 422
    assert client.patch(f"/api/v1/beats/{third}", headers=headers, json={"version_of": third}).status_code == 422


def test_suspended_beatmakers_beats_are_hidden(app, client, owner, make_beat):
    beat = make_beat(owner)
    with app.app_context():
        accounts.set_status(accounts.get_user(owner), UserStatus.SUSPENDED)
        db.session.commit()
    assert client.get("/api/v1/beats").json["items"] == []
    assert client.get(f"/api/v1/beats/{beat}").status_code == 404


def test_only_beatmakers_create_beats(app, make_user):
    artist = make_user(Role.ARTIST)
    with app.app_context():
        from marketplace.common.errors import PermissionDenied

        with pytest.raises(PermissionDenied):
            catalog.create_beat(accounts.get_user(artist), title="Nope", bpm=100)


def test_plays_are_counted_in_the_database(app, owner, make_beat):
    beat = make_beat(owner)
    with app.app_context():
        for _ in range(3):
            catalog.record_play(beat)
        db.session.commit()
        assert catalog.get_beat(beat).play_count == 3


def test_listing_and_beat_answers_agree_with_the_documented_schema(app, client, owner, make_user, make_beat,
                                                                   headers_for):
    import marshmallow as ma

    from marketplace.catalog.schemas import BeatSchema, CreditSchema, MoneySchema

    beat = make_beat(owner, key="Am", genre="trap", mood="dark", tags=["x", "y"], price=1999,
                     description="Warm")
    partner = make_user(Role.BEATMAKER, "Partner")
    credit_with_consent(app, client, headers_for, headers_for(owner), beat, [
        {"name": "Metro", "user_id": owner, "role": "producer", "profit_share_bps": 7000,
         "publishing_share_bps": 5000, "master_points_bps": 200},
        {"name": "Partner", "user_id": partner, "role": "co_producer", "profit_share_bps": 3000}])
    single = client.get(f"/api/v1/beats/{beat}").json
    listed = client.get("/api/v1/beats").json["items"][0]
    assert single == listed  # the listing's row path and the ORM path build the same document
    assert set(single) == set(BeatSchema().fields)
    assert set(single["credits"][0]) == set(CreditSchema().fields)
    assert set(single["price_from"]) == set(MoneySchema().fields)
    loadable = {**single, "credits": [{k: v for k, v in c.items() if k not in ("role_label", "handle", "status",
                                                                               "paid_to")}
                                      for c in single["credits"]]}
    assert BeatSchema(unknown=ma.EXCLUDE).validate(loadable) == {}
