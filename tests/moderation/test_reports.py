"""Reporting beats: who may, how often, and what the beatmaker sees of it."""

from __future__ import annotations

import datetime as dt

import pytest

from marketplace.accounts.models import Role
from marketplace.db import db
from marketplace.moderation.models import Report


def test_a_signed_in_user_reports_a_beat(client, owner, artist, make_beat, report):
    beat = make_beat(owner[0])
    response = report(beat, artist[1], "uncleared_sample", "The hook samples a 1974 soul record.")
    assert response.status_code == 201, response.json
    body = response.json
    assert body["beat_id"] == beat and body["reason"] == "uncleared_sample" and body["status"] == "open"
    assert body["details"] == "The hook samples a 1974 soul record."
    assert "reporter" not in body and artist[0] not in str(body)


def test_reporting_needs_a_signed_in_user_and_a_visible_beat(client, owner, artist, make_beat, report):
    public = make_beat(owner[0])
    hidden = make_beat(owner[0], publish=False)
    assert client.post(f"/api/v1/beats/{public}/reports", json={"reason": "spam"}).status_code == 401
    assert report(hidden, artist[1]).status_code == 404
    assert report("bt_nothing", artist[1]).json["error"]["code"] == "beat_not_found"
    own = report(public, owner[1])
    assert own.status_code == 403 and own.json["error"]["code"] == "own_beat"


def test_one_open_report_per_user_and_beat(client, owner, artist, make_user, headers_for, make_beat, report,
                                           admin_headers):
    beat = make_beat(owner[0])
    first = report(beat, artist[1])
    assert first.status_code == 201
    again = report(beat, artist[1], "spam")
    assert again.status_code == 409 and again.json["error"]["code"] == "report_already_open"
    # Someone else may report the same beat, and the same user another beat.
    assert report(beat, headers_for(make_user(Role.ARTIST))).status_code == 201
    assert report(make_beat(owner[0]), artist[1]).status_code == 201
    # Once the report is answered, a new one may be filed.
    resolved = client.post(f"/api/v1/admin/reports/{first.json['id']}/resolve",
                           json={"action": "dismiss", "note": "Not a copy."}, headers=admin_headers)
    assert resolved.status_code == 200
    assert report(beat, artist[1]).status_code == 201


@pytest.mark.parametrize("body, field", [
    ({"reason": "piracy"}, "reason"),
    ({}, "reason"),
    ({"reason": "other"}, "details"),
    ({"reason": "other", "details": "   "}, "details"),
    ({"reason": "spam", "details": "x" * 2001}, "details"),
    ({"reason": "spam", "details": "bell \x07"}, "details"),
    ({"reason": "spam", "extra": 1}, "extra"),
])
def test_bad_reports_are_422_per_field(client, owner, artist, make_beat, body, field):
    beat = make_beat(owner[0])
    response = client.post(f"/api/v1/beats/{beat}/reports", json=body, headers=artist[1])
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["details"]


def test_reports_are_rate_limited_per_user(app, client, owner, artist, make_beat, report, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_LIMIT_PER_USER", "2 per hour")
    beats = [make_beat(owner[0]) for _ in range(3)]
    assert [report(beat, artist[1]).status_code for beat in beats[:2]] == [201, 201]
    limited = report(beats[2], artist[1])
    assert limited.status_code == 429 and limited.json["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0


def test_the_beatmaker_sees_reports_against_their_beats_but_not_who_filed_them(
        client, owner, artist, make_user, headers_for, make_beat, report):
    beat, other_beat = make_beat(owner[0]), make_beat(owner[0])
    report(beat, artist[1], "stolen_beat", "I made this in 2019.")
    report(other_beat, artist[1], "offensive", "The title.")
    on_beat = client.get(f"/api/v1/beats/{beat}/reports", headers=owner[1])
    assert on_beat.status_code == 200
    assert [(r["reason"], r["details"]) for r in on_beat.json] == [("stolen_beat", "I made this in 2019.")]
    mine = client.get("/api/v1/me/reports", headers=owner[1]).json
    assert {r["beat_id"] for r in mine} == {beat, other_beat}
    assert all(set(r) == {"id", "beat_id", "beat_title", "reason", "details", "status", "created_at",
                          "resolved_at", "resolution_note"} for r in mine)
    assert artist[0] not in str(mine)
    # Other users do not see them.
    stranger = headers_for(make_user(Role.BEATMAKER))
    assert client.get(f"/api/v1/beats/{beat}/reports", headers=stranger).status_code == 403
    assert client.get("/api/v1/me/reports", headers=stranger).json == []
    assert client.get("/api/v1/me/reports", headers=artist[1]).status_code == 403


def test_admin_queue_filters_by_status_reason_beatmaker_and_age(app, client, owner, make_user, headers_for,
                                                                make_beat, report, admin_headers):
    other_owner = make_user(Role.BEATMAKER)
    reporters = [headers_for(make_user(Role.ARTIST)) for _ in range(3)]
    beat, uncleared, elsewhere = (make_beat(owner[0]), make_beat(owner[0], samples="uncleared"),
                                  make_beat(other_owner))
    old = report(beat, reporters[0], "copyright").json["id"]
    spam = report(uncleared, reporters[1], "spam", "").json["id"]
    fraud = report(elsewhere, reporters[2], "fraud", "Fake credits.").json["id"]
    with app.app_context():
        db.session.get(Report, old).created_at -= dt.timedelta(hours=50)
        db.session.commit()
    client.post(f"/api/v1/admin/reports/{fraud}/resolve", json={"action": "dismiss", "note": "Fine."},
                headers=admin_headers)

    def queue(query=""):
        response = client.get(f"/api/v1/admin/reports{query}", headers=admin_headers)
        assert response.status_code == 200, response.json
        return [item["id"] for item in response.json["items"]]

    assert queue() == [old, spam, fraud]  # oldest first
    assert queue("?status=open") == [old, spam]
    assert queue("?status=dismissed") == [fraud]
    assert queue("?reason=spam") == [spam]
    assert queue(f"?beatmaker={owner[0]}") == [old, spam]
    assert queue(f"?beat_id={elsewhere}") == [fraud]
    assert queue("?samples=uncleared") == [spam]
    assert queue("?min_age_hours=48") == [old]
    assert queue("?max_age_hours=1") == [spam, fraud]
    item = client.get("/api/v1/admin/reports?reason=copyright", headers=admin_headers).json["items"][0]
    assert item["reporter"]["id"] and item["beat"]["beatmaker"]["id"] == owner[0]
    assert client.get(f"/api/v1/admin/reports/{old}", headers=admin_headers).json["id"] == old


def test_admin_queue_pages_with_a_cursor(client, owner, make_user, headers_for, make_beat, report,
                                         admin_headers):
    beat = make_beat(owner[0])
    filed = [report(beat, headers_for(make_user(Role.ARTIST))).json["id"] for _ in range(5)]
    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/api/v1/admin/reports{query}", headers=admin_headers).json
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == filed


@pytest.mark.parametrize("query", ["?status=closed", "?reason=piracy", "?min_age_hours=-1", "?limit=0",
                                   "?min_age_hours=5&max_age_hours=1", "?colour=red", "?cursor=" + "x" * 65])
def test_bad_queue_filters_are_422(client, admin_headers, query):
    response = client.get(f"/api/v1/admin/reports{query}", headers=admin_headers)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_failed"


def test_resolving_needs_an_open_report_a_known_action_and_a_note(client, owner, artist, make_beat, report,
                                                                  admin_headers):
    report_id = report(make_beat(owner[0]), artist[1]).json["id"]
    url = f"/api/v1/admin/reports/{report_id}/resolve"
    assert client.post(url, json={"action": "ban", "note": "x"}, headers=admin_headers).status_code == 422
    assert client.post(url, json={"action": "dismiss"}, headers=admin_headers).status_code == 422
    assert client.post(url, json={"action": "dismiss", "note": " "}, headers=admin_headers).status_code == 422
    assert client.post(url, json={"action": "dismiss", "note": "ok"}, headers=admin_headers).status_code == 200
    again = client.post(url, json={"action": "takedown", "note": "ok"}, headers=admin_headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "report_resolved"
    missing = client.post("/api/v1/admin/reports/rpt_nope/resolve", json={"action": "dismiss", "note": "x"},
                          headers=admin_headers)
    assert missing.status_code == 404 and missing.json["error"]["code"] == "report_not_found"
