"""Uploads end to end: real audio through ffprobe, storage, the preview job and the API."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest

from marketplace.accounts.models import Role
from marketplace.catalog.models import Beat
from marketplace.db import db
from tests.media import ffmpeg, make_beat, make_tag, tag_positions


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("media")
    files = {
        "wav": make_beat(folder / "beat.wav"),
        "mp3": make_beat(folder / "beat.mp3", extra=("-b:a", "192k")),
        "flac": make_beat(folder / "beat.flac"),
        "aiff": make_beat(folder / "beat.aiff"),
        "ogg": make_beat(folder / "beat.ogg", extra=("-c:a", "libvorbis")),
        "short": make_beat(folder / "short.wav", seconds=5),
        "long": make_beat(folder / "long.wav", seconds=40),
        "low_rate": make_beat(folder / "low.wav", rate=22050),
        "surround": make_beat(folder / "surround.wav", channels=6),
        "tag": make_tag(folder / "tag.wav"),
        "long_tag": make_beat(folder / "long_tag.wav", seconds=12),
    }
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=64x64:d=1", "-frames:v", "1", str(folder / "cover.png"))
    ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=64x64:d=1", "-frames:v", "1", str(folder / "photo.jpg"))
    files["cover"] = folder / "cover.png"
    files["jpeg_as_mp3"] = folder / "photo.mp3"
    files["jpeg_as_mp3"].write_bytes((folder / "photo.jpg").read_bytes())
    truncated = folder / "truncated.wav"
    whole = files["wav"].read_bytes()
    truncated.write_bytes(whole[: len(whole) * 4 // 5])  # the header still declares 20 s
    files["truncated"] = truncated
    for kind in ("flac", "mp3"):  # compressed: the header (STREAMINFO, Xing) declares 20 s
        data = files[kind].read_bytes()
        files[f"truncated_{kind}"] = folder / f"truncated.{kind}"
        files[f"truncated_{kind}"].write_bytes(data[: len(data) * 3 // 5])
    files["empty"] = folder / "empty.wav"
    files["empty"].write_bytes(b"")
    return files


@pytest.fixture
def beatmaker(make_user, headers_for):
    user = make_user(Role.BEATMAKER, "Metro")
    return user, headers_for(user)


def upload(client, headers, master: Path | None, *, name=None, stems=None, cover=None, **fields):
    data = {"title": "Night Drive", "bpm": "140", **fields}
    if master is not None:
        data["file"] = (io.BytesIO(master.read_bytes()), name or master.name)
    if stems is not None:
        data["stems"] = (io.BytesIO(stems), "stems.zip")
    if cover is not None:
        data["cover"] = (io.BytesIO(cover.read_bytes()), cover.name)
    return client.post("/api/v1/beats", data=data, headers=headers, content_type="multipart/form-data")


def stored_files(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


@pytest.mark.parametrize("kind", ["wav", "mp3", "flac", "aiff"])
def test_upload_is_checked_stored_and_published_with_a_preview(app, client, beatmaker, media, kind, storage_root):
    user, headers = beatmaker
    response = upload(client, headers, media[kind], tags="dark, 808", key="F#m", genre="Trap")
    assert response.status_code == 202, response.json
    assert response.json["status"] == "processing"
    beat_id = response.json["id"]
    beat = client.get(f"/api/v1/beats/{beat_id}").json  # the job has run (eager in tests)
    assert beat["status"] == "published", beat
    assert beat["tags"] == ["dark", "808"] and beat["key"] == "F# minor" and beat["genre"] == "trap"
    assert 19_900 <= beat["duration_ms"] <= 20_100
    assert beat["lossless_master"] == (kind != "mp3")
    with app.app_context():
        record = db.session.get(Beat, beat_id)
        assert record.master_sha256 == hashlib.sha256(media[kind].read_bytes()).hexdigest()
        assert record.master_format == kind
        master_key = record.master_key
    assert (storage_root / master_key).read_bytes() == media[kind].read_bytes()
    # The master is private: nothing in the answer points at it, and no route serves it.
    assert master_key not in str(beat) and "masters/" not in str(beat)
    assert client.get(f"/static/../instance/storage/{master_key}").status_code == 404


def test_preview_carries_the_tag_at_the_set_positions(app, client, beatmaker, media, tmp_path):
    user, headers = beatmaker
    tag = client.put("/api/v1/me/voice-tag", headers=headers, content_type="multipart/form-data",
                     data={"file": (io.BytesIO(media["tag"].read_bytes()), "tag.wav")})
    assert tag.status_code == 200, tag.json
    assert tag.json["custom"] is True and 900 <= tag.json["duration_ms"] <= 1100
    placed = client.patch("/api/v1/me/voice-tag", headers=headers,
                          json={"interval_seconds": 7, "first_at_seconds": 2, "gain_db": -3})
    assert placed.status_code == 200 and placed.json["interval_seconds"] == 7
    for kind in ("wav", "mp3"):
        beat = client.get(f"/api/v1/beats/{upload(client, headers, media[kind]).json['id']}").json
        preview = client.get(beat["preview_url"])
        assert preview.status_code == 200 and preview.mimetype == "audio/mpeg"
        path = tmp_path / f"preview-{kind}.mp3"
        path.write_bytes(preview.data)
        positions = tag_positions(path, media["tag"])
        assert [round(p, 1) for p in positions] == [2.0, 9.0, 16.0], (kind, positions)
        assert tag_positions(media[kind], media["tag"]) == []  # the master itself has no tag


def test_preview_format_and_metadata(client, beatmaker, media, tmp_path):
    import json
    import subprocess

    _user, headers = beatmaker
    beat = client.get(f"/api/v1/beats/{upload(client, headers, media['wav'], title='Velvet').json['id']}").json
    path = tmp_path / "preview.mp3"
    path.write_bytes(client.get(beat["preview_url"]).data)
    described = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True, check=True).stdout)
    stream, fmt = described["streams"][0], described["format"]
    assert stream["codec_name"] == "mp3" and stream["sample_rate"] == "44100" and stream["channels"] == 2
    assert 120_000 <= int(fmt["bit_rate"]) <= 136_000
    assert 19.8 <= float(fmt["duration"]) <= 20.2
    assert fmt["tags"]["title"] == "Velvet" and fmt["tags"]["artist"] == "Metro"
    assert fmt["tags"]["comment"] == "preview"
    # The platform's default tag is audible in it (this beatmaker set no tag of their own).
    from marketplace.audio import DEFAULT_TAG_PATH

    assert [round(p, 1) for p in tag_positions(path, DEFAULT_TAG_PATH, threshold=0.4)] == [0.0]


def test_preview_streams_with_range_etag_and_counts_plays(client, beatmaker, media):
    _user, headers = beatmaker
    beat = client.get(f"/api/v1/beats/{upload(client, headers, media['wav']).json['id']}").json
    url = beat["preview_url"]
    whole = client.get(url)
    assert whole.status_code == 200 and whole.headers["Accept-Ranges"] == "bytes"
    assert "public" in whole.headers["Cache-Control"] and whole.headers["ETag"]
    part = client.get(url, headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.data == whole.data[1000:2000]
    assert part.headers["Content-Range"].startswith("bytes 1000-1999/")
    assert client.get(url, headers={"If-None-Match": whole.headers["ETag"]}).status_code == 304
    # The first request and the 304 revalidation start at byte 0; the seek does not count.
    assert client.get(f"/api/v1/beats/{beat['id']}").json["play_count"] == 2


def test_waveform_is_audiowaveform_json(client, beatmaker, media):
    _user, headers = beatmaker
    beat = client.get(f"/api/v1/beats/{upload(client, headers, media['wav']).json['id']}").json
    waveform = client.get(beat["waveform_url"])
    assert waveform.status_code == 200 and waveform.mimetype == "application/json"
    body = waveform.json
    assert {k: body[k] for k in ("version", "channels", "sample_rate", "samples_per_pixel", "bits")} == {
        "version": 2, "channels": 1, "sample_rate": 44100, "samples_per_pixel": 512, "bits": 8}
    assert abs(body["length"] - 20 * 44100 / 512) <= 2
    assert len(body["data"]) == 2 * body["length"]
    lows, highs = body["data"][0::2], body["data"][1::2]
    assert all(-128 <= low <= high <= 127 for low, high in zip(lows, highs))
    assert max(highs) > 20  # real signal, not silence


def stems_zip(entries: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)
            archive.writestr(info, "../../etc/passwd")
    return buffer.getvalue()


def test_stems_are_accepted_and_kept_private(app, client, beatmaker, media, storage_root):
    _user, headers = beatmaker
    archive = stems_zip({"drums.wav": media["short"].read_bytes(), "bass/bass.mp3": media["mp3"].read_bytes()})
    response = upload(client, headers, media["wav"], stems=archive, cover=media["cover"])
    assert response.status_code == 202, response.json
    beat = client.get(f"/api/v1/beats/{response.json['id']}").json
    assert beat["has_stems"] is True
    cover = client.get(beat["cover_url"])
    assert cover.status_code == 200 and cover.mimetype == "image/jpeg"  # the platform's rendition
    with app.app_context():
        record = db.session.get(Beat, beat["id"])
        stored = (storage_root / record.stems_key).read_bytes()
        assert record.stems_sha256 == hashlib.sha256(stored).hexdigest()
    # The platform's own ZIP of the same files.
    with zipfile.ZipFile(io.BytesIO(stored)) as rebuilt, zipfile.ZipFile(io.BytesIO(archive)) as sent:
        assert {name: rebuilt.read(name) for name in rebuilt.namelist()} == \
            {name: sent.read(name) for name in sent.namelist()}


BAD_UPLOADS = [
    ("jpeg_as_mp3", {}, 415, "not_audio"),
    ("empty", {}, 422, "empty_file"),
    ("short", {}, 422, "audio_too_short"),
    ("surround", {}, 422, "too_many_channels"),
    ("low_rate", {}, 422, "sample_rate_too_low"),
    ("truncated", {}, 422, "truncated_audio"),
    ("truncated_flac", {}, 422, "truncated_audio"),
    ("truncated_mp3", {}, 422, "truncated_audio"),
    ("ogg", {}, 415, "unsupported_audio_format"),
]


@pytest.mark.parametrize("kind, fields, status, code", BAD_UPLOADS)
def test_bad_masters_are_refused_and_leave_nothing(app, client, beatmaker, media, storage_root, kind, fields,
                                                   status, code):
    _user, headers = beatmaker
    before = stored_files(storage_root)
    response = upload(client, headers, media[kind], name="beat.mp3", **fields)
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    assert response.json["error"]["details"]["field"] == "file"
    assert stored_files(storage_root) == before
    with app.app_context():
        assert db.session.query(Beat).count() == 0


@pytest.mark.parametrize("entries, links, code", [
    ({"../evil.wav": b"RIFF0000WAVE"}, (), "stems_unsafe_path"),
    ({"/abs/evil.wav": b"RIFF0000WAVE"}, (), "stems_unsafe_path"),
    ({"ok.wav": b"RIFF0000WAVE"}, ("link.wav",), "stems_link"),
    ({"readme.txt": b"hello"}, (), "stems_not_audio"),
    ({"fake.wav": b"MZ this is an exe"}, (), "stems_executable"),
    ({f"s{i}.wav": b"RIFF0000WAVE" for i in range(65)}, (), "stems_too_many_files"),
    ({"bomb.wav": b"RIFF" + bytes(3 * 1024 * 1024)}, (), "stems_too_large"),
    ({}, (), "stems_empty"),
])
def test_bad_stems_are_refused_and_leave_nothing(database_factory, media, entries, links, code, tmp_path):
    from tests.catalog.conftest import standalone_client

    client, headers, count_beats = standalone_client(database_factory(), tmp_path,
                                                     STEMS_MAX_UNCOMPRESSED_BYTES=2 * 1024 * 1024)
    response = upload(client, headers, media["wav"], stems=stems_zip(entries, links))
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == code
    assert response.json["error"]["details"]["field"] == "stems"
    assert stored_files(tmp_path / "storage") == set()
    assert count_beats() == 0


def test_stems_that_are_not_a_zip_are_415(client, beatmaker, media):
    _user, headers = beatmaker
    response = upload(client, headers, media["wav"], stems=b"not a zip at all")
    assert response.status_code == 415 and response.json["error"]["code"] == "stems_not_zip"


def test_over_the_configured_length_is_refused(database_factory, media, tmp_path):
    from tests.catalog.conftest import standalone_client

    client, headers, _count = standalone_client(database_factory(), tmp_path, AUDIO_MAX_SECONDS=30)
    response = upload(client, headers, media["long"])
    assert response.status_code == 422 and response.json["error"]["code"] == "audio_too_long"


def test_form_mistakes_are_422_or_415(client, beatmaker, media):
    _user, headers = beatmaker
    assert upload(client, headers, None).status_code == 422  # no file
    assert upload(client, headers, media["wav"], bpm="fast").json["error"]["details"].keys() >= {"bpm"}
    assert upload(client, headers, media["wav"], key="H#").status_code == 422
    assert upload(client, headers, media["wav"], owner_id="usr_x").status_code == 422
    bad_cover = media["tag"]
    refused = upload(client, headers, media["wav"], cover=bad_cover)
    assert refused.status_code == 415 and refused.json["error"]["code"] == "unsupported_image"
    as_json = client.post("/api/v1/beats", json={"title": "x", "bpm": 100}, headers=headers)
    assert as_json.status_code == 415


def test_only_beatmakers_upload(client, make_user, headers_for, media):
    artist = headers_for(make_user(Role.ARTIST))
    assert upload(client, artist, media["wav"]).status_code == 403
    assert upload(client, {}, media["wav"]).status_code == 401


def test_spooled_uploads_are_removed_after_the_request(database_factory, media, tmp_path):
    from tests.catalog.conftest import standalone_client

    spool = tmp_path / "spool"
    spool.mkdir()
    client, headers, _count = standalone_client(database_factory(), tmp_path, UPLOAD_TMP_DIR=str(spool))
    assert upload(client, headers, media["wav"]).status_code == 202
    assert upload(client, headers, media["jpeg_as_mp3"]).status_code == 415
    assert os.listdir(spool) == []
