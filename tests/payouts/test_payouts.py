"""Payouts against the Stripe sandbox: each payee of a cart paid their share by transfer,
refunds and lost disputes taken back, balances kept for payees who cannot be paid yet,
refused and failed transfers retried without paying twice, and a clean reconciliation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.db import db
from marketplace.jobs.queue import RetryLater
from marketplace.payouts import tasks
from marketplace.payouts.models import LedgerEntry, PayoutTransfer
from tests.checkout.conftest import wait_for


def ledger_of(app, order_id):
    with app.app_context():
        return sorted(((row.kind, row.payee_id, row.amount) for row in db.session.scalars(
            select(LedgerEntry).where(LedgerEntry.order_id == order_id))), key=lambda row: (row[0], row[1] or "", row[2]))


def attempts(app, **filters):
    with app.app_context():
        query = select(PayoutTransfer).filter_by(**filters).order_by(PayoutTransfer.created_at)
        return [(row.status, row.amount, row.failure_code) for row in db.session.scalars(query)]


def test_a_cart_of_two_beatmakers_and_a_collaborator_pays_each_their_share_and_a_refund_takes_it_back(
        app, client, payments, beatmaker, credit, connect, make_user, headers_for, new_buyer, buy,
        stripe_transfers, balance, admin_headers, order_of, reconcile):
    anna, anna_headers, anna_beat, anna_tiers = beatmaker("Anna")
    ben, ben_headers, ben_beat, ben_tiers = beatmaker("Ben")
    cleo = make_user(Role.BEATMAKER, "Cleo")
    cleo_headers = headers_for(cleo)
    # Anna's beat: 60% hers, 40% to Cleo; a mix engineer credited without a share is not paid.
    credit(anna_headers, anna_beat, [("Anna", anna, "producer", 6000), ("Cleo", cleo, "co_producer", 4000),
                                     ("Max", None, "mix_engineer", None)])
    accounts = {user: connect(headers) for user, headers in
                ((anna, anna_headers), (ben, ben_headers), (cleo, cleo_headers))}
    _buyer, buyer_headers = new_buyer()

    order = buy(buyer_headers, [(anna_beat, anna_tiers["Basic"]["id"]), (ben_beat, ben_tiers["Premium"]["id"])])

    # 29.99: fee 3.00 (10%), 26.99 left: Anna 16.19, Cleo 10.80 (the odd cent to the larger remainder).
    # 49.99: fee 5.00, Ben 44.99.
    sent = {(t["destination"], t["amount"]) for t in stripe_transfers(transfer_group=order["id"])}
    assert sent == {(accounts[anna], 1619), (accounts[cleo], 1080), (accounts[ben], 4499)}
    intent = payments.session(_session(app, order["id"]))["payment_intent"]
    assert {t["source_transaction"] for t in stripe_transfers(transfer_group=order["id"])} == {
        _charge_of(payments, intent)}
    assert balance(anna_headers) == (0, 1619)
    assert balance(cleo_headers) == (0, 1080)
    assert balance(ben_headers) == (0, 4499)
    assert ledger_of(app, order["id"]) == sorted([
        ("platform_fee", None, 300), ("platform_fee", None, 500),
        ("sale", anna, 1619), ("sale", cleo, 1080), ("sale", ben, 4499),
        ("transfer", anna, -1619), ("transfer", cleo, -1080), ("transfer", ben, -4499)],
        key=lambda row: (row[0], row[1] or "", row[2]))
    fees = client.get("/api/v1/admin/payouts/fees", headers=admin_headers).json
    assert fees["total"] == {"amount": 800, "currency": "usd"} and fees["months"][0]["lines"] == 2
    result = reconcile()
    assert result.exit_code == 0, result.output
    assert "no difference" in result.output

    refunded = client.post(f"/api/v1/orders/{order['id']}/refund", headers=admin_headers)
    assert refunded.status_code == 202, refunded.json
    wait_for(lambda: order_of(order["id"], buyer_headers)["status"] == "refunded")

    # The refund's event arrives on its own; its reversals are made by a job after it commits.
    wait_for(lambda: all(t["amount_reversed"] == t["amount"] for t in stripe_transfers(transfer_group=order["id"])))
    wait_for(lambda: all(balance(headers) == (0, 0) for headers in (anna_headers, cleo_headers, ben_headers)))
    kinds = [kind for kind, _payee, _amount in ledger_of(app, order["id"])]
    assert kinds.count("refund") == 5 and kinds.count("transfer_reversal") == 3
    assert client.get("/api/v1/admin/payouts/fees", headers=admin_headers).json["total"]["amount"] == 0
    sales = client.get("/api/v1/payouts/sales", headers=cleo_headers).json
    assert sales == [{"beat_id": anna_beat, "beat_title": "Anna's beat", "tier_name": "Basic lease", "sales": 1,
                      "gross": {"amount": 2999, "currency": "usd"}, "fees": {"amount": 300, "currency": "usd"},
                      "earnings": {"amount": 1080, "currency": "usd"},
                      "refunded": {"amount": 1080, "currency": "usd"}}]
    result = reconcile()
    assert result.exit_code == 0, result.output
    assert "checked 1 orders, 3 transfers and 1 charges: no difference" in result.output


def _session(app, order_id):
    from marketplace.checkout.models import Order

    with app.app_context():
        return db.session.get(Order, order_id).payment_session_id


def _charge_of(payments, payment_intent_id):
    import requests

    response = requests.get(f"{payments.url}/v1/payment_intents/{payment_intent_id}",
                            headers={"Authorization": f"Bearer {payments.api_key}"}, timeout=10)
    return response.json()["latest_charge"]


def test_a_payee_without_an_account_accrues_and_is_paid_when_onboarding_completes(
        app, client, payments, shop, connect, new_buyer, buy, stripe_transfers, balance):
    _buyer, buyer_headers = new_buyer()
    buy(buyer_headers, [(shop["beat_id"], shop["tiers"]["Premium"]["id"])])
    owed = client.get("/api/v1/payouts/balance", headers=shop["headers"]).json
    assert owed["pending"]["amount"] == 4499 and owed["paid"]["amount"] == 0
    assert owed["account_status"] == "not_connected" and "Connect a Stripe account" in owed["why_pending"]

    account_id = connect(shop["headers"], onboard=False)
    assert client.get("/api/v1/payouts/account", headers=shop["headers"]).json["status"] == "onboarding"
    assert stripe_transfers(destination=account_id) == []

    payments.onboard(account_id, deliver="sync")  # account.updated: payouts enabled
    account = client.get("/api/v1/payouts/account", headers=shop["headers"]).json
    assert account["status"] == "enabled" and account["payouts_enabled"] is True
    [transfer] = stripe_transfers(destination=account_id)
    assert transfer["amount"] == 4499 and transfer["transfer_group"] == f"payee-{shop['seller_id']}"
    assert balance(shop["headers"]) == (0, 4499)
    # Another account.updated, or the sweep, sends nothing more.
    payments.restrict(account_id, deliver="sync")
    restricted = client.get("/api/v1/payouts/account", headers=shop["headers"]).json
    assert restricted["status"] == "restricted" and restricted["may_connect"] is True
    # Stripe's code stays for clients; people read what it means and what to do.
    assert restricted["disabled_reason"] == "requirements.past_due"
    assert restricted["why_disabled"] == ("Stripe is waiting for details it asked for and the deadline has "
                                          "passed: continue with Stripe to give them.")
    with app.app_context():
        tasks.sweep_payouts()
    assert len(stripe_transfers(destination=account_id)) == 1


def test_a_transfer_refused_by_stripe_fails_keeps_the_balance_and_an_admin_retry_pays_it(
        app, client, payments, shop, connect, new_buyer, buy, stripe_transfers, balance, admin_headers):
    account_id = connect(shop["headers"])
    payments.deauthorize(account_id, deliver="none")  # the app is not told
    _buyer, buyer_headers = new_buyer()
    buy(buyer_headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])])

    assert attempts(app, payee_id=shop["seller_id"]) == [("failed", 2699, "insufficient_capabilities_for_transfer")]
    assert balance(shop["headers"]) == (2699, 0)
    failed = client.get("/api/v1/admin/payouts/transfers?status=failed", headers=admin_headers).json
    assert [t["failure_code"] for t in failed] == ["insufficient_capabilities_for_transfer"]
    # The sweep does not hammer Stripe with an account that refused until something changes.
    with app.app_context():
        tasks.sweep_payouts()
    assert len(attempts(app, payee_id=shop["seller_id"])) == 1

    payments.onboard(account_id, deliver="none")  # reconnected, still untold
    retried = client.post(f"/api/v1/admin/payouts/transfers/{failed[0]['id']}/retry", headers=admin_headers)
    assert retried.status_code == 202, retried.json
    again = client.post(f"/api/v1/admin/payouts/transfers/{failed[0]['id']}/retry", headers=admin_headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "nothing_owed"  # paid: it says so
    assert [a[0] for a in attempts(app, payee_id=shop["seller_id"])] == ["failed", "paid"]
    assert [t["amount"] for t in stripe_transfers(destination=account_id)] == [2699]
    assert balance(shop["headers"]) == (0, 2699)


def test_a_deauthorised_account_is_not_paid_and_the_dashboard_says_why(
        app, client, payments, shop, connect, new_buyer, buy, stripe_transfers, balance):
    account_id = connect(shop["headers"])
    payments.deauthorize(account_id, deliver="sync")
    assert client.get("/api/v1/payouts/account", headers=shop["headers"]).json["status"] == "disconnected"
    _buyer, buyer_headers = new_buyer()
    buy(buyer_headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])])
    assert attempts(app, payee_id=shop["seller_id"]) == []
    owed = client.get("/api/v1/payouts/balance", headers=shop["headers"]).json
    assert owed["pending"]["amount"] == 2699 and "disconnected" in owed["why_pending"]
    payments.onboard(account_id, deliver="sync")
    assert [t["amount"] for t in stripe_transfers(destination=account_id)] == [2699]
    assert balance(shop["headers"]) == (0, 2699)


def test_stripe_down_leaves_the_attempt_pending_and_the_sweep_sends_it_once_with_the_same_key(
        app, payments, shop, connect, new_buyer, buy, stripe_transfers, balance, monkeypatch):
    import datetime as dt

    account_id = connect(shop["headers"])
    payments.fault("POST", "/v1/transfers", "error_500", times=1)
    _buyer, buyer_headers = new_buyer()
    buy(buyer_headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])])
    assert attempts(app, payee_id=shop["seller_id"]) == [("pending", 2699, None)]
    assert stripe_transfers(destination=account_id) == []
    assert balance(shop["headers"]) == (2699, 0)

    monkeypatch.setattr(tasks, "RESEND_AFTER", dt.timedelta(0))
    payments.fault("POST", "/v1/transfers", "timeout", times=1, seconds=3)  # made, but the answer is lost
    with app.app_context(), pytest.raises(RetryLater):
        tasks.sweep_payouts()
    assert attempts(app, payee_id=shop["seller_id"]) == [("pending", 2699, None)]
    wait_for(lambda: len(stripe_transfers(destination=account_id)) == 1)  # Stripe made it after all
    with app.app_context():
        tasks.sweep_payouts()
        key = db.session.scalar(select(PayoutTransfer)).idempotency_key
    assert attempts(app, payee_id=shop["seller_id"]) == [("paid", 2699, None)]
    [transfer] = stripe_transfers(destination=account_id)
    assert transfer["metadata"]["payout_transfer_id"] == key.removeprefix("payout-")
    assert balance(shop["headers"]) == (0, 2699)


def test_a_lost_dispute_reverses_the_transfers_and_a_won_one_pays_again(
        app, client, payments, shop, connect, new_buyer, buy, stripe_transfers, balance, reconcile):
    account_id = connect(shop["headers"])
    _buyer, buyer_headers = new_buyer()
    lost = buy(buyer_headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])])
    won = buy(buyer_headers, [(shop["beat_id"], shop["tiers"]["Premium"]["id"])])
    assert balance(shop["headers"]) == (0, 2699 + 4499)

    for order, outcome in ((lost, "lost"), (won, "won")):
        intent = payments.session(_session(app, order["id"]))["payment_intent"]
        dispute = payments.dispute(intent, deliver="sync")
        payments.close_dispute(dispute["dispute"]["id"], outcome, deliver="sync")

    reversed_ = {t["transfer_group"]: t["amount_reversed"] for t in stripe_transfers(destination=account_id)}
    assert reversed_ == {lost["id"]: 2699, won["id"]: 0}
    assert balance(shop["headers"]) == (0, 4499)
    kinds = sorted(kind for kind, _payee, _amount in ledger_of(app, lost["id"]))
    assert kinds == sorted(["platform_fee", "sale", "transfer", "dispute_hold", "dispute_hold", "dispute_release",
                            "dispute_release", "refund", "refund", "transfer_reversal"])
    result = reconcile()
    assert result.exit_code == 0, result.output


def test_sales_dashboard_ledger_and_csv(app, client, payments, shop, new_buyer, buy):
    _buyer, buyer_headers = new_buyer()
    buy(buyer_headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])])
    _other, other_headers = new_buyer("Other")
    buy(other_headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])])
    sales = client.get("/api/v1/payouts/sales", headers=shop["headers"]).json
    assert [(row["tier_name"], row["sales"], row["gross"]["amount"], row["fees"]["amount"], row["earnings"]["amount"])
            for row in sales] == [("Basic lease", 2, 5998, 600, 5398)]
    page = client.get("/api/v1/payouts/ledger?limit=1", headers=shop["headers"]).json
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = client.get(f"/api/v1/payouts/ledger?limit=5&cursor={page['next_cursor']}", headers=shop["headers"]).json
    assert [row["kind"] for row in page["items"] + rest["items"]] == ["sale", "sale"] and rest["next_cursor"] is None
    exported = client.get("/api/v1/payouts/sales.csv", headers=shop["headers"])
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert exported.get_data(as_text=True).splitlines() == [
        "beat_id,beat_title,tier_name,sales,gross,fees,earnings,refunded,currency",
        f"{shop['beat_id']},Night Drive,Basic lease,2,59.98,6.00,53.98,0.00,usd"]


def test_the_fee_is_shown_before_the_sale(client):
    fee = client.get("/api/v1/payouts/fee?price=2999").json
    assert fee["percent_bps"] == 1000 and fee["fixed"] == {"amount": 0, "currency": "usd"}
    assert fee["example"] == {"price": {"amount": 2999, "currency": "usd"}, "fee": {"amount": 300, "currency": "usd"},
                              "net": {"amount": 2699, "currency": "usd"}}
    assert client.get("/api/v1/payouts/fee").json["example"] is None


def test_only_payees_connect_an_account(client, new_buyer):
    _artist, headers = new_buyer()
    assert client.get("/api/v1/payouts/account", headers=headers).json["may_connect"] is False
    refused = client.post("/api/v1/payouts/account", json={"country": "US"}, headers=headers)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "nothing_to_pay_out"
    # It says how to become a payee, in the words of the account page.
    assert refused.json["error"]["message"] == (
        "Payouts are for people who sell beats or are credited on one. To sell your own beats, "
        "choose 'Start selling beats' on your account page.")
    assert client.post("/api/v1/payouts/account", json={"country": "us"}, headers=headers).status_code == 422
