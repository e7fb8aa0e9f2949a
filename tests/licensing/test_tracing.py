"""Leak tracing: every lease's delivered MP3 carries an inaudible mark of its license, and a
leaked copy (an excerpt, re-encoded) names that license, its buyer and date; an unmarked copy
or another beat gives "no mark found"."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest

from marketplace.accounts.models import Role
from marketplace.audio import watermark
from marketplace.audio.deliver import encode_mp3
from marketplace.db import db
from marketplace.licensing.models import License
from marketplace.storage.service import storage
from tests.media import ffmpeg, make_song


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("songs")
    return {"beat": make_song(folder / "beat.wav", seconds=40, seed=1),
            "other": make_song(folder / "other.wav", seconds=40, seed=2, bass_hz=73.4)}


@pytest.fixture
def two_leases(app, client, seller, buyer, make_user, offer_all, sell, songs):
    """A beat sold as a Basic lease to two buyers; their files are built at once."""
    _, seller_headers = seller
    response = client.post("/api/v1/beats", headers=seller_headers, content_type="multipart/form-data",
                           data={"title": "Leak Test", "bpm": "140", "key": "F#m",
                                 "file": (io.BytesIO(songs["beat"].read_bytes()), "master.wav")})
    assert response.status_code == 202, response.json
    beat_id = response.json["id"]
    tiers = offer_all(seller_headers, beat_id, names=["Basic lease"])
    second_buyer = make_user(Role.ARTIST, "Bob Leaker")
    lease = tiers["Basic lease"]["id"]
    return beat_id, [sell(beat_id, lease, buyer[0]), sell(beat_id, lease, second_buyer)]


def delivered_mp3(app, license_id: str, folder: Path) -> Path:
    with app.app_context():
        license_ = db.session.get(License, license_id)
        key = next(f.key for f in license_.files if f.kind == "mp3")
        with storage().local_copy(key) as local:
            return Path(shutil.copy(local, folder / f"{license_id}.mp3"))


def leaked_excerpt(delivered: Path, folder: Path, start: float = 6) -> Path:
    """What a leak looks like: 30 seconds of it, re-encoded as AAC at 128 kbps."""
    out = folder / f"{delivered.stem}-leak.m4a"
    ffmpeg("-ss", str(start), "-t", "30", "-i", str(delivered), "-c:a", "aac", "-b:a", "128k", str(out))
    return out


def trace(client, headers, path: Path):
    return client.post("/api/v1/admin/trace", data={"file": (io.BytesIO(path.read_bytes()), path.name)},
                       headers=headers, content_type="multipart/form-data")


@pytest.fixture
def admin_headers(make_user, headers_for):
    return headers_for(make_user(Role.ADMIN, "Admin"))


def test_the_mark_is_inaudible_by_measure(songs):
    master = watermark.decode(songs["beat"])
    marked = watermark.embed(master, b"a license's seed")
    whole, worst_second = watermark.signal_to_mark(master, marked)
    assert whole >= 35
    assert worst_second >= 25
    assert (marked != master).any()


def test_a_lease_delivery_is_marked(app, two_leases, tmp_path, songs):
    _, license_ids = two_leases
    first, second = (delivered_mp3(app, license_id, tmp_path) for license_id in license_ids)
    unmarked = tmp_path / "unmarked.mp3"
    encode_mp3(songs["beat"], unmarked)
    # The audio differs from an unmarked build and between buyers (the tags differ anyway,
    # so compare the decoded audio).
    plain, a, b = (watermark.decode(path) for path in (unmarked, first, second))
    assert (a != plain).any() and (a != b).any()
    with app.app_context():
        seeds = [db.session.get(License, license_id).watermark_seed for license_id in license_ids]
        assert all(seed and len(seed) == 64 for seed in seeds) and seeds[0] != seeds[1]


def test_a_reencoded_excerpt_names_the_right_buyer_of_two(app, client, two_leases, tmp_path, admin_headers):
    _, license_ids = two_leases
    for license_id in license_ids:
        leak = leaked_excerpt(delivered_mp3(app, license_id, tmp_path), tmp_path)
        response = trace(client, admin_headers, leak)
        assert response.status_code == 200, response.json
        with app.app_context():
            license_ = db.session.get(License, license_id)
            assert response.json["found"] is True
            assert response.json["license_number"] == license_.license_number
            assert response.json["buyer_name"] == license_.buyer_name
            assert response.json["beat_title"] == "Leak Test"
        assert response.json["z_score"] >= 7 and response.json["confidence"] > 0.999999
        assert abs(response.json["offset_seconds"] - 6) < 0.1


def test_an_unmarked_copy_or_another_beat_has_no_mark(app, client, two_leases, tmp_path, songs, admin_headers):
    unmarked = tmp_path / "unmarked.mp3"
    encode_mp3(songs["beat"], unmarked)  # as an exclusive's MP3 is built: the beat, no mark
    response = trace(client, admin_headers, leaked_excerpt(unmarked, tmp_path))
    assert response.status_code == 200, response.json
    assert response.json["found"] is False and response.json["license_number"] is None
    assert response.json["beat_title"] == "Leak Test"  # recognised, but no license's mark in it
    other = tmp_path / "other.mp3"
    encode_mp3(songs["other"], other, mark_seed=b"not a license of ours")
    response = trace(client, admin_headers, leaked_excerpt(other, tmp_path))
    assert response.status_code == 200, response.json
    assert response.json["found"] is False and response.json["beat_title"] is None


def test_a_file_that_is_not_audio_is_refused_in_words(client, admin_headers, tmp_path):
    junk = tmp_path / "notes.mp3"
    junk.write_text("not a recording ✨ at all")
    response = trace(client, admin_headers, junk)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "not_audio"
    short = tmp_path / "short.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=2", str(short))
    response = trace(client, admin_headers, short)
    assert response.status_code == 422 and response.json["error"]["code"] == "audio_too_short"


def test_the_command_line_prints_number_buyer_date_and_confidence(app, two_leases, tmp_path, songs):
    _, license_ids = two_leases
    leak = leaked_excerpt(delivered_mp3(app, license_ids[1], tmp_path), tmp_path, start=2)
    result = app.test_cli_runner().invoke(args=["licenses", "trace", str(leak)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        license_ = db.session.get(License, license_ids[1])
        assert f"license {license_.license_number}" in result.output
        assert f"buyer Bob Leaker ({license_.buyer_id})" in result.output
        assert f"issued {license_.issued_at:%Y-%m-%d %H:%M} UTC" in result.output
    assert re.search(r"confidence (over )?99\.9999%.*\(z = \d+\.\d+", result.output)
    other = tmp_path / "other.wav"
    shutil.copy(songs["other"], other)
    result = app.test_cli_runner().invoke(args=["licenses", "trace", str(other)])
    assert result.exit_code == 0 and result.output.strip() == "no mark found"
