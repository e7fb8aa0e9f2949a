"""Fixtures and readers for the mails: every message is read back from the outbox, both of
its parts checked, and its links followed."""

from __future__ import annotations

import re
from email.message import EmailMessage
from urllib.parse import urlsplit

from tests.accounts.test_sign_in_limits import app_with  # noqa: F401
from tests.catalog.conftest import make_beat  # noqa: F401
from tests.licensing.conftest import sell  # noqa: F401
from tests.conftest import mail_html, mail_text
from tests.payouts.conftest import (  # noqa: F401
    admin_headers,
    beatmaker,
    buy,
    buyer,
    checkout,
    connect,
    credit,
    masters,
    new_buyer,
    offer_all,
    order_of,
    outbox,
    payments,
    seller,
    session_of,
    shop,
    stripe_transfers,
    tiers_of,
    upload_beat,
)

# A name or title as hostile as people type them: markup, quotes, emoji, other scripts.
HOSTILE = "<script>alert('x')</script> Zoë & \"Ōtani\" 🎧 李"
HOSTILE_ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Zoë &amp; &#34;Ōtani&#34; 🎧 李"

_TEXT_LINK = re.compile(r"https?://[^\s<>\"']+")
_HREF = re.compile(r'href="([^"]+)"')


def to(mails: list[EmailMessage], address: str, subject_start: str = "") -> list[EmailMessage]:
    return [m for m in mails if m["To"] == address and str(m["Subject"]).startswith(subject_start)]


def links(message: EmailMessage) -> list[str]:
    """The links of the text part, which the HTML part must have too (and no other page)."""
    return list(dict.fromkeys(_TEXT_LINK.findall(mail_text(message))))


def assert_well_formed(message: EmailMessage, base: str) -> None:
    """multipart/alternative with a text and an HTML part, one-line headers, absolute links to
    the store in both parts, a footer that says why, and no invitation to reply to a no-reply
    address."""
    assert message.get_content_type() == "multipart/alternative"
    text, html = mail_text(message), mail_html(message)
    assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])
    assert "You get this mail because" in text and "You get this mail because" in html
    assert "reply to this" not in text.lower() and "reply to this" not in html.lower()
    text_links = links(message)
    assert text_links, "every message carries a working link"
    html_links = {link.replace("&amp;", "&") for link in _HREF.findall(html) if not link.startswith("mailto:")}
    assert set(text_links) == html_links
    assert all(link.startswith(base + "/") for link in text_links), text_links


def assert_links_open(client, message: EmailMessage) -> None:
    """Each link opens a page of the store (the pages' shell answers; unknown paths are 404)."""
    for link in links(message):
        parts = urlsplit(link)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        answer = client.get(path)
        assert answer.status_code == 200, (link, answer.status_code)
        assert b'id="main"' in answer.data
