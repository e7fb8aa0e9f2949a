"""The production path for mail: a Celery worker (fed through a real Redis) delivering to a
real SMTP server on loopback. A refusal for good is recorded at once, without retries; a
"try later" is retried by Celery with backoff and the mail arrives once."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable

import pytest

from marketplace.db import db
from marketplace.jobs.failures import FailedJob
from marketplace.migrate import upgrade
from tests.conftest import start_celery_worker, make_test_app, register, stop_process
from tests.mail.smtp_server import Mailbox, free_port, start_server


def wait_for(condition: Callable[[], object], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def worker_and_server(database_factory, redis_url, tmp_path):
    mailbox, port = Mailbox(), free_port()
    controller = start_server(mailbox, port)
    settings = {"REDIS_URL": redis_url, "JOBS_BACKEND": "celery", "JOBS_QUEUE": f"test-{secrets.token_hex(4)}",
                "STORAGE_LOCAL_ROOT": str(tmp_path / "storage"), "MAIL_BACKEND": "smtp",
                "MAIL_FROM": "Beat marketplace <no-reply@beats.example>", "MAIL_REPLY_TO": "help@beats.example",
                "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_SECURITY": "none", "SMTP_TIMEOUT_SECONDS": 5,
                "JOB_MAX_RETRIES": 2}
    app = make_test_app(database_factory(), **settings)
    with app.app_context():
        upgrade(db.engine)
    env = {**os.environ, "APP_ENV": "development", "SECRET_KEY": app.config["SECRET_KEY"],
           "DATABASE_URL": app.config["DATABASE_URL"], **{key: str(value) for key, value in settings.items()}}
    log_path = tmp_path / "worker.log"
    worker = start_celery_worker(env, log_path)
    try:
        yield app, mailbox, log_path
    finally:
        stop_process(worker, 20)
        controller.stop()
        with app.app_context():
            db.engine.dispose()


def failures(app) -> list[FailedJob]:
    with app.app_context():
        rows = list(db.session.query(FailedJob))
        db.session.expunge_all()
        return rows


def test_a_celery_worker_gives_up_on_a_refusal_and_retries_a_later(worker_and_server):
    app, mailbox, log_path = worker_and_server
    client = app.test_client()
    mailbox.refused_recipients["gone@example.com"] = "550 5.1.1 <gone@example.com>: no such user here"
    assert register(client, "gone@example.com").status_code == 201
    wait_for(lambda: failures(app), "the refused mail to be recorded")
    [failed] = failures(app)
    assert failed.job == "accounts.send_verification" and failed.attempts == 1, log_path.read_text()[-3000:]
    assert "PermanentMailFailure" in failed.error and "550 5.1.1 <gone@example.com>: no such user here" in failed.error

    mailbox.data_replies.append("451 4.3.0 Mailbox busy, try again later")
    assert register(client, "later@example.com").status_code == 201
    wait_for(lambda: mailbox.received, "the mail to arrive after a retry", seconds=90)
    [received] = mailbox.received
    assert received.message["To"] == "later@example.com" and mailbox.data_attempts == 2
    assert "Retry in" in log_path.read_text()  # Celery retried it
    assert len(failures(app)) == 1  # only the refused one
