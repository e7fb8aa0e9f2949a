"""After the payment: delayed payments, admin refunds, refunds from the dashboard, disputes,
and the sweep that settles orders whose notification was lost."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from marketplace.checkout.models import ExclusiveHold
from marketplace.checkout.tasks import sweep_orders
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.licensing.models import License
from tests.checkout.conftest import wait_for


def start(checkout, shop, headers, tier="Basic"):
    response = checkout(headers, [(shop["beat_id"], shop["tiers"][tier]["id"])])
    assert response.status_code == 201, response.json
    return response.json["order_id"]


def paid_order(payments, checkout, shop, headers, session_of, order_of, tier="Basic"):
    order_id = start(checkout, shop, headers, tier)
    payments.complete(session_of(order_id), deliver="sync")
    order = order_of(order_id, headers)
    assert order["status"] == "paid"
    return order


def payment_intent_of(payments, session_of, order_id):
    return payments.session(session_of(order_id))["payment_intent"]


def test_a_delayed_payment_keeps_the_hold_until_it_settles(app, payments, shop, new_buyer, checkout,
                                                          session_of, order_of):
    _buyer, headers = new_buyer()
    order_id = start(checkout, shop, headers, "Exclusive")
    payments.complete(session_of(order_id), async_payment=True, deliver="sync")
    order = order_of(order_id, headers)
    assert order["status"] == "pending" and order["licenses"] == []
    with app.app_context():
        hold = db.session.scalar(select(ExclusiveHold).where(ExclusiveHold.order_id == order_id))
        assert (hold.expires_at - utcnow()).days >= 6  # kept for the bank, not 30 minutes
    succeeded = payments.async_succeed(session_of(order_id), deliver="sync")
    assert succeeded["delivery"]["status"] == 200
    order = order_of(order_id, headers)
    assert order["status"] == "paid" and len(order["licenses"]) == 1


def test_a_failed_delayed_payment_releases_the_hold_and_tells_the_buyer(app, payments, shop, new_buyer,
                                                                      checkout, session_of, order_of, outbox):
    _buyer, headers = new_buyer()
    order_id = start(checkout, shop, headers, "Exclusive")
    payments.complete(session_of(order_id), async_payment=True, deliver="sync")
    payments.async_fail(session_of(order_id), deliver="sync")
    order = order_of(order_id, headers)
    assert order["status"] == "failed" and order["status_reason"] == "payment_failed"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ExclusiveHold)
                                 .where(ExclusiveHold.released_at.is_(None))) == 0
    assert wait_for(lambda: [m for m in outbox() if "did not go through" in m])


def test_an_admin_refund_revokes_the_licenses_once_stripe_confirms(app, client, payments, shop, new_buyer,
                                                                  checkout, session_of, order_of, admin_headers):
    _buyer, headers = new_buyer()
    order = paid_order(payments, checkout, shop, headers, session_of, order_of, "Exclusive")
    license_id = order["licenses"][0]["id"]
    assert client.post(f"/api/v1/orders/{order['id']}/refund", headers=headers).status_code == 403
    refunded = client.post(f"/api/v1/orders/{order['id']}/refund", headers=admin_headers)
    assert refunded.status_code == 202, refunded.json
    assert refunded.json["refund_requested_at"]
    again = client.post(f"/api/v1/orders/{order['id']}/refund", headers=admin_headers)
    assert again.status_code == 202
    # One refund at Stripe, however often the admin asks; its event revokes the license.
    wait_for(lambda: order_of(order["id"], headers)["status"] == "refunded")
    assert len(payments.events(type="refund.created")) == 1
    license_ = client.get(f"/api/v1/licenses/{license_id}", headers=headers).json
    assert license_["status"] == "revoked"
    assert client.get(f"/api/v1/licenses/{license_id}/downloads", headers=headers).status_code == 403
    # Rule 6: a refunded exclusive leaves the beat out of the store until an admin restores it.
    assert client.get(f"/api/v1/beats/{shop['beat_id']}").json["status"] == "sold_exclusive"
    listed = client.get("/api/v1/beats").json["items"]
    assert shop["beat_id"] not in [beat["id"] for beat in listed]


def test_refunding_an_unpaid_order_is_a_conflict(client, payments, shop, new_buyer, checkout, admin_headers):
    _buyer, headers = new_buyer()
    order_id = start(checkout, shop, headers)
    refused = client.post(f"/api/v1/orders/{order_id}/refund", headers=admin_headers)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "order_not_refundable"
    assert client.post("/api/v1/orders/ord_nope/refund", headers=admin_headers).status_code == 404


def test_a_partial_refund_from_the_dashboard_keeps_the_licenses(app, client, payments, shop, new_buyer,
                                                              checkout, session_of, order_of):
    _buyer, headers = new_buyer()
    order = paid_order(payments, checkout, shop, headers, session_of, order_of)
    payments.refund(payment_intent_of(payments, session_of, order["id"]), amount=100, deliver="sync")
    order = order_of(order["id"], headers)
    assert order["status"] == "paid" and order["refunded"]["amount"] == 100
    assert order["licenses"][0]["status"] == "active"


def test_a_dispute_freezes_downloads_and_a_won_dispute_thaws_them(app, client, payments, shop, new_buyer,
                                                                 checkout, session_of, order_of):
    _buyer, headers = new_buyer()
    order = paid_order(payments, checkout, shop, headers, session_of, order_of)
    license_id = order["licenses"][0]["id"]
    dispute = payments.dispute(payment_intent_of(payments, session_of, order["id"]), deliver="sync")
    assert order_of(order["id"], headers)["status"] == "disputed"
    frozen = client.get(f"/api/v1/licenses/{license_id}/downloads", headers=headers)
    assert frozen.status_code == 403 and frozen.json["error"]["code"] == "license_frozen"
    assert client.get(f"/api/v1/licenses/{license_id}", headers=headers).json["downloads_frozen"] is True
    payments.close_dispute(dispute["dispute"]["id"], "won", deliver="sync")
    assert order_of(order["id"], headers)["status"] == "paid"
    assert client.get(f"/api/v1/licenses/{license_id}/downloads", headers=headers).status_code == 200


def test_a_lost_dispute_revokes_the_licenses_and_the_order_stays_disputed(app, client, payments, shop, new_buyer, checkout, session_of,
                                             order_of):
    _buyer, headers = new_buyer()
    order = paid_order(payments, checkout, shop, headers, session_of, order_of)
    dispute = payments.dispute(payment_intent_of(payments, session_of, order["id"]), deliver="sync")
    payments.close_dispute(dispute["dispute"]["id"], "lost", deliver="sync")
    order = order_of(order["id"], headers)
    assert order["status"] == "disputed" and order["status_reason"] == "dispute_lost"
    assert order["licenses"][0]["status"] == "revoked"


def test_the_sweep_settles_an_order_whose_webhook_was_lost(app, payments, shop, new_buyer, checkout,
                                                          session_of, order_of):
    _buyer, headers = new_buyer()
    paid_id = start(checkout, shop, headers)
    _other, other_headers = new_buyer("Other")
    lost_id = start(checkout, shop, other_headers, "Premium")
    payments.complete(session_of(paid_id), deliver="none")  # its notification never arrives
    payments.expire(session_of(lost_id), deliver="none")
    with app.app_context():
        from marketplace.checkout.models import Order

        for order_id in (paid_id, lost_id):  # both pages closed long ago
            db.session.get(Order, order_id).expires_at = utcnow().replace(year=2020)
        db.session.commit()
        assert sweep_orders() == 2
    assert order_of(paid_id, headers)["status"] == "paid"
    assert order_of(lost_id, other_headers)["status"] == "expired"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(License)) == 1


def test_the_success_page_shows_a_pending_order_when_stripe_is_down(app, client, payments, shop, new_buyer,
                                                                    checkout, session_of):
    _buyer, headers = new_buyer()
    order_id = start(checkout, shop, headers)
    payments.complete(session_of(order_id), deliver="none")
    payments.fault("GET", "/v1/checkout/sessions", "error_500", times=5)
    shown = client.get(f"/api/v1/orders/{order_id}", headers=headers)
    assert shown.status_code == 200 and shown.json["status"] == "pending"
    payments.clear_faults()
    event = payments.events(type="checkout.session.completed")[-1]
    assert json.loads(payments.deliver(event["id"])["body"])["outcome"] == "handled"
    assert client.get(f"/api/v1/orders/{order_id}", headers=headers).json["status"] == "paid"


def test_a_webhook_failing_midway_is_retried_and_fulfils_once(app, payments, shop, new_buyer, checkout,
                                                             session_of, order_of):
    _buyer, headers = new_buyer()
    order_id = start(checkout, shop, headers)
    payments.complete(session_of(order_id), deliver="none")
    event = payments.events(type="checkout.session.completed")[-1]
    payments.fault("GET", "/v1/checkout/sessions", "error_500", times=1)
    failed = payments.deliver(event["id"])
    assert failed["status"] == 503  # rolled back, event not recorded: Stripe will retry
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(License)) == 0
    retried = payments.deliver(event["id"])
    assert retried["status"] == 200 and json.loads(retried["body"])["outcome"] == "handled", retried
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(License)) == 1


def test_other_buyers_cannot_see_an_order(client, payments, shop, new_buyer, checkout):
    _buyer, headers = new_buyer()
    order_id = start(checkout, shop, headers)
    _other, other_headers = new_buyer("Other")
    assert client.get(f"/api/v1/orders/{order_id}", headers=other_headers).status_code == 404
    assert client.get("/api/v1/orders", headers=other_headers).json == []
    assert [o["id"] for o in client.get("/api/v1/orders", headers=headers).json] == [order_id]


def test_dispute_events_out_of_order_leave_the_state_of_the_dispute(app, client, payments, shop, new_buyer,
                                                                   checkout, session_of, order_of):
    _buyer, headers = new_buyer()
    order = paid_order(payments, checkout, shop, headers, session_of, order_of)
    dispute = payments.dispute(payment_intent_of(payments, session_of, order["id"]), deliver="none")
    payments.close_dispute(dispute["dispute"]["id"], "won", deliver="none")
    created, closed = payments.events(type="charge.dispute.created")[-1], payments.events(type="charge.dispute.closed")[-1]
    assert payments.deliver(closed["id"])["status"] == 200  # "closed" first
    assert payments.deliver(created["id"])["status"] == 200
    order = order_of(order["id"], headers)
    assert order["status"] == "paid"  # the dispute, read again, is won
    assert client.get(f"/api/v1/licenses/{order['licenses'][0]['id']}/downloads", headers=headers).status_code == 200


def test_a_refunded_order_disputed_and_won_stays_refunded(client, payments, shop, new_buyer, checkout,
                                                          session_of, order_of):
    _buyer, headers = new_buyer()
    order = paid_order(payments, checkout, shop, headers, session_of, order_of)
    payment_intent = payment_intent_of(payments, session_of, order["id"])
    payments.refund(payment_intent, deliver="sync")
    assert order_of(order["id"], headers)["status"] == "refunded"
    dispute = payments.dispute(payment_intent, deliver="sync")
    assert order_of(order["id"], headers)["status"] == "disputed"
    payments.close_dispute(dispute["dispute"]["id"], "won", deliver="sync")
    order = order_of(order["id"], headers)
    assert order["status"] == "refunded" and order["licenses"][0]["status"] == "revoked"


def test_the_sweep_fails_a_delayed_payment_whose_failure_was_never_told(app, payments, shop, new_buyer, checkout,
                                                                      session_of, order_of):
    from marketplace.checkout.models import Order

    _buyer, headers = new_buyer()
    order_id = start(checkout, shop, headers, "Exclusive")
    payments.complete(session_of(order_id), async_payment=True, deliver="sync")
    payments.async_fail(session_of(order_id), deliver="none")  # the failure event is lost
    with app.app_context():
        db.session.get(Order, order_id).expires_at = utcnow().replace(year=2020)
        db.session.commit()
        sweep_orders()
    order = order_of(order_id, headers)
    assert order["status"] == "failed" and order["status_reason"] == "payment_failed"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ExclusiveHold)
                                 .where(ExclusiveHold.released_at.is_(None))) == 0


def test_a_polled_order_page_asks_stripe_at_most_every_two_seconds(client, payments, shop, new_buyer, checkout,
                                                                  session_of, frozen_time):
    _buyer, headers = new_buyer()
    order_id = start(checkout, shop, headers)
    payments.complete(session_of(order_id), deliver="none")
    payments.fault("GET", "/v1/checkout/sessions", "error_500", times=1)
    assert client.get(f"/api/v1/orders/{order_id}", headers=headers).json["status"] == "pending"
    # Stripe would now say "paid", but it is not asked again so soon.
    assert client.get(f"/api/v1/orders/{order_id}", headers=headers).json["status"] == "pending"
    frozen_time.advance(1.9)
    assert client.get(f"/api/v1/orders/{order_id}", headers=headers).json["status"] == "pending"
    frozen_time.advance(0.2)
    assert client.get(f"/api/v1/orders/{order_id}", headers=headers).json["status"] == "paid"
