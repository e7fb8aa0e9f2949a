"""Carts with several beatmakers, a lost exclusive among leases, and the success page racing
the webhook."""

from __future__ import annotations

import datetime as dt
import threading

import requests
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.checkout.holds import HOLD_GRACE
from marketplace.checkout.models import ExclusiveHold
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.licensing.models import License
from tests.checkout.conftest import wait_for


def second_shop(client, make_user, headers_for, upload_beat, offer_all):
    user_id = make_user(Role.BEATMAKER, "Second Seller")
    headers = headers_for(user_id)
    beat_id = upload_beat(headers, title="Second Beat")
    tiers = {name.split()[0]: tier for name, tier in offer_all(headers, beat_id).items()}
    return {"headers": headers, "beat_id": beat_id, "tiers": tiers}


def test_a_cart_of_two_beatmakers_gets_each_ones_coupon(client, payments, shop, new_buyer, checkout, order_of,
                                                        make_user, headers_for, upload_beat, offer_all):
    other = second_shop(client, make_user, headers_for, upload_beat, offer_all)
    client.post("/api/v1/coupons", json={"code": "TEN", "kind": "percent", "percent_off": 10},
                headers=shop["headers"])
    _buyer, headers = new_buyer()
    started = checkout(headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"]),
                                 (other["beat_id"], other["tiers"]["Basic"]["id"])], coupon_code="ten")
    assert started.status_code == 201, started.json
    items = order_of(started.json["order_id"], headers)["items"]
    basic = shop["tiers"]["Basic"]["default_price"]["amount"]
    assert [item["discount"]["amount"] for item in items] == [basic // 10, 0]  # only the first seller's code


def test_a_lost_exclusive_among_leases_is_refunded_alone(app, client, payments, shop, new_buyer, checkout,
                                                         order_of, session_of, outbox, make_user, headers_for,
                                                         upload_beat, offer_all):
    other = second_shop(client, make_user, headers_for, upload_beat, offer_all)
    _late, late_headers = new_buyer("Late")
    _rival, rival_headers = new_buyer("Rival")
    exclusive = shop["tiers"]["Exclusive"]["id"]
    cart = checkout(late_headers, [(other["beat_id"], other["tiers"]["Basic"]["id"]), (shop["beat_id"], exclusive)])
    assert cart.status_code == 201
    with app.app_context():
        hold = db.session.scalar(select(ExclusiveHold).where(ExclusiveHold.order_id == cart.json["order_id"]))
        hold.expires_at = utcnow() - HOLD_GRACE - dt.timedelta(seconds=1)
        db.session.commit()
    rival = checkout(rival_headers, [(shop["beat_id"], exclusive)])
    payments.complete(session_of(rival.json["order_id"]), deliver="sync")
    payments.complete(session_of(cart.json["order_id"]), deliver="sync")

    order = order_of(cart.json["order_id"], late_headers)
    assert order["status"] == "paid"
    assert [item["status"] for item in order["items"]] == ["licensed", "refunded"]
    exclusive_price = order["items"][1]["price"]["amount"]
    assert order["refunded"]["amount"] == exclusive_price
    refunds = payments.events(type="refund.created")
    assert [event["data"]["object"]["amount"] for event in refunds] == [exclusive_price]
    assert len(order["licenses"]) == 1 and order["licenses"][0]["beat_id"] == other["beat_id"]
    assert wait_for(lambda: [m for m in outbox() if "exclusive rights of this beat were taken" in m])
    # Asking again (a redelivery, the sweep) refunds nothing more.
    event = payments.events(type="checkout.session.completed")[-1]
    assert payments.deliver(event["id"])["status"] == 200
    with app.app_context():
        from marketplace.checkout.tasks import sweep_orders

        sweep_orders()
    assert len(payments.events(type="refund.created")) == 1


def test_the_success_page_racing_the_webhook_fulfils_once(app, live_server, payments, shop, new_buyer, checkout,
                                                          session_of, order_of):
    _buyer, headers = new_buyer()
    started = checkout(headers, [(shop["beat_id"], shop["tiers"]["Exclusive"]["id"])])
    order_id = started.json["order_id"]
    payments.complete(session_of(order_id), deliver="none")
    event_id = payments.events(type="checkout.session.completed")[-1]["id"]
    answers: list[int] = []
    barrier = threading.Barrier(4)

    def webhook():
        barrier.wait()
        answers.append(payments.deliver(event_id)["status"])

    def success_page():
        barrier.wait()
        answers.append(requests.get(f"{live_server}/api/v1/orders/{order_id}", headers=headers, timeout=30)
                       .status_code)

    threads = [threading.Thread(target=t) for t in (webhook, success_page, success_page, webhook)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 4, answers
    order = order_of(order_id, headers)
    assert order["status"] == "paid" and order["refunded"]["amount"] == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(License)) == 1
    assert payments.events(type="refund.created") == []
