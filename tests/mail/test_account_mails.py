"""The mails of an account's security, read back from the outbox: both parts, the escaping of
a hostile name, and their links followed to the end (they are essential: no setting stops them)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from marketplace.mail.messages import DEVELOPMENT_BASE_URL
from tests.accounts.test_sign_in_limits import address, guess
from tests.conftest import (DEFAULT_PASSWORD, bearer, login, mail_html, mail_text, mails_since, outbox_files,
                            register)
from tests.mail.conftest import HOSTILE, HOSTILE_ESCAPED, assert_links_open, assert_well_formed, links, to

LOCAL = "http://localhost"  # the test client's address, which links made during a request use


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def test_the_verification_mail_escapes_a_hostile_name_in_html_and_its_link_verifies(client, mailbox):
    assert register(client, "zoe@example.com", display_name=HOSTILE).status_code == 201
    [message] = to(mailbox(), "zoe@example.com", "Verify your email address")

    assert_well_formed(message, LOCAL)
    text, html = mail_text(message), mail_html(message)
    assert f"Hello {HOSTILE}," in text  # as typed, in the text part
    assert HOSTILE_ESCAPED in html and "<script>" not in html  # inert in the HTML part
    [link] = [link for link in links(message) if "/verify-email?token=" in link]
    assert link in html.replace("&amp;", "&")
    assert "Stop these mails" not in text  # essential: no setting stops it
    assert_links_open(client, message)
    assert client.post("/api/v1/auth/verify-email", json={"token": token_of(link)}).status_code == 204
    headers = bearer(login(client, "zoe@example.com").json["access_token"])
    assert client.get("/api/v1/me", headers=headers).json["email_verified"] is True


def test_the_reset_mail_goes_whatever_the_mail_settings_and_its_link_sets_a_password(client, mailbox):
    register(client, "ann@example.com")
    headers = bearer(login(client).json["access_token"])
    turned_off = client.patch("/api/v1/me/mail-preferences", json={"sale_notices": False, "marketing": False},
                              headers=headers)
    assert turned_off.status_code == 200
    assert client.post("/api/v1/auth/password-reset", json={"email": "ann@example.com"}).status_code == 202

    [message] = to(mailbox(), "ann@example.com", "Reset your password")
    assert_well_formed(message, LOCAL)
    assert_links_open(client, message)
    [link] = [link for link in links(message) if "/reset-password?token=" in link]
    assert "the link works once, for 30 minutes" in mail_text(message)
    done = client.post("/api/v1/auth/password-reset/complete",
                       json={"token": token_of(link), "password": "a brand new passphrase"})
    assert done.status_code == 204
    assert login(client, "ann@example.com", "a brand new passphrase").status_code == 200
    assert login(client, "ann@example.com", DEFAULT_PASSWORD).status_code == 401


def test_the_failed_sign_ins_warning_links_to_the_account_page(app_with):
    app = app_with(LOGIN_SLOWDOWN_AFTER_FAILURES="3 per hour")
    client = app.test_client()
    register(client, "ann@example.com", display_name=HOSTILE)
    before = outbox_files(app)
    for number in (2, 3, 4):
        guess(client, address(number))

    [message] = to(mails_since(app, before), "ann@example.com", "Someone is trying to sign in")
    assert_well_formed(message, DEVELOPMENT_BASE_URL)
    assert links(message) == [f"{DEVELOPMENT_BASE_URL}/account", f"{DEVELOPMENT_BASE_URL}/"]
    assert HOSTILE_ESCAPED in mail_html(message) and "<script>" not in mail_html(message)
    assert_links_open(client, message)


def test_links_point_at_the_public_address_and_the_footer_says_where_to_write(app, client, mailbox,
                                                                              monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://beats.example")
    monkeypatch.setitem(app.config, "MAIL_REPLY_TO", "Beat support <help@beats.example>")
    register(client, "ann@example.com")

    [message] = to(mailbox(), "ann@example.com", "Verify your email address")
    assert_well_formed(message, "https://beats.example")
    assert "Questions? Write to help@beats.example." in mail_text(message)
    assert 'href="mailto:help@beats.example"' in mail_html(message)
    assert re.search(r"https://beats\.example/verify-email\?token=\S+", mail_text(message))


def test_a_long_subject_stays_on_one_line_without_a_leading_space(app, client, mailbox):
    from marketplace.mail.messages import compose
    from marketplace.mail.transport import deliver

    with app.app_context():
        deliver(compose("payment_failed", "ann@example.com", {
            "name": "Ann", "order": {"id": "ord_" + "X" * 60, "total": "USD 1.00", "refunded": None},
            "store_link": f"{DEVELOPMENT_BASE_URL}/beats"}))
    [message] = to(mailbox(), "ann@example.com")
    assert message["Subject"] == f"Your payment for order ord_{'X' * 60} did not go through"
