"""Replacing a beat's master, stems and cover after upload: licenses already sold keep
delivering the files they were sold with, new sales get the new ones, the preview is rendered
again from the new master, a refused file changes nothing, a failed render can be tried again
and a waiting master cancelled."""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import pytest
import requests
from PIL import Image
from sqlalchemy import select

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.catalog import tasks
from marketplace.catalog.models import Beat, BeatFile
from marketplace.db import db
from marketplace.jobs.outbox import OutboxJob
from marketplace.licensing.models import LicenseFile
from marketplace.migrate import upgrade
from marketplace.storage.service import storage
from tests.conftest import (
    DEFAULT_PASSWORD,
    bearer,
    login,
    make_test_app,
    postgres_only,
    start_celery_worker,
    stop_process,
)
from tests.licensing.test_deliveries import links_by_kind, sell_tier, upload
from tests.media import make_beat, make_tag


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def seconds_of(data: bytes, folder: Path, name: str) -> float:
    path = folder / name
    path.write_bytes(data)
    described = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format", str(path)],
                               capture_output=True, check=True).stdout
    return float(json.loads(described)["format"]["duration"])


@pytest.fixture(scope="module")
def new_audio(tmp_path_factory):
    folder = tmp_path_factory.mktemp("replacements")
    zip_buffer = io.BytesIO()
    with zipfile.ZipFile(zip_buffer, "w") as archive:
        archive.writestr("bass.wav", make_beat(folder / "bass.wav", seconds=2).read_bytes())
        archive.writestr("keys.wav", make_beat(folder / "keys.wav", seconds=2).read_bytes())
    return {"master": make_beat(folder / "new-master.wav", seconds=27),
            "flac": make_beat(folder / "new.flac", seconds=15),
            "short": make_beat(folder / "short.wav", seconds=3), "stems": zip_buffer.getvalue(),
            "tag": make_tag(folder / "tag.wav")}


@pytest.fixture(scope="module")
def stems_bytes(masters) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("drums.wav", masters["short"].read_bytes())
    return buffer.getvalue()


def put_file(client, headers, beat_id, what, field, content: bytes, name: str):
    return client.put(f"/api/v1/beats/{beat_id}/{what}", headers=headers, content_type="multipart/form-data",
                      data={field: (io.BytesIO(content), name)})


def files_of(client, headers, beat_id) -> dict:
    response = client.get(f"/api/v1/beats/{beat_id}/files", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def download(client, license_id, headers, kind) -> bytes:
    link = links_by_kind(client, license_id, headers)[kind]
    response = client.get(link["url"])
    assert response.status_code == 200, response.data[:200]
    return response.data


def stored_keys(app, prefix: str) -> set[str]:
    root = Path(app.config["STORAGE_LOCAL_ROOT"])
    return {str(path.relative_to(root)) for path in (root / prefix).rglob("*") if path.is_file()} \
        if (root / prefix).exists() else set()


# -- the master --------------------------------------------------------------------------------

def test_a_replaced_master_is_sold_from_then_on_while_earlier_licenses_keep_the_old_one(
        app, client, seller, buyer, masters, new_audio, offer_all, sell, tmp_path):
    _seller_id, headers = seller
    beat_id = upload(client, headers, masters["wav"])
    before = client.get(f"/api/v1/beats/{beat_id}").json
    old_license = sell_tier(beat_id, "Premium lease", seller=seller, buyer_id=buyer[0], offer_all=offer_all,
                            sell=sell)
    old_master = masters["wav"].read_bytes()
    assert download(client, old_license, buyer[1], "wav") == old_master

    new_master = new_audio["master"].read_bytes()
    replaced = put_file(client, headers, beat_id, "master", "file", new_master, "take 2.wav")
    assert replaced.status_code == 202, replaced.json
    # Its preview rendered at once here (jobs run when the request commits): it took over.
    files = files_of(client, headers, beat_id)
    assert files["replacement"] is None and files["master"]["sha256"] == sha256(new_master)
    assert files["master"]["duration_ms"] == pytest.approx(27_000, abs=50)

    after = client.get(f"/api/v1/beats/{beat_id}").json
    assert after["id"] == beat_id and after["status"] == "published"
    assert after["preview_url"] != before["preview_url"] and after["waveform_url"] != before["waveform_url"]
    assert after["duration_ms"] == files["master"]["duration_ms"]
    old_preview = seconds_of(client.get(before["preview_url"].split("?")[0]).data, tmp_path, "new.mp3")
    assert old_preview == pytest.approx(27, abs=0.5)  # the one preview address now plays the new master
    peaks = client.get(after["waveform_url"]).json
    assert peaks["length"] > 0 and peaks["data"]

    # The license sold before delivers the master it was sold with, bit for bit ...
    assert download(client, old_license, buyer[1], "wav") == old_master
    # ... and a new sale the new one.
    new_license = sell_tier(beat_id, "Premium lease", seller=seller, buyer_id=buyer[0], offer_all=offer_all,
                            sell=sell)
    assert sha256(download(client, new_license, buyer[1], "wav")) == sha256(new_master)
    assert seconds_of(download(client, new_license, buyer[1], "mp3"), tmp_path, "sold.mp3") == \
        pytest.approx(27, abs=0.5)
    with app.app_context():
        old_row = db.session.scalar(select(BeatFile).where(BeatFile.sha256 == sha256(old_master),
                                                           BeatFile.beat_id == beat_id))
        assert old_row is not None and storage().exists(old_row.key)  # kept for the license


def test_files_of_a_sale_built_after_the_master_was_replaced_are_made_from_the_master_sold(
        app, client, seller, buyer, masters, new_audio, offer_all, sell, tmp_path):
    """A delivery interrupted by a crash is built again later: from the file of the sale."""
    _seller_id, headers = seller
    beat_id = upload(client, headers, masters["wav"])  # 20 s
    license_id = sell_tier(beat_id, "Basic lease", seller=seller, buyer_id=buyer[0], offer_all=offer_all,
                           sell=sell)
    with app.app_context():
        delivered = db.session.get(LicenseFile, (license_id, "mp3"))
        delivered.key = delivered.sha256 = delivered.size = delivered.ready_at = None  # never built
        db.session.commit()
    assert put_file(client, headers, beat_id, "master", "file", new_audio["master"].read_bytes(),
                    "new.wav").status_code == 202
    with app.app_context():
        from marketplace.licensing.tasks import build_files

        build_files(license_id)
        db.session.remove()
    assert seconds_of(download(client, license_id, buyer[1], "mp3"), tmp_path, "built.mp3") == \
        pytest.approx(20, abs=0.5)


def test_a_replaced_master_no_license_delivers_is_deleted(app, client, seller, masters, new_audio):
    _seller_id, headers = seller
    beat_id = upload(client, headers, masters["wav"])
    first = stored_keys(app, f"masters/{beat_id}")
    assert put_file(client, headers, beat_id, "master", "file", new_audio["flac"].read_bytes(),
                    "new.flac").status_code == 202
    second = stored_keys(app, f"masters/{beat_id}")
    assert not (first & second) and len(second) == 1 and second.pop().endswith("/master.flac")
    files = files_of(client, headers, beat_id)
    assert files["master"]["format"] == "flac" and files["master"]["lossless"] is True
    with app.app_context():
        kept = db.session.scalar(select(BeatFile).where(BeatFile.beat_id == beat_id,
                                                        BeatFile.kind == "master"))
        assert kept.key.endswith("master.flac")


def test_a_file_a_license_delivers_cannot_be_deleted_by_the_database(app, client, seller, buyer, masters,
                                                                     offer_all, sell):
    _seller_id, headers = seller
    beat_id = upload(client, headers, masters["wav"])
    sell_tier(beat_id, "Premium lease", seller=seller, buyer_id=buyer[0], offer_all=offer_all, sell=sell)
    with app.app_context():
        row = db.session.scalar(select(BeatFile).where(BeatFile.beat_id == beat_id))
        db.session.delete(row)
        with pytest.raises(Exception) as refused:
            db.session.commit()
        assert "foreign key" in str(refused.value).lower()
        db.session.rollback()


@pytest.mark.parametrize("name, content, status, code", [
    ("notes.wav", b"RIFF but not audio at all" * 100, 415, None),
    ("short.wav", None, 422, "audio_too_short"),
])
def test_a_refused_master_leaves_the_beat_as_it_was(app, client, seller, masters, new_audio, name, content,
                                                    status, code):
    _seller_id, headers = seller
    beat_id = upload(client, headers, masters["wav"])
    before, stored = files_of(client, headers, beat_id), stored_keys(app, f"masters/{beat_id}")
    beat_before = client.get(f"/api/v1/beats/{beat_id}").json
    content = content if content is not None else new_audio["short"].read_bytes()
    refused = put_file(client, headers, beat_id, "master", "file", content, name)
    assert refused.status_code == status, refused.json
    assert refused.json["error"]["details"]["field"] == "file"
    if code:
        assert refused.json["error"]["code"] == code
    assert files_of(client, headers, beat_id) == before
    assert stored_keys(app, f"masters/{beat_id}") == stored
    assert client.get(f"/api/v1/beats/{beat_id}").json == beat_before


def test_a_taken_down_beat_keeps_its_files(app, client, seller, masters, new_audio):
    _seller_id, headers = seller
    beat_id = upload(client, headers, masters["wav"])
    with app.app_context():
        db.session.get(Beat, beat_id).status = "taken_down"
        db.session.commit()
    refused = put_file(client, headers, beat_id, "master", "file", new_audio["master"].read_bytes(),
                       "new.wav")
    assert refused.status_code == 409 and refused.json["error"]["code"] == "beat_taken_down"


def test_only_the_owner_replaces_and_sees_files(client, seller, masters, new_audio, make_user, headers_for):
    beat_id = upload(client, seller[1], masters["wav"])
    other = headers_for(make_user(Role.BEATMAKER, "Other"))
    refused = put_file(client, other, beat_id, "master", "file", new_audio["master"].read_bytes(), "x.wav")
    assert refused.status_code == 403
    assert client.get(f"/api/v1/beats/{beat_id}/files", headers=other).status_code == 403


# -- stems and cover ------------------------------------------------------------------------------

def test_replaced_stems_are_sold_from_then_on_while_earlier_licenses_keep_theirs(
        client, seller, buyer, masters, stems_bytes, new_audio, offer_all, sell):
    _seller_id, headers = seller
    beat_id = upload(client, headers, masters["wav"], stems_bytes)
    old_license = sell_tier(beat_id, "Trackout lease", seller=seller, buyer_id=buyer[0], offer_all=offer_all,
                            sell=sell)
    old_zip = download(client, old_license, buyer[1], "stems")
    assert zipfile.ZipFile(io.BytesIO(old_zip)).namelist() == ["drums.wav"]

    replaced = put_file(client, headers, beat_id, "stems", "stems", new_audio["stems"], "stems v2.zip")
    assert replaced.status_code == 200, replaced.json
    assert replaced.json["stems"]["sha256"] != sha256(old_zip)

    assert download(client, old_license, buyer[1], "stems") == old_zip
    new_license = sell_tier(beat_id, "Trackout lease", seller=seller, buyer_id=buyer[0], offer_all=offer_all,
                            sell=sell)
    new_zip = download(client, new_license, buyer[1], "stems")
    assert sorted(zipfile.ZipFile(io.BytesIO(new_zip)).namelist()) == ["bass.wav", "keys.wav"]
    assert sha256(new_zip) == replaced.json["stems"]["sha256"]


def test_stems_can_be_added_to_a_beat_without_and_a_refused_zip_keeps_the_old(app, client, seller, masters,
                                                                             new_audio):
    _seller_id, headers = seller
    beat_id = upload(client, headers, masters["wav"])
    assert client.get(f"/api/v1/beats/{beat_id}").json["has_stems"] is False
    added = put_file(client, headers, beat_id, "stems", "stems", new_audio["stems"], "stems.zip")
    assert added.status_code == 200 and client.get(f"/api/v1/beats/{beat_id}").json["has_stems"] is True
    stored = stored_keys(app, f"stems/{beat_id}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("run-me.exe", b"MZ\x90\x00" + b"\x00" * 200)
    refused = put_file(client, headers, beat_id, "stems", "stems", buffer.getvalue(), "stems.zip")
    assert refused.status_code == 422, refused.json
    assert refused.json["error"]["details"]["field"] == "stems"
    assert files_of(client, headers, beat_id)["stems"] == added.json["stems"]
    assert stored_keys(app, f"stems/{beat_id}") == stored


def _image(color: str, size=(640, 480), kind="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, kind)
    return buffer.getvalue()


def test_a_replaced_cover_is_served_and_the_old_one_deleted(app, client, seller, masters):
    _seller_id, headers = seller
    data = {"title": "Covered", "bpm": "140", "file": (io.BytesIO(masters["wav"].read_bytes()), "m.wav"),
            "cover": (io.BytesIO(_image("red")), "red.png")}
    created = client.post("/api/v1/beats", data=data, headers=headers, content_type="multipart/form-data")
    beat_id = created.json["id"]
    old_keys = stored_keys(app, f"covers/{beat_id}")
    assert len(old_keys) == 4  # JPEG at 1400 and 400 px, WebP at 600 and 300 px

    blue = _image("blue", (900, 300), "JPEG")
    replaced = put_file(client, headers, beat_id, "cover", "cover", blue, "blue.jpg")
    assert replaced.status_code == 200, replaced.json
    served = Image.open(io.BytesIO(client.get(f"/api/v1/beats/{beat_id}/cover").data))
    assert served.size == (900, 300)
    red, _green, blue = served.convert("RGB").getpixel((450, 150))
    assert blue > 200 and red < 50
    small = client.get(f"/api/v1/beats/{beat_id}/cover?size=400").data
    assert Image.open(io.BytesIO(small)).size == (400, 133)
    webp = client.get(f"/api/v1/beats/{beat_id}/cover?size=300")
    assert webp.content_type == "image/webp"
    red, _green, blue = Image.open(io.BytesIO(webp.data)).convert("RGB").getpixel((150, 50))
    assert blue > 200 and red < 50, "the WebP rendition is the new cover's"
    new_keys = stored_keys(app, f"covers/{beat_id}")
    assert len(new_keys) == 4 and not (new_keys & old_keys)

    refused = put_file(client, headers, beat_id, "cover", "cover", b"GIF89a" + b"\x00" * 50, "x.gif")
    assert refused.status_code == 415 and refused.json["error"]["details"]["field"] == "cover"
    assert stored_keys(app, f"covers/{beat_id}") == new_keys


# -- failures: trying again, cancelling ----------------------------------------------------------

def _fail_first_render(app, beat_id) -> bytes:
    """The beat's master goes missing (a storage outage) while its preview renders: it fails."""
    with app.app_context():
        beat = db.session.get(Beat, beat_id)
        beat.status, beat.preview_key, beat.published_at = "processing", None, None
        db.session.commit()
        content = storage().open(beat.master_key).read()
        storage().delete(beat.master_key)
        tasks.render_preview_job(beat_id)
        db.session.remove()
    return content


def test_a_beat_whose_processing_failed_is_rendered_again_on_retry(app, client, seller, masters):
    _seller_id, headers = seller
    beat_id = upload(client, headers, masters["wav"])
    content = _fail_first_render(app, beat_id)
    failed = files_of(client, headers, beat_id)
    assert failed["status"] == "failed" and failed["can_retry"] is True and failed["failure_reason"]

    with app.app_context():  # the storage is back
        storage().save(db.session.get(Beat, beat_id).master_key, io.BytesIO(content), "audio/wav")
    retried = client.post(f"/api/v1/beats/{beat_id}/retry", headers=headers)
    assert retried.status_code == 202, retried.json
    beat = client.get(f"/api/v1/beats/{beat_id}").json
    assert beat["status"] == "published" and beat["preview_url"] and beat["failure_reason"] is None
    again = client.post(f"/api/v1/beats/{beat_id}/retry", headers=headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "nothing_to_retry"


def test_a_replacement_whose_preview_failed_keeps_the_old_master_until_retried(app, client, seller, masters,
                                                                               new_audio, tmp_path):
    _seller_id, headers = seller
    beat_id = upload(client, headers, masters["wav"])
    before = client.get(f"/api/v1/beats/{beat_id}").json
    old_files = files_of(client, headers, beat_id)
    # The render fails: its tag is gone from storage (an outage) when it starts.
    tag = client.put("/api/v1/me/voice-tag", headers=headers, content_type="multipart/form-data",
                     data={"file": (io.BytesIO(new_audio["tag"].read_bytes()), "tag.wav")})
    assert tag.status_code == 200, tag.json
    before = client.get(f"/api/v1/beats/{beat_id}").json
    with app.app_context():
        from marketplace.catalog.models import VoiceTag

        tag_key = db.session.scalar(select(VoiceTag.tag_key))
        tag_bytes = storage().open(tag_key).read()
        storage().delete(tag_key)
    replaced = put_file(client, headers, beat_id, "master", "file", new_audio["master"].read_bytes(),
                        "new.wav")
    assert replaced.status_code == 202
    files = files_of(client, headers, beat_id)
    assert files["replacement"]["status"] == "failed"
    assert "replace the master" in files["replacement"]["failure_reason"]
    assert files["master"] == old_files["master"] and files["can_retry"] is True
    assert client.get(f"/api/v1/beats/{beat_id}").json["preview_url"] == before["preview_url"]

    with app.app_context():
        storage().save(tag_key, io.BytesIO(tag_bytes), "audio/wav")
    assert client.post(f"/api/v1/beats/{beat_id}/retry", headers=headers).status_code == 202
    files = files_of(client, headers, beat_id)
    assert files["replacement"] is None
    assert files["master"]["sha256"] == sha256(new_audio["master"].read_bytes())
    after = client.get(f"/api/v1/beats/{beat_id}").json
    assert after["preview_url"] != before["preview_url"]
    assert seconds_of(client.get(after["preview_url"]).data, tmp_path, "p.mp3") == pytest.approx(27, abs=0.5)


def test_a_failed_replacement_is_cancelled_and_its_file_deleted(app, client, seller, masters, new_audio):
    _seller_id, headers = seller
    beat_id = upload(client, headers, masters["wav"])
    with app.app_context():
        from marketplace.catalog.models import VoiceTag

        client.put("/api/v1/me/voice-tag", headers=headers, content_type="multipart/form-data",
                   data={"file": (io.BytesIO(new_audio["tag"].read_bytes()), "tag.wav")})
        storage().delete(db.session.scalar(select(VoiceTag.tag_key)))
    old = files_of(client, headers, beat_id)
    before = client.get(f"/api/v1/beats/{beat_id}").json
    put_file(client, headers, beat_id, "master", "file", new_audio["master"].read_bytes(), "new.wav")
    assert files_of(client, headers, beat_id)["replacement"]["status"] == "failed"
    assert len(stored_keys(app, f"masters/{beat_id}")) == 2

    cancelled = client.delete(f"/api/v1/beats/{beat_id}/master/replacement", headers=headers)
    assert cancelled.status_code == 200, cancelled.json
    assert cancelled.json["replacement"] is None and cancelled.json["master"] == old["master"]
    assert len(stored_keys(app, f"masters/{beat_id}")) == 1
    assert client.get(f"/api/v1/beats/{beat_id}").json == before
    nothing = client.delete(f"/api/v1/beats/{beat_id}/master/replacement", headers=headers)
    assert nothing.status_code == 404 and nothing.json["error"]["code"] == "no_replacement"


def test_a_queued_replacement_cancelled_before_a_worker_takes_it_changes_nothing(
        database_factory, redis_url, masters, new_audio, tmp_path):
    """With a real broker and no worker yet, the renders wait in the queue: the new master is
    `pending`; cancelled, its file is gone at once, and the worker that starts later finds
    nothing to render for it (the upload's own first render still publishes the beat)."""
    settings = {"REDIS_URL": redis_url, "JOBS_BACKEND": "celery",
                "JOBS_QUEUE": f"test-{secrets.token_hex(4)}",
                "STORAGE_LOCAL_ROOT": str(tmp_path / "storage")}
    app = make_test_app(database_factory(), **settings)
    with app.app_context():
        upgrade(db.engine)
        accounts.create_user("queued@example.com", DEFAULT_PASSWORD, "Queued", Role.BEATMAKER, verified=True)
        db.session.commit()
    client = app.test_client()
    headers = bearer(login(client, "queued@example.com").json["access_token"])
    beat_id = upload(client, headers, masters["wav"])
    assert put_file(client, headers, beat_id, "master", "file", new_audio["master"].read_bytes(),
                    "new.wav").status_code == 202
    waiting = files_of(client, headers, beat_id)
    assert waiting["replacement"]["status"] == "pending" and waiting["can_retry"] is False
    assert waiting["master"]["sha256"] == sha256(masters["wav"].read_bytes())
    assert len(stored_keys(app, f"masters/{beat_id}")) == 2

    cancelled = client.delete(f"/api/v1/beats/{beat_id}/master/replacement", headers=headers)
    assert cancelled.status_code == 200 and cancelled.json["replacement"] is None
    assert len(stored_keys(app, f"masters/{beat_id}")) == 1

    env = {**os.environ, "APP_ENV": "development", "SECRET_KEY": app.config["SECRET_KEY"],
           "DATABASE_URL": app.config["DATABASE_URL"], **{key: str(value) for key, value in settings.items()}}
    log_path = tmp_path / "worker.log"
    worker = start_celery_worker(env, log_path)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not _all_jobs_done(app):
            time.sleep(0.3)
        assert _all_jobs_done(app), log_path.read_text()[-3000:]
    finally:
        stop_process(worker, 20)
    beat = client.get(f"/api/v1/beats/{beat_id}").json
    assert beat["status"] == "published" and beat["duration_ms"] == pytest.approx(20_000, abs=50)
    files = files_of(client, headers, beat_id)
    assert files["replacement"] is None and files["master"] == waiting["master"]
    assert stored_keys(app, f"previews/{beat_id}") == set()  # nothing rendered for the cancelled master
    with app.app_context():
        db.engine.dispose()


def _all_jobs_done(app) -> bool:
    with app.app_context():
        states = {row.job: row.state for row in db.session.scalars(select(OutboxJob))}
        db.session.remove()
    jobs = ("catalog.render_preview", "catalog.render_replacement")
    return all(states.get(name) == "done" for name in jobs)


# -- sales and a replacement at once ---------------------------------------------------------------

@postgres_only("concurrent sales and a replacement on row locks")
def test_sales_during_a_replacement_each_deliver_the_master_they_were_sold_with(
        app, client, seller, buyer, masters, new_audio, offer_all, live_server):
    """Six sales race a master replacement over real HTTP and sessions: every license names one
    of the two masters, delivers exactly its bytes, and the old master stays stored while a
    license names it."""
    from marketplace.accounts import services as accounts_services
    from marketplace.licensing import issuing

    _seller_id, headers = seller
    beat_id = upload(client, headers, masters["wav"])
    tier = offer_all(headers, beat_id, names=["Premium lease"])["Premium lease"]
    sales, barrier, errors = 6, threading.Barrier(7), []
    license_ids: list[str] = []
    lock = threading.Lock()

    def sell(index: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                license_ = issuing.issue_license(issuing.Sale(
                    reference=f"race-{index}", beat_id=beat_id, tier_id=tier["id"],
                    buyer=accounts_services.get_user(buyer[0]), price_amount=4999, currency="usd"))
                db.session.commit()
                with lock:
                    license_ids.append(license_.id)
        except Exception as error:  # reported in the test's own thread below
            errors.append(error)

    def replace() -> None:
        barrier.wait()
        response = requests.put(f"{live_server}/api/v1/beats/{beat_id}/master", headers=headers, timeout=120,
                                files={"file": ("new.wav", new_audio["master"].read_bytes(), "audio/wav")})
        with lock:
            license_ids.append(f"status:{response.status_code}")

    threads = [threading.Thread(target=sell, args=(i,)) for i in range(sales)]
    threads.append(threading.Thread(target=replace))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert errors == []
    assert "status:202" in license_ids
    sold = [entry for entry in license_ids if not entry.startswith("status:")]
    assert len(sold) == sales
    old_bytes, new_bytes = masters["wav"].read_bytes(), new_audio["master"].read_bytes()
    with app.app_context():
        for license_id in sold:
            delivered = db.session.get(LicenseFile, (license_id, "wav"))
            source = db.session.get(BeatFile, delivered.source_file_id)
            assert source.sha256 in (sha256(old_bytes), sha256(new_bytes))
            assert storage().exists(source.key)
        db.session.remove()
    for license_id in sold:
        with app.app_context():
            source_id = db.session.get(LicenseFile, (license_id, "wav")).source_file_id
            expected = db.session.get(BeatFile, source_id).sha256
            db.session.remove()
        assert sha256(download(client, license_id, buyer[1], "wav")) == expected
