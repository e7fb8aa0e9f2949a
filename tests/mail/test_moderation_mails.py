"""Moderation's mails: strikes and suspensions with their reason, report outcomes to the
reporter and to the beatmaker, takedowns and revoked licenses; each in text and HTML, the
reason as typed in text and inert in HTML, never an invitation to reply to a no-reply address."""

from __future__ import annotations

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.mail.messages import DEVELOPMENT_BASE_URL as BASE
from tests.conftest import mail_html, mail_text
from tests.mail.conftest import HOSTILE, HOSTILE_ESCAPED, assert_links_open, assert_well_formed, links, to

REASON = f"Uploaded {HOSTILE}, which is not theirs."
REASON_ESCAPED = f"Uploaded {HOSTILE_ESCAPED}, which is not theirs."


def email_of(app, user_id):
    with app.app_context():
        return accounts.get_user(user_id).email


def only(mails, address, subject):
    [message] = to(mails, address, subject)
    assert_well_formed(message, BASE)
    return message


def test_strikes_and_suspensions_carry_their_reason_and_never_ask_for_a_reply(
        app, client, make_user, headers_for, admin_headers, mailbox, monkeypatch):
    user_id = make_user(Role.BEATMAKER, HOSTILE)
    address = email_of(app, user_id)
    struck = client.post(f"/api/v1/admin/users/{user_id}/strike", json={"reason": REASON}, headers=admin_headers)
    assert struck.status_code == 200, struck.json
    notice = only(mailbox(), address, "A strike was recorded against your account")
    assert f"Reason: {REASON}" in mail_text(notice) and "Active strikes: 1 of 3" in mail_text(notice)
    assert REASON_ESCAPED in mail_html(notice) and "<script>" not in mail_html(notice)
    assert f"{BASE}/account" in links(notice)
    assert_links_open(client, notice)

    client.post(f"/api/v1/admin/strikes/{struck.json['strikes'][0]['id']}/lift", json={"reason": "Cleared."},
                headers=admin_headers)
    lifted = only(mailbox(), address, "A strike against your account was lifted")
    assert f"Strike: {REASON}" in mail_text(lifted)

    suspended = client.post(f"/api/v1/admin/users/{user_id}/suspend", json={"reason": REASON},
                            headers=admin_headers)
    assert suspended.status_code == 200
    notice = only(mailbox(), address, "Your account is suspended")
    assert f"Reason: {REASON}" in mail_text(notice) and REASON_ESCAPED in mail_html(notice)
    assert "appeal" not in mail_text(notice)  # nowhere to write: no MAIL_REPLY_TO
    assert_links_open(client, notice)

    client.post(f"/api/v1/admin/users/{user_id}/unsuspend", json={}, headers=admin_headers)
    back = only(mailbox(), address, "Your account is active again")
    assert links(back)[0] == f"{BASE}/signin"
    assert_links_open(client, back)

    # With an address that is read, the suspension says where to appeal.
    monkeypatch.setitem(app.config, "MAIL_REPLY_TO", "Moderation <appeals@beats.example>")
    client.post(f"/api/v1/admin/users/{user_id}/suspend", json={"reason": "Again."}, headers=admin_headers)
    [_, again] = to(mailbox(), address, "Your account is suspended")
    assert "To appeal, write to appeals@beats.example." in mail_text(again)
    assert 'href="mailto:appeals@beats.example"' in mail_html(again)


def test_a_report_outcome_reaches_the_reporter_and_the_beatmaker(
        app, client, make_user, headers_for, make_beat, admin_headers, mailbox):
    owner = make_user(Role.BEATMAKER, "Owner")
    beat = make_beat(owner, title=HOSTILE)
    reporter = make_user(Role.ARTIST, "Reporter")
    reporter_headers = headers_for(reporter)

    def report():
        answer = client.post(f"/api/v1/beats/{beat}/reports", json={"reason": "copyright", "details": "Mine."},
                             headers=reporter_headers)
        assert answer.status_code == 201, answer.json
        return answer.json["id"]

    client.post(f"/api/v1/admin/reports/{report()}/resolve", json={"action": "dismiss", "note": "Original."},
                headers=admin_headers)
    reviewed = only(mailbox(), email_of(app, reporter), "Your report was reviewed")
    assert f'Thank you for your report about "{HOSTILE}".' in mail_text(reviewed)
    assert "found no reason to take the beat down" in mail_text(reviewed)
    assert HOSTILE_ESCAPED in mail_html(reviewed) and "<script>" not in mail_html(reviewed)
    assert_links_open(client, reviewed)
    to_owner = only(mailbox(), email_of(app, owner), "A report about your beat")
    assert str(to_owner["Subject"]) == f'A report about your beat "{HOSTILE}" was reviewed'
    assert f"{BASE}/studio/beats/{beat}" in links(to_owner)
    assert_links_open(client, to_owner)

    client.post(f"/api/v1/admin/reports/{report()}/resolve", json={"action": "takedown", "note": REASON},
                headers=admin_headers)
    acted = only(mailbox(), email_of(app, reporter), "Your report was acted on")
    assert "The beat has been taken out of the store." in mail_text(acted)
    down = only(mailbox(), email_of(app, owner), "Your beat")
    assert str(down["Subject"]) == f'Your beat "{HOSTILE}" was taken down'
    assert f"Reason: {REASON}" in mail_text(down) and REASON_ESCAPED in mail_html(down)
    assert "mistake" not in mail_text(down)  # no MAIL_REPLY_TO: nowhere to write
    assert_links_open(client, down)


def test_a_revoked_license_mail_links_to_the_license(app, client, seller, upload_beat, offer_all, buyer, sell,
                                                     admin_headers, mailbox):
    beat = upload_beat(seller[1], title=HOSTILE)
    tiers = offer_all(seller[1], beat)
    license_id = sell(beat, tiers["Basic lease"]["id"], buyer[0])
    revoked = client.post(f"/api/v1/admin/beats/{beat}/revoke-licenses", json={"reason": REASON},
                          headers=admin_headers)
    assert revoked.status_code == 200, revoked.json

    notice = only(mailbox(), email_of(app, buyer[0]), "Your license")
    assert f"{BASE}/licenses/{license_id}" in links(notice)
    assert f'for "{HOSTILE}" was revoked' in mail_text(notice) and REASON_ESCAPED in mail_html(notice)
    assert_links_open(client, notice)
    assert client.get(f"/api/v1/licenses/{license_id}", headers=buyer[1]).json["status"] == "revoked"


def test_a_reviewed_and_a_restored_beat_are_mailed_to_its_owner_with_a_link_to_it(
        app, client, make_user, make_beat, admin_headers, mailbox, monkeypatch):
    from marketplace.catalog import services as catalog
    from marketplace.db import db

    monkeypatch.setitem(app.config, "PREMODERATION_MIN_APPROVED_BEATS", 1)
    owner = make_user(Role.BEATMAKER, "Owner")
    address = email_of(app, owner)
    beat = make_beat(owner, publish=False, title=HOSTILE)
    with app.app_context():
        catalog.publish_processed(catalog.get_beat(beat))  # the preview job's last step: held for review
        db.session.commit()
    waiting = only(mailbox(), address, f'Your beat "{HOSTILE}" is waiting for review')
    assert "reviewed before they are published" in mail_text(waiting)
    assert HOSTILE_ESCAPED in mail_html(waiting) and "<script>" not in mail_html(waiting)

    client.post(f"/api/v1/admin/beats/{beat}/reject", json={"reason": REASON}, headers=admin_headers)
    rejected = only(mailbox(), address, f'Your beat "{HOSTILE}" was not approved')
    assert f"Reason: {REASON}" in mail_text(rejected) and REASON_ESCAPED in mail_html(rejected)

    client.post(f"/api/v1/admin/beats/{beat}/approve", json={}, headers=admin_headers)
    approved = only(mailbox(), address, f'Your beat "{HOSTILE}" was approved')
    assert "passed review and is now in the store" in mail_text(approved)

    client.post(f"/api/v1/admin/beats/{beat}/takedown", json={"reason": REASON}, headers=admin_headers)
    client.post(f"/api/v1/admin/beats/{beat}/restore", json={}, headers=admin_headers)
    restored = only(mailbox(), address, f'Your beat "{HOSTILE}" was restored')
    assert "It is back in the store." in mail_text(restored)
    for message in (waiting, rejected, approved, restored):
        assert f"{BASE}/studio/beats/{beat}" in links(message)
        assert_links_open(client, message)
