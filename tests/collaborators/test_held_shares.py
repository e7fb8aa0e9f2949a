"""Money never goes to the wrong person: the share of a pending credit is held for its
invitation, paid to the collaborator to the cent once they accept and can be paid, and returned
to the owner (with the reason) when they decline, when the invitation expires or is cancelled.
Reconciliation balances at every step."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.checkout.models import OrderItem
from marketplace.collaborators import services as collaborators
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.jobs.queue import PERIODIC
from marketplace.payouts.models import LedgerEntry, PayoutTransfer
from marketplace.payouts.splits import platform_fee, split
from tests.checkout.conftest import wait_for


def line_parts(app, order, shares):
    """What each payee of `shares` ([(key, bps)]) earns on each line of the order, by the
    published rules: the fee off the price, the rest split by the largest remainders."""
    with app.app_context():
        items = list(db.session.scalars(select(OrderItem).where(OrderItem.order_id == order["id"])))
        bps, fixed = current_app.config["PLATFORM_FEE_BPS"], current_app.config["PLATFORM_FEE_FIXED"]
        return [dict(split(item.price_amount - platform_fee(item.price_amount, bps, fixed), shares))
                for item in items]


def rows(app, **filters):
    with app.app_context():
        return [(row.kind, row.payee_id, row.amount, row.reason) for row in db.session.scalars(
            select(LedgerEntry).filter_by(**filters).order_by(LedgerEntry.created_at, LedgerEntry.id))]


def assert_reconciled(reconcile, *args):
    result = reconcile(*args)
    assert result.exit_code == 0, result.output
    assert "no difference" in result.output


def test_a_three_way_split_pays_the_late_collaborator_exactly_what_was_held_once_onboarded(
        app, client, beatmaker, make_user, headers_for, email_of, put_credits, invitations_of, new_buyer, buy,
        balance, connect, stripe_transfers, reconcile):
    anna, anna_headers, beat, tiers = beatmaker("Anna")
    cleo = make_user(Role.BEATMAKER, "Cleo")
    cleo_headers = headers_for(cleo)
    response = put_credits(anna_headers, beat, [
        {"name": "Anna", "user_id": anna, "role": "producer", "profit_share_bps": 5000},
        {"name": "Cleo", "role": "co_producer", "profit_share_bps": 3000, "invite": {"email": email_of(cleo)}},
        {"name": "Max", "role": "mix_engineer", "profit_share_bps": 2000}])
    assert response.status_code == 200, response.json
    assert [(c["name"], c["status"], c["paid_to"], c["user_id"]) for c in response.json["credits"]] == [
        ("Anna", "accepted", "account", anna), ("Cleo", "pending", "held", None), ("Max", "name_only", "owner", None)]
    anna_account = connect(anna_headers)

    orders = [buy(new_buyer()[1], [(beat, tiers["Basic"]["id"])]), buy(new_buyer()[1], [(beat, tiers["Premium"]["id"])])]

    # Anna answers for Max's name-only share; Cleo's is held for her invitation.
    expected = [parts for order in orders for parts in line_parts(app, order, [(anna, 7000), ("held", 3000)])]
    held_total = sum(parts["held"] for parts in expected)
    assert held_total > 0
    for order in orders:
        assert {t["amount"] for t in stripe_transfers(transfer_group=order["id"])} <= {p[anna] for p in expected}
    assert sum(t["amount"] for t in stripe_transfers(destination=anna_account)) == sum(p[anna] for p in expected)
    invitation = invitations_of(cleo_headers)[0]
    held_rows = rows(app, credit_invitation_id=invitation["id"])
    assert [(kind, payee) for kind, payee, _, _ in held_rows] == [("held", None), ("held", None)]
    assert sum(amount for _, _, amount, _ in held_rows) == held_total
    assert balance(cleo_headers) == (0, 0)
    assert_reconciled(reconcile, "--offline")

    accepted = client.post(f"/api/v1/me/credit-invitations/{invitation['id']}/accept", headers=cleo_headers)
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["status"] == "accepted"
    # Owed to her now, not yet sent: she has no account that can be paid.
    assert balance(cleo_headers) == (held_total, 0)
    with app.app_context():
        assert db.session.scalars(select(PayoutTransfer).where(PayoutTransfer.payee_id == cleo)).all() == []
    releases = [(kind, payee, amount, reason) for kind, payee, amount, reason in rows(
        app, credit_invitation_id=invitation["id"]) if kind != "held"]
    assert sorted(releases) == sorted(
        [("held_release", None, -p["held"], "accepted") for p in expected]
        + [("sale", cleo, p["held"], "accepted") for p in expected])
    assert_reconciled(reconcile, "--offline")

    cleo_account = connect(cleo_headers)
    wait_for(lambda: balance(cleo_headers) == (0, held_total))
    assert [t["amount"] for t in stripe_transfers(destination=cleo_account)] == [held_total]
    assert_reconciled(reconcile)

    # A sale after she accepted pays her share straight away.
    later = buy(new_buyer()[1], [(beat, tiers["Basic"]["id"])])
    share = line_parts(app, later, [(anna, 7000), (cleo, 3000)])[0][cleo]
    wait_for(lambda: balance(cleo_headers) == (0, held_total + share))
    assert ("sale", cleo, share, None) in rows(app, order_id=later["id"])
    assert_reconciled(reconcile)


def test_a_declined_invitation_returns_its_share_to_the_owner_who_may_invite_again(
        app, client, beatmaker, make_user, headers_for, invitations_of, sent_for, new_buyer, buy, balance,
        reconcile):
    anna, anna_headers, beat, tiers = beatmaker("Anna")
    cleo = make_user(Role.BEATMAKER, "Cleo")
    cleo_headers = headers_for(cleo)
    claimed = client.put("/api/v1/me/profile", json={"handle": "cleo.beats", "display_name": "Cleo"},
                         headers=cleo_headers)
    assert claimed.status_code == 200, claimed.json
    invited = client.post(f"/api/v1/beats/{beat}/invitations", headers=anna_headers, json={
        "handle": "@cleo.beats", "name": "Cleo", "role": "co_producer", "profit_share_bps": 4000})
    assert invited.status_code == 201, invited.json
    assert invited.json["invited"] == {"email": None, "handle": "cleo.beats"}
    credits = client.get(f"/api/v1/beats/{beat}/credits").json["credits"]
    assert [(c["profit_share_bps"], c["status"]) for c in credits] == [(6000, "accepted"), (4000, "pending")]

    order = buy(new_buyer()[1], [(beat, tiers["Premium"]["id"])])
    parts = line_parts(app, order, [(anna, 6000), ("held", 4000)])[0]
    assert balance(anna_headers) == (parts[anna], 0)
    assert sent_for(anna_headers, beat)[0]["held"]["amount"] == parts["held"]

    declined = client.post(f"/api/v1/me/credit-invitations/{invited.json['id']}/decline", headers=cleo_headers)
    assert declined.status_code == 200, declined.json
    assert balance(anna_headers) == (parts[anna] + parts["held"], 0)
    assert balance(cleo_headers) == (0, 0)
    assert sorted(rows(app, credit_invitation_id=invited.json["id"])) == sorted([
        ("held", None, parts["held"], None), ("held_release", None, -parts["held"], "declined"),
        ("sale", anna, parts["held"], "declined")])
    sent = sent_for(anna_headers, beat)[0]
    assert (sent["status"], sent["held"]["amount"]) == ("declined", 0)
    credit = client.get(f"/api/v1/beats/{beat}/credits").json["credits"][1]
    assert (credit["status"], credit["paid_to"], credit["user_id"]) == ("declined", "owner", None)
    assert_reconciled(reconcile, "--offline")

    # Answering twice is refused; the owner may invite again, and the credit is pending again.
    again = client.post(f"/api/v1/me/credit-invitations/{invited.json['id']}/accept", headers=cleo_headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "invitation_already_decided"
    reinvited = client.post(f"/api/v1/credit-invitations/{invited.json['id']}/reinvite", headers=anna_headers)
    assert reinvited.status_code == 200, reinvited.json
    assert reinvited.json["replaces"] == invited.json["id"] and reinvited.json["status"] == "pending"
    assert client.get(f"/api/v1/beats/{beat}/credits").json["credits"][1]["status"] == "pending"
    assert [i["status"] for i in invitations_of(cleo_headers)] == ["pending", "declined"]


def test_an_expired_invitation_returns_its_share_and_can_no_longer_be_accepted(
        app, client, beatmaker, make_user, headers_for, email_of, invitations_of, sent_for, new_buyer, buy,
        balance, reconcile):
    anna, anna_headers, beat, tiers = beatmaker("Anna")
    cleo = make_user(Role.BEATMAKER, "Cleo")
    cleo_headers = headers_for(cleo)
    invited = client.post(f"/api/v1/beats/{beat}/invitations", headers=anna_headers, json={
        "email": email_of(cleo).upper(), "name": "Cleo ✨", "role": "songwriter", "profit_share_bps": 2500,
        "publishing_share_bps": 5000})
    assert invited.status_code == 201, invited.json
    expires = dt.datetime.fromisoformat(invited.json["expires_at"])
    assert dt.timedelta(days=29) < expires - utcnow() <= dt.timedelta(days=30)
    order = buy(new_buyer()[1], [(beat, tiers["Basic"]["id"])])
    parts = line_parts(app, order, [(anna, 7500), ("held", 2500)])[0]

    assert PERIODIC["collaborators.expire_invitations"] == 3600
    with app.app_context():
        assert collaborators.expire_due(now=utcnow()) == 0  # not yet
        assert collaborators.expire_due(now=utcnow() + dt.timedelta(days=31)) == 1
        db.session.commit()

    assert (sent_for(anna_headers, beat)[0]["status"], sent_for(anna_headers, beat)[0]["held"]["amount"]) == (
        "expired", 0)
    assert balance(anna_headers) == (parts[anna] + parts["held"], 0)
    assert ("held_release", None, -parts["held"], "expired") in rows(app, credit_invitation_id=invited.json["id"])
    assert client.get(f"/api/v1/beats/{beat}/credits").json["credits"][1]["status"] == "expired"
    late = client.post(f"/api/v1/me/credit-invitations/{invited.json['id']}/accept", headers=cleo_headers)
    assert late.status_code == 409, late.json
    assert invitations_of(cleo_headers)[0]["status"] == "expired"
    assert_reconciled(reconcile, "--offline")


def test_a_refund_takes_back_a_held_share_and_the_cancelled_invitation_has_nothing_left(
        app, client, beatmaker, make_user, email_of, sent_for, new_buyer, buy, admin_headers, order_of,
        reconcile):
    anna, anna_headers, beat, tiers = beatmaker("Anna")
    cleo = make_user(Role.BEATMAKER, "Cleo")
    invited = client.post(f"/api/v1/beats/{beat}/invitations", headers=anna_headers, json={
        "email": email_of(cleo), "name": "Cleo", "role": "co_producer", "profit_share_bps": 5000})
    buyer_headers = new_buyer()[1]
    order = buy(buyer_headers, [(beat, tiers["Basic"]["id"])])
    refunded = client.post(f"/api/v1/orders/{order['id']}/refund", headers=admin_headers)
    assert refunded.status_code == 202, refunded.json
    wait_for(lambda: order_of(order["id"], buyer_headers)["status"] == "refunded")
    assert sent_for(anna_headers, beat)[0]["held"]["amount"] == 0
    cancelled = client.post(f"/api/v1/credit-invitations/{invited.json['id']}/cancel", headers=anna_headers)
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert [kind for kind, *_ in rows(app, credit_invitation_id=invited.json["id"])] == ["held", "refund"]
    # Taking back a held share is no refund of the platform's fee.
    assert client.get("/api/v1/admin/payouts/fees", headers=admin_headers).json["total"]["amount"] == 0
    credit = client.get(f"/api/v1/beats/{beat}/credits").json["credits"][1]
    assert (credit["status"], credit["paid_to"]) == ("name_only", "owner")
    assert_reconciled(reconcile, "--offline")
