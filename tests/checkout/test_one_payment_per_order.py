"""Every payment ends in a license or a refund: the same cart sent twice is one order, a page
is handed out only for a pending order, a replaced checkout's page is expired at Stripe (even
when the replacement raced its creation), and a payment on it all the same is refunded."""

from __future__ import annotations

import threading

import pytest
import requests
from sqlalchemy import func, select

from marketplace.checkout.models import ExclusiveHold, Order
from marketplace.checkout.tasks import sweep_orders
from marketplace.db import db
from marketplace.licensing.models import License
from tests.checkout.conftest import wait_for
from tests.conftest import postgres_only

POSTGRES_ONLY = postgres_only("concurrent clients on row locks and unique indexes")


def sessions_at_stripe(payments) -> list[dict]:
    response = requests.get(f"{payments.url}/v1/checkout/sessions", params={"limit": 100},
                            headers={"Authorization": f"Bearer {payments.api_key}"}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def holder_of(app, beat_id) -> str | None:
    with app.app_context():
        return db.session.scalar(select(ExclusiveHold.order_id).where(ExclusiveHold.beat_id == beat_id,
                                                                      ExclusiveHold.released_at.is_(None)))


def kept_at_stripe(payments) -> int:
    return sum(charge["amount"] - charge["amount_refunded"] for charge in payments.charges())


@pytest.fixture
def second_beat(shop, upload_beat, offer_all):
    """Another beat of the same beatmaker, under every default tier: (beat id, tiers by first word)."""
    beat_id = upload_beat(shop["headers"], title="Second beat")
    return beat_id, {name.split()[0]: tier for name, tier in offer_all(shop["headers"], beat_id).items()}


def test_the_same_cart_sent_again_answers_its_pending_order_and_page(app, payments, shop, new_buyer,
                                                                    checkout):
    _buyer, headers = new_buyer()
    cart = [(shop["beat_id"], shop["tiers"]["Exclusive"]["id"])]
    first = checkout(headers, cart)
    again = checkout(headers, cart)
    assert first.status_code == 201 and again.status_code == 200, again.json
    assert again.json == first.json
    assert count(app, Order) == 1 and len(sessions_at_stripe(payments)) == 1
    # Another cart is another order.
    assert checkout(headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])]).status_code == 201


@POSTGRES_ONLY
def test_the_same_cart_sent_five_times_at_once_is_one_order(app, live_server, payments, shop, new_buyer):
    _buyer, headers = new_buyer()
    body = {"items": [{"beat_id": shop["beat_id"], "tier_id": shop["tiers"]["Exclusive"]["id"]}]}
    barrier = threading.Barrier(5)
    answers: list[requests.Response] = []

    def send():
        barrier.wait()
        answers.append(requests.post(f"{live_server}/api/v1/checkout", json=body, headers=headers,
                                     timeout=60))

    threads = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_code for answer in answers) == [200, 200, 200, 200, 201], \
        [answer.json() for answer in answers]
    assert len({(answer.json()["order_id"], answer.json()["checkout_url"]) for answer in answers}) == 1
    assert all(answer.json()["checkout_url"] for answer in answers)
    assert count(app, Order) == 1 and len(sessions_at_stripe(payments)) == 1


def test_a_page_opened_for_a_checkout_replaced_meanwhile_is_not_handed_out_and_is_expired(
        app, live_server, payments, shop, new_buyer, second_beat, session_of, order_of):
    exclusive = shop["tiers"]["Exclusive"]["id"]
    other_beat, other_tiers = second_beat
    _buyer, headers = new_buyer()
    # The first checkout's page is slow to open: the buyer checks out again meanwhile.
    payments.fault("POST", "/v1/checkout/sessions", "timeout", times=1, seconds=1.5)
    slow: list[requests.Response] = []
    thread = threading.Thread(target=lambda: slow.append(requests.post(
        f"{live_server}/api/v1/checkout", headers=headers, timeout=30,
        json={"items": [{"beat_id": shop["beat_id"], "tier_id": exclusive}]})))
    thread.start()
    wait_for(lambda: payments.faults() == [])  # the first request is at Stripe, its order committed
    newer = requests.post(f"{live_server}/api/v1/checkout", headers=headers, timeout=30, json={"items": [
        {"beat_id": shop["beat_id"], "tier_id": exclusive},
        {"beat_id": other_beat, "tier_id": other_tiers["Basic"]["id"]}]})
    thread.join()
    assert newer.status_code == 201, newer.json()
    [first] = slow
    assert first.status_code == 409 and first.json()["error"]["code"] == "checkout_replaced", first.json()
    with app.app_context():
        replaced = db.session.scalar(select(Order).where(Order.id != newer.json()["order_id"]))
        replaced_id, replaced_session = replaced.id, replaced.payment_session_id
    assert replaced_session is not None
    assert payments.session(replaced_session)["status"] == "expired"
    assert order_of(replaced_id, headers)["checkout_url"] is None
    assert holder_of(app, shop["beat_id"]) == newer.json()["order_id"]


def test_a_replaced_page_paid_all_the_same_is_refunded_in_full(app, payments, shop, new_buyer, checkout,
                                                               second_beat, session_of, order_of):
    exclusive = shop["tiers"]["Exclusive"]["id"]
    other_beat, other_tiers = second_beat
    _buyer, headers = new_buyer()
    first = checkout(headers, [(shop["beat_id"], exclusive)])
    payments.fault("POST", "/v1/checkout/sessions/", "error_500", times=1)  # its page does not close at once
    second = checkout(headers, [(shop["beat_id"], exclusive), (other_beat, other_tiers["Basic"]["id"])])
    assert second.status_code == 201, second.json
    assert payments.session(session_of(first.json["order_id"]))["status"] == "open"

    payments.complete(session_of(first.json["order_id"]), deliver="sync")  # the buyer pays the old tab

    replaced = order_of(first.json["order_id"], headers)
    assert (replaced["status"], replaced["status_reason"]) == ("refunded", "paid_after_checkout_closed")
    assert replaced["licenses"] == [] and replaced["checkout_url"] is None
    wait_for(lambda: order_of(first.json["order_id"], headers)["refunded"]["amount"] == 49999)
    assert kept_at_stripe(payments) == 0
    assert count(app, License) == 0
    assert holder_of(app, shop["beat_id"]) == second.json["order_id"]
    payments.complete(session_of(second.json["order_id"]), deliver="sync")
    assert order_of(second.json["order_id"], headers)["status"] == "paid"
    assert kept_at_stripe(payments) == order_of(second.json["order_id"], headers)["total"]["amount"]


def test_the_sweep_refunds_a_replaced_page_paid_while_its_notification_was_lost(
        app, payments, shop, new_buyer, checkout, second_beat, session_of, order_of):
    exclusive = shop["tiers"]["Exclusive"]["id"]
    other_beat, other_tiers = second_beat
    _buyer, headers = new_buyer()
    first = checkout(headers, [(shop["beat_id"], exclusive)])
    payments.fault("POST", "/v1/checkout/sessions/", "error_500", times=1)
    newer = checkout(headers, [(shop["beat_id"], exclusive), (other_beat, other_tiers["Basic"]["id"])])
    assert newer.status_code == 201
    payments.complete(session_of(first.json["order_id"]), deliver="none")
    assert order_of(first.json["order_id"], headers)["status"] == "expired"
    assert kept_at_stripe(payments) == 49999

    with app.app_context():
        sweep_orders()

    replaced = order_of(first.json["order_id"], headers)
    assert (replaced["status"], replaced["status_reason"]) == ("refunded", "paid_after_checkout_closed")
    assert kept_at_stripe(payments) == 0
    with app.app_context():  # the page is known closed: the next sweep leaves it alone
        assert db.session.get(Order, first.json["order_id"]).session_closed_at is not None


def test_an_expired_order_paid_late_is_refunded(app, payments, shop, new_buyer, checkout, session_of,
                                                order_of):
    _buyer, headers = new_buyer()
    started = checkout(headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])])
    with app.app_context():  # the order closed on our side while the page stayed open at Stripe
        order = db.session.get(Order, started.json["order_id"])
        order.status, order.status_reason = "expired", "expired"
        db.session.commit()
    payments.complete(session_of(started.json["order_id"]), deliver="sync")
    order = order_of(started.json["order_id"], headers)
    assert (order["status"], order["status_reason"]) == ("refunded", "paid_after_checkout_closed")
    assert kept_at_stripe(payments) == 0 and count(app, License) == 0


@POSTGRES_ONLY
def test_five_concurrent_checkouts_of_one_exclusive_by_one_buyer_charge_it_once(
        app, live_server, payments, shop, new_buyer, second_beat, upload_beat, offer_all, session_of):
    exclusive = shop["tiers"]["Exclusive"]["id"]
    beat_b, tiers_b = second_beat
    beat_c = upload_beat(shop["headers"], title="Third beat")
    tiers_c = {name.split()[0]: tier for name, tier in offer_all(shop["headers"], beat_c).items()}
    carts = [[], [(beat_b, tiers_b["Basic"])], [(beat_b, tiers_b["Premium"])], [(beat_c, tiers_c["Basic"])],
             [(beat_c, tiers_c["Premium"])]]
    _buyer, headers = new_buyer()
    barrier = threading.Barrier(len(carts))
    answers: list[requests.Response] = []

    def send(extra):
        items = [{"beat_id": shop["beat_id"], "tier_id": exclusive}] + [
            {"beat_id": beat, "tier_id": tier["id"]} for beat, tier in extra]
        barrier.wait()
        answers.append(requests.post(f"{live_server}/api/v1/checkout", json={"items": items}, headers=headers,
                                     timeout=60))

    threads = [threading.Thread(target=send, args=(extra,)) for extra in carts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for answer in answers:
        assert answer.status_code in (201, 409), answer.json()
        if answer.status_code == 409:
            assert answer.json()["error"]["code"] in ("exclusive_unavailable", "checkout_replaced")
    holder = holder_of(app, shop["beat_id"])
    assert count(app, Order, Order.status == "pending") == 1
    with app.app_context():
        orders = {order.id: (order.status, order.payment_session_id)
                  for order in db.session.scalars(select(Order))}
    assert orders[holder][0] == "pending"

    # The buyer pays every page they can still reach: only the holder's takes money for good.
    for order_id, (_status, session_id) in orders.items():
        if session_id and payments.session(session_id)["status"] == "open":
            payments.complete(session_id, deliver="sync")
    with app.app_context():
        total = db.session.get(Order, holder).total_amount
        statuses = {order.id: order.status for order in db.session.scalars(select(Order))}
    assert statuses[holder] == "paid"
    assert all(status in ("expired", "failed", "refunded")
               for order_id, status in statuses.items() if order_id != holder)
    assert count(app, License, License.kind == "exclusive") == 1
    wait_for(lambda: kept_at_stripe(payments) == total)
    for order_id, (_status, session_id) in orders.items():
        if session_id and order_id != holder:
            assert payments.session(session_id)["status"] in ("expired", "complete")
