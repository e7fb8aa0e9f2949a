"""The whole upload flow with STORAGE_BACKEND=s3, against a real S3-compatible server:
masters land in the bucket, previews and waveforms are reached through presigned URLs,
and a refused upload leaves nothing behind."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.catalog.models import Beat
from marketplace.db import db
from marketplace.migrate import upgrade
from marketplace.storage.service import make_link_token, save_in_transaction
from tests.conftest import DEFAULT_PASSWORD, bearer, login, make_test_app
from tests.media import ffmpeg, make_beat
from tests.storage.conftest import (
    ACCESS_KEY,
    SECRET_KEY,
    bucket_keys,
    make_s3_storage,
    new_bucket_name,
    s3_client,
)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("s3-media")
    ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=64x64:d=1", "-frames:v", "1", str(folder / "photo.jpg"))
    return {"wav": make_beat(folder / "beat.wav", seconds=20),
            "jpeg_as_mp3": (folder / "photo.jpg").rename(folder / "photo.mp3")}


@pytest.fixture
def s3_app(database_factory, s3_endpoint):
    """An app of its own storing in a fresh bucket, with one beatmaker, solo@example.com."""
    bucket = new_bucket_name()
    make_s3_storage(s3_endpoint, bucket)  # the bucket must exist before the app uses it
    app = make_test_app(database_factory(), STORAGE_BACKEND="s3", STORAGE_S3_BUCKET=bucket,
                        STORAGE_S3_ENDPOINT_URL=s3_endpoint, STORAGE_S3_ACCESS_KEY=ACCESS_KEY,
                        STORAGE_S3_SECRET_KEY=SECRET_KEY)
    with app.app_context():
        upgrade(db.engine)
        accounts.create_user("solo@example.com", DEFAULT_PASSWORD, "Solo", Role.BEATMAKER, verified=True)
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(s3_app):
    return s3_app.test_client()


@pytest.fixture
def headers(client):
    return bearer(login(client, "solo@example.com").json["access_token"])


@pytest.fixture
def bucket(s3_app, s3_endpoint):
    """The keys now in the app's bucket."""
    return lambda: bucket_keys(s3_endpoint, s3_app.config["STORAGE_S3_BUCKET"])


def upload(client, headers, master: Path, *, stems: bytes | None = None):
    data = {"title": "Night Drive", "bpm": "140", "file": (io.BytesIO(master.read_bytes()), master.name)}
    if stems is not None:
        data["stems"] = (io.BytesIO(stems), "stems.zip")
    return client.post("/api/v1/beats", data=data, headers=headers, content_type="multipart/form-data")


def stems_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def count_beats(app) -> int:
    with app.app_context():
        return db.session.query(Beat).count()


def follow_redirect_to_bucket(client, url: str, s3_endpoint: str) -> requests.Response:
    redirect = client.get(url)
    assert redirect.status_code == 302, redirect.data[:300]
    location = redirect.headers["Location"]
    assert location.startswith(f"{s3_endpoint}/") and "X-Amz-Signature=" in location
    fetched = requests.get(location, timeout=10)
    assert fetched.status_code == 200, fetched.text[:300]
    return fetched


def test_an_upload_is_stored_in_the_bucket_and_published(s3_app, client, headers, bucket, media,
                                                         s3_endpoint):
    response = upload(client, headers, media["wav"])
    assert response.status_code == 202, response.json
    beat = client.get(f"/api/v1/beats/{response.json['id']}").json  # the job has run (eager in tests)
    assert beat["status"] == "published", beat
    with s3_app.app_context():
        record = db.session.get(Beat, beat["id"])
        master_key, master_sha256 = record.master_key, record.master_sha256
    master = s3_client(s3_endpoint).get_object(Bucket=s3_app.config["STORAGE_S3_BUCKET"], Key=master_key)
    assert master["Body"].read() == media["wav"].read_bytes()
    assert master_sha256 == hashlib.sha256(media["wav"].read_bytes()).hexdigest()
    keys = bucket()
    # The master, the preview and the waveform; the render's temporary objects are gone.
    assert master_key in keys and len(keys) == 3, keys
    assert not any(key.startswith("tmp/") for key in keys), keys


def test_preview_and_waveform_redirect_to_presigned_urls(s3_app, client, headers, media, s3_endpoint):
    beat_id = upload(client, headers, media["wav"]).json["id"]
    beat = client.get(f"/api/v1/beats/{beat_id}").json
    preview = follow_redirect_to_bucket(client, beat["preview_url"], s3_endpoint)
    assert preview.content.startswith(b"ID3") and len(preview.content) > 100_000  # 20 s of MP3
    assert preview.headers["Content-Type"] == "audio/mpeg"
    waveform = follow_redirect_to_bucket(client, beat["waveform_url"], s3_endpoint)
    assert waveform.headers["Content-Type"] == "application/json"
    assert waveform.json()["version"] == 2 and len(waveform.json()["data"]) > 0
    assert client.get(f"/api/v1/beats/{beat_id}").json["play_count"] == 1  # the redirect counts a play


@pytest.mark.parametrize("master, stems, status, code", [
    ("jpeg_as_mp3", None, 415, "not_audio"),
    ("wav", {"../evil.wav": b"RIFF0000WAVE"}, 422, "stems_unsafe_path"),
], ids=["jpeg_renamed_mp3", "stems_with_dot_dot"])
def test_a_refused_upload_leaves_the_bucket_empty(s3_app, client, headers, bucket, media, master, stems,
                                                  status, code):
    response = upload(client, headers, media[master], stems=stems_zip(stems) if stems else None)
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    assert bucket() == set()
    assert count_beats(s3_app) == 0


def test_files_saved_in_a_rolled_back_transaction_are_deleted_from_the_bucket(s3_app, bucket):
    with s3_app.app_context():
        db.session.execute(text("SELECT 1"))  # a transaction is open, as in every request that saves
        save_in_transaction("masters/bt_rolled/master.wav", io.BytesIO(b"refused"))
        assert bucket() == {"masters/bt_rolled/master.wav"}
        db.session.rollback()
        assert bucket() == set()
        db.session.execute(text("SELECT 1"))
        save_in_transaction("masters/bt_kept/master.wav", io.BytesIO(b"accepted"))
        db.session.commit()
        db.session.rollback()  # a later rollback does not touch files already committed
    assert bucket() == {"masters/bt_kept/master.wav"}


def test_a_failure_while_storing_the_stems_removes_the_master_already_stored(s3_app, client, headers,
                                                                            bucket, media, monkeypatch):
    storage = s3_app.extensions["storage"]
    real_save = storage.save

    def save(key, stream, content_type=None):
        if key.startswith("stems/"):
            raise ConnectionError("the bucket went away")
        return real_save(key, stream, content_type)

    monkeypatch.setattr(storage, "save", save)
    stems = stems_zip({"drums.wav": media["wav"].read_bytes()})
    response = upload(client, headers, media["wav"], stems=stems)
    assert response.status_code == 500 and response.json["error"]["code"] == "internal_error"
    assert count_beats(s3_app) == 0
    assert bucket() == set()


def test_local_file_links_are_refused_when_files_are_in_s3(s3_app, client):
    s3_app.extensions["storage"].save("previews/bt_1.mp3", io.BytesIO(b"ID3 preview"))
    token = make_link_token(s3_app.config["SECRET_KEY"], "previews/bt_1.mp3", 60, None, None)
    response = client.get(f"/files/{token}")
    assert response.status_code == 404 and response.json["error"]["code"] == "file_not_found"


def test_a_guarded_link_to_a_file_in_s3_redirects_while_its_guard_allows_it(s3_app, client):
    from marketplace.common.errors import Conflict
    from marketplace.storage.service import guarded_link, register_link_guard

    allowed = {"yes"}

    def guard(subject_id):
        if subject_id not in allowed:
            raise Conflict("Not any more.", code="not_any_more")

    register_link_guard("test-s3-subject", guard)
    s3_app.extensions["storage"].save("masters/bt_1/master.wav", io.BytesIO(b"RIFF master"))
    with s3_app.test_request_context():
        url = guarded_link("masters/bt_1/master.wav", 60, ("test-s3-subject", "yes"), download_name="m.wav")
    assert url.startswith("/files/")
    answered = client.get(url)
    assert answered.status_code == 302 and "X-Amz-Signature" in answered.headers["Location"]
    allowed.clear()
    refused = client.get(url)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "not_any_more"
