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

    def post(self, path: str, parts: list[tuple], headers: dict[str, str] | None = None,
             method: str = "POST"):
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
            connection.request(method, path, body=body(), headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(length),
                "Authorization": f"Bearer {self.token}", **(headers or {})})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def put_tag(self, tag, filename: str = "tag.wav"):
        return self.post("/api/v1/me/voice-tag", [("file", filename, tag)], method="PUT")

    def get(self, path: str) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(self.host, int(self.port), timeout=60)
        try:
            connection.request("GET", path, headers={"Authorization": f"Bearer {self.token}"})
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


# -- stems: the listing, bounded before it is read ------------------------------------------------

def listing_zip(path: Path, names: list[str], *, announced: int | None = None, real: bytes = b"") -> Path:
    """A ZIP of empty stored entries written record by record (fast for a million), then
    `drums.wav` holding `real`. `announced` makes the end record lie about the count; past
    65,535 entries the ZIP64 end records are written, as zip tools do."""
    local, directory, offset = [], [], 0
    entries = [(name.encode(), b"") for name in names] + [(b"drums.wav", real)]
    for encoded, data in entries:
        crc = zlib.crc32(data)
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21, crc, len(data), len(data),
                             len(encoded), 0) + encoded
        local.append(header + data)
        directory.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0x21, crc, len(data),
                                     len(data), len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
        offset += len(header) + len(data)
    directory_bytes = b"".join(directory)
    count = len(entries) if announced is None else announced
    with open(path, "wb") as out:
        out.write(b"".join(local))
        out.write(directory_bytes)
        if count > 0xFFFF:
            zip64_at = offset + len(directory_bytes)
            out.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count,
                                  len(directory_bytes), offset))
            out.write(struct.pack("<IIQI", 0x07064B50, 0, zip64_at, 1))
            out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0))
        else:
            out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory_bytes), offset,
                                  0))
    return path


def test_a_million_empty_entries_are_refused_from_the_end_record(uploader, files, tmp_path):
    # Hidden empty files, which are left out of the count of stems, with one real stem.
    archive = listing_zip(tmp_path / "million.zip", [f".{i:07d}" for i in range(1_000_000)],
                          real=files["wav"].read_bytes()[:4096])
    answer = uploader.upload(files["wav"], stems=archive)
    assert_refused(uploader, answer, 422, "stems_too_many_files", "stems")
    assert "1,000,001 entries" in json.loads(answer[1])["error"]["message"]


def test_a_directory_larger_than_its_count_announces_is_refused_before_it_is_read(uploader, files, tmp_path):
    # The end record announces 3 entries; the directory holds 100,001 records, which a ZIP
    # reader walks by the directory's size, whatever the count says.
    archive = listing_zip(tmp_path / "long-listing.zip", [f".{i:07d}" for i in range(100_000)], announced=3,
                          real=files["wav"].read_bytes()[:4096])
    answer = uploader.upload(files["wav"], stems=archive)
    assert_refused(uploader, answer, 422, "stems_directory_too_large", "stems")


# -- stems: what buyers receive --------------------------------------------------------------------

def zip_with_modes(entries: list[tuple[str, bytes, int]]) -> bytes:
    """A ZIP whose entries carry the given Unix modes (folders, executable bits)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def stored_stems(site: Site, beat_id: str) -> zipfile.ZipFile:
    with site.app.app_context():
        key = db.session.get(Beat, beat_id).stems_key
    return zipfile.ZipFile(site.storage / key)


def test_folders_and_system_files_are_left_out_of_the_stems_buyers_receive(uploader, files):
    drums, bass = files["wav"].read_bytes()[:4096], files["wav"].read_bytes()[4096:8192]
    bass = b"RIFF" + bass[4:]
    archive = zip_with_modes([
        ("Beat stems/", b"", 0o40755), ("Beat stems/drums.wav", drums, 0o100755),  # executable bit set
        ("Beat stems/bass.wav", bass, 0o100644),
        ("__MACOSX/Beat stems/._drums.wav", b"\x00\x05\x16\x07", 0o100644),
        ("Beat stems/.DS_Store", b"\x00\x00\x00\x01Bud1", 0o100644), (".git/config", b"[core]", 0o100644),
        ("Beat stems/.hidden.wav", b"RIFF" + bytes(40), 0o100644)])
    status, raw = uploader.upload(files["wav"], stems=archive)
    assert status == 202, raw
    with stored_stems(uploader, json.loads(raw)["id"]) as delivered:
        assert sorted(delivered.namelist()) == ["Beat stems/bass.wav", "Beat stems/drums.wav"]
        assert delivered.read("Beat stems/drums.wav") == drums
        assert delivered.read("Beat stems/bass.wav") == bass
        assert {info.external_attr >> 16 for info in delivered.infolist()} == {0o100644}
        assert delivered.testzip() is None


@pytest.mark.parametrize("entries", [
    [("setup.exe", b"MZ\x90\x00" + bytes(60))],
    [("install.sh", b"#!/bin/sh\nrm -rf ~\n")],
    [("drums.wav", b"\x7fELF\x02\x01\x01" + bytes(60))],
    [("__MACOSX/helper.exe", b"MZ" + bytes(60))],
    [(".hidden/tool.command", b"#!/bin/sh\n")],
    [("mix.wav.exe", b"MZ" + bytes(60))],
], ids=["exe", "script", "elf-named-wav", "exe-in-macosx", "hidden-script", "double-extension"])
def test_programs_in_stems_are_refused_wherever_they_hide(uploader, files, entries):
    real = [("vocals.wav", files["wav"].read_bytes()[:4096], 0o100644)]
    archive = zip_with_modes(real + [(name, data, 0o100755) for name, data in entries])
    answer = uploader.upload(files["wav"], stems=archive)
    assert_refused(uploader, answer, 422, "stems_executable", "stems")
    assert "program" in json.loads(answer[1])["error"]["message"]


def forged_zip(entries: list[tuple[str, str, bytes]]) -> bytes:
    """Entries (name in the central directory, name in the local header, content), deflated."""
    return raw_zip_named([(central, local, *_deflated(data)) for central, local, data in entries])


def _deflated(data: bytes) -> tuple[bytes, int, int]:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(), zlib.crc32(data), len(data)


def raw_zip_named(entries: list[tuple[str, str, bytes, int, int]]) -> bytes:
    body, directory = io.BytesIO(), io.BytesIO()
    for central, local, data, crc, size in entries:
        offset = body.tell()
        body.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size,
                               len(local.encode()), 0) + local.encode() + data)
        directory.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data),
                                    size, len(central.encode()), 0, 0, 0, 0, 0, offset) + central.encode())
    start, size = body.tell(), directory.tell()
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), size, start, 0)
    return body.getvalue() + directory.getvalue() + end


@pytest.mark.parametrize("central, local", [("drums.wav", "evil.exe"), (".DS_Store", "payload.exe"),
                                            ("__MACOSX/._bass.wav", "bass.wav")],
                         ids=["audio-hiding-a-program", "system-file-hiding-a-program", "junk-hiding-a-stem"])
def test_entries_named_differently_in_their_local_header_are_refused(uploader, files, central, local):
    wav = files["wav"].read_bytes()[:4096]
    archive = forged_zip([("vocals.wav", "vocals.wav", wav), (central, local, wav)])
    answer = uploader.upload(files["wav"], stems=archive)
    assert_refused(uploader, answer, 422, "stems_name_mismatch", "stems")
    message = json.loads(answer[1])["error"]["message"]
    assert central in message and local in message


# -- covers ----------------------------------------------------------------------------------------

def huge_png(path: Path, width: int, height: int) -> Path:
    """A grey PNG of any dimensions, written row by row: a few hundred KB for 20000 x 20000."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compressor, row, parts = zlib.compressobj(9), bytes(width + 1), []
    for _ in range(height // 100):
        parts.append(compressor.compress(row * 100))
    parts.append(compressor.compress(row * (height % 100)) + compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(parts))
                     + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("width, height", [(20000, 20000), (9000, 300), (7000, 7000)],
                         ids=["20000-square", "too-wide", "too-many-pixels"])
def test_covers_too_large_to_decode_are_refused(uploader, files, tmp_path, width, height):
    cover = huge_png(tmp_path / "huge.png", width, height)
    assert cover.stat().st_size < 1024 * 1024
    answer = uploader.upload(files["wav"], cover=cover)
    assert_refused(uploader, answer, 422, "cover_dimensions_too_large", "cover")
    assert f"{width:,} x {height:,} pixels" in json.loads(answer[1])["error"]["message"]


@pytest.mark.parametrize("image_format, damage", [("PNG", "half"), ("PNG", "flipped"), ("JPEG", "half")])
def test_a_damaged_cover_is_refused(uploader, files, tmp_path, image_format, damage):
    from PIL import Image

    buffer = io.BytesIO()
    Image.effect_noise((600, 600), 64).convert("RGB").save(buffer, image_format)
    whole, middle = buffer.getvalue(), len(buffer.getvalue()) // 2
    damaged = tmp_path / f"damaged.{image_format.lower()}"
    damaged.write_bytes(whole[:middle] if damage == "half"  # an interrupted upload
                        else whole[:middle] + bytes(byte ^ 0xFF for byte in whole[middle:middle + 64])
                        + whole[middle + 64:])
    answer = uploader.upload(files["wav"], cover=damaged)
    assert_refused(uploader, answer, 422, "unreadable_image", "cover")


def test_covers_are_served_re_encoded_without_exif_at_two_sizes(uploader, files, tmp_path):
    from PIL import Image

    photo = Image.radial_gradient("L").resize((3000, 2000)).convert("RGB")
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "PhoneMaker", "Pocket 12", 6  # make, model, rotated portrait
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}  # where it was taken
    photo.save(tmp_path / "photo.jpg", "JPEG", exif=exif.tobytes(), comment=b"taken at home")
    status, raw = uploader.upload(files["wav"], cover=tmp_path / "photo.jpg")
    assert status == 202, raw
    cover_url = json.loads(raw)["cover_url"]
    for query, expected in (("", (933, 1400)), ("?size=1400", (933, 1400)), ("?size=400", (267, 400))):
        status, data = uploader.get(cover_url + query)
        assert status == 200
        served = Image.open(io.BytesIO(data))
        assert (served.format, served.size) == ("JPEG", expected)  # upright, as the phone showed it
        assert not served.getexif() and b"Exif" not in data and b"PhoneMaker" not in data
        assert b"taken at home" not in data
    assert uploader.get(cover_url + "?size=20000")[0] == 422


# -- voice tags ------------------------------------------------------------------------------------

TAG_FORMATS = [("wav", 22050, 1, ()), ("aiff", 16000, 1, ()), ("flac", 48000, 2, ()), ("mp3", 22050, 1, ()),
               ("ogg", 16000, 1, ("-c:a", "libvorbis")), ("opus", 48000, 1, ("-c:a", "libopus")),
               ("m4a", 22050, 2, ("-c:a", "aac"))]


def quiet_tag(path: Path, rate: int, channels: int, extra: tuple[str, ...]) -> Path:
    """A phone-quiet spoken-like tag: a gliding tone at about -30 dBFS with a pause in it."""
    ffmpeg("-f", "lavfi", "-i", f"aevalsrc=0.04*sin(2*PI*(220*t+300*t*t))*lt(mod(t\\,1)\\,0.7):d=2:s={rate}",
           "-ac", str(channels), *extra, str(path))
    return path


@pytest.mark.parametrize("extension, rate, channels, extra", TAG_FORMATS,
                         ids=[f"{e}-{r}-{c}ch" for e, r, c, _x in TAG_FORMATS])
def test_voice_tags_from_phones_are_accepted_in_any_format_and_rate_and_normalised(
        uploader, tmp_path, extension, rate, channels, extra):
    from marketplace.audio.preview import TAG_TARGET_DBFS, tag_loudness_dbfs
    from marketplace.catalog.models import VoiceTag

    tag = quiet_tag(tmp_path / f"tag.{extension}", rate, channels, extra)
    status, raw = uploader.put_tag(tag, filename=tag.name)
    assert status == 200, raw
    assert json.loads(raw)["custom"] is True
    with uploader.app.app_context():
        key = db.session.query(VoiceTag.tag_key).one()[0]
    with wave.open(str(uploader.storage / key)) as stored:
        assert (stored.getframerate(), stored.getsampwidth(), stored.getnchannels()) == (44100, 2, channels)
        pcm = np.frombuffer(stored.readframes(stored.getnframes()), dtype="<i2")
    samples = pcm.reshape(-1, channels) / 32768
    loudness, peak = tag_loudness_dbfs(samples)
    assert abs(loudness - TAG_TARGET_DBFS) < 1.5 and peak <= -0.9, (loudness, peak)


def test_tag_refusals_speak_of_tags_not_masters(uploader, tmp_path):
    tone = "sine=f=300:d=2:sample_rate=22050"
    ffmpeg("-f", "lavfi", "-i", tone, "-c:a", "libopus", str(tmp_path / "tag.webm"))
    answer = uploader.put_tag(tmp_path / "tag.webm", filename="tag.webm")
    assert_refused(uploader, answer, 415, "unsupported_audio_format", "file")
    message = json.loads(answer[1])["error"]["message"]
    assert "OGG" in message and "M4A" in message and "master" not in message.lower()
    ffmpeg("-f", "lavfi", "-i", tone, "-ac", "6", str(tmp_path / "surround.wav"))
    answer = uploader.put_tag(tmp_path / "surround.wav")
    assert_refused(uploader, answer, 422, "too_many_channels", "file")
    assert "master" not in json.loads(answer[1])["error"]["message"].lower()


def test_a_silent_tag_is_refused(uploader, tmp_path):
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", "2", str(tmp_path / "silence.wav"))
    assert_refused(uploader, uploader.put_tag(tmp_path / "silence.wav"), 422, "tag_silent", "file")


def test_a_low_rate_master_is_still_refused_as_a_master(uploader, tmp_path):
    master = make_beat(tmp_path / "low.wav", rate=22050)
    answer = uploader.upload(master)
    assert_refused(uploader, answer, 422, "sample_rate_too_low", "file")
    assert "Lossless masters need at least 44.1 kHz" in json.loads(answer[1])["error"]["message"]
