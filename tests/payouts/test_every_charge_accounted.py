"""Every charge ends in a license or a refund, and reconcile proves it: a dispute heard of
before the payment is applied at fulfilment, a won dispute's shares are paid from the
platform's balance when the charge cannot fund them, refused payouts are never skipped for
good, an admin retry that cannot succeed says why, and reconcile reports charges for no order,
second payments and payments of closed orders."""

from __future__ import annotations

import requests
from sqlalchemy import select

from marketplace.checkout.models import Order
from marketplace.db import db
from marketplace.payouts import services, tasks
from marketplace.payouts.models import LedgerEntry, PayoutTransfer
from tests.checkout.conftest import wait_for


def ledger_kinds(app, order_id) -> list[str]:
    with app.app_context():
        rows = db.session.scalars(select(LedgerEntry).where(LedgerEntry.order_id == order_id))
        return sorted(row.kind for row in rows)


def attempts(app, payee_id) -> list[tuple[str, int, str | None, str | None]]:
    with app.app_context():
        rows = db.session.scalars(select(PayoutTransfer).where(PayoutTransfer.payee_id == payee_id)
                                  .order_by(PayoutTransfer.created_at))
        return [(row.status, row.amount, row.failure_code, row.source_transaction) for row in rows]


def session_of_order(app, order_id) -> str:
    with app.app_context():
        return db.session.get(Order, order_id).payment_session_id


def status_of(app, order_id) -> str:
    with app.app_context():
        return db.session.get(Order, order_id).status


def stripe_post(payments, path, data) -> dict:
    response = requests.post(f"{payments.url}/v1{path}", data=data, timeout=10,
                             headers={"Authorization": f"Bearer {payments.api_key}"})
    assert response.status_code == 200, response.text
    return response.json()


def page_at_stripe(payments, amount, order_id=None) -> str:
    """A Checkout Session made at Stripe outside the store's checkout (for this order, or none)."""
    data = {"mode": "payment", "success_url": "https://example.com/ok", "line_items[0][quantity]": 1,
            "line_items[0][price_data][currency]": "usd", "line_items[0][price_data][unit_amount]": amount,
            "line_items[0][price_data][product_data][name]": "Something"}
    if order_id:
        data.update({"client_reference_id": order_id, "metadata[order_id]": order_id,
                     "payment_intent_data[metadata][order_id]": order_id})
    return stripe_post(payments, "/checkout/sessions", data)["id"]


def test_a_dispute_heard_before_the_payment_is_applied_at_fulfilment(
        app, client, payments, shop, connect, new_buyer, checkout, stripe_transfers, balance, reconcile):
    account_id = connect(shop["headers"])
    _buyer, headers = new_buyer()
    order_id = checkout(headers, [(shop["beat_id"], shop["tiers"]["Premium"]["id"])]).json["order_id"]
    session_id = session_of_order(app, order_id)
    payments.complete(session_id, deliver="none")  # its notification is late
    intent = payments.session(session_id)["payment_intent"]
    dispute = payments.dispute(intent, deliver="sync")  # the dispute's arrives first
    assert status_of(app, order_id) == "pending"

    [completed] = [event for event in payments.events(type="checkout.session.completed")
                   if event["data"]["object"]["id"] == session_id]
    assert payments.deliver(completed["id"])["status"] == 200

    order = client.get(f"/api/v1/orders/{order_id}", headers=headers).json
    assert order["status"] == "disputed"
    license_id = order["licenses"][0]["id"]
    frozen = client.get(f"/api/v1/licenses/{license_id}/downloads", headers=headers)
    assert frozen.status_code == 403 and frozen.json["error"]["code"] == "license_frozen"
    assert "dispute_hold" in ledger_kinds(app, order_id)
    assert stripe_transfers(destination=account_id) == []  # the seller is not paid while it is disputed
    assert balance(shop["headers"]) == (0, 0)

    payments.close_dispute(dispute["dispute"]["id"], "won", deliver="sync")
    assert client.get(f"/api/v1/orders/{order_id}", headers=headers).json["status"] == "paid"
    assert client.get(f"/api/v1/licenses/{license_id}/downloads", headers=headers).status_code == 200
    [transfer] = stripe_transfers(destination=account_id)
    assert transfer["amount"] == 4499
    assert balance(shop["headers"]) == (0, 4499)
    result = reconcile()
    assert result.exit_code == 0, result.output


def test_a_won_disputes_shares_are_paid_when_the_charge_can_no_longer_fund_them(
        app, client, payments, shop, connect, new_buyer, buy, stripe_transfers, balance, reconcile):
    _buyer, headers = new_buyer()
    order = buy(headers, [(shop["beat_id"], shop["tiers"]["Premium"]["id"])])  # the seller has no account yet
    intent = payments.session(session_of_order(app, order["id"]))["payment_intent"]
    dispute = payments.dispute(intent, deliver="sync")
    account_id = connect(shop["headers"])  # connected while the shares are held: nothing to send yet
    assert stripe_transfers(destination=account_id) == []

    payments.close_dispute(dispute["dispute"]["id"], "won", deliver="sync")

    [transfer] = stripe_transfers(destination=account_id)
    assert transfer["amount"] == 4499 and transfer["source_transaction"] is None  # the platform's balance
    assert balance(shop["headers"]) == (0, 4499)
    assert [a[0] for a in attempts(app, shop["seller_id"])] == ["paid"]
    assert reconcile().exit_code == 0


def test_a_transfer_its_charge_cannot_fund_is_sent_from_the_platform_balance(
        app, payments, shop, connect, new_buyer, buy, stripe_transfers, balance):
    account_id = connect(shop["headers"])
    payments.deauthorize(account_id, deliver="none")  # the app is not told: the sale's transfer is refused
    _buyer, headers = new_buyer()
    order = buy(headers, [(shop["beat_id"], shop["tiers"]["Premium"]["id"])])
    wait_for(lambda: attempts(app, shop["seller_id"]))  # the sale's transfer was tried, and refused
    intent = payments.session(session_of_order(app, order["id"]))["payment_intent"]
    charge_id = requests.get(f"{payments.url}/v1/payment_intents/{intent}", timeout=10, headers={
        "Authorization": f"Bearer {payments.api_key}"}).json()["latest_charge"]
    dispute = payments.dispute(intent, deliver="none")  # nor of the dispute: it still names the charge
    payments.close_dispute(dispute["dispute"]["id"], "won", deliver="none")
    payments.onboard(account_id, deliver="none")
    with app.app_context():
        tasks._pay(lambda: services.plan_transfer(shop["seller_id"], order["id"], charge_id))

    assert attempts(app, shop["seller_id"]) == [
        ("failed", 4499, "insufficient_capabilities_for_transfer", charge_id),
        ("failed", 4499, "balance_insufficient", charge_id), ("paid", 4499, None, None)]
    assert [t["amount"] for t in stripe_transfers(destination=account_id)] == [4499]
    assert balance(shop["headers"]) == (0, 4499)


def test_an_admin_retry_that_cannot_succeed_says_why(app, client, payments, shop, connect, new_buyer, buy,
                                                     stripe_transfers, balance, admin_headers):
    account_id = connect(shop["headers"])
    payments.deauthorize(account_id, deliver="none")  # the app is not told
    _buyer, buyer_headers = new_buyer()
    buy(buyer_headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])])
    wait_for(lambda: attempts(app, shop["seller_id"]))  # the sale's transfer was tried, and refused
    [failed] = client.get("/api/v1/admin/payouts/transfers?status=failed", headers=admin_headers).json
    assert "cannot receive transfers" in failed["failure_reason"]

    payments.deauthorize(account_id, deliver="sync")  # now it is
    refused = client.post(f"/api/v1/admin/payouts/transfers/{failed['id']}/retry", headers=admin_headers)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "payee_not_payable"
    assert "disconnected" in refused.json["error"]["message"]

    payments.onboard(account_id, deliver="sync")  # back: what is owed is sent
    assert [t["amount"] for t in stripe_transfers(destination=account_id)] == [2699]
    done = client.post(f"/api/v1/admin/payouts/transfers/{failed['id']}/retry", headers=admin_headers)
    assert done.status_code == 409 and done.json["error"]["code"] == "nothing_owed"
    assert balance(shop["headers"]) == (0, 2699)


def test_the_sweep_never_skips_a_refused_payee_for_good(app, payments, shop, connect, new_buyer, buy,
                                                        stripe_transfers, balance, monkeypatch):
    account_id = connect(shop["headers"])
    payments.deauthorize(account_id, deliver="none")
    _buyer, buyer_headers = new_buyer()
    buy(buyer_headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])])
    wait_for(lambda: attempts(app, shop["seller_id"]))  # the sale's transfer was tried, and refused
    payments.onboard(account_id, deliver="none")  # back, and the app is still not told
    with app.app_context():
        tasks.sweep_payouts()
    assert stripe_transfers(destination=account_id) == []  # refused a moment ago: Stripe is not hammered

    monkeypatch.setattr(services, "REFUSED_RETRY_AFTER", services.REFUSED_RETRY_AFTER * 0)  # ... time passes
    with app.app_context():
        tasks.sweep_payouts()
    assert [t["amount"] for t in stripe_transfers(destination=account_id)] == [2699]
    assert balance(shop["headers"]) == (0, 2699)


def test_reconcile_reports_charges_of_no_order_and_second_payments_until_they_are_refunded(
        app, payments, shop, new_buyer, buy, reconcile):
    _buyer, headers = new_buyer()
    order = buy(headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])])
    assert reconcile().exit_code == 0

    stray = page_at_stripe(payments, 1500)
    payments.complete(stray, deliver="none")
    second = page_at_stripe(payments, 2999, order_id=order["id"])
    payments.complete(second, deliver="none")

    result = reconcile()
    assert result.exit_code == 1
    assert "USD 15.00 kept, and it pays for no order" in result.output
    assert f"a second payment of order {order['id']}" in result.output
    assert "2 differences" in result.output

    # The second payment's notification arrives: it is not the order's, so it is given back.
    [completed] = [event for event in payments.events(type="checkout.session.completed")
                   if event["data"]["object"]["id"] == second]
    assert payments.deliver(completed["id"])["status"] == 200
    payments.refund(payments.session(stray)["payment_intent"], deliver="sync")  # refunded from the dashboard
    wait_for(lambda: reconcile().exit_code == 0)
    assert "3 charges: no difference" in reconcile().output


def test_reconcile_reports_a_payment_of_a_replaced_order_until_it_is_refunded(
        app, payments, shop, new_buyer, checkout, upload_beat, offer_all, reconcile):
    from marketplace.checkout.tasks import sweep_orders

    exclusive = shop["tiers"]["Exclusive"]["id"]
    other = upload_beat(shop["headers"], title="Second beat")
    lease = offer_all(shop["headers"], other)["Basic lease"]["id"]
    _buyer, headers = new_buyer()
    first = checkout(headers, [(shop["beat_id"], exclusive)]).json["order_id"]
    payments.fault("POST", "/v1/checkout/sessions/", "error_500", times=1)  # its page stays open a while
    assert checkout(headers, [(shop["beat_id"], exclusive), (other, lease)]).status_code == 201
    payments.complete(session_of_order(app, first), deliver="none")

    result = reconcile()
    assert result.exit_code == 1
    assert f"for order {first}, which is expired (replaced_by_new_checkout), not refunded" in result.output
    with app.app_context():
        sweep_orders()
    wait_for(lambda: reconcile().exit_code == 0)
