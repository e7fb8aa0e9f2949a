"""GET /me/beats: a beatmaker's own beats in every status, for the studio."""

from __future__ import annotations

from marketplace.accounts.models import Role
from marketplace.catalog import services as catalog
from marketplace.db import db


def _set_status(app, beat_id: str, status: str, reason: str | None = None) -> None:
    with app.app_context():
        beat = catalog.get_beat(beat_id)
        beat.status = status
        beat.failure_reason = reason
        db.session.commit()


def test_lists_own_beats_in_every_status_newest_first(app, client, make_user, make_beat, headers_for):
    owner = make_user(Role.BEATMAKER, "Metro")
    published = make_beat(owner, title="Published", price=2999)
    processing = make_beat(owner, publish=False, title="Processing")
    failed = make_beat(owner, publish=False, title="Failed")
    _set_status(app, failed, "failed", "The file is not audio.")
    archived = make_beat(owner, title="Archived")
    _set_status(app, archived, "archived")

    body = client.get("/api/v1/me/beats", headers=headers_for(owner)).json

    assert [beat["id"] for beat in body] == [archived, failed, processing, published]
    assert [beat["status"] for beat in body] == ["archived", "failed", "processing", "published"]
    assert body[1]["failure_reason"] == "The file is not audio."
    assert body[3]["price_from"] == {"amount": 2999, "currency": "usd"}
    assert body[3]["credit_line"] == "Prod. by Metro"


def test_lists_no_one_elses_beats(client, make_user, make_beat, headers_for):
    owner, other = make_user(Role.BEATMAKER), make_user(Role.BEATMAKER)
    make_beat(other, publish=False)
    mine = make_beat(owner)
    assert [beat["id"] for beat in client.get("/api/v1/me/beats", headers=headers_for(owner)).json] == [mine]


def test_limit_keeps_the_newest(client, make_user, make_beat, headers_for):
    owner = make_user(Role.BEATMAKER)
    make_beat(owner)
    newest = make_beat(owner)
    body = client.get("/api/v1/me/beats", query_string={"limit": 1}, headers=headers_for(owner)).json
    assert [beat["id"] for beat in body] == [newest]
    assert client.get("/api/v1/me/beats", query_string={"limit": 0}, headers=headers_for(owner)).status_code == 422
