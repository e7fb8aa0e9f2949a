"""Pre-moderation: with PREMODERATION_MIN_APPROVED_BEATS set, uploads of beatmakers with fewer
approved beats wait in a review queue instead of being published."""

from __future__ import annotations

import pytest

from marketplace.catalog import services as catalog
from marketplace.db import db
from tests.moderation.conftest import listed, mails_to


@pytest.fixture
def premoderation(app, monkeypatch):
    monkeypatch.setitem(app.config, "PREMODERATION_MIN_APPROVED_BEATS", 1)


@pytest.fixture
def processed(app, make_beat):
    """A beat of the owner that has just been processed (the preview job's last step)."""

    def make(owner_id, **fields):
        beat_id = make_beat(owner_id, publish=False, **fields)
        with app.app_context():
            catalog.publish_processed(catalog.get_beat(beat_id))
            db.session.commit()
        return beat_id

    return make


def queue(client, admin_headers, state="pending"):
    response = client.get(f"/api/v1/admin/review-queue?state={state}", headers=admin_headers)
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def test_an_upload_of_a_new_beatmaker_waits_for_review(app, premoderation, client, owner, upload_beat,
                                                       offer_all, admin_headers, audit_entries, outbox):
    beat = upload_beat(owner[1])  # processed at once in tests: this is the preview job's decision
    seen = client.get(f"/api/v1/beats/{beat}", headers=owner[1]).json
    assert seen["status"] == "taken_down" and seen["published_at"] is None
    offer_all(owner[1], beat)  # priced while it waits: still out of the store
    assert beat not in listed(client) and client.get(f"/api/v1/beats/{beat}").status_code == 404
    assert queue(client, admin_headers) == [beat]
    held = client.get("/api/v1/me/moderation", headers=owner[1]).json["held_beats"]
    assert [(b["beat_id"], b["cause"], b["review"]) for b in held] == [(beat, "review", "pending")]
    [entry] = audit_entries(action="beat.review_queued")
    assert entry["actor_kind"] == "system" and entry["target_id"] == beat
    with app.app_context():
        email = catalog.get_beat(beat).owner.email
    assert mails_to(outbox, email, "is waiting for review")

    approved = client.post(f"/api/v1/admin/beats/{beat}/approve", json={}, headers=admin_headers)
    assert approved.status_code == 200 and approved.json["status"] == "published"
    assert approved.json["published_at"] is not None
    assert beat in listed(client) and queue(client, admin_headers) == []
    # A beatmaker with an approved beat publishes straight away.
    assert client.get(f"/api/v1/beats/{upload_beat(owner[1], title='Second')}").json["status"] == "published"


def test_rejecting_keeps_the_beat_out_and_tells_the_owner(app, premoderation, client, owner, processed,
                                                          admin_headers, audit_entries, outbox):
    beat = processed(owner[0])
    url = f"/api/v1/admin/beats/{beat}"
    assert client.post(f"{url}/reject", json={}, headers=admin_headers).status_code == 422  # needs a reason
    rejected = client.post(f"{url}/reject", json={"reason": "Low quality rip."}, headers=admin_headers)
    assert rejected.status_code == 200 and rejected.json["status"] == "taken_down"
    assert rejected.json["held_by"][0]["review"] == "rejected"
    assert rejected.json["held_by"][0]["note"] == "Low quality rip."
    assert client.post(f"{url}/reject", json={"reason": "x"}, headers=admin_headers).status_code == 409
    assert queue(client, admin_headers) == [] and queue(client, admin_headers, "rejected") == [beat]
    assert beat not in listed(client)
    with app.app_context():
        email = catalog.get_beat(beat).owner.email
    assert mails_to(outbox, email, "was not approved")
    # Admins may change their mind.
    assert client.post(f"{url}/approve", json={"reason": "On appeal."}, headers=admin_headers).json["status"] == \
        "published"
    assert [e["action"] for e in audit_entries(target_id=beat)] == ["beat.review_queued", "beat.reject",
                                                                    "beat.approve"]


def test_approving_needs_a_beat_under_review(client, owner, make_beat, admin_headers):
    beat = make_beat(owner[0])
    refused = client.post(f"/api/v1/admin/beats/{beat}/approve", json={}, headers=admin_headers)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "not_under_review"
    assert client.post(f"/api/v1/admin/beats/{beat}/reject", json={"reason": "x"},
                       headers=admin_headers).status_code == 409


def test_without_pre_moderation_beats_publish_directly(client, owner, processed, admin_headers):
    beat = processed(owner[0])
    assert beat in listed(client) and queue(client, admin_headers) == []


def test_a_restore_does_not_skip_the_review(premoderation, client, owner, processed, admin_headers):
    beat = processed(owner[0])
    client.post(f"/api/v1/admin/beats/{beat}/takedown", json={"reason": "Reported."}, headers=admin_headers)
    restored = client.post(f"/api/v1/admin/beats/{beat}/restore", json={}, headers=admin_headers)
    assert restored.json["status"] == "taken_down"
    assert [h["cause"] for h in restored.json["held_by"]] == ["review"]
    assert client.post(f"/api/v1/admin/beats/{beat}/approve", json={}, headers=admin_headers).json["status"] == \
        "published"


def test_admins_list_beats_by_status_samples_and_hold(premoderation, client, owner, make_beat, processed,
                                                      admin_headers):
    waiting = processed(owner[0])  # the first beat waits; the two published later count as approved
    uncleared = make_beat(owner[0], samples="uncleared")
    make_beat(owner[0], samples="cleared")

    def ids(query):
        response = client.get(f"/api/v1/admin/beats{query}", headers=admin_headers)
        assert response.status_code == 200, response.json
        return [item["id"] for item in response.json["items"]]

    assert ids("?samples=uncleared") == [uncleared]
    assert ids("?held=review") == [waiting]
    assert ids("?status=taken_down") == [waiting]
    assert len(ids(f"?beatmaker={owner[0]}")) == 3
    assert client.get("/api/v1/admin/beats?samples=maybe", headers=admin_headers).status_code == 422
