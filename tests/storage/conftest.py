"""Fixtures: a real S3-compatible server (moto in server mode) for the session, and a
`backend` fixture that runs every contract test on the local backend and on S3."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import unquote

import boto3
import pytest
import requests

from marketplace.storage.local import LocalStorage
from marketplace.storage.s3 import S3Storage
from tests.conftest import require_service, stop_process

MOTO_SERVER = Path(sys.executable).with_name("moto_server")
ACCESS_KEY = SECRET_KEY = "test"  # moto accepts any credentials; boto3 only needs some


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answering(url: str, process: subprocess.Popen, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            requests.get(url, timeout=1)
            return True
        except requests.RequestException:
            time.sleep(0.1)
    return False


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    """The URL of a moto S3 server started for this test session, stopped at its end."""
    executable = str(MOTO_SERVER) if MOTO_SERVER.exists() else shutil.which("moto_server")
    if executable is None:
        require_service("S3-compatible server (moto)", False)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path_factory.mktemp("moto") / "moto_server.log").open("wb")
    process = subprocess.Popen([executable, "-H", "127.0.0.1", "-p", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        if not wait_until_answering(url, process):
            require_service("S3-compatible server (moto)", False)
        yield url
    finally:
        stop_process(process)
        log.close()


def new_bucket_name() -> str:
    return f"test-{uuid.uuid4().hex[:16]}"


def make_s3_storage(endpoint: str, bucket: str | None = None) -> S3Storage:
    storage = S3Storage(bucket or new_bucket_name(), endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    storage.ensure_bucket()
    return storage


def s3_client(endpoint: str):
    """A boto3 client of our own, to look into buckets without going through S3Storage."""
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)


def bucket_keys(endpoint: str, bucket: str) -> set[str]:
    pages = s3_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


class RecordingSigner:
    """Stands in for the app's link signer: remembers what it was asked to sign."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __call__(self, key, expires_in, download_name, content_type) -> str:
        self.calls.append((key, expires_in, download_name, content_type))
        return f"/files/signed-{len(self.calls)}"


@pytest.fixture
def signer() -> RecordingSigner:
    return RecordingSigner()


@pytest.fixture
def local_backend(tmp_path, signer) -> LocalStorage:
    return LocalStorage(tmp_path / "root", signer)


@pytest.fixture
def s3_backend(s3_endpoint) -> S3Storage:
    return make_s3_storage(s3_endpoint)  # a fresh bucket for every test


@pytest.fixture(params=["local", "s3"])
def backend(request):
    """The same tests on both backends: a private directory, then a fresh S3 bucket."""
    return request.getfixturevalue(f"{request.param}_backend")


# Names a download may carry: plain, with a double quote, and with letters outside ASCII.
DOWNLOAD_NAMES = ["Night Drive.wav", 'Night "Live" Drive.wav', "Mañana Café 夜.wav"]


_PARAMETER = re.compile(r';\s*([A-Za-z*]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s"]+)\s*')


def attachment_filename(header: str) -> str | None:
    """The file name a browser takes from a Content-Disposition header, read strictly as
    RFC 6266 says: ASCII only, `filename*` (UTF-8, percent-encoded) before `filename`
    (a token or a quoted string); a malformed header fails the test."""
    assert header.isascii(), f"Content-Disposition is not ASCII: {header!r}"
    parameters: dict[str, str] = {}
    rest = header[header.index(";"):] if ";" in header else ""
    position = 0
    while position < len(rest):
        match = _PARAMETER.match(rest, position)
        assert match, f"malformed Content-Disposition: {header!r}"
        name, value = match.group(1).lower(), match.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        parameters[name] = value
        position = match.end()
    if "filename*" in parameters:
        charset, _language, encoded = parameters["filename*"].split("'", 2)
        return unquote(encoded, encoding=charset)
    return parameters.get("filename")
