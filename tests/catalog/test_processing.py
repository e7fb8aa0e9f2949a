"""Voice tags, re-rendering, failures, the sweep and `flask audio reprocess`."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from marketplace.accounts.models import Role
from marketplace.catalog import tasks
from marketplace.catalog.models import Beat
from marketplace.db import db
from marketplace.storage.service import storage
from tests.catalog.test_uploads import upload
from tests.media import make_beat, make_tag, tag_positions


@pytest.fixture(scope="module")
def audio(tmp_path_factory):
    folder = tmp_path_factory.mktemp("audio")
    return {"beat": make_beat(folder / "beat.wav"), "tag": make_tag(folder / "tag.wav"),
            "long_tag": make_beat(folder / "long-tag.wav", seconds=12),
            "six_second_tag": make_tag(folder / "six.wav", seconds=6)}


@pytest.fixture
def maker(make_user, headers_for):
    user = make_user(Role.BEATMAKER, "Metro")
    return user, headers_for(user)


def put_tag(client, headers, path):
    return client.put("/api/v1/me/voice-tag", headers=headers, content_type="multipart/form-data",
                      data={"file": (io.BytesIO(path.read_bytes()), path.name)})


def test_defaults_until_a_tag_is_set(client, maker):
    _user, headers = maker
    body = client.get("/api/v1/me/voice-tag", headers=headers).json
    assert body == {"custom": False, "duration_ms": None, "interval_seconds": 30.0, "gain_db": 0.0,
                    "first_at_seconds": 0.0}


def test_bad_tags_and_placements_are_refused(client, maker, audio):
    _user, headers = maker
    too_long = put_tag(client, headers, audio["long_tag"])
    assert too_long.status_code == 422 and too_long.json["error"]["code"] == "audio_too_long"
    assert put_tag(client, headers, audio["tag"]).status_code == 200
    for changes in ({"interval_seconds": 4}, {"interval_seconds": 121}, {"gain_db": 11}, {"gain_db": -31},
                    {"first_at_seconds": -1}, {"first_at_seconds": 61}, {"interval_seconds": "often"},
                    {"offset": 3}):
        assert client.patch("/api/v1/me/voice-tag", headers=headers, json=changes).status_code == 422, changes
    client.patch("/api/v1/me/voice-tag", headers=headers, json={"interval_seconds": 5})
    # A 6 s tag cannot repeat every 5 s.
    refused = put_tag(client, headers, audio["six_second_tag"])
    assert refused.status_code == 422 and "interval_seconds" in refused.json["error"]["details"]
    assert client.get("/api/v1/me/voice-tag", headers=headers).json["duration_ms"] < 2000


def test_artists_have_no_voice_tag(client, make_user, headers_for, audio):
    artist = headers_for(make_user(Role.ARTIST))
    assert client.get("/api/v1/me/voice-tag", headers=artist).status_code == 403
    assert put_tag(client, artist, audio["tag"]).status_code == 403


def test_changing_the_tag_renders_every_preview_again(client, maker, audio, tmp_path):
    _user, headers = maker
    put_tag(client, headers, audio["tag"])
    client.patch("/api/v1/me/voice-tag", headers=headers, json={"interval_seconds": 10, "first_at_seconds": 1})
    beat_ids = [upload(client, headers, audio["beat"]).json["id"] for _ in range(2)]
    before = [client.get(f"/api/v1/beats/{beat_id}").json for beat_id in beat_ids]
    moved = client.patch("/api/v1/me/voice-tag", headers=headers, json={"first_at_seconds": 4})
    assert moved.status_code == 200
    for old in before:
        new = client.get(f"/api/v1/beats/{old['id']}").json
        assert new["preview_url"] != old["preview_url"]  # a new version, so caches refetch
        path = tmp_path / f"{old['id']}.mp3"
        path.write_bytes(client.get(new["preview_url"]).data)
        assert [round(p, 1) for p in tag_positions(path, audio["tag"])] == [4.0, 14.0]
    removed = client.delete("/api/v1/me/voice-tag", headers=headers)
    assert removed.status_code == 200 and removed.json["custom"] is False
    path = tmp_path / "default.mp3"
    path.write_bytes(client.get(client.get(f"/api/v1/beats/{beat_ids[0]}").json["preview_url"]).data)
    assert tag_positions(path, audio["tag"]) == []


def test_a_missing_master_fails_the_beat_with_a_reason(app, client, maker, audio):
    _user, headers = maker
    beat_id = upload(client, headers, audio["beat"]).json["id"]
    with app.app_context():
        beat = db.session.get(Beat, beat_id)
        beat.status, beat.preview_key = "processing", None
        db.session.commit()
        storage().delete(beat.master_key)
        tasks.render_preview_job(beat_id)
        db.session.remove()
    body = client.get(f"/api/v1/beats/{beat_id}", headers=headers).json
    assert body["status"] == "failed"
    assert "upload" in body["failure_reason"]


def _stick_in_processing(app, beat_id, attempts):
    with app.app_context():
        beat = db.session.get(Beat, beat_id)
        beat.status, beat.processing_attempts = "processing", attempts
        db.session.commit()
        db.session.execute(Beat.__table__.update().where(Beat.id == beat_id).values(
            updated_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)))
        db.session.commit()


def test_the_sweep_rescues_beats_stuck_in_processing(app, client, maker, audio):
    _user, headers = maker
    rescued = upload(client, headers, audio["beat"]).json["id"]
    given_up = upload(client, headers, audio["beat"]).json["id"]
    _stick_in_processing(app, rescued, attempts=1)
    _stick_in_processing(app, given_up, attempts=3)
    result = app.test_cli_runner().invoke(args=["jobs", "sweep"])
    assert result.exit_code == 0 and "catalog.sweep_processing: 2 handled" in result.output
    assert client.get(f"/api/v1/beats/{rescued}").json["status"] == "published"
    failed = client.get(f"/api/v1/beats/{given_up}", headers=headers).json
    assert failed["status"] == "failed" and "several attempts" in failed["failure_reason"]


def test_fresh_processing_beats_are_left_alone_by_the_sweep(app, client, maker, audio):
    _user, headers = maker
    beat_id = upload(client, headers, audio["beat"]).json["id"]
    with app.app_context():
        beat = db.session.get(Beat, beat_id)
        beat.status = "processing"
        db.session.commit()
        assert tasks.sweep_processing() == 0


def test_reprocess_command_renders_again_with_progress(app, client, maker, audio):
    _user, headers = maker
    beat_ids = [upload(client, headers, audio["beat"]).json["id"] for _ in range(2)]
    versions = [client.get(f"/api/v1/beats/{b}").json["preview_url"] for b in beat_ids]
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audio", "reprocess", "--all"])
    assert result.exit_code == 0, result.output
    assert "Rendering previews" in result.output and "rendered 2 of 2 beats" in result.output
    assert [client.get(f"/api/v1/beats/{b}").json["preview_url"] for b in beat_ids] != versions
    one = runner.invoke(args=["audio", "reprocess", beat_ids[0]])
    assert one.exit_code == 0 and "rendered 1 of 1" in one.output
    assert runner.invoke(args=["audio", "reprocess", "bt_nothing"]).exit_code != 0
    assert runner.invoke(args=["audio", "reprocess"]).exit_code != 0
