"""The mails of a sale, through a real checkout against the Stripe sandbox: the buyer's
receipt with a link to each license, the sale notice to the beatmaker and to each credited
collaborator with their share, the payout-sent notice, and the notice to earlier lessees when
the exclusive is sold. Sale notices can be turned off; the rest always go."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.mail.messages import DEVELOPMENT_BASE_URL as BASE
from tests.checkout.conftest import wait_for
from tests.conftest import mail_html, mail_text
from tests.mail.conftest import HOSTILE, HOSTILE_ESCAPED, assert_links_open, assert_well_formed, links, to

TITLE = f"{HOSTILE}'s beat"  # the beatmaker fixture titles each beat after its maker


def email_of(app, user_id):
    with app.app_context():
        return accounts.get_user(user_id).email


def credited_shop(beatmaker, make_user, headers_for, credit, connect):
    """A beat by a beatmaker with a hostile name, 60% theirs and 40% to Cleo; both can be paid."""
    maker, maker_headers, beat_id, tiers = beatmaker(HOSTILE)
    cleo = make_user(Role.BEATMAKER, "Cleo")
    cleo_headers = headers_for(cleo)
    credit(maker_headers, beat_id, [("Maker", maker, "producer", 6000), ("Cleo", cleo, "co_producer", 4000)])
    connect(maker_headers)
    connect(cleo_headers)
    return maker, cleo, cleo_headers, beat_id, tiers


def test_a_sale_mails_the_receipt_each_share_and_each_payout_with_working_links(
        app, client, payments, beatmaker, make_user, headers_for, credit, connect, new_buyer, buy, mailbox):
    maker, cleo, _cleo_headers, beat_id, tiers = credited_shop(beatmaker, make_user, headers_for, credit, connect)
    buyer_id, buyer_headers = new_buyer(HOSTILE)
    order = buy(buyer_headers, [(beat_id, tiers["Basic"]["id"])])
    buyer_email, maker_email, cleo_email = (email_of(app, user) for user in (buyer_id, maker, cleo))
    wait_for(lambda: len(to(mailbox(), maker_email, "USD")) == 1 and len(to(mailbox(), cleo_email, "USD")) == 1)
    mails = mailbox()

    # The receipt: the line as typed in text, escaped in HTML, with its license and its link.
    [receipt] = to(mails, buyer_email, f"Your order {order['id']}")
    assert_well_formed(receipt, BASE)
    [line] = order["items"]
    license_id = line["license_id"]
    license_number = client.get(f"/api/v1/licenses/{license_id}", headers=buyer_headers).json["license_number"]
    text, html = mail_text(receipt), mail_html(receipt)
    assert f"- {TITLE}, Basic lease: USD 29.99" in text
    assert f"License {license_number}: {BASE}/licenses/{license_id}" in text
    assert HOSTILE_ESCAPED in html and "<script>" not in html
    assert f'href="{BASE}/licenses/{license_id}"' in html
    assert "Stop these mails" not in text  # a receipt always goes
    assert_links_open(client, receipt)
    path = urlsplit(f"{BASE}/licenses/{license_id}").path
    assert client.get(f"/api/v1{path}", headers=buyer_headers).status_code == 200  # what the page shows

    # The sale notices: 29.99 less the 10% fee is 26.99, shared 60/40.
    [maker_notice] = to(mails, maker_email, "You sold a license")
    [cleo_notice] = to(mails, cleo_email, "You sold a license")
    for notice in (maker_notice, cleo_notice):
        assert_well_formed(notice, BASE)
        assert_links_open(client, notice)
        assert f"{BASE}/account#mail-settings" in links(notice)  # they can be turned off
        assert HOSTILE_ESCAPED in mail_html(notice) and "<script>" not in mail_html(notice)
    assert str(maker_notice["Subject"]) == f"You sold a license: {TITLE}"
    assert f"{TITLE}, Basic lease: sold for USD 29.99; your share: USD 16.19" in mail_text(maker_notice)
    assert "your share: USD 10.80" in mail_text(cleo_notice)
    assert f"{BASE}/studio/sales" in links(cleo_notice)

    # The payouts sent, each to its payee.
    [maker_payout] = to(mails, maker_email, "USD 16.19 is on its way to you")
    [cleo_payout] = to(mails, cleo_email, "USD 10.80 is on its way to you")
    for payout in (maker_payout, cleo_payout):
        assert_well_formed(payout, BASE)
        assert f"{BASE}/payouts" in links(payout)
        assert_links_open(client, payout)


def test_turning_sale_notices_off_stops_them_while_receipts_and_payouts_still_arrive(
        app, client, payments, beatmaker, make_user, headers_for, credit, connect, new_buyer, buy, mailbox):
    maker, cleo, cleo_headers, beat_id, tiers = credited_shop(beatmaker, make_user, headers_for, credit, connect)
    off = client.patch("/api/v1/me/mail-preferences", json={"sale_notices": False}, headers=cleo_headers)
    assert off.status_code == 200 and off.json == {"sale_notices": False, "marketing": False}
    buyer_id, buyer_headers = new_buyer()
    order = buy(buyer_headers, [(beat_id, tiers["Premium"]["id"])])
    maker_email, cleo_email = email_of(app, maker), email_of(app, cleo)
    wait_for(lambda: to(mailbox(), cleo_email, "USD") and to(mailbox(), maker_email, "USD"))
    mails = mailbox()

    assert to(mails, email_of(app, buyer_id), f"Your order {order['id']}")
    assert len(to(mails, maker_email, "You sold a license")) == 1
    assert to(mails, cleo_email, "You sold a license") == []
    assert len(to(mails, cleo_email, "USD")) == 1  # the payout sent is not a sale notice

    on = client.patch("/api/v1/me/mail-preferences", json={"sale_notices": True}, headers=cleo_headers)
    assert on.json["sale_notices"] is True
    buy(new_buyer("Second")[1], [(beat_id, tiers["Premium"]["id"])])
    wait_for(lambda: len(to(mailbox(), cleo_email, "You sold a license")) == 1)


def test_an_exclusive_sale_tells_the_earlier_lessee_even_with_sale_notices_off(
        app, client, payments, beatmaker, new_buyer, buy, mailbox):
    _maker, _headers, beat_id, tiers = beatmaker(HOSTILE)
    lessee_id, lessee_headers = new_buyer("Lee")
    client.patch("/api/v1/me/mail-preferences", json={"sale_notices": False}, headers=lessee_headers)
    lease = buy(lessee_headers, [(beat_id, tiers["Basic"]["id"])])
    buy(new_buyer("Exa")[1], [(beat_id, tiers["Exclusive"]["id"])])
    lessee_email = email_of(app, lessee_id)
    wait_for(lambda: to(mailbox(), lessee_email, "Exclusive rights to"))

    [notice] = to(mailbox(), lessee_email, "Exclusive rights to")
    assert str(notice["Subject"]) == f'Exclusive rights to "{TITLE}" were sold'
    assert_well_formed(notice, BASE)
    assert_links_open(client, notice)
    [license_link] = [link for link in links(notice) if "/licenses/" in link]
    license_id = license_link.rsplit("/", 1)[1]
    assert license_id in {item["license_id"] for item in lease["items"]}
    assert client.get(f"/api/v1/licenses/{license_id}", headers=lessee_headers).json["status"] == "active"
    assert re.search(r"Your license \S+ stays valid", mail_text(notice))
    assert HOSTILE_ESCAPED in mail_html(notice) and "<script>" not in mail_html(notice)


def test_one_click_in_a_sale_notice_stops_sale_notices_without_signing_in(
        app, client, payments, beatmaker, make_user, headers_for, credit, connect, new_buyer, buy, mailbox):
    maker, cleo, cleo_headers, beat_id, tiers = credited_shop(beatmaker, make_user, headers_for, credit, connect)
    buy(new_buyer()[1], [(beat_id, tiers["Basic"]["id"])])
    cleo_email = email_of(app, cleo)
    wait_for(lambda: to(mailbox(), cleo_email, "You sold a license"))
    [notice] = to(mailbox(), cleo_email, "You sold a license")
    [page_link] = [link for link in links(notice) if "/unsubscribe?token=" in link]
    assert f'href="{page_link}"' in mail_html(notice) and "Stop these mails" in mail_html(notice)
    assert_links_open(client, notice)
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = re.fullmatch(r"<(\S+)>", str(notice["List-Unsubscribe"])).group(1)
    assert one_click.startswith(f"{BASE}/api/v1/mail-preferences/unsubscribe?token=")

    # A mail program's unsubscribe button posts this form to the header's address (RFC 8058).
    parts = urlsplit(one_click)
    answer = client.post(f"{parts.path}?{parts.query}", data="List-Unsubscribe=One-Click",
                         content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 200, answer.json
    assert answer.json == {"category": "sale_notices", "preferences": {"sale_notices": False, "marketing": False}}
    assert client.get("/api/v1/me/mail-preferences", headers=cleo_headers).json["sale_notices"] is False
    tampered = client.post(f"{parts.path}?token={parts.query.split('=', 1)[1][:-2]}xx")
    assert tampered.status_code == 400 and tampered.json["error"]["code"] == "unsubscribe_link_invalid"
    assert "account page" in tampered.json["error"]["message"]

    _buyer, buyer_headers = new_buyer("Second")
    order = buy(buyer_headers, [(beat_id, tiers["Basic"]["id"])])
    maker_email = email_of(app, maker)
    wait_for(lambda: len(to(mailbox(), maker_email, "You sold a license")) == 2)
    assert len(to(mailbox(), cleo_email, "You sold a license")) == 1
    assert to(mailbox(), email_of(app, _buyer), f"Your order {order['id']}")


def test_a_refund_of_one_line_and_a_failed_payment_are_mailed_with_working_links(
        app, client, payments, beatmaker, new_buyer, buy, checkout, session_of, order_of, admin_headers, mailbox):
    _maker, _headers, beat_id, tiers = beatmaker(HOSTILE)
    buyer_id, buyer_headers = new_buyer(HOSTILE)
    _other, _other_headers, other_beat, other_tiers = beatmaker("Other")
    order = buy(buyer_headers, [(beat_id, tiers["Basic"]["id"]), (other_beat, other_tiers["Premium"]["id"])])
    basic = next(item for item in order["items"] if item["beat_id"] == beat_id)
    refunded = client.post(f"/api/v1/orders/{order['id']}/refund", json={"items": [basic["id"]]},
                           headers=admin_headers)
    assert refunded.status_code == 202, refunded.json
    address = email_of(app, buyer_id)
    wait_for(lambda: to(mailbox(), address, "Refund for your order"))
    [receipt] = to(mailbox(), address, f"Refund for your order {order['id']}")
    assert_well_formed(receipt, BASE)
    assert f"- {TITLE}, Basic lease: USD 29.99" in mail_text(receipt)
    assert "The other licenses of this order stay valid." in mail_text(receipt)
    assert HOSTILE_ESCAPED in mail_html(receipt) and "<script>" not in mail_html(receipt)
    assert links(receipt)[0] == f"{BASE}/orders/{order['id']}"
    assert_links_open(client, receipt)

    started = checkout(buyer_headers, [(beat_id, tiers["Exclusive"]["id"])])
    assert started.status_code == 201, started.json
    failed_id = started.json["order_id"]
    payments.complete(session_of(failed_id), async_payment=True, deliver="sync")
    payments.async_fail(session_of(failed_id), deliver="sync")
    assert order_of(failed_id, buyer_headers)["status"] == "failed"
    wait_for(lambda: to(mailbox(), address, f"Your payment for order {failed_id}"))
    [failed] = to(mailbox(), address, f"Your payment for order {failed_id}")
    assert_well_formed(failed, BASE)
    assert "nothing was licensed" in mail_text(failed)
    assert links(failed)[0] == f"{BASE}/beats"
    assert_links_open(client, failed)
