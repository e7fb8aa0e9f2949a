"""The development outbox page (/_dev/mail) in a real browser: listed mails open, links in
the text and in the HTML work, and the HTML's own script never runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from marketplace import create_app
from marketplace.mail.transport import deliver
from tests.browser.conftest import DESKTOP, BrowserErrors
from tests.browser.helpers import screenshot, sign_in


@pytest.fixture
def dev_store(tmp_path) -> Iterator[tuple]:
    """The app in its development profile, served on 127.0.0.1 (no database needed here)."""
    app = create_app("development", {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}", "JOBS_BACKEND": "eager",
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"), "STORAGE_LOCAL_ROOT": str(tmp_path / "storage"),
        "MAIL_REPLY_TO": "Beat marketplace help <help@beats.example>"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def mail(app, to: str, subject: str, text: str, html: str | None = None) -> None:
    message = EmailMessage()
    message["To"], message["Subject"] = to, subject
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    with app.app_context():
        deliver(message)


def test_the_outbox_page_shows_mails_with_working_links_and_no_script(browser, dev_store):
    app, url = dev_store
    link = f"{url}/_dev/mail?from=mail"
    mail(app, "ann@example.com", "Verify your email address", "Hello Ann,\n\nOne older mail.\n")
    mail(app, "zoë@example.com", "Reset your password 🎧",
         f"Hello Zoë,\n\nChoose a new password here:\n{link}\n\nThe link works for 30 minutes.\n",
         "<!doctype html><html><head><title>Reset</title></head><body style='font-family: sans-serif'>"
         f"<h1 style='color: #5b3df5'>Reset your password</h1><p>Hello Zoë,</p><p><a href='{link}'>"
         "Choose a new password</a></p><script>document.body.append('SCRIPT RAN')</script></body></html>")
    context = browser.new_context(base_url=url, viewport=DESKTOP)
    page = context.new_page()
    errors = BrowserErrors(url)
    errors.watch(page)
    try:
        page.goto("/_dev/mail")
        rows = page.locator("tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("zoë@example.com")  # the newest first
        screenshot(page, "dev-outbox-list")

        page.get_by_role("link", name="Reset your password 🎧").click()
        expect(page.get_by_role("heading", name="Reset your password 🎧")).to_be_visible()
        expect(page.locator("dd", has_text="help@beats.example")).to_be_visible()
        text_link = page.locator(".mail-text").get_by_role("link", name=link)
        expect(text_link).to_have_attribute("href", link)

        frame = page.frame_locator("iframe.mail-html")
        frame_link = frame.get_by_role("link", name="Choose a new password")
        expect(frame_link).to_be_visible()
        expect(frame.locator("body")).not_to_contain_text("SCRIPT RAN")
        screenshot(page, "dev-outbox-mail")

        with page.expect_popup() as opened:  # a link in the mail opens in a tab of its own
            frame_link.click()
        popup = opened.value
        popup.wait_for_load_state()
        assert popup.url == link
        expect(popup.get_by_role("heading", name="Mails written to the outbox")).to_be_visible()
        popup.close()

        errors.settle()
        # The only complaint is the mail's own script, blocked by the frame's sandbox.
        assert errors and all("Blocked script execution" in error and "sandboxed" in error for error in errors), \
            errors
    finally:
        context.close()


def test_a_mail_refused_for_good_is_shown_to_admins_as_an_email_with_the_servers_answer(page, store):
    from marketplace.jobs.failures import record_failure

    error = ("PermanentMailFailure: The message to gone@example.com was refused for good: the mail server at "
             "smtp.beats.example:587 answered 550 5.1.1 <gone@example.com>: no such user here")
    record_failure(store.app, "accounts.send_verification", ("usr_gone", "https://beats.example"), error,
                   attempts=1)
    sign_in(page, store.user("admin"))
    page.goto("/admin/jobs")
    row = page.get_by_role("row").filter(has_text="no such user here")
    expect(row.get_by_role("cell").nth(1)).to_have_text("Email")
    expect(row).to_contain_text("gone@example.com was refused for good")
    screenshot(page, "admin-failed-mail")
