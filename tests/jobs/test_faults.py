"""Faults produced for real on the production path (Celery workers fed through Redis): Redis
gone when an upload is accepted, and a worker killed in the middle of a render.

Each test runs a private redis-server on a free port, so it can be stopped and started
again, and real worker processes, killed with SIGKILL like a crashed machine would."""

from __future__ import annotations

import email
import email.policy
import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from config import PROJECT_ROOT
from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.catalog.models import Beat
from marketplace.db import db
from marketplace.jobs.outbox import OutboxJob
from marketplace.migrate import upgrade
from tests.conftest import start_celery_worker, DEFAULT_PASSWORD, bearer, login, make_test_app, register, require_service
from tests.media import make_beat

BIN = Path(sys.executable).parent


def wait_for(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    if not condition():
        raise AssertionError(f"gave up after {seconds:g} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of our own, without persistence: stopped, it is gone with its data."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.answers, 30, "redis-server to answer")

    def answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)


class Stack:
    """The web app (a test client), a database and storage shared with worker processes."""

    def __init__(self, app, env: dict[str, str], folder: Path, redis_server: RedisServer) -> None:
        self.app, self.env, self.folder, self.redis = app, env, folder, redis_server
        self.client = app.test_client()
        self.headers = bearer(login(self.client, "maker@example.com").json["access_token"])
        self.storage = Path(app.config["STORAGE_LOCAL_ROOT"])
        self.worker_tmp = folder / "worker-tmp"
        self.worker_tmp.mkdir()
        self.workers: list[tuple[subprocess.Popen, Path]] = []

    def start_worker(self) -> tuple[subprocess.Popen, Path]:
        """A Celery worker in a process group of its own (its ffmpeg children die with it)."""
        log_path = self.folder / f"worker-{len(self.workers)}.log"
        worker = start_celery_worker(self.env, log_path, start_new_session=True)
        self.workers.append((worker, log_path))
        wait_for(lambda: "ready." in log_path.read_text(errors="replace") or worker.poll() is not None, 120,
                 "the worker to be ready")
        assert worker.poll() is None, log_path.read_text()[-3000:]
        return worker, log_path

    def sweep(self) -> str:
        """`flask jobs sweep`, as an operator or the periodic schedule runs it."""
        result = subprocess.run([str(BIN / "flask"), "--app", "marketplace", "jobs", "sweep"],
                                cwd=PROJECT_ROOT, env=self.env, capture_output=True, text=True, timeout=180,
                                check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def upload(self, master: Path):
        return self.client.post("/api/v1/beats", headers=self.headers, content_type="multipart/form-data",
                                data={"title": "Night Drive", "bpm": "140",
                                      "file": (io.BytesIO(master.read_bytes()), master.name)})

    def beat(self, beat_id: str) -> dict:
        return self.client.get(f"/api/v1/beats/{beat_id}", headers=self.headers).json

    def record(self, beat_id: str) -> Beat:
        with self.app.app_context():
            beat = db.session.get(Beat, beat_id)
            db.session.expunge(beat)
            return beat

    def stored(self) -> list[str]:
        return sorted(str(path.relative_to(self.storage)) for path in self.storage.rglob("*")
                      if path.is_file())

    def stop(self) -> None:
        for worker, _log in self.workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait()


@pytest.fixture
def stack(database_factory, tmp_path) -> Iterator[Callable[..., Stack]]:
    """Makes the stack with extra settings; stops its workers and Redis whatever happens."""
    require_service("redis-server", shutil.which("redis-server") is not None)
    made: list[Stack] = []
    server = RedisServer(tmp_path)

    def make(**overrides) -> Stack:
        server.start()
        settings = {"REDIS_URL": server.url, "JOBS_BACKEND": "celery",
                    "JOBS_QUEUE": f"test-{secrets.token_hex(4)}",
                    "STORAGE_LOCAL_ROOT": str(tmp_path / "storage"),
                    "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"), **overrides}
        app = make_test_app(database_factory(), **settings)
        with app.app_context():
            upgrade(db.engine)
            accounts.create_user("maker@example.com", DEFAULT_PASSWORD, "Maker", Role.BEATMAKER, verified=True)
            db.session.commit()
        env = {**os.environ, **{key: str(value) for key, value in settings.items()}, "APP_ENV": "development",
               "SECRET_KEY": app.config["SECRET_KEY"],
               "DATABASE_URL": app.config["DATABASE_URL"], "TMPDIR": str(tmp_path / "worker-tmp")}
        made.append(Stack(app, env, tmp_path, server))
        return made[-1]

    try:
        yield make
    finally:
        for built in made:
            built.stop()
            with built.app.app_context():
                db.engine.dispose()
        server.stop()


def task_lines(log_path: Path, outcome: str) -> list[str]:
    return [line for line in log_path.read_text(errors="replace").splitlines()
            if "catalog.render_preview[" in line and outcome in line]


def probe_duration(path: Path) -> float:
    described = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True, check=True).stdout)
    assert described["streams"][0]["codec_name"] == "mp3"
    return float(described["format"]["duration"])


def assert_complete_preview(stack: Stack, beat_id: str, seconds: float) -> None:
    beat = stack.beat(beat_id)
    preview = stack.client.get(beat["preview_url"])
    assert preview.status_code == 200 and preview.data[:3] == b"ID3"
    path = stack.folder / f"{beat_id}.mp3"
    path.write_bytes(preview.data)
    assert abs(probe_duration(path) - seconds) < 0.5
    waveform = stack.client.get(beat["waveform_url"]).json
    assert abs(waveform["length"] - seconds * 44100 / 512) <= 2
    assert len(waveform["data"]) == 2 * waveform["length"]


def outbox_rows(site: Stack) -> list[tuple]:
    with site.app.app_context():
        found = [(row.job, row.state, row.attempts, row.dispatched_at is None)
                 for row in db.session.scalars(select(OutboxJob).order_by(OutboxJob.created_at))]
        db.session.remove()
        return found


def mails_to(site: Stack, address: str) -> list[str]:
    subjects = []
    for path in sorted((site.folder / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            subjects.append(str(message["Subject"]))
    return subjects


# -- Redis down when an upload comes in ---------------------------------------------------------

def test_upload_accepted_while_redis_is_down_is_processed_once_it_is_back(stack, tmp_path):
    site = stack(PROCESSING_STUCK_AFTER_SECONDS=1)
    worker, log_path = site.start_worker()
    master = make_beat(tmp_path / "beat.wav")
    site.redis.stop()

    # The beatmaker's upload is kept: accepted, stored, waiting to be processed.
    response = site.upload(master)
    assert response.status_code == 202, response.json
    beat_id = response.json["id"]
    assert response.json["status"] == "processing"
    record = site.record(beat_id)
    assert (site.storage / record.master_key).read_bytes() == master.read_bytes()
    assert site.beat(beat_id)["status"] == "processing"

    def swept() -> bool:
        return "catalog.sweep_processing: 1 handled" in site.sweep()

    # The sweep sees the beat (once it is older than PROCESSING_STUCK_AFTER_SECONDS), and queues
    # the same render: one job under one key, waiting in the outbox with the upload's. The relay
    # cannot hand it over while Redis is away; it says so, not by failing.
    wait_for(swept, 120, "the sweep to see the beat while Redis is down")
    assert "jobs.relay_outbox: postponed" in site.sweep()
    assert site.beat(beat_id)["status"] == "processing"
    assert outbox_rows(site) == [("catalog.render_preview", "pending", 0, True)]

    site.redis.start()  # empty: nothing was queued while it was away

    assert "jobs.relay_outbox: 1 handled" in site.sweep()  # the upload's render, from the outbox
    wait_for(lambda: site.beat(beat_id)["status"] != "processing", 240, "the worker to process the beat")
    assert site.beat(beat_id)["status"] == "published", log_path.read_text()[-3000:]
    assert worker.poll() is None  # the worker lived through the outage
    assert len(task_lines(log_path, "succeeded")) == 1
    record = site.record(beat_id)
    assert record.processing_attempts == 1 and record.preview_version == 1
    assert_complete_preview(site, beat_id, 20)


# -- a mail queued while Redis is down -----------------------------------------------------------

def test_mail_queued_while_redis_is_down_goes_out_once_redis_is_back(stack):
    """A sign-up while Redis is away: the account is made and its verification mail waits in
    the outbox; once Redis is back the relay (here run by `flask jobs sweep`) hands it to the
    worker, which mails it; later passes send nothing more."""
    site = stack(OUTBOX_REDISPATCH_SECONDS=0)
    worker, _log_path = site.start_worker()
    site.redis.stop()
    address = "newcomer@example.com"

    response = register(site.client, address, display_name="Newcomer 🎧")
    assert response.status_code == 201, response.json
    assert outbox_rows(site) == [("accounts.send_verification", "pending", 0, True)]
    assert "jobs.relay_outbox: postponed" in site.sweep()  # still away: the row stays
    assert outbox_rows(site) == [("accounts.send_verification", "pending", 0, True)]

    site.redis.start()  # empty: nothing was queued while it was away
    assert "jobs.relay_outbox: 1 handled" in site.sweep()
    wait_for(lambda: outbox_rows(site)[0][1] == "done", 120, "the worker to send the mail")
    assert mails_to(site, address) == ["Verify your email address"]

    assert "jobs.relay_outbox: 0 handled" in site.sweep()  # done: nothing is handed over again
    assert mails_to(site, address) == ["Verify your email address"]
    assert outbox_rows(site) == [("accounts.send_verification", "done", 1, False)]
    assert worker.poll() is None


# -- a worker killed in the middle of a render ------------------------------------------------------

@pytest.fixture(scope="module")
def long_master(tmp_path_factory) -> Path:
    """Ten minutes of MP3: long enough to catch its render half-way, small enough to upload."""
    return make_beat(tmp_path_factory.mktemp("long") / "long.mp3", seconds=600, extra=("-b:a", "128k"))


def rendering_now(site: Stack) -> bool:
    """The worker's ffmpeg has written part of the preview in its temporary folder."""
    return any(path.stat().st_size > 0 for path in site.worker_tmp.glob("render-*/preview.mp3"))


def test_worker_killed_mid_render_shows_nothing_half_done_and_publishes_once(stack, long_master):
    visibility = 5
    site = stack(PROCESSING_STUCK_AFTER_SECONDS=1, JOBS_VISIBILITY_TIMEOUT_SECONDS=visibility)
    first, first_log = site.start_worker()
    response = site.upload(long_master)
    assert response.status_code == 202, response.json
    beat_id = response.json["id"]

    wait_for(lambda: rendering_now(site) or first.poll() is not None, 120, "the render to start")
    assert first.poll() is None, first_log.read_text()[-3000:]
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()

    # Nothing half-done is visible: no preview, no waveform, in the API or in storage.
    beat = site.beat(beat_id)
    assert beat["status"] == "processing" and beat["preview_url"] is None and beat["waveform_url"] is None
    for kind in ("preview", "waveform"):
        answer = site.client.get(f"/api/v1/beats/{beat_id}/{kind}", headers=site.headers)
        assert answer.status_code == 404 and answer.json["error"]["code"] == "preview_not_ready"
    assert [key for key in site.stored() if not key.startswith("masters/")] == []
    assert site.record(beat_id).processing_attempts == 1  # the killed render had started

    # Two rescues, as in production: the sweep queues the beat again, and Celery delivers the
    # killed worker's job again (it was never acknowledged) once its visibility timeout passes.
    assert "catalog.sweep_processing: 1 handled" in site.sweep()
    unacked = site.redis.client()

    def redeliverable() -> bool:
        taken = unacked.zrange("unacked_index", 0, -1, withscores=True)
        return bool(taken) and all(score < time.time() - visibility - 1 for _tag, score in taken)

    wait_for(redeliverable, 60, "the killed worker's job to be due again")
    second, second_log = site.start_worker()
    wait_for(lambda: len(task_lines(second_log, "succeeded")) == 2 or second.poll() is not None, 300,
             "both deliveries to be handled")
    assert second.poll() is None, second_log.read_text()[-3000:]
    assert len(task_lines(second_log, "received")) == 2

    # Rendered once, published once, with a complete preview.
    assert site.beat(beat_id)["status"] == "published"
    record = site.record(beat_id)
    assert record.processing_attempts == 2 and record.preview_version == 1
    assert_complete_preview(site, beat_id, 600)
    assert unacked.zcard("unacked_index") == 0
    stored = site.stored()
    expected = [record.master_key, f"previews/{beat_id}.mp3", f"waveforms/{beat_id}.json"]
    assert stored == sorted(expected), stored


# -- a process killed while it writes a file to storage -------------------------------------------

WRITER = """
import sys
from marketplace.storage.local import LocalStorage
LocalStorage(sys.argv[1], None).save(sys.argv[2], sys.stdin.buffer, "audio/mpeg")
"""


def test_process_killed_mid_write_leaves_the_stored_file_whole(tmp_path):
    """Storage writes go to a temporary name and are renamed into place: killing the writer
    half-way leaves readers the old file, whole, and never a part of the new one."""
    root = tmp_path / "storage"
    key = "previews/bt_x.mp3"
    (root / "previews").mkdir(parents=True)
    old = os.urandom(200_000)
    (root / key).write_bytes(old)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(root), key], cwd=PROJECT_ROOT,
                              stdin=subprocess.PIPE)
    try:
        writer.stdin.write(os.urandom(3 * 1024 * 1024))  # more is to come: the writer waits for it
        writer.stdin.flush()
        wait_for(lambda: any(path.stat().st_size > 0 for path in (root / "previews").glob(".partial-*")), 60,
                 "the new file to be half written")
        assert (root / key).read_bytes() == old
    finally:
        writer.kill()
        writer.wait()
        writer.stdin.close()
    assert (root / key).read_bytes() == old
    assert writer.returncode == -signal.SIGKILL
