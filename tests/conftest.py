"""Fixtures: a throwaway database (SQLite file, or a fresh PostgreSQL database when
TEST_DATABASE_URL is set), the app migrated once per run, and rows wiped after each test."""

from __future__ import annotations

import email
import email.policy
import itertools
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from config import PROJECT_ROOT
from marketplace import create_app
from marketplace.accounts import services as accounts_services
from marketplace.accounts.models import Role
from marketplace.db import db
from marketplace.demo.reset import wipe_all_rows
from marketplace.migrate import upgrade
from tests.support import PostgresDatabases, production_signing_keys  # noqa: F401 (used by other tests)

pytest_plugins = ["tests.stripe_sandbox"]  # the Stripe sandbox fixtures

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgres")
# In CI every service a test needs must be there: a missing one fails instead of skipping.
REQUIRE_SERVICES = os.environ.get("REQUIRE_TEST_SERVICES") == "1"


def _postgres_only_reason(why: str) -> str:
    return f"PostgreSQL only ({why}); `make test-pg` runs it"


def postgres_only(why: str) -> pytest.MarkDecorator:
    """Skips a test on SQLite, which serialises every writer, saying why and how to run it."""
    return pytest.mark.skipif(not ON_POSTGRES, reason=_postgres_only_reason(why))


def skip_unless_postgres(why: str) -> None:
    """postgres_only, from inside a test."""
    if not ON_POSTGRES:
        pytest.skip(_postgres_only_reason(why))


def require_service(name: str, available: bool) -> None:
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{name} is required in this run (REQUIRE_TEST_SERVICES=1) but is not available")
    pytest.skip(f"{name} is not available; set it up to run this test")


@pytest.fixture
def redis_url() -> str:
    """TEST_REDIS_URL when a Redis answers there (required in CI)."""
    import redis

    url = os.environ.get("TEST_REDIS_URL")
    available = False
    if url:
        try:
            available = bool(redis.Redis.from_url(url, socket_timeout=2).ping())
        except redis.RedisError:
            available = False
    require_service("Redis (TEST_REDIS_URL)", available)
    return url


def start_celery_worker(env: dict[str, str], log_path: Path, **popen_options) -> subprocess.Popen:
    """A real Celery worker process (one job at a time) with `env`, its output in `log_path`."""
    with open(log_path, "wb") as log:
        return subprocess.Popen([str(Path(sys.executable).parent / "celery"), "-A", "marketplace.jobs.worker",
                                 "worker", "--pool", "solo", "--loglevel", "INFO", "--without-heartbeat",
                                 "--without-gossip", "--without-mingle"],
                                cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, **popen_options)


def stop_process(process, seconds: float = 10) -> None:
    """Terminate a child process, and kill it if it does not stop in time."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory):
    """Makes empty databases of the backend under test; all are dropped at the end."""
    made: list[str] = []
    postgres = PostgresDatabases(TEST_DATABASE_URL) if ON_POSTGRES else None

    def make() -> str:
        if postgres:
            url = postgres.create()
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        made.append(url)
        return url

    yield make
    if postgres:
        for url in made:
            postgres.drop(url)


_STORAGE_ROOT = tempfile.mkdtemp(prefix="marketplace-test-storage-")
_OUTBOX = tempfile.mkdtemp(prefix="marketplace-test-outbox-")
_SIGNING_KEYS = tempfile.mkdtemp(prefix="marketplace-test-keys-")


def make_test_app(database_url: str, **overrides):
    settings = {"DATABASE_URL": database_url, "STORAGE_LOCAL_ROOT": _STORAGE_ROOT, "MAIL_OUTBOX_DIR": _OUTBOX,
                "LICENSE_SIGNING_KEYS_DIR": _SIGNING_KEYS}
    settings.update(overrides)
    return create_app("testing", settings)


@pytest.fixture(scope="session")
def storage_root():
    return Path(_STORAGE_ROOT)


@pytest.fixture(scope="session")
def app(database_factory):
    app = make_test_app(database_factory())
    with app.app_context():
        upgrade(db.engine)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_state(request):
    """Every test starts with empty tables and fresh rate limits."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    yield
    with app.app_context():
        wipe_all_rows()
    app.extensions["rate_limits"].reset()


class FrozenClock:
    """Unix time that stands still until a test moves it on."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def frozen_time(monkeypatch) -> FrozenClock:
    """Stops the clocks of signed links' expiry and of rate limit windows (ours, and the memory
    storage of the limits library that keeps them), so a test moves time on instead of waiting."""
    import time

    import limits.storage.memory

    from marketplace.common import ratelimit
    from marketplace.storage import service

    clock = FrozenClock(float(int(time.time())))  # on a whole second, as links' expiry is
    for module in (limits.storage.memory, ratelimit, service):
        monkeypatch.setattr(module, "time", clock)
    return clock


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app served by a real threaded HTTP server on 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


# -- mail -------------------------------------------------------------------------------

def read_mail(path: Path) -> EmailMessage:
    """An .eml file of the outbox, parsed."""
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def mail_text(message: EmailMessage) -> str:
    """The text part of a message (every message has one, beside its HTML part)."""
    return message.get_body(("plain",)).get_content()


def mail_html(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def outbox_files(app) -> set[Path]:
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    return set(folder.glob("*.eml")) if folder.exists() else set()


def mails_since(app, before: set[Path]) -> list[EmailMessage]:
    """The messages written to the outbox since `before` (outbox_files), oldest first."""
    return [read_mail(path) for path in sorted(outbox_files(app) - before)]


@pytest.fixture
def mailbox(app):
    """A function answering the messages sent since the test began, parsed, oldest first."""
    before = outbox_files(app)
    return lambda: mails_since(app, before)


# -- account helpers -------------------------------------------------------------------

DEFAULT_PASSWORD = "correct horse battery"


def register(client, email="ann@example.com", account_type="artist", password=DEFAULT_PASSWORD,
             display_name="Ann"):
    return client.post("/api/v1/auth/register", json={
        "email": email, "password": password, "display_name": display_name,
        "account_type": account_type})


def login(client, email="ann@example.com", password=DEFAULT_PASSWORD):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


_user_numbers = itertools.count()


@pytest.fixture
def make_user(app):
    def make(role: Role = Role.BEATMAKER, name: str | None = None) -> str:
        index = next(_user_numbers)
        with app.app_context():
            user = accounts_services.create_user(f"user{index}@example.com", DEFAULT_PASSWORD,
                                                 name or f"User {index}", role, verified=True)
            db.session.commit()
            return user.id
    return make


@pytest.fixture
def headers_for(app, client):
    def headers(user_id: str) -> dict[str, str]:
        with app.app_context():
            email = accounts_services.get_user(user_id).email
        return bearer(login(client, email).json["access_token"])
    return headers


@pytest.fixture
def signed_in(client):
    """Registers an account and signs in; returns a function (email, type) -> headers."""

    def sign_in(email="ann@example.com", account_type="artist"):
        assert register(client, email, account_type).status_code == 201
        response = login(client, email)
        assert response.status_code == 200, response.json
        return bearer(response.json["access_token"])

    return sign_in
