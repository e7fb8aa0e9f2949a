"""The mails of a change of address and of a closed account, read back from the outbox: both
parts, a hostile name escaped, their links followed; and nothing mailed to a closed account."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from marketplace.accounts.email_change import mask_email
from marketplace.accounts.models import User
from marketplace.db import db
from marketplace.jobs.queue import JOBS
from tests.conftest import DEFAULT_PASSWORD, bearer, login, mail_html, mail_text, register
from tests.mail.conftest import HOSTILE, HOSTILE_ESCAPED, assert_links_open, assert_well_formed, links, to

LOCAL = "http://localhost"  # the test client's address, which links made during a request use


def signed_in(client, email: str) -> dict[str, str]:
    return bearer(login(client, email).json["access_token"])


def test_a_change_of_address_mails_a_link_to_the_new_one_and_tells_the_old_one(client, mailbox):
    assert register(client, "old@example.com", display_name=HOSTILE).status_code == 201
    asked = client.post("/api/v1/me/email", json={"new_email": "new.home@example.org", "password": DEFAULT_PASSWORD},
                        headers=signed_in(client, "old@example.com"))
    assert asked.status_code == 202

    [confirm] = to(mailbox(), "new.home@example.org", "Confirm your new email address")
    assert_well_formed(confirm, LOCAL)
    assert f"Hello {HOSTILE}," in mail_text(confirm)
    assert HOSTILE_ESCAPED in mail_html(confirm) and "<script>" not in mail_html(confirm)
    assert_links_open(client, confirm)
    [link] = [link for link in links(confirm) if "/confirm-email?token=" in link]
    token = parse_qs(urlsplit(link).query)["token"][0]
    assert client.post("/api/v1/auth/confirm-email", json={"token": token}).status_code == 200

    [told] = to(mailbox(), "old@example.com", "Your account's email address was changed")
    assert_well_formed(told, "http://127.0.0.1:5000")  # made by a job: links from the store's address
    for part in (mail_text(told), mail_html(told)):
        assert "new.home@example.org" not in part  # partly hidden from whoever reads the old mailbox
        assert mask_email("new.home@example.org") in part
    assert login(client, "new.home@example.org").status_code == 200


def test_closing_mails_the_address_it_had_and_nothing_reaches_the_closed_account(app, client, mailbox):
    register(client, "leaving@example.com", display_name="Leaving 🎧")
    headers = signed_in(client, "leaving@example.com")
    user_id = client.get("/api/v1/me", headers=headers).json["id"]
    assert client.post("/api/v1/me/close", json={"password": DEFAULT_PASSWORD}, headers=headers).status_code == 204

    [closed] = to(mailbox(), "leaving@example.com", "Your account is closed")
    assert_well_formed(closed, "http://127.0.0.1:5000")
    assert "Hello Leaving 🎧," in mail_text(closed)
    assert any(link.endswith("/signup") for link in links(closed))
    sent_before = len(mailbox())

    # A notice queued before the closing (a strike, say) runs after it: it is not sent to the
    # placeholder address the account now has.
    with app.app_context():
        JOBS["mail.send"]("strike_recorded", user_id, {"reason": "late", "active": 1, "limit": 3})
        placeholder = db.session.get(User, user_id).email
    assert placeholder.endswith(".invalid")
    assert len(mailbox()) == sent_before
    assert not [m for m in mailbox() if m["To"] == placeholder]
