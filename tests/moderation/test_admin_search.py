"""Finding accounts and beats: admins search accounts by part of an email or display name,
filter them by status and role, and page through the answers newest first; beats by part of
their title."""

from __future__ import annotations

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.db import db
from tests.conftest import DEFAULT_PASSWORD

USERS = "/api/v1/admin/users"


def create(app, email, name, role=Role.ARTIST):
    with app.app_context():
        user = accounts.create_user(email, DEFAULT_PASSWORD, name, role, verified=True)
        db.session.commit()
        return user.id


def ids_of(response):
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def test_q_matches_part_of_the_email_or_the_name_in_any_case(app, client, admin_headers):
    by_email = create(app, "lena.hart@studio.example.com", "Lena")
    by_name = create(app, "someone@example.com", "Big HARTley Beats", Role.BEATMAKER)
    create(app, "unrelated@example.com", "Unrelated")

    found = client.get(USERS, query_string={"q": "Hart"}, headers=admin_headers)
    # Newest first: ids are time-ordered (users made in one millisecond keep their ids' order).
    assert ids_of(found) == sorted([by_name, by_email], reverse=True)
    item = next(item for item in found.json["items"] if item["id"] == by_name)
    assert item["email"] == "someone@example.com" and item["display_name"] == "Big HARTley Beats"
    assert item["roles"] == ["beatmaker"] and item["status"] == "active" and item["created_at"]
    assert ids_of(client.get(USERS, query_string={"q": "STUDIO.example"}, headers=admin_headers)) == [by_email]


def test_wildcards_typed_in_q_match_themselves(app, client, admin_headers):
    create(app, "plain@example.com", "Plain")
    percent = create(app, "odd@example.com", "100% Beats")
    assert ids_of(client.get(USERS, query_string={"q": "%"}, headers=admin_headers)) == [percent]
    assert ids_of(client.get(USERS, query_string={"q": "_"}, headers=admin_headers)) == []


def test_filters_by_status_and_role(app, client, admin_headers, owner, admin):
    beatmaker_id = owner[0]
    suspended = client.post(f"{USERS}/{beatmaker_id}/suspend", json={"reason": "Stolen beats."}, headers=admin_headers)
    assert suspended.status_code == 200, suspended.json

    assert ids_of(client.get(USERS, query_string={"status": "suspended"}, headers=admin_headers)) == [beatmaker_id]
    admins = ids_of(client.get(USERS, query_string={"role": "admin"}, headers=admin_headers))
    assert admins == [admin[0]]
    active_beatmakers = ids_of(client.get(USERS, query_string={"role": "beatmaker", "status": "active"},
                                          headers=admin_headers))
    assert beatmaker_id not in active_beatmakers


def test_pages_follow_the_cursor_without_repeats(app, client, admin_headers):
    made = [create(app, f"pager{index}@example.com", f"Pager {index}") for index in range(5)]
    first = client.get(USERS, query_string={"q": "pager", "limit": 2}, headers=admin_headers)
    seen = ids_of(first)
    cursor = first.json["next_cursor"]
    while cursor:
        page = client.get(USERS, query_string={"q": "pager", "limit": 2, "cursor": cursor}, headers=admin_headers)
        seen += ids_of(page)
        cursor = page.json["next_cursor"]
    assert seen == sorted(made, reverse=True)


def test_bad_filters_are_a_422_with_the_field_named(client, admin_headers):
    for query in ({"status": "banned"}, {"role": "owner"}, {"limit": 0}, {"q": ""}, {"q": "a\x01b"},
                  {"unknown": "1"}):
        response = client.get(USERS, query_string=query, headers=admin_headers)
        assert response.status_code == 422, (query, response.json)
        assert response.json["error"]["code"] == "validation_failed"
        assert list(response.json["error"]["details"]) == list(query), response.json


def test_only_admins_may_search(client, artist):
    assert client.get(USERS, headers=artist[1]).status_code == 403
    assert client.get(USERS).status_code == 401


def test_admins_find_beats_by_part_of_the_title_in_any_status(client, admin_headers, owner, make_beat):
    night = make_beat(owner[0], title="Night Drive")
    unpublished = make_beat(owner[0], publish=False, title="MIDNIGHT Sketch")
    make_beat(owner[0], title="Morning Sun")
    found = client.get("/api/v1/admin/beats", query_string={"q": "night"}, headers=admin_headers)
    assert ids_of(found) == sorted([unpublished, night], reverse=True)
    statuses = {beat["id"]: beat["status"] for beat in found.json["items"]}
    assert statuses == {unpublished: "processing", night: "published"}
    blank = client.get("/api/v1/admin/beats", query_string={"q": ""}, headers=admin_headers)
    assert blank.status_code == 422 and list(blank.json["error"]["details"]) == ["q"]
