"""Fair background work: buyers' jobs ahead of preview re-renders (in-process and on Celery),
re-renders coalesced per beat, and voice tag changes rate-limited."""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import threading
import time

import pytest
from sqlalchemy import select

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, User
from marketplace.catalog import services as catalog
from marketplace.catalog import tasks
from marketplace.catalog.models import Beat
from marketplace.db import db
from marketplace.jobs import queue
from marketplace.licensing import issuing
from marketplace.licensing.models import License
from marketplace.migrate import upgrade
from marketplace.storage.service import save_atomically
from tests.conftest import DEFAULT_PASSWORD, bearer, login, make_test_app
from tests.jobs.test_celery_worker import celery_setup  # noqa: F401
from tests.media import make_beat, make_tag, tag_positions

BEATS_TO_RERENDER = 300
MAKER_EMAIL = "maker@example.com"  # the beatmaker celery_setup creates


@pytest.fixture(scope="module")
def audio(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fair-audio")
    return {"beat": make_beat(folder / "beat.wav", seconds=10), "tag": make_tag(folder / "tag.wav")}


def thread_app(database_factory, tmp_path, **settings):
    """An app whose jobs run on in-process threads: one for buyers' jobs, one for the rest
    (as JOBS_BACKEND=thread makes them, without its periodic timers, which would outlive the test)."""
    app = make_test_app(database_factory(), STORAGE_LOCAL_ROOT=str(tmp_path / "storage"), **settings)
    app.extensions["job_runner"] = queue.InProcessRunner(app, threads=1, buyer_threads=1, max_retries=0,
                                                         backoff_seconds=0)
    with app.app_context():
        upgrade(db.engine)
        accounts.create_user(MAKER_EMAIL, DEFAULT_PASSWORD, "Maker", Role.BEATMAKER, verified=True)
        db.session.commit()
    return app


def published_beats(app, master, count: int) -> list[str]:
    """`count` published beats of the beatmaker, sharing one stored master."""
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.email == MAKER_EMAIL))
        stored = save_atomically(master, "masters/shared.wav", "audio/wav")
        beat_ids = []
        for number in range(count):
            beat = catalog.create_beat(owner, title=f"Beat {number}", bpm=140)
            beat.master_key, beat.master_format, beat.master_lossless = "masters/shared.wav", "wav", True
            beat.master_sha256, beat.master_size, beat.duration_ms = stored.sha256, stored.size, 10_000
            beat.preview_key = f"previews/{beat.id}.mp3"
            catalog.publish(beat)
            beat_ids.append(beat.id)
        db.session.commit()
        return beat_ids


def maker_headers(client) -> dict[str, str]:
    return bearer(login(client, MAKER_EMAIL).json["access_token"])


def lease_tier(client, headers) -> str:
    """A lease tier that delivers built files (no stems: these beats have none)."""
    tiers = client.get("/api/v1/license-tiers", headers=headers).json
    return next(tier["id"] for tier in tiers
                if tier["kind"] == "lease" and "stems" not in tier["deliverables"])


def sell(app, beat_id: str, tier_id: str) -> str:
    with app.app_context():
        buyer = accounts.create_user("buyer@example.com", DEFAULT_PASSWORD, "Buyer", Role.ARTIST)
        license_ = issuing.issue_license(issuing.Sale(reference="fair-sale", beat_id=beat_id, tier_id=tier_id,
                                                      buyer=buyer, price_amount=2999, currency="usd"))
        db.session.commit()
        return license_.id


def files_built(app, license_id: str) -> bool:
    with app.app_context():
        license_ = db.session.get(License, license_id)
        built = license_.contract_key is not None and all(f.key is not None for f in license_.files)
        db.session.remove()
        return built


def wait_until(predicate, seconds: float, failure: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(failure)


def renders_before(done: list[str], job: str) -> int:
    """How many re-renders finished before `job` did, in the order jobs finished."""
    return done[:done.index(job)].count("catalog.render_preview")


class FinishedJobs(logging.Handler):
    """The names of the jobs the runner finished, in order (from its `job_done` log lines)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.names: list[str] = []
        self._lock_names = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "job_done":
            with self._lock_names:
                self.names.append(record.job)

    def snapshot(self) -> list[str]:
        with self._lock_names:
            return list(self.names)


@pytest.fixture
def finished_jobs():
    handler, logger = FinishedJobs(), logging.getLogger("marketplace.jobs")
    previous_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(previous_level)


def test_jobs_are_registered_on_a_queue(app):  # the app imports every job
    buyer_facing = ("licensing.render_contract", "licensing.build_files", "licensing.notify_exclusive_sold",
                    "checkout.send_receipt", "checkout.notify_payment_failed",
                    "checkout.refund_refused_lines", "checkout.refund_mismatched_payment",
                    "mail.send")
    assert {name: queue.JOB_QUEUES[name] for name in buyer_facing} == dict.fromkeys(buyer_facing, queue.BUYER)
    assert queue.JOB_QUEUES["catalog.render_preview"] == queue.DEFAULT
    with pytest.raises(ValueError, match="queue must be one of buyer, default"):
        queue.job("tests.nowhere", queue="urgent")


def test_a_license_is_built_while_hundreds_of_rerenders_wait_in_process(database_factory, tmp_path, audio,
                                                                        finished_jobs):
    app = thread_app(database_factory, tmp_path)
    runner = app.extensions["job_runner"]
    client = app.test_client()
    headers = maker_headers(client)
    beat_ids = published_beats(app, audio["beat"], BEATS_TO_RERENDER)
    tier_id = lease_tier(client, headers)
    try:
        moved = client.patch("/api/v1/me/voice-tag", headers=headers, json={"first_at_seconds": 2})
        assert moved.status_code == 200, moved.json
        license_id = sell(app, beat_ids[-1], tier_id)
        wait_until(lambda: "licensing.build_files" in finished_jobs.snapshot(), 240,
                   "the license's files were not built while the re-renders waited")
        done = finished_jobs.snapshot()
        assert files_built(app, license_id)
        assert renders_before(done, "licensing.build_files") < BEATS_TO_RERENDER // 2, done
        assert renders_before(done, "licensing.render_contract") < BEATS_TO_RERENDER // 2, done
    finally:
        runner.discard_waiting()
        with app.app_context():
            db.engine.dispose()


def celery_finished_jobs(log_text: str) -> list[str]:
    """Job names in the order the (single, solo) worker finished them."""
    return re.findall(r"Task ([\w.]+)\[[^\]]+\] succeeded", log_text)


def test_a_license_is_built_while_hundreds_of_rerenders_wait_on_celery(celery_setup, redis_url,  # noqa: F811
                                                                      audio):
    app, worker, log_path = celery_setup
    client = app.test_client()
    headers = maker_headers(client)
    beat_ids = published_beats(app, audio["beat"], BEATS_TO_RERENDER)
    tier_id = lease_tier(client, headers)
    try:
        moved = client.patch("/api/v1/me/voice-tag", headers=headers, json={"first_at_seconds": 2})
        assert moved.status_code == 200, moved.json
        # The worker is taking renders one after the other; the sale comes in meanwhile.
        wait_until(lambda: celery_finished_jobs(log_path.read_text()), 120,
                   "the worker renders nothing: " + log_path.read_text()[-3000:])
        license_id = sell(app, beat_ids[-1], tier_id)
        wait_until(lambda: "licensing.build_files" in celery_finished_jobs(log_path.read_text()), 240,
                   "the license's files were not built while the re-renders waited")
        done = celery_finished_jobs(log_path.read_text())
        assert files_built(app, license_id)
        assert worker.poll() is None
        assert renders_before(done, "licensing.build_files") < BEATS_TO_RERENDER // 2, done
    finally:
        _forget_queued_messages(redis_url, app.config["JOBS_QUEUE"])


def _forget_queued_messages(redis_url: str, queue_name: str) -> None:
    import redis

    connection = redis.Redis.from_url(redis_url)
    for key in connection.scan_iter(match=f"*{queue_name}*"):
        connection.delete(key)


def test_rerenders_are_coalesced_per_beat_and_the_latest_settings_win(database_factory, tmp_path, audio):
    app = thread_app(database_factory, tmp_path)
    runner = app.extensions["job_runner"]
    client = app.test_client()
    headers = maker_headers(client)
    beat_ids = published_beats(app, audio["beat"], 3)
    release = threading.Event()

    @queue.job("tests.hold_the_render_thread")
    def hold() -> None:
        release.wait(60)

    try:
        runner.submit("tests.hold_the_render_thread", ())  # renders queue up behind it
        uploaded = client.put("/api/v1/me/voice-tag", headers=headers, content_type="multipart/form-data",
                              data={"file": (io.BytesIO(audio["tag"].read_bytes()), "tag.wav")})
        assert uploaded.status_code == 200, uploaded.json
        # An upload and ten placement edits in a minute: well inside the limit.
        for first_at in (0, 0.5, 1, 1.5, 2, 2.5, 3.5, 4, 4.5, 3):
            moved = client.patch("/api/v1/me/voice-tag", headers=headers,
                                 json={"interval_seconds": 5, "first_at_seconds": first_at})
            assert moved.status_code == 200, moved.json
        release.set()
        runner.wait()
        with app.app_context():
            beats = [db.session.get(Beat, beat_id) for beat_id in beat_ids]
            assert [beat.preview_version for beat in beats] == [1, 1, 1]  # one render each, not eleven
            assert all(beat.rerender_queued_at is None for beat in beats)
        preview = tmp_path / "preview.mp3"
        preview.write_bytes(client.get(client.get(f"/api/v1/beats/{beat_ids[0]}").json["preview_url"]).data)
        assert [round(p, 1) for p in tag_positions(preview, audio["tag"])] == [3.0, 8.0]  # the last edit
    finally:
        release.set()
        queue.JOBS.pop("tests.hold_the_render_thread", None)
        queue.JOB_QUEUES.pop("tests.hold_the_render_thread", None)
        with app.app_context():
            db.engine.dispose()


def test_a_change_while_a_render_runs_gets_a_render_of_its_own(app, client, make_user, headers_for, audio,
                                                                tmp_path):
    """Once a render has started (and read the settings), the next change must not be folded
    into it."""
    maker = make_user(Role.BEATMAKER)
    headers = headers_for(maker)
    with app.app_context():
        owner = accounts.get_user(maker)
        beat = catalog.create_beat(owner, title="Started", bpm=140)
        stored = save_atomically(audio["beat"], f"masters/{beat.id}.wav", "audio/wav")
        beat.master_key, beat.master_format, beat.duration_ms = f"masters/{beat.id}.wav", "wav", 10_000
        beat.master_sha256, beat.master_size, beat.preview_key = stored.sha256, stored.size, "previews/x.mp3"
        catalog.publish(beat)
        db.session.commit()
        beat_id = beat.id
    for first_at in (1, 3):  # jobs run at each commit here: each change is rendered
        assert client.patch("/api/v1/me/voice-tag", headers=headers,
                            json={"first_at_seconds": first_at}).status_code == 200
    with app.app_context():
        assert db.session.get(Beat, beat_id).preview_version == 2


def test_tag_changes_beyond_the_limit_are_refused_with_a_clear_429(client, make_user, headers_for):
    headers = headers_for(make_user(Role.BEATMAKER))
    answers = [client.patch("/api/v1/me/voice-tag", headers=headers, json={"gain_db": -(n % 10)})
               for n in range(40)]  # 40 changes in a moment, as a script sends them
    statuses = [answer.status_code for answer in answers]
    assert statuses[:11] == [200] * 11 and 429 in statuses
    refused = answers[statuses.index(429)]
    error = refused.json["error"]
    assert error["code"] == "rate_limited" and "voice tag" in error["message"]
    assert int(refused.headers["Retry-After"]) == error["details"]["retry_after_seconds"] >= 1
    other = headers_for(make_user(Role.BEATMAKER))  # the limit is each producer's own
    assert client.patch("/api/v1/me/voice-tag", headers=other, json={"gain_db": -1}).status_code == 200


def test_the_sweep_queues_again_a_rerender_that_was_lost(app, client, make_user, headers_for, audio):
    maker = make_user(Role.BEATMAKER)
    with app.app_context():
        beat = catalog.create_beat(accounts.get_user(maker), title="Lost", bpm=140)
        stored = save_atomically(audio["beat"], f"masters/{beat.id}.wav", "audio/wav")
        beat.master_key, beat.master_format, beat.duration_ms = f"masters/{beat.id}.wav", "wav", 10_000
        beat.master_sha256, beat.master_size, beat.preview_key = stored.sha256, stored.size, "previews/x.mp3"
        catalog.publish(beat)
        # Queued an hour ago by a tag change, and its message never reached a worker.
        beat.rerender_queued_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
        db.session.commit()
        beat_id = beat.id
        assert tasks.sweep_processing() == 1
        db.session.remove()
        rendered = db.session.get(Beat, beat_id)
        assert rendered.preview_version == 1 and rendered.rerender_queued_at is None
