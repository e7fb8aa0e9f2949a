"""Inputs that once reached the database or a decoder unchecked."""

from __future__ import annotations

import base64
import io
import json
import zipfile

import pytest

from marketplace.accounts.models import Role


def cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize("sort, key", [("popular", 10**30), ("bpm", 2**63), ("price_asc", -(2**64)),
                                       ("newest", "0001-01-01T00:00:00+14:00")])
def test_cursors_with_impossible_values_are_422(client, sort, key):
    response = client.get(f"/api/v1/beats?sort={sort}&cursor={cursor({'s': sort, 'k': key, 'id': 'bt_x'})}")
    assert response.status_code == 422 and "cursor" in response.json["error"]["details"]


@pytest.mark.parametrize("path", ["/api/v1/beats/%00", "/api/v1/beats/a%00b/credits", "/api/v1/licenses/verify/%00",
                                  "/api/v1/beats/" + "x" * 65])
def test_impossible_ids_are_404(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_labels_that_grow_when_lower_cased_are_checked_after(client, make_user, make_beat, headers_for):
    owner = make_user(Role.BEATMAKER)
    beat = make_beat(owner)
    # 40 characters are allowed, but casefolding turns each ß into ss: 80 is too long to store.
    response = client.patch(f"/api/v1/beats/{beat}", headers=headers_for(owner), json={"genre": "ß" * 40})
    assert response.status_code == 422 and "genre" in response.json["error"]["details"]


def test_stems_with_corrupt_compressed_data_are_422(client, make_user, headers_for, tmp_path):
    from tests.media import make_beat as make_audio

    owner = headers_for(make_user(Role.BEATMAKER))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("drums.wav", b"RIFF" + bytes(4096))
    data = bytearray(buffer.getvalue())
    start = data.index(b"drums.wav") + len("drums.wav")  # the compressed bytes follow the name
    data[start:start + 8] = b"\xff" * 8
    master = make_audio(tmp_path / "m.wav")
    response = client.post("/api/v1/beats", headers=owner, content_type="multipart/form-data", data={
        "title": "x", "bpm": "100", "file": (io.BytesIO(master.read_bytes()), "m.wav"),
        "stems": (io.BytesIO(bytes(data)), "stems.zip")})
    assert response.status_code == 422, response.json
    assert response.json["error"]["details"]["field"] == "stems"


def test_previews_of_beats_not_public_are_not_cached_publicly(app, client, make_user, headers_for, tmp_path):
    from tests.media import make_beat as make_audio

    owner = make_user(Role.BEATMAKER)
    headers = headers_for(owner)
    master = make_audio(tmp_path / "m.wav")
    beat = client.post("/api/v1/beats", headers=headers, content_type="multipart/form-data", data={
        "title": "x", "bpm": "100", "file": (io.BytesIO(master.read_bytes()), "m.wav")}).json
    public = client.get(f"/api/v1/beats/{beat['id']}/preview")
    assert public.headers["Cache-Control"].startswith("public")
    client.delete(f"/api/v1/beats/{beat['id']}", headers=headers)
    private = client.get(f"/api/v1/beats/{beat['id']}/preview", headers=headers)
    assert private.status_code == 200 and private.headers["Cache-Control"] == "private, no-store"
