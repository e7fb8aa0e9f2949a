"""The production path: jobs sent through a real Redis to a real Celery worker process."""

from __future__ import annotations

import io
import os
import secrets
import time

import pytest

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.db import db
from marketplace.migrate import upgrade
from tests.conftest import start_celery_worker, DEFAULT_PASSWORD, bearer, login, make_test_app, stop_process
from tests.media import make_beat


@pytest.fixture
def celery_setup(database_factory, redis_url, tmp_path):
    """An app that sends jobs to Celery, and a worker process sharing its database and files."""
    settings = {"DATABASE_URL": database_factory(), "REDIS_URL": redis_url, "JOBS_BACKEND": "celery",
                "JOBS_QUEUE": f"test-{secrets.token_hex(4)}", "STORAGE_LOCAL_ROOT": str(tmp_path / "storage")}
    app = make_test_app(settings.pop("DATABASE_URL"), **settings)
    settings["DATABASE_URL"] = app.config["DATABASE_URL"]
    with app.app_context():
        upgrade(db.engine)
        accounts.create_user("maker@example.com", DEFAULT_PASSWORD, "Maker", Role.BEATMAKER, verified=True)
        db.session.commit()
    env = {**os.environ, "APP_ENV": "development", "SECRET_KEY": app.config["SECRET_KEY"],
           **{key: str(value) for key, value in settings.items()}}
    log_path = tmp_path / "worker.log"
    worker = start_celery_worker(env, log_path)
    try:
        yield app, worker, log_path
    finally:
        stop_process(worker, 20)


def wait_for_status(client, beat_id, headers, wanted, seconds=90):
    deadline = time.monotonic() + seconds
    status = None
    while time.monotonic() < deadline:
        status = client.get(f"/api/v1/beats/{beat_id}", headers=headers).json["status"]
        if status in wanted:
            return status
        time.sleep(0.5)
    return status


def test_an_upload_is_processed_by_a_celery_worker(celery_setup, tmp_path):
    app, worker, log_path = celery_setup
    client = app.test_client()
    headers = bearer(login(client, "maker@example.com").json["access_token"])
    master = make_beat(tmp_path / "beat.wav")
    response = client.post("/api/v1/beats", headers=headers, content_type="multipart/form-data",
                           data={"title": "Queued", "bpm": "120", "file": (io.BytesIO(master.read_bytes()), "b.wav")})
    assert response.status_code == 202
    beat_id = response.json["id"]
    # Nothing ran in the web process: the beat waits for the worker.
    assert client.get(f"/api/v1/beats/{beat_id}", headers=headers).json["preview_url"] is None
    status = wait_for_status(client, beat_id, headers, {"published", "failed"})
    assert status == "published", log_path.read_text()[-3000:]
    assert worker.poll() is None
    assert "catalog.render_preview" in log_path.read_text()
    preview = client.get(client.get(f"/api/v1/beats/{beat_id}").json["preview_url"])
    assert preview.status_code == 200 and preview.data[:3] == b"ID3"
