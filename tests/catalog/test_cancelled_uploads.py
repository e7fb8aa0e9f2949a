"""An upload cancelled while its body is being sent (the studio's Cancel, a closed tab, a lost
connection): the server stores nothing of it, keeps no spooled part, and the beat stays as it
was. Sent over a real socket to the app served on a local port, cut off half-way."""

from __future__ import annotations

import io
import socket
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.catalog.models import Beat
from marketplace.db import db
from marketplace.migrate import upgrade
from tests.conftest import DEFAULT_PASSWORD, bearer, login, make_test_app
from tests.media import make_beat

BOUNDARY = "----cancelled-upload"


@pytest.fixture
def served(database_factory, tmp_path):
    """An app of its own (its own storage and spool folders, to look into), served on a port."""
    spool, root = tmp_path / "spool", tmp_path / "storage"
    spool.mkdir()
    app = make_test_app(database_factory(), STORAGE_LOCAL_ROOT=str(root), UPLOAD_TMP_DIR=str(spool))
    with app.app_context():
        upgrade(db.engine)
        accounts.create_user("cancel@example.com", DEFAULT_PASSWORD, "Canceller", Role.BEATMAKER,
                             verified=True)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, server.server_port, spool, root
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


def _multipart(fields: dict[str, str], file_field: str, content: bytes, name: str) -> bytes:
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
             for key, value in fields.items()]
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{name}"\r\n'
                 f"Content-Type: audio/wav\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def _send_half_and_hang_up(port: int, method: str, path: str, token: str, body: bytes) -> None:
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {len(body)}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(head.encode() + body[: len(body) // 2])
        connection.shutdown(socket.SHUT_WR)  # the browser aborts: nothing more comes
        connection.settimeout(30)
        try:
            while connection.recv(65536):  # whatever the server answers, until it closes
                pass
        except (ConnectionResetError, TimeoutError):
            pass


def _files(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def _settled(spool: Path) -> list[str]:
    """The spool folder once the request that was cut off has been dropped."""
    deadline = time.monotonic() + 30
    while _files(spool) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _files(spool)


def test_an_upload_cut_off_half_way_stores_nothing(served, tmp_path):
    app, port, spool, root = served
    client = app.test_client()
    token = login(client, "cancel@example.com").json["access_token"]
    master = make_beat(tmp_path / "master.wav").read_bytes()
    before = _files(root)
    _send_half_and_hang_up(port, "POST", "/api/v1/beats", token,
                           _multipart({"title": "Never sent", "bpm": "120"}, "file", master, "master.wav"))
    assert _settled(spool) == []
    assert _files(root) == before
    with app.app_context():
        assert db.session.query(Beat).count() == 0


def test_a_replacement_cut_off_half_way_leaves_the_beat_as_it_was(served, tmp_path):
    app, port, spool, root = served
    client = app.test_client()
    token = login(client, "cancel@example.com").json["access_token"]
    headers = bearer(token)
    master = make_beat(tmp_path / "master.wav").read_bytes()
    created = client.post("/api/v1/beats", headers=headers, content_type="multipart/form-data",
                          data={"title": "Kept", "bpm": "120", "file": (io.BytesIO(master), "master.wav")})
    assert created.status_code == 202, created.json
    beat_id = created.json["id"]
    beat_before = client.get(f"/api/v1/beats/{beat_id}", headers=headers).json
    files_before = client.get(f"/api/v1/beats/{beat_id}/files", headers=headers).json
    stored_before = _files(root)

    other = make_beat(tmp_path / "other.wav", seconds=25).read_bytes()
    _send_half_and_hang_up(port, "PUT", f"/api/v1/beats/{beat_id}/master", token,
                           _multipart({}, "file", other, "other.wav"))
    assert _settled(spool) == []
    assert _files(root) == stored_before
    assert client.get(f"/api/v1/beats/{beat_id}/files", headers=headers).json == files_before
    assert client.get(f"/api/v1/beats/{beat_id}", headers=headers).json == beat_before
