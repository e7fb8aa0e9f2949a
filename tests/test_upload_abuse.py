"""Hostile uploads, sent over real HTTP to a live server: ZIP bombs and unsafe ZIP entries as
stems, masters that lie about their length or are not audio at all, empty parts, and file
names no file should have. Each is refused with a clear 4xx and a stable code, and leaves
no beat, no stored file and no temporary file behind."""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import shutil
import struct
import tempfile
import threading
import time
import wave
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from werkzeug.serving import make_server

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.catalog.models import Beat
from marketplace.db import db
from marketplace.migrate import upgrade
from marketplace.demo.reset import wipe_all_rows
from tests.conftest import DEFAULT_PASSWORD, make_test_app
from tests.media import ffmpeg, make_beat

GIB = 1024**3


# -- the files -------------------------------------------------------------------------------

def deflated_zeros(head: bytes, size: int) -> tuple[bytes, int]:
    """`head` then zeros up to `size` bytes, raw-deflated (about 1 MB per GB), and its CRC-32."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1024 * 1024)
    parts, crc = [compressor.compress(head)], zlib.crc32(head)
    left = size - len(head)
    while left > 0:
        piece = chunk[:min(left, len(chunk))]
        parts.append(compressor.compress(piece))
        crc = zlib.crc32(piece, crc)
        left -= len(piece)
    parts.append(compressor.flush())
    return b"".join(parts), crc


def raw_zip(entries: list[tuple[str, bytes, int, int]]) -> bytes:
    """A ZIP written field by field, so its headers can say what we like: entries are
    (name, deflated data, CRC-32, declared uncompressed size)."""
    body, directory = io.BytesIO(), io.BytesIO()
    for name, data, crc, declared in entries:
        encoded = name.encode()
        offset = body.tell()
        body.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), declared,
                               len(encoded), 0) + encoded + data)
        directory.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data),
                                    declared, len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
    start, size = body.tell(), directory.tell()
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), size, start, 0)
    return body.getvalue() + directory.getvalue() + end


def stems_zip(entries: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data)  # the name exactly as given
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16  # a symbolic link
            archive.writestr(info, "../../../etc/passwd")
    return buffer.getvalue()


def two_hour_wav(path: Path) -> Path:
    """Two hours of real audio, kept cheap: 8 kHz mono 8-bit (about 58 MB)."""
    rate, seconds = 8000, 2 * 3600
    second = (128 + 60 * np.sin(2 * np.pi * 110 * np.arange(rate) / rate)).astype(np.uint8).tobytes()
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        for _ in range(seconds // 60):
            out.writeframes(second * 60)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("abuse")
    made = {"wav": make_beat(folder / "beat.wav"), "two_hours": two_hour_wav(folder / "two-hours.wav")}
    whole = made["wav"].read_bytes()
    made["half"] = folder / "half.wav"
    made["half"].write_bytes(whole[: len(whole) // 2])  # the header still declares 20 s
    data_at = whole.index(b"data") + 4
    claims_two_hours = bytearray(whole)  # 20 s of audio under a header declaring two hours of it
    claims_two_hours[data_at:data_at + 4] = (2 * 3600 * 44100 * 4).to_bytes(4, "little")
    made["claims_two_hours"] = folder / "claims.wav"
    made["claims_two_hours"].write_bytes(bytes(claims_two_hours))
    ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=64x64:d=1", "-frames:v", "1", str(folder / "photo.jpg"))
    made["jpeg_as_mp3"] = folder / "photo.mp3"
    made["jpeg_as_mp3"].write_bytes((folder / "photo.jpg").read_bytes())
    made["empty"] = folder / "empty.wav"
    made["empty"].write_bytes(b"")

    one_gib, crc = deflated_zeros(b"RIFF", GIB)
    # Three entries that really unpack to 1 GiB each, in a ZIP of about 3 MB.
    (folder / "bomb.zip").write_bytes(raw_zip([(f"stem{i}.wav", one_gib, crc, GIB) for i in range(3)]))
    made["zip_bomb"] = folder / "bomb.zip"
    # One entry that says it holds 1 KiB (with the CRC of that first KiB) and unpacks to 1 GiB.
    small_crc = zlib.crc32(b"RIFF" + bytes(1020))
    (folder / "liar.zip").write_bytes(raw_zip([("drums.wav", one_gib, small_crc, 1024)]))
    made["zip_size_lie"] = folder / "liar.zip"
    return made


# -- the live server ------------------------------------------------------------------------------

class Site:
    """A server of our own: its own database, storage, upload spool and system temp folder."""

    def __init__(self, app, base: str, folder: Path) -> None:
        self.app, self.folder = app, folder
        self.host, self.port = base.split("//")[1].split(":")
        self.spool, self.system_tmp = folder / "spool", folder / "system-tmp"
        self.storage = folder / "storage"
        self.token = ""

    def post(self, path: str, parts: list[tuple], headers: dict[str, str] | None = None):
        """POST a multipart body built by hand from parts (name, filename or None, content):
        content is bytes or a Path streamed from disk. A part may also be raw header bytes."""
        boundary = "----abuse-boundary-7MA4YWxkTrZu0gW"
        chunks, length = [], 0
        for part in parts:
            if isinstance(part, bytes):  # a part written entirely by the test
                head, content = b"--" + boundary.encode() + b"\r\n" + part, b""
            else:
                name, filename, content = part
                disposition = f'form-data; name="{name}"'
                if filename is not None:
                    disposition += f'; filename="{filename}"' if isinstance(filename, str) else ""
                head = f"--{boundary}\r\nContent-Disposition: {disposition}".encode()
                if isinstance(filename, bytes):  # already encoded, as is
                    head += b"; " + filename
                if filename is not None:
                    head += b"\r\nContent-Type: application/octet-stream"
                head += b"\r\n\r\n"
            chunks.append(head)
            length += len(head)
            if isinstance(content, Path):
                chunks.append(content)
                length += content.stat().st_size
            else:
                chunks.append(content)
                length += len(content)
            chunks.append(b"\r\n")
            length += 2
        tail = f"--{boundary}--\r\n".encode()
        chunks.append(tail)
        length += len(tail)

        def body() -> Iterator[bytes]:
            for chunk in chunks:
                if isinstance(chunk, Path):
                    with open(chunk, "rb") as stream:
                        while data := stream.read(1024 * 1024):
                            yield data
                else:
                    yield chunk

        connection = http.client.HTTPConnection(self.host, int(self.port), timeout=300)
        try:
            connection.request("POST", path, body=body(), headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(length),
                "Authorization": f"Bearer {self.token}", **(headers or {})})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def upload(self, master, *, filename: str | bytes | None = "beat.wav", stems=None, cover=None,
               title: str = "Night Drive"):
        parts = [("title", None, title.encode()), ("bpm", None, b"140")]
        if master is not None:
            parts.append(("file", filename, master))
        if stems is not None:
            parts.append(("stems", "stems.zip", stems))
        if cover is not None:
            parts.append(("cover", "cover.png", cover))
        return self.post("/api/v1/beats", parts)

    def leftovers(self) -> dict[str, list[str]]:
        """Whatever a refused request could have left: temporary files and stored files."""
        return {"spool": sorted(os.listdir(self.spool)), "system_tmp": sorted(os.listdir(self.system_tmp)),
                "storage": sorted(str(path.relative_to(self.storage)) for path in self.storage.rglob("*")
                                  if path.is_file())}

    def beats(self) -> int:
        with self.app.app_context():
            return db.session.query(Beat).count()


def wait_until(condition, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture(scope="module")
def site(database_factory, tmp_path_factory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("site")
    for name in ("spool", "system-tmp", "storage"):
        (folder / name).mkdir()
    app = make_test_app(database_factory(), UPLOAD_TMP_DIR=str(folder / "spool"),
                        STORAGE_LOCAL_ROOT=str(folder / "storage"))
    with app.app_context():
        upgrade(db.engine)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # Whatever this process puts in the system temp folder now lands where the tests look.
    system_tmp, previous = str(folder / "system-tmp"), tempfile.tempdir
    tempfile.tempdir = system_tmp
    try:
        yield Site(app, f"http://127.0.0.1:{server.server_port}", folder)
    finally:
        tempfile.tempdir = previous
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def uploader(site) -> Iterator[Site]:
    """The site with a signed-in beatmaker; tables emptied afterwards."""
    try:
        with site.app.app_context():
            accounts.create_user("maker@example.com", DEFAULT_PASSWORD, "Maker", Role.BEATMAKER, verified=True)
            db.session.commit()
        login = site.app.test_client().post("/api/v1/auth/login",
                                            json={"email": "maker@example.com", "password": DEFAULT_PASSWORD})
        site.token = login.json["access_token"]
        yield site
    finally:
        with site.app.app_context():
            wipe_all_rows()
        site.app.extensions["rate_limits"].reset()  # one sign-in per test adds up
        for folder in (site.spool, site.system_tmp, site.storage):  # so a failure does not spread
            shutil.rmtree(folder)
            folder.mkdir()


def assert_refused(site: Site, answer: tuple[int, bytes], status: int, code: str, field: str | None = None):
    """A clear error (the envelope, the code, a message in words), and nothing left behind."""
    got_status, raw = answer
    body = json.loads(raw)
    assert got_status == status, body
    error = body["error"]
    assert error["code"] == code, error
    message = error["message"]
    assert len(re.findall(r"[A-Za-z]{2,}", message)) >= 3 and "Traceback" not in message, error
    assert isinstance(error["details"], dict)
    if field is not None:
        assert field in str(error["details"]), error
    assert site.beats() == 0
    empty = {"spool": [], "system_tmp": [], "storage": []}
    assert wait_until(lambda: site.leftovers() == empty), site.leftovers()


# -- stems ----------------------------------------------------------------------------------------

def test_zip_bomb_as_stems_is_refused_before_it_is_unpacked(uploader, files):
    assert files["zip_bomb"].stat().st_size < 8 * 1024 * 1024
    answer = uploader.upload(files["wav"], stems=files["zip_bomb"])
    assert_refused(uploader, answer, 422, "stems_too_large", "stems")
    assert "GB" in json.loads(answer[1])["error"]["message"]


def test_zip_entry_unpacking_to_far_more_than_it_declares_is_refused(uploader, files):
    answer = uploader.upload(files["wav"], stems=files["zip_size_lie"])
    assert_refused(uploader, answer, 422, "stems_size_mismatch", "stems")


@pytest.mark.parametrize("entries, links, code", [
    ({"../../evil.wav": b"RIFF0000WAVE"}, (), "stems_unsafe_path"),
    ({"drums/../../evil.wav": b"RIFF0000WAVE"}, (), "stems_unsafe_path"),
    ({"..\\..\\evil.wav": b"RIFF0000WAVE"}, (), "stems_unsafe_path"),
    ({"/etc/cron.d/evil.wav": b"RIFF0000WAVE"}, (), "stems_unsafe_path"),
    ({"\\windows\\evil.wav": b"RIFF0000WAVE"}, (), "stems_unsafe_path"),
    ({"C:/evil.wav": b"RIFF0000WAVE"}, (), "stems_unsafe_path"),
    ({"drums.wav": b"RIFF0000WAVE"}, ("link.wav",), "stems_link"),
    ({"drums.wav": b"RIFF0000WAVE"}, ("drums/",), "stems_link"),
], ids=["dot-dot", "dot-dot-inside", "backslashes", "absolute", "absolute-backslash", "drive-letter",
        "symlink", "symlink-named-like-a-folder"])
def test_unsafe_zip_entries_are_refused(uploader, files, entries, links, code):
    answer = uploader.upload(files["wav"], stems=stems_zip(entries, links))
    assert_refused(uploader, answer, 422, code, "stems")


# -- masters --------------------------------------------------------------------------------------

def test_two_hour_wav_is_refused_as_too_long(uploader, files):
    answer = uploader.upload(files["two_hours"])
    assert_refused(uploader, answer, 422, "audio_too_long", "file")
    assert "120.0 min" in json.loads(answer[1])["error"]["message"]


@pytest.mark.parametrize("kind", ["half", "claims_two_hours"])
def test_wav_whose_header_claims_more_data_than_it_holds_is_refused(uploader, files, kind):
    assert_refused(uploader, uploader.upload(files[kind]), 422, "truncated_audio", "file")


def test_jpeg_named_mp3_is_refused(uploader, files):
    answer = uploader.upload(files["jpeg_as_mp3"], filename="beat.mp3")
    assert_refused(uploader, answer, 415, "not_audio", "file")


def test_empty_file_is_refused(uploader, files):
    assert_refused(uploader, uploader.upload(files["empty"]), 422, "empty_file", "file")


@pytest.mark.parametrize("field", ["file", "stems", "cover"])
def test_zero_length_part_is_refused(uploader, files, field):
    parts = [("title", None, b"Night Drive"), ("bpm", None, b"140"),
             ("file", "beat.wav", b"" if field == "file" else files["wav"])]
    if field != "file":
        parts.append((field, f"{field}.bin", b""))
    answer = uploader.post("/api/v1/beats", parts)
    assert_refused(uploader, answer, 422, "empty_file", field)


def test_part_without_a_file_name_is_not_a_file(uploader):
    # What a browser sends for a file input left empty: a part with filename="" and no bytes.
    answer = uploader.upload(b"", filename="")
    assert_refused(uploader, answer, 422, "validation_failed", "file")
    assert json.loads(answer[1])["error"]["details"] == {"file": ["Missing data for required field."]}


def test_empty_optional_file_parts_are_ignored(uploader, files):
    # A browser form with the stems and cover inputs left empty: the upload goes through.
    parts = [("title", None, b"Night Drive"), ("bpm", None, b"140"), ("file", "beat.wav", files["wav"]),
             ("stems", "", b""), ("cover", "", b"")]
    status, raw = uploader.post("/api/v1/beats", parts)
    assert status == 202, raw
    assert json.loads(raw)["has_stems"] is False


# -- file names -----------------------------------------------------------------------------------

@pytest.mark.parametrize("filename", [
    b"filename*=UTF-8''beat%0D%0AX-Injected%3A%201.wav",
    b"filename*=UTF-8''beat%00.wav",
    b'filename="beat\x00.wav"',
    b'filename="beat\x1b[31m.wav"',
    b"filename*=UTF-8''beat%1B%5B2J.wav",
    b'filename="beat\x7f.wav"',
], ids=["crlf-encoded", "nul-encoded", "nul-raw", "escape-raw", "escape-encoded", "delete-raw"])
def test_file_name_with_control_characters_is_refused(uploader, files, filename):
    answer = uploader.upload(files["wav"], filename=filename)
    assert_refused(uploader, answer, 422, "invalid_filename", "file")


@pytest.mark.parametrize("size, status, code", [
    (100_000, 422, "validation_failed"), (None, 413, "payload_too_large"),
], ids=["small", "whole-master"])
def test_file_name_broken_by_a_raw_line_break_is_refused(uploader, files, size, status, code):
    # A CR LF inside the part's header ends the header line: the file name is lost, and the
    # part is read as a text field (limited to 500 KB), which is no file.
    part = (b'Content-Disposition: form-data; name="file"; filename="beat\r\nX-Injected: 1.wav"\r\n'
            b"Content-Type: audio/wav\r\n\r\n" + files["wav"].read_bytes()[:size])
    answer = uploader.post("/api/v1/beats", [("title", None, b"Night Drive"), ("bpm", None, b"140"), part])
    assert_refused(uploader, answer, status, code, "file" if status == 422 else None)


@pytest.mark.parametrize("length", [256, 4096, 60_000])
def test_very_long_file_name_is_refused(uploader, files, length):
    answer = uploader.upload(files["wav"], filename="b" * (length - 4) + ".wav")
    assert_refused(uploader, answer, 422, "invalid_filename", "file")


def test_a_normal_upload_still_goes_through(uploader, files):
    """The control case: the same server accepts a good upload with an ordinary (non-ASCII)
    name, and its spool and the system temp folder are still left empty."""
    status, raw = uploader.upload(files["wav"], filename="Nuit Blanche – été.wav",
                                  stems=stems_zip({"drums.wav": files["wav"].read_bytes()[:4096]}))
    assert status == 202, raw
    beat_id = json.loads(raw)["id"]
    with uploader.app.app_context():
        assert db.session.get(Beat, beat_id).status == "published"
    assert wait_until(lambda: uploader.leftovers()["spool"] == [] == uploader.leftovers()["system_tmp"])
    assert len(uploader.leftovers()["storage"]) == 4  # master, stems, preview, waveform
