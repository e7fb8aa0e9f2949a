"""From checkout to licenses, through the Stripe sandbox with the real SDK and real signatures:
exactly one fulfilment whatever order, number or timing the events arrive in."""

from __future__ import annotations

import json
import threading
from urllib.parse import urlsplit

import requests
from sqlalchemy import func, select

from marketplace.checkout.models import ExclusiveHold, Order
from marketplace.db import db
from marketplace.licensing.models import License
from marketplace.payments.models import ProcessedEvent
from tests.checkout.conftest import WEBHOOK_PATH, wait_for


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def buy(checkout, shop, headers, tier="Basic"):
    response = checkout(headers, [(shop["beat_id"], shop["tiers"][tier]["id"])])
    assert response.status_code == 201, response.json
    return response.json


def test_paid_lease_end_to_end(app, client, payments, shop, buyer, checkout, order_of, session_of):
    _buyer_id, headers = buyer
    started = buy(checkout, shop, headers, "Premium")
    assert started["checkout_url"].startswith(payments.url)
    order = order_of(started["order_id"], headers)
    assert order["status"] == "pending" and order["licenses"] == []
    assert order["total"] == shop["tiers"]["Premium"]["default_price"]

    completed = payments.complete(session_of(started["order_id"]), deliver="sync")
    assert completed["delivery"]["status"] == 200, completed["delivery"]

    order = order_of(started["order_id"], headers)
    assert order["status"] == "paid" and order["paid_at"]
    assert [item["status"] for item in order["items"]] == ["licensed"]
    license_id = order["licenses"][0]["id"]
    license_ = client.get(f"/api/v1/licenses/{license_id}", headers=headers).json
    assert license_["price"] == order["total"], license_
    assert license_["contract_ready"], license_
    assert license_["terms"] == order["items"][0]["terms"]  # frozen at checkout
    downloads = client.get(f"/api/v1/licenses/{license_id}/downloads", headers=headers)
    assert downloads.status_code == 200
    assert {link["kind"] for link in downloads.json if link["ready"]} == {"mp3", "wav"}
    mp3 = next(link for link in downloads.json if link["kind"] == "mp3")
    delivered = client.get(urlsplit(mp3["url"]).path)
    assert delivered.status_code == 200 and delivered.data[:3] == b"ID3"


def test_the_payment_page_pays_and_the_webhook_fulfils(app, payments, shop, buyer, checkout, order_of):
    _buyer_id, headers = buyer
    started = buy(checkout, shop, headers)
    page = requests.get(started["checkout_url"], timeout=10)
    assert page.status_code == 200 and "Night Drive" in page.text and "Pay" in page.text
    session_id = started["checkout_url"].rstrip("/").rsplit("/", 1)[1]
    paid = requests.post(started["checkout_url"], data={"action": "pay", "email": "ann@example.com"},
                         allow_redirects=False, timeout=10)
    assert paid.status_code == 303
    assert paid.headers["Location"].endswith(f"/orders/{started['order_id']}?session_id={session_id}")
    # The sandbox sends checkout.session.completed on its own; the order becomes paid.
    wait_for(lambda: count(app, License, License.sale_reference.is_not(None)) == 1)
    assert order_of(started["order_id"], headers)["status"] == "paid"


def test_a_redelivered_event_does_nothing(app, payments, shop, buyer, checkout, session_of):
    _buyer_id, headers = buyer
    started = buy(checkout, shop, headers)
    payments.complete(session_of(started["order_id"]), deliver="sync")
    event = payments.events(type="checkout.session.completed")[-1]
    again = payments.deliver(event["id"])
    assert again["status"] == 200 and json.loads(again["body"])["outcome"] == "duplicate"
    assert count(app, License) == 1
    assert count(app, ProcessedEvent, ProcessedEvent.id == event["id"]) == 1


def test_concurrent_deliveries_of_one_event_fulfil_once(app, payments, shop, buyer, checkout, session_of):
    _buyer_id, headers = buyer
    started = buy(checkout, shop, headers)
    payments.complete(session_of(started["order_id"]), deliver="none")
    event = payments.events(type="checkout.session.completed")[-1]
    answers: list[dict] = []
    threads = [threading.Thread(target=lambda: answers.append(payments.deliver(event["id"]))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Each delivery waits for the one before it: one is handled, the others find a duplicate,
    # all answer 200, and nothing is fulfilled twice.
    assert [a["status"] for a in answers] == [200] * 6, answers
    outcomes = [json.loads(a["body"])["outcome"] for a in answers if a["status"] == 200]
    assert outcomes.count("handled") == 1
    assert count(app, License) == 1


def test_the_success_page_fulfils_before_the_webhook(app, payments, shop, buyer, checkout, order_of, session_of):
    _buyer_id, headers = buyer
    started = buy(checkout, shop, headers)
    payments.complete(session_of(started["order_id"]), deliver="none")
    order = order_of(started["order_id"], headers)  # back from the payment page
    assert order["status"] == "paid" and len(order["licenses"]) == 1
    event = payments.events(type="checkout.session.completed")[-1]
    late = payments.deliver(event["id"])
    assert late["status"] == 200 and json.loads(late["body"])["outcome"] == "handled"
    assert count(app, License) == 1


def test_an_expired_event_after_payment_changes_nothing(app, payments, shop, buyer, checkout, order_of,
                                                       session_of, signed_event):
    _buyer_id, headers = buyer
    started = buy(checkout, shop, headers)
    session_id = session_of(started["order_id"])
    payments.complete(session_id, deliver="sync")
    # A signed "expired" event for this session arriving late: the session is fetched again
    # from Stripe, which says it is complete, so the order stays paid.
    stale = signed_event("checkout.session.expired", {**payments.session(session_id), "status": "expired"})
    assert stale.status_code == 200
    assert order_of(started["order_id"], headers)["status"] == "paid"


def test_a_refund_before_the_completion_event_leaves_no_license(app, payments, shop, buyer, checkout,
                                                               order_of, session_of):
    _buyer_id, headers = buyer
    started = buy(checkout, shop, headers, "Exclusive")
    session_id = session_of(started["order_id"])
    payments.complete(session_id, deliver="none")
    payment_intent = payments.session(session_id)["payment_intent"]
    refunded = payments.refund(payment_intent, deliver="sync")
    assert refunded["delivery"]["status"] == 200, refunded
    payments.deliver(payments.events(type="checkout.session.completed")[-1]["id"])
    order = order_of(started["order_id"], headers)
    assert order["status"] == "refunded" and order["status_reason"] == "refunded_before_fulfilment"
    assert order["licenses"] == [] and count(app, License) == 0
    assert count(app, ExclusiveHold, ExclusiveHold.released_at.is_(None)) == 0


def test_signatures_that_do_not_verify_are_refused(app, payments, shop, buyer, checkout, order_of, session_of):
    _buyer_id, headers = buyer
    started = buy(checkout, shop, headers)
    payments.complete(session_of(started["order_id"]), deliver="none")
    event_id = payments.events(type="checkout.session.completed")[-1]["id"]
    for attempt in ({"timestamp_offset": -600}, {"tamper": True}, {"secret": "whsec_someone_else"},
                    {"omit_signature": True}):
        answer = payments.deliver(event_id, **attempt)
        assert answer["status"] == 400, (attempt, answer)
        assert json.loads(answer["body"])["error"]["code"] == "invalid_signature", attempt
    assert count(app, ProcessedEvent) == 0
    with app.app_context():
        assert db.session.get(Order, started["order_id"]).status == "pending"
    assert payments.deliver(event_id)["status"] == 200  # the genuine delivery still works
    assert count(app, License) == 1


def test_a_payment_of_another_amount_is_refunded_not_fulfilled(app, payments, shop, buyer, checkout,
                                                              order_of, session_of):
    _buyer_id, headers = buyer
    started = buy(checkout, shop, headers)
    with app.app_context():  # our order now asks for more than the payment page charged
        order = db.session.get(Order, started["order_id"])
        order.subtotal_amount += 100
        order.total_amount += 100
        db.session.commit()
    session_id = session_of(started["order_id"])
    payments.complete(session_id, deliver="sync")
    order = order_of(started["order_id"], headers)
    assert order["status"] == "failed" and order["status_reason"] == "payment_mismatch"
    assert count(app, License) == 0
    charge_refunds = payments.events(type="charge.refunded")
    assert charge_refunds and charge_refunds[-1]["data"]["object"]["refunded"] is True


def test_unknown_events_are_acknowledged(payments, signed_event):
    answer = signed_event("customer.created", {"id": "cus_1", "object": "customer"})
    assert answer.status_code == 200 and answer.json()["outcome"] == "ignored"


def test_a_webhook_without_json_is_refused(live_server, payments):
    answer = requests.post(live_server + WEBHOOK_PATH, data=b"hello", timeout=10,
                           headers={"Content-Type": "text/plain", "Stripe-Signature": "t=1,v1=00"})
    # Like every JSON endpoint, it refuses another media type before reading the body.
    assert answer.status_code == 415 and answer.json()["error"]["code"] == "unsupported_media_type"
