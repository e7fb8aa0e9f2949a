"""Mail delivered over SMTP to a real server on loopback (aiosmtpd): STARTTLS, TLS from the
start and plain for a local relay, certificates verified against SMTP_CA_FILE, sign-in, and
what happens when the server is away, says "later" or says "never".

The mails are the verification mails that signing up sends, through the real job."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from email.utils import parseaddr

import pytest

from marketplace.accounts.models import Role
from marketplace.db import db
from marketplace.jobs.failures import FailedJob
from marketplace.migrate import upgrade
from tests.conftest import make_test_app, register
from tests.mail.smtp_server import Mailbox, free_port, make_certificates, password_check, start_server

MAIL_FROM = "Beat marketplace <no-reply@beats.example>"
REPLY_TO = "Beat marketplace help <help@beats.example>"
MAX_RETRIES = 2


@pytest.fixture(scope="module")
def app(database_factory):
    """The app sending mail over SMTP, retrying a failed mail twice at once (eager jobs)."""
    app = make_test_app(database_factory(), MAIL_BACKEND="smtp", MAIL_FROM=MAIL_FROM, MAIL_REPLY_TO=REPLY_TO,
                        SMTP_HOST="localhost", SMTP_TIMEOUT_SECONDS=5, JOB_MAX_RETRIES=MAX_RETRIES,
                        JOB_RETRY_BACKOFF_SECONDS=0.01)
    with app.app_context():
        upgrade(db.engine)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("smtp-certificates"))


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def serve(app, mailbox, monkeypatch) -> Iterator:
    """Starts the SMTP server with aiosmtpd options and points the app at it."""
    controllers = []

    def start(security: str, port: int | None = None, **options):
        port = port or free_port()
        monkeypatch.setitem(app.config, "SMTP_SECURITY", security)
        monkeypatch.setitem(app.config, "SMTP_PORT", port)
        controllers.append(start_server(mailbox, port, **options))
        return port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def trust(app, certificates, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_CA_FILE", str(certificates.ca_file))


def failed_mail_jobs(app) -> list[FailedJob]:
    with app.app_context():
        rows = list(db.session.query(FailedJob).filter(FailedJob.job == "accounts.send_verification"))
        db.session.expunge_all()
        return rows


def assert_verification_mail(received, to: str) -> None:
    message = received.message
    assert message["To"] == to and received.rcpt_tos == [to]
    assert message["From"] == MAIL_FROM and parseaddr(received.mail_from)[1] == "no-reply@beats.example"
    assert message["Reply-To"] == REPLY_TO
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith("@beats.example>")
    assert message["Date"]
    assert "verify" in message["Subject"].lower()
    assert "/verify-email?token=" in message.get_body(preferencelist=("plain",)).get_content()


def test_starttls_with_a_private_authority_and_a_password(app, client, serve, mailbox, certificates, trust,
                                                          monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_USERNAME", "store")
    monkeypatch.setitem(app.config, "SMTP_PASSWORD", "relay password")
    serve("starttls", tls_context=certificates.server_context(), require_starttls=True,
          authenticator=password_check("store", "relay password"))
    assert register(client, "ann@example.com").status_code == 201
    [received] = mailbox.received
    assert_verification_mail(received, "ann@example.com")
    assert received.over_tls and received.signed_in_as == "store"
    assert failed_mail_jobs(app) == []


def test_tls_from_the_start(app, client, serve, mailbox, certificates, trust):
    serve("tls", ssl_context=certificates.server_context())
    assert register(client, "bob@example.com").status_code == 201
    [received] = mailbox.received
    assert_verification_mail(received, "bob@example.com")
    assert received.over_tls


def test_plain_to_a_local_relay(app, client, serve, mailbox):
    serve("none")
    assert register(client, "cy@example.com").status_code == 201
    [received] = mailbox.received
    assert_verification_mail(received, "cy@example.com")
    assert not received.over_tls


def test_an_address_beyond_ascii_and_an_emoji_in_the_name(app, client, serve, mailbox):
    serve("none", enable_SMTPUTF8=True)
    response = client.post("/api/v1/auth/register", json={
        "email": "zoë@example.com", "password": "correct horse battery", "display_name": "Zoë 🎧",
        "account_type": "artist"})
    assert response.status_code == 201
    [received] = mailbox.received
    assert received.message["To"] == "zoë@example.com" and received.rcpt_tos == ["zoë@example.com"]


def test_an_address_beyond_ascii_to_a_server_without_smtputf8_is_refused_for_good(app, client, serve, mailbox):
    mailbox.smtputf8 = False  # a server that takes ASCII addresses only
    serve("none")
    response = client.post("/api/v1/auth/register", json={
        "email": "zoë@example.com", "password": "correct horse battery", "display_name": "Zoë",
        "account_type": "artist"})
    assert response.status_code == 201
    assert mailbox.received == []
    [failed] = failed_mail_jobs(app)
    assert failed.attempts == 1 and "SMTPUTF8" in failed.error


@pytest.mark.parametrize("later", ["rcpt", "data"])
def test_a_server_that_says_later_is_tried_again_and_the_mail_arrives_once(app, client, serve, mailbox, later):
    serve("none")
    if later == "rcpt":
        mailbox.rcpt_replies.append("450 4.2.1 Mailbox temporarily unavailable")
    else:
        mailbox.data_replies.append("451 4.3.0 Mailbox busy, try again later")
    assert register(client, "dee@example.com").status_code == 201
    assert mailbox.data_attempts == (1 if later == "rcpt" else 2)
    [received] = mailbox.received
    assert_verification_mail(received, "dee@example.com")
    assert failed_mail_jobs(app) == []


@pytest.mark.parametrize("refusal", ["rcpt", "data"])
def test_a_refusal_for_good_is_listed_for_admins_at_once(app, client, serve, mailbox, make_user, headers_for,
                                                         refusal):
    serve("none")
    if refusal == "rcpt":
        mailbox.refused_recipients["gone@example.com"] = "550 5.1.1 <gone@example.com>: no such user here"
        reply = "550 5.1.1 <gone@example.com>: no such user here"
    else:
        mailbox.data_replies.append("554 5.7.1 Message rejected as spam")
        reply = "554 5.7.1 Message rejected as spam"
    assert register(client, "gone@example.com").status_code == 201
    assert mailbox.received == []
    [failed] = failed_mail_jobs(app)
    assert failed.attempts == 1  # no retry: trying again cannot help
    admin = headers_for(make_user(Role.ADMIN, "Admin"))
    [listed] = client.get("/api/v1/admin/jobs/failed", headers=admin).json
    assert listed["kind"] == "email" and listed["job"] == "accounts.send_verification"
    assert listed["error"] == (f"PermanentMailFailure: The message to gone@example.com was refused for good: "
                               f"the mail server at localhost:{app.config['SMTP_PORT']} answered {reply}")


def test_a_server_that_is_down_is_tried_again_then_the_admin_retry_delivers(app, client, serve, mailbox,
                                                                           make_user, headers_for, monkeypatch):
    port = free_port()  # nothing listens there yet
    monkeypatch.setitem(app.config, "SMTP_SECURITY", "none")
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    assert register(client, "eve@example.com").status_code == 201
    [failed] = failed_mail_jobs(app)
    assert failed.attempts == MAX_RETRIES + 1
    assert failed.error.startswith(f"TransientMailFailure: Could not reach the mail server at localhost:{port}")

    serve("none", port=port)  # the server is back
    admin = headers_for(make_user(Role.ADMIN, "Admin"))
    retried = client.post(f"/api/v1/admin/jobs/failed/{failed.id}/retry", headers=admin)
    assert retried.status_code == 202 and retried.json["retried_at"]
    [received] = mailbox.received
    assert_verification_mail(received, "eve@example.com")
    assert client.get("/api/v1/admin/jobs/failed", headers=admin).json == []


def test_a_server_that_never_answers_times_out_and_is_tried_again(app, client, monkeypatch):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections (the kernel does) and never says a word
    monkeypatch.setitem(app.config, "SMTP_SECURITY", "none")
    monkeypatch.setitem(app.config, "SMTP_PORT", silent.getsockname()[1])
    monkeypatch.setitem(app.config, "SMTP_TIMEOUT_SECONDS", 0.3)
    try:
        assert register(client, "fay@example.com").status_code == 201
    finally:
        silent.close()
    [failed] = failed_mail_jobs(app)
    assert failed.attempts == MAX_RETRIES + 1 and "timed out" in failed.error


def test_a_certificate_not_trusted_sends_nothing_and_says_so(app, client, serve, mailbox, certificates, caplog):
    # SMTP_CA_FILE unset: the system's authorities, which never signed the test server's certificate.
    serve("starttls", tls_context=certificates.server_context(), require_starttls=True)
    assert register(client, "gus@example.com").status_code == 201
    assert mailbox.received == [] and mailbox.data_attempts == 0
    [failed] = failed_mail_jobs(app)
    assert failed.attempts == MAX_RETRIES + 1  # transient: once the settings are right, a retry sends it
    assert f"The mail server at localhost:{app.config['SMTP_PORT']} has a certificate that is not trusted" \
        in failed.error
    assert any(record.levelname == "ERROR" and record.getMessage() == "email_settings_refused"
               for record in caplog.records)


def test_starttls_to_a_server_without_it_is_not_sent_in_the_clear(app, client, serve, mailbox, trust,
                                                                  monkeypatch):
    serve("none")  # a server that offers no STARTTLS
    monkeypatch.setitem(app.config, "SMTP_SECURITY", "starttls")
    assert register(client, "hal@example.com").status_code == 201
    assert mailbox.received == [] and mailbox.data_attempts == 0
    [failed] = failed_mail_jobs(app)
    assert "STARTTLS extension not supported by server" in failed.error


def test_wrong_credentials_are_retried_and_logged_as_an_error(app, client, serve, mailbox, certificates, trust,
                                                             monkeypatch, caplog):
    monkeypatch.setitem(app.config, "SMTP_USERNAME", "store")
    monkeypatch.setitem(app.config, "SMTP_PASSWORD", "an old password")
    serve("starttls", tls_context=certificates.server_context(), require_starttls=True,
          authenticator=password_check("store", "relay password"))
    assert register(client, "ida@example.com").status_code == 201
    assert mailbox.received == []
    [failed] = failed_mail_jobs(app)
    assert failed.attempts == MAX_RETRIES + 1
    assert "did not accept SMTP_USERNAME and SMTP_PASSWORD: 535 5.7.8 Authentication credentials invalid" \
        in failed.error
    assert any(record.levelname == "ERROR" and record.getMessage() == "email_settings_refused"
               for record in caplog.records)


def test_mails_sent_at_once_by_several_jobs_each_arrive_once(app, serve, mailbox):
    """Each delivery has its own connection: threads sending together do not mix their mails."""
    from email.message import EmailMessage

    from marketplace.mail.transport import deliver

    serve("none")
    errors: list[BaseException] = []

    def send(number: int) -> None:
        try:
            with app.app_context():
                message = EmailMessage()
                message["To"], message["Subject"] = f"p{number}@example.com", f"Mail {number}"
                message.set_content(f"Body {number}")
                deliver(message)
        except BaseException as error:  # noqa: BLE001 (asserted in the test's thread)
            errors.append(error)

    threads = [threading.Thread(target=send, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(received.message["Subject"] for received in mailbox.received) == [f"Mail {n}" for n in range(6)]
    assert len({received.message["Message-ID"] for received in mailbox.received}) == 6
