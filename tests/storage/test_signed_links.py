"""Signed, expiring links to files of the local backend, served by the app at /files/<token>."""

from __future__ import annotations

import io
import os
import uuid

import pytest

from marketplace.storage.service import make_link_token
from tests.storage.conftest import DOWNLOAD_NAMES, attachment_filename


@pytest.fixture
def store(app):
    """Saves bytes through the app's storage under a fresh key; removes them afterwards."""
    storage, keys = app.extensions["storage"], []

    def save(data: bytes, name: str = "file.wav") -> str:
        key = f"tests/links/{uuid.uuid4().hex}/{name}"
        storage.save(key, io.BytesIO(data))
        keys.append(key)
        return key

    yield save
    for key in keys:
        storage.delete(key)


def link(app, key: str, expires_in: int = 60, **kwargs) -> str:
    with app.test_request_context():  # the local backend builds its links with url_for
        return app.extensions["storage"].signed_url(key, expires_in, **kwargs)


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.data[:200]
    assert response.json["error"]["code"] == code
    assert set(response.json["error"]) == {"code", "message", "details"}


def test_a_signed_link_downloads_the_file_privately(app, client, store):
    data = os.urandom(100_000)
    url = link(app, store(data), download_name="Night Drive.wav", content_type="audio/wav")
    assert url.startswith("/files/")
    response = client.get(url)
    assert response.status_code == 200 and response.data == data
    assert response.mimetype == "audio/wav"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert attachment_filename(response.headers["Content-Disposition"]) == "Night Drive.wav"
    assert response.headers["Content-Disposition"].startswith("attachment")


def test_a_signed_link_answers_range_requests(app, client, store):
    data = os.urandom(100_000)
    url = link(app, store(data), download_name="Night Drive.wav")
    response = client.get(url, headers={"Range": "bytes=1000-1999"})
    assert response.status_code == 206 and response.data == data[1000:2000]
    assert response.headers["Content-Range"] == "bytes 1000-1999/100000"
    assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("download_name", DOWNLOAD_NAMES)
def test_the_download_name_survives_quotes_and_non_ascii_letters(app, client, store, download_name):
    response = client.get(link(app, store(b"RIFF....WAVE"), download_name=download_name))
    assert response.status_code == 200
    assert attachment_filename(response.headers["Content-Disposition"]) == download_name


def test_without_a_download_name_the_file_is_shown_inline(app, client, store):
    response = client.get(link(app, store(b"ID3...", "preview.mp3"), content_type="audio/mpeg"))
    assert response.status_code == 200 and response.data == b"ID3..."
    assert response.mimetype == "audio/mpeg"
    assert "attachment" not in response.headers.get("Content-Disposition", "")


def _swap_character(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1:]


def tampered_signature(app, key: str) -> str:
    payload, signature = link(app, key).removeprefix("/files/").rsplit(".", 1)
    return f"/files/{payload}.{_swap_character(signature, 0)}"


def tampered_payload(app, key: str) -> str:
    payload, signature = link(app, key).removeprefix("/files/").rsplit(".", 1)
    return f"/files/{_swap_character(payload, 3)}.{signature}"


def signed_with_another_secret(app, key: str) -> str:
    return f"/files/{make_link_token('another secret, not the app one', key, 60, None, None)}"


def not_a_token(app, key: str) -> str:
    return "/files/not-a-token"


@pytest.mark.parametrize("make_url", [tampered_signature, tampered_payload, signed_with_another_secret,
                                      not_a_token])
def test_a_tampered_link_is_404(app, client, store, make_url):
    key = store(b"secret master")
    assert client.get(link(app, key)).status_code == 200  # the genuine link works
    response = client.get(make_url(app, key))
    assert_error(response, 404, "file_not_found")
    assert b"secret master" not in response.data


def test_an_expired_link_is_410(app, client, store, frozen_time):
    url = link(app, store(b"master"), expires_in=1)
    frozen_time.advance(1)
    assert client.get(url).status_code == 200  # good to its last second
    frozen_time.advance(0.5)
    assert_error(client.get(url), 410, "link_expired")


def test_a_link_to_a_missing_file_is_404(app, client, store):
    assert_error(client.get(link(app, "tests/links/never-saved.wav")), 404, "file_not_found")
    key = store(b"soon gone")
    url = link(app, key)
    app.extensions["storage"].delete(key)
    assert_error(client.get(url), 404, "file_not_found")


def test_a_genuinely_signed_link_to_an_unsafe_key_is_404_not_500(app, client):
    token = make_link_token(app.config["SECRET_KEY"], "../../config.py", 60, None, None)
    assert_error(client.get(f"/files/{token}"), 404, "file_not_found")


def test_a_guarded_link_asks_its_guard_at_every_use(app, client, store):
    from marketplace.common.errors import Conflict
    from marketplace.storage.service import guarded_link, register_link_guard

    allowed = {"yes"}

    def guard(subject_id):
        if subject_id not in allowed:
            raise Conflict("Not any more.", code="not_any_more")

    register_link_guard("test-subject", guard)
    key = store(b"guarded master")
    with app.test_request_context():
        url = guarded_link(key, 60, ("test-subject", "yes"), download_name="m.wav")
    assert client.get(url).data == b"guarded master"
    allowed.clear()
    assert_error(client.get(url), 409, "not_any_more")


def test_a_link_naming_a_guard_nobody_registered_is_404(app, client, store):
    token = make_link_token(app.config["SECRET_KEY"], store(b"master"), 60, None, None, ("nobody", "x"))
    assert_error(client.get(f"/files/{token}"), 404, "file_not_found")
