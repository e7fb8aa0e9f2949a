"""The development outbox: mails written as .eml files, listed by `flask mail list`, printed by
`flask mail show`, and shown at /_dev/mail when (and only when) the app runs in development."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

import pytest

from marketplace import create_app
from marketplace.mail.transport import deliver
from tests.mail.test_mail_settings import PRODUCTION

LINK = "http://127.0.0.1:5000/reset-password?token=abc&amp=1"


@pytest.fixture
def dev_app(tmp_path):
    return create_app("development", {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}", "JOBS_BACKEND": "eager",
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"), "STORAGE_LOCAL_ROOT": str(tmp_path / "storage"),
        "MAIL_REPLY_TO": "Help <help@beats.example>"})


def send(app, to: str, subject: str, text: str, html: str | None = None) -> str:
    """Delivers a mail through the transport; returns its file name in the outbox."""
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    before = set(folder.glob("*.eml")) if folder.exists() else set()
    message = EmailMessage()
    message["To"], message["Subject"] = to, subject
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    with app.app_context():
        deliver(message)
    [written] = set(folder.glob("*.eml")) - before
    return written.name


def cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["mail", *args])


def test_mail_list_shows_the_newest_first_and_takes_a_limit(dev_app):
    names = [send(dev_app, "ann@example.com", "Verify your email address", "one"),
             send(dev_app, "zoë@example.com", "Your order ord_1 🎧", "two"),
             send(dev_app, "bob@example.com", "Reset your password", "three")]
    listed = cli(dev_app, "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert len(lines) == 3
    for line, (to, subject, name) in zip(lines, [("bob@example.com", "Reset your password", names[2]),
                                                  ("zoë@example.com", "Your order ord_1 🎧", names[1]),
                                                  ("ann@example.com", "Verify your email address", names[0])]):
        assert re.fullmatch(rf"\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d  {re.escape(to)}  {re.escape(subject)}  {name}",
                            line), line
    limited = cli(dev_app, "list", "--limit", "2").output.splitlines()
    assert limited == lines[:2]


def test_mail_list_of_an_empty_outbox_says_so(dev_app):
    listed = cli(dev_app, "list")
    assert listed.exit_code == 0 and "The outbox is empty" in listed.output


def test_mail_show_prints_the_headers_and_the_text_or_the_html(dev_app):
    name = send(dev_app, "ann@example.com", "Reset your password", f"Open {LINK}\n", "<p>Open <a href='x'>it</a></p>")
    shown = cli(dev_app, "show", name)
    assert shown.exit_code == 0, shown.output
    assert "To: ann@example.com" in shown.output and "Subject: Reset your password" in shown.output
    assert "Reply-To: Help <help@beats.example>" in shown.output and "Message-ID: <" in shown.output
    assert f"Open {LINK}" in shown.output and "<p>" not in shown.output
    assert "<p>Open <a href='x'>it</a></p>" in cli(dev_app, "show", name, "--html").output
    for unknown in ("1.eml", "../outbox.eml", "/etc/passwd"):
        refused = cli(dev_app, "show", unknown)
        assert refused.exit_code == 1 and "There is no mail named" in refused.output


def test_the_page_lists_and_shows_mails_with_clickable_links(dev_app):
    html = ("<!doctype html><html><head><title>Reset</title></head><body><p><a href='http://127.0.0.1:5000/x'>"
            "Reset</a></p><script>document.title = 'ran'</script></body></html>")
    name = send(dev_app, "zoë@example.com", "Reset your password <now>", f"Hello Zoë 🎧,\n\nOpen {LINK}.\n", html)
    client = dev_app.test_client()

    listing = client.get("/_dev/mail")
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    assert f'href="/_dev/mail/{name}"' in page and "Reset your password &lt;now&gt;" in page
    assert "zoë@example.com" in page and "<script" not in page

    shown = client.get(f"/_dev/mail/{name}")
    assert shown.status_code == 200
    page = shown.get_data(as_text=True)
    escaped_link = LINK.replace("&", "&amp;")
    assert f'<a href="{escaped_link}" target="_blank" rel="noopener noreferrer">{escaped_link}</a>.' in page
    assert "Hello Zoë 🎧" in page and "<script" not in page
    frame = re.search(r'<iframe[^>]*src="([^"]+)"[^>]*>', page)
    assert frame and 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in frame.group(0)
    policy = shown.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe" not in policy

    part = client.get(frame.group(1))
    assert part.status_code == 200 and part.mimetype == "text/html"
    assert '<head><base target="_blank"><title>Reset</title>' in part.get_data(as_text=True)
    policy = part.headers["Content-Security-Policy"]
    assert policy.startswith("default-src 'none';") and "script-src" not in policy
    assert "sandbox allow-popups allow-popups-to-escape-sandbox" in policy and "allow-scripts" not in policy
    assert "frame-ancestors 'self'" in policy and part.headers["X-Frame-Options"] == "SAMEORIGIN"

    raw = client.get(f"/_dev/mail/{name}/raw")
    assert raw.status_code == 200 and raw.mimetype == "text/plain" and b"Subject:" in raw.data


def test_the_page_answers_404_for_a_mail_that_is_not_there(dev_app):
    name = send(dev_app, "ann@example.com", "Only text", "no html part")
    client = dev_app.test_client()
    for path in ("/_dev/mail/nothing.eml", "/_dev/mail/..%2F..%2Fetc%2Fpasswd", "/_dev/mail/.hidden.eml",
                 f"/_dev/mail/{name}/html"):
        assert client.get(path).status_code == 404, path


def test_the_page_is_not_there_outside_development(client, tmp_path):
    assert client.get("/_dev/mail").status_code == 404  # the test suite's profile
    production = create_app("production", {**PRODUCTION, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
                                           "MAIL_OUTBOX_DIR": str(tmp_path)})
    assert production.test_client().get("/_dev/mail").status_code == 404
