"""The storage contract, on both backends (a private directory, and a real S3-compatible
server): what every caller of `storage()` relies on."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
import random
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from marketplace.storage.base import MissingFile, StorageError, StoredFile
from tests.storage.conftest import DOWNLOAD_NAMES, attachment_filename

MiB = 1024 * 1024


@contextlib.contextmanager
def opened(backend, key):
    stream = backend.open(key)
    try:
        yield stream
    finally:
        stream.close()


def save(backend, key: str, data: bytes, content_type: str | None = None) -> StoredFile:
    return backend.save(key, io.BytesIO(data), content_type)


def read(backend, key: str) -> bytes:
    with opened(backend, key) as stream:
        return stream.read()


class ReadOnlySource:
    """A stream with nothing but read(): it cannot be seeked or measured, only read on,
    so a backend has to stream it. Remembers every size it was asked for."""

    def __init__(self, total: int) -> None:
        self._random = random.Random(7)
        self._left = total
        self.asked: list[int] = []
        self.hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        self.asked.append(size)
        count = self._left if size is None or size < 0 else min(size, self._left)
        data = self._random.randbytes(count)
        self._left -= count
        self.hash.update(data)
        return data


# -- save, open, exists, size, delete ---------------------------------------------------

def test_save_returns_the_size_and_sha256_of_the_bytes(backend):
    data = os.urandom(100_000)
    saved = save(backend, "masters/bt_1/master.wav", data, "audio/wav")
    assert saved == StoredFile("masters/bt_1/master.wav", len(data), hashlib.sha256(data).hexdigest())


def test_save_streams_a_large_upload_without_reading_it_whole(backend):
    total = 12 * MiB  # over S3's multipart threshold (8 MiB), so S3 uploads it in parts
    source = ReadOnlySource(total)
    saved = backend.save("masters/bt_big/master.wav", source, "audio/wav")
    assert saved.size == total and saved.sha256 == source.hash.hexdigest()
    assert len(source.asked) > 2 and all(0 < size < total for size in source.asked), source.asked
    read_back = hashlib.sha256()
    with opened(backend, saved.key) as stream:
        while chunk := stream.read(MiB):
            read_back.update(chunk)
    assert read_back.hexdigest() == saved.sha256 and backend.size(saved.key) == total


def test_saving_an_empty_file_works(backend):
    saved = save(backend, "covers/empty.png", b"")
    assert (saved.size, saved.sha256) == (0, hashlib.sha256(b"").hexdigest())
    assert backend.exists("covers/empty.png") and read(backend, "covers/empty.png") == b""


def test_open_reads_back_the_saved_bytes(backend):
    data = os.urandom(300_000)
    save(backend, "previews/bt_1.mp3", data)
    assert read(backend, "previews/bt_1.mp3") == data


def test_saving_again_replaces_the_file(backend):
    save(backend, "waveforms/bt_1.json", b"old, and longer than the new one")
    saved = save(backend, "waveforms/bt_1.json", b"new")
    assert read(backend, "waveforms/bt_1.json") == b"new" and saved.size == 3


def test_exists_and_size_follow_the_file(backend):
    assert backend.exists("stems/bt_1/stems.zip") is False
    save(backend, "stems/bt_1/stems.zip", b"x" * 4321)
    assert backend.exists("stems/bt_1/stems.zip") is True
    assert backend.size("stems/bt_1/stems.zip") == 4321
    backend.delete("stems/bt_1/stems.zip")
    assert backend.exists("stems/bt_1/stems.zip") is False


def test_delete_removes_only_that_key_and_is_idempotent(backend):
    save(backend, "masters/bt_1/master.wav", b"one")
    save(backend, "masters/bt_1/master.wav.bak", b"two")  # shares the first key as a prefix
    backend.delete("masters/bt_1/master.wav")
    backend.delete("masters/bt_1/master.wav")  # again: no error
    backend.delete("masters/never/saved.wav")
    assert not backend.exists("masters/bt_1/master.wav")
    assert read(backend, "masters/bt_1/master.wav.bak") == b"two"


# -- move -------------------------------------------------------------------------------

def test_move_replaces_the_target_and_removes_the_source(backend):
    save(backend, "previews/bt_1.mp3", b"old preview")
    save(backend, "tmp/attempt-preview.mp3", b"new preview")
    assert read(backend, "previews/bt_1.mp3") == b"old preview"  # untouched until the move
    backend.move("tmp/attempt-preview.mp3", "previews/bt_1.mp3")
    assert read(backend, "previews/bt_1.mp3") == b"new preview"
    assert not backend.exists("tmp/attempt-preview.mp3")


def test_move_to_a_new_key_creates_it(backend):
    save(backend, "tmp/attempt-waveform.json", b"{}")
    backend.move("tmp/attempt-waveform.json", "waveforms/deep/er/bt_1.json")
    assert read(backend, "waveforms/deep/er/bt_1.json") == b"{}"


def test_readers_see_the_old_or_the_new_file_during_moves_never_a_part(backend):
    versions = [bytes([65 + n]) * (256 * 1024) for n in range(2)]
    save(backend, "previews/bt_1.mp3", versions[0])
    seen, problems, stop = [], [], threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                data = read(backend, "previews/bt_1.mp3")
            except Exception as error:  # noqa: BLE001 - any failure is a finding
                problems.append(repr(error))
                continue
            seen.append(data in versions)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for attempt in range(10):
            save(backend, f"tmp/{attempt}-preview.mp3", versions[(attempt + 1) % 2])
            backend.move(f"tmp/{attempt}-preview.mp3", "previews/bt_1.mp3")
    finally:
        stop.set()
        thread.join(timeout=30)
    assert problems == [] and seen and all(seen), (problems, seen.count(False))
    assert read(backend, "previews/bt_1.mp3") == versions[10 % 2]


# -- local_copy -------------------------------------------------------------------------

def test_local_copy_is_a_readable_path_holding_the_same_bytes(backend):
    data = os.urandom(200_000)
    save(backend, "masters/bt_1/master.wav", data)
    with backend.local_copy("masters/bt_1/master.wav") as path:
        assert path.is_file() and path.read_bytes() == data
        assert path.suffix == ".wav"  # tools such as ffprobe may look at the extension
    assert read(backend, "masters/bt_1/master.wav") == data  # the stored file stays


# -- missing and unsafe keys ------------------------------------------------------------

def _open(backend, key):
    backend.open(key).close()


def _size(backend, key):
    backend.size(key)


def _move(backend, key):
    backend.move(key, "previews/target.mp3")


def _local_copy(backend, key):
    with backend.local_copy(key):
        pass


@pytest.mark.parametrize("operation", [_open, _size, _move, _local_copy], ids=lambda op: op.__name__[1:])
def test_missing_keys_raise_missing_file(backend, operation):
    with pytest.raises(MissingFile):
        operation(backend, "masters/bt_none/master.wav")
    assert issubclass(MissingFile, StorageError)


def test_a_failed_move_leaves_the_target_alone(backend):
    save(backend, "previews/target.mp3", b"keep me")
    with pytest.raises(MissingFile):
        backend.move("tmp/missing.mp3", "previews/target.mp3")
    assert read(backend, "previews/target.mp3") == b"keep me"


UNSAFE_KEYS = ["../x", "/abs", "a//b", "", "a/../b", "masters/..", "..", "a\\b", "a\x00b"]

KEY_OPERATIONS = {
    "save": lambda backend, key: backend.save(key, io.BytesIO(b"data")),
    "open": lambda backend, key: backend.open(key),
    "exists": lambda backend, key: backend.exists(key),
    "size": lambda backend, key: backend.size(key),
    "delete": lambda backend, key: backend.delete(key),
    "move_from": lambda backend, key: backend.move(key, "previews/ok.mp3"),
    "move_to": lambda backend, key: backend.move("previews/ok.mp3", key),
    "local_copy": lambda backend, key: backend.local_copy(key).__enter__(),
    "signed_url": lambda backend, key: backend.signed_url(key, 60),
}


@pytest.mark.parametrize("operation", KEY_OPERATIONS)
@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_unsafe_keys_are_refused(backend, key, operation):
    save(backend, "previews/ok.mp3", b"ok")
    with pytest.raises(StorageError, match="unsafe storage key"):
        KEY_OPERATIONS[operation](backend, key)
    assert read(backend, "previews/ok.mp3") == b"ok"


def test_an_unsafe_save_writes_nothing_outside_the_root(local_backend, tmp_path):
    with pytest.raises(StorageError):
        save(local_backend, "../escaped", b"data")
    assert not (tmp_path / "escaped").exists()
    assert [path.name for path in tmp_path.rglob("*") if path.is_file()] == []


# -- signed URLs ------------------------------------------------------------------------

def test_local_signed_url_is_a_files_link_signed_for_the_key(local_backend, signer):
    url = local_backend.signed_url("previews/bt_1.mp3", 120, download_name="Night Drive.mp3",
                                   content_type="audio/mpeg")
    assert url.startswith("/files/")
    assert signer.calls == [("previews/bt_1.mp3", 120, "Night Drive.mp3", "audio/mpeg")]


def test_presigned_url_serves_the_bytes(s3_backend):
    data = os.urandom(50_000)
    save(s3_backend, "previews/bt_1.mp3", data, "audio/mpeg")
    response = requests.get(s3_backend.signed_url("previews/bt_1.mp3", 60), timeout=10)
    assert response.status_code == 200 and response.content == data
    assert response.headers["Content-Type"] == "audio/mpeg"
    assert "attachment" not in response.headers.get("Content-Disposition", "")


def test_presigned_url_sets_the_content_type_asked_for(s3_backend):
    save(s3_backend, "waveforms/bt_1.json", b'{"version": 2}')  # stored without a type
    url = s3_backend.signed_url("waveforms/bt_1.json", 60, content_type="application/json")
    response = requests.get(url, timeout=10)
    assert response.headers["Content-Type"] == "application/json" and response.json() == {"version": 2}


def test_presigned_url_names_the_download(s3_backend):
    save(s3_backend, "masters/bt_1/master.wav", b"RIFF....WAVE")
    url = s3_backend.signed_url("masters/bt_1/master.wav", 60, download_name="Night Drive.wav")
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.content == b"RIFF....WAVE"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and attachment_filename(disposition) == "Night Drive.wav"


@pytest.mark.parametrize("download_name", DOWNLOAD_NAMES)
def test_presigned_url_asks_for_a_well_formed_content_disposition(s3_backend, download_name):
    """The header S3 is told to send back (response-content-disposition) must survive any
    name: quotes escaped, and letters outside ASCII in `filename*`."""
    url = s3_backend.signed_url("masters/bt_1/master.wav", 60, download_name=download_name)
    asked = parse_qs(urlsplit(url).query)["response-content-disposition"][0]
    assert asked.startswith("attachment") and attachment_filename(asked) == download_name


def test_presigned_url_carries_its_expiry(s3_backend):
    url = s3_backend.signed_url("previews/bt_1.mp3", 90)
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["90"]
    signed_at = dt.datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    assert abs((dt.datetime.now(dt.UTC) - signed_at).total_seconds()) < 60


