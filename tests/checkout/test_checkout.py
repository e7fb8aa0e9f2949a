"""Starting a checkout: what is checked, what is frozen, exclusive holds, and the payment
provider failing."""

from __future__ import annotations

import datetime as dt
import re
import threading
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import func, select

from marketplace.checkout.holds import HOLD_GRACE
from marketplace.checkout.models import ExclusiveHold, Order
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.licensing.models import License
from tests.checkout.conftest import wait_for
from tests.conftest import postgres_only


def active_holds(app, beat_id):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ExclusiveHold).where(
            ExclusiveHold.beat_id == beat_id, ExclusiveHold.released_at.is_(None)))


def order_row(app, order_id) -> Order:
    with app.app_context():
        order = db.session.get(Order, order_id)
        db.session.expunge(order)
        return order


def test_checkout_freezes_prices_and_terms_and_opens_a_session(app, client, payments, shop, buyer, checkout,
                                                              order_of):
    _buyer_id, headers = buyer
    tier = shop["tiers"]["Premium"]
    started = checkout(headers, [(shop["beat_id"], tier["id"])])
    assert started.status_code == 201, started.json
    assert set(started.json) == {"order_id", "checkout_url", "expires_at"}
    session = payments.session(order_row(app, started.json["order_id"]).payment_session_id)
    assert session["client_reference_id"] == started.json["order_id"]
    assert session["metadata"]["order_id"] == started.json["order_id"]
    assert session["amount_total"] == tier["default_price"]["amount"]
    assert abs(session["expires_at"] - dt.datetime.fromisoformat(started.json["expires_at"]).timestamp()) < 1
    # The seller raises the price and changes the terms: the order keeps what was agreed.
    client.patch(f"/api/v1/license-tiers/{tier['id']}", json={"limits": {"audio_streams": 1}}, headers=shop["headers"])
    client.put(f"/api/v1/beats/{shop['beat_id']}/offers", headers=shop["headers"],
               json=[{"tier_id": tier["id"], "price": {"amount": 99_999, "currency": "usd"}}])
    order = order_of(started.json["order_id"], headers)
    assert order["total"] == tier["default_price"]
    assert order["items"][0]["terms"]["limits"]["audio_streams"] == tier["limits"]["audio_streams"]


@pytest.mark.parametrize("problem", ["own_beat", "duplicate", "unknown_tier", "unknown_beat", "archived",
                                     "inactive_offer", "empty"])
def test_bad_carts_are_refused_and_leave_nothing(app, client, payments, shop, buyer, checkout, problem):
    _buyer_id, headers = buyer
    beat_id, basic = shop["beat_id"], shop["tiers"]["Basic"]["id"]
    items = [(beat_id, basic)]
    if problem == "own_beat":
        headers = shop["headers"]
    elif problem == "duplicate":
        items = [(beat_id, basic), (beat_id, shop["tiers"]["Premium"]["id"])]
    elif problem == "unknown_tier":
        items = [(beat_id, "tier_nope")]
    elif problem == "unknown_beat":
        items = [("bt_nope", basic)]
    elif problem == "archived":
        client.delete(f"/api/v1/beats/{beat_id}", headers=shop["headers"])
    elif problem == "inactive_offer":
        client.put(f"/api/v1/beats/{beat_id}/offers", headers=shop["headers"],
                   json=[{"tier_id": shop["tiers"]["Premium"]["id"], "price": {"amount": 4999, "currency": "usd"}}])
    elif problem == "empty":
        items = []
    response = checkout(headers, items)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_failed"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0
    assert payments.events() == []


def test_checkout_needs_a_signed_in_user(client, payments, shop, checkout):
    response = checkout({}, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])])
    assert response.status_code == 401


def test_an_exclusive_is_held_while_leases_stay_on_sale(app, client, payments, shop, new_buyer, checkout,
                                                       session_of, order_of):
    exclusive, basic = shop["tiers"]["Exclusive"]["id"], shop["tiers"]["Basic"]["id"]
    _first, first_headers = new_buyer("First")
    _second, second_headers = new_buyer("Second")
    held = checkout(first_headers, [(shop["beat_id"], exclusive)])
    assert held.status_code == 201
    refused = checkout(second_headers, [(shop["beat_id"], exclusive)])
    assert refused.status_code == 409 and refused.json["error"]["code"] == "exclusive_unavailable"
    offers = client.get(f"/api/v1/beats/{shop['beat_id']}").json["offers"]
    available = {o["tier_id"]: o["available"] for o in offers}
    assert available[exclusive] is False and available[basic] is True
    # Rule 4: a lease bought while the hold lives is honoured.
    lease = checkout(second_headers, [(shop["beat_id"], basic)])
    assert lease.status_code == 201
    payments.complete(session_of(lease.json["order_id"]), deliver="sync")
    payments.complete(session_of(held.json["order_id"]), deliver="sync")
    assert order_of(lease.json["order_id"], second_headers)["status"] == "paid"
    assert order_of(held.json["order_id"], first_headers)["status"] == "paid"
    beat = client.get(f"/api/v1/beats/{shop['beat_id']}").json
    assert beat["status"] == "sold_exclusive"
    again = checkout(second_headers, [(shop["beat_id"], exclusive)])
    assert again.status_code == 409, again.json


def test_an_expired_session_releases_the_hold(app, payments, shop, new_buyer, checkout, session_of, order_of):
    exclusive = shop["tiers"]["Exclusive"]["id"]
    _first, first_headers = new_buyer("First")
    _second, second_headers = new_buyer("Second")
    held = checkout(first_headers, [(shop["beat_id"], exclusive)])
    expired = payments.expire(session_of(held.json["order_id"]), deliver="sync")
    assert expired["delivery"]["status"] == 200
    assert order_of(held.json["order_id"], first_headers)["status"] == "expired"
    assert active_holds(app, shop["beat_id"]) == 0
    assert checkout(second_headers, [(shop["beat_id"], exclusive)]).status_code == 201


def test_payment_after_a_lost_hold_is_refunded_automatically(app, client, payments, shop, new_buyer, checkout,
                                                            session_of, order_of, outbox):
    exclusive = shop["tiers"]["Exclusive"]["id"]
    _late, late_headers = new_buyer("Late")
    _other, other_headers = new_buyer("Other")
    late = checkout(late_headers, [(shop["beat_id"], exclusive)])
    with app.app_context():  # the late buyer's hold ran out, and its grace too, while the page stayed open
        hold = db.session.scalar(select(ExclusiveHold).where(ExclusiveHold.order_id == late.json["order_id"]))
        hold.expires_at = utcnow() - HOLD_GRACE - dt.timedelta(seconds=1)
        db.session.commit()
    other = checkout(other_headers, [(shop["beat_id"], exclusive)])
    assert other.status_code == 201  # the expired hold gave way
    payments.complete(session_of(other.json["order_id"]), deliver="sync")
    payments.complete(session_of(late.json["order_id"]), deliver="sync")

    late_order = order_of(late.json["order_id"], late_headers)
    assert late_order["status"] == "refunded" and late_order["status_reason"] == "exclusive_unavailable"
    assert late_order["items"][0]["status"] == "refunded"
    assert late_order["items"][0]["refund_reason"] == "exclusive_unavailable"
    assert late_order["licenses"] == []
    refunds = [e for e in payments.events(type="charge.refunded")]
    assert refunds and refunds[-1]["data"]["object"]["amount_refunded"] == late_order["total"]["amount"]
    assert order_of(other.json["order_id"], other_headers)["status"] == "paid"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(License)) == 1
    receipt = wait_for(lambda: [m for m in outbox() if "exclusive rights of this beat were taken" in m])
    assert receipt


@pytest.mark.parametrize("mode", ["error_500", "timeout", "close"])
def test_stripe_down_is_a_clear_error_and_releases_the_hold(app, payments, shop, new_buyer, checkout, mode):
    exclusive = shop["tiers"]["Exclusive"]["id"]
    _first, first_headers = new_buyer("First")
    payments.fault("POST", "/v1/checkout/sessions", mode, times=5, seconds=4)
    refused = checkout(first_headers, [(shop["beat_id"], exclusive)])
    assert refused.status_code == 503, refused.json
    assert refused.json["error"]["code"] == "payment_provider_unavailable"
    assert active_holds(app, shop["beat_id"]) == 0
    with app.app_context():
        orders = list(db.session.scalars(select(Order)))
        assert [(o.status, o.status_reason) for o in orders] == [("failed", "payment_provider_unavailable")]
    payments.clear_faults()
    _second, second_headers = new_buyer("Second")
    assert checkout(second_headers, [(shop["beat_id"], exclusive)]).status_code == 201


def test_stripe_refusing_the_session_is_a_502(app, payments, shop, buyer, checkout):
    _buyer_id, headers = buyer
    with app.app_context():  # a session the sandbox refuses: an expiry too far ahead
        app.config["CHECKOUT_SESSION_MINUTES"] = 3 * 24 * 60
    try:
        refused = checkout(headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])])
    finally:
        app.config["CHECKOUT_SESSION_MINUTES"] = 30
    assert refused.status_code == 502 and refused.json["error"]["code"] == "payment_provider_error"


@postgres_only("twenty concurrent transactions on row locks")
def test_twenty_concurrent_checkouts_of_one_exclusive_hold_it_once(app, live_server, payments, shop, new_buyer):
    exclusive = shop["tiers"]["Exclusive"]["id"]
    buyers = [new_buyer(f"Buyer {i}")[1] for i in range(20)]
    barrier = threading.Barrier(len(buyers))
    answers: list[tuple[int, str | None]] = []

    def attempt(headers):
        barrier.wait()
        response = requests.post(f"{live_server}/api/v1/checkout", headers=headers, timeout=30,
                                 json={"items": [{"beat_id": shop["beat_id"], "tier_id": exclusive}]})
        answers.append((response.status_code, response.json().get("error", {}).get("code")))

    threads = [threading.Thread(target=attempt, args=(headers,)) for headers in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Checked here, in the test's thread: an assert in a worker thread would only warn.
    assert sorted(answers, key=lambda answer: answer[0]) == \
        [(201, None)] + [(409, "exclusive_unavailable")] * 19, answers
    assert active_holds(app, shop["beat_id"]) == 1


def test_checking_out_again_replaces_your_own_open_checkout(app, payments, shop, new_buyer, checkout,
                                                            order_of, session_of, upload_beat, offer_all):
    exclusive = shop["tiers"]["Exclusive"]["id"]
    other_beat = upload_beat(shop["headers"], title="Second beat")
    lease = offer_all(shop["headers"], other_beat)["Basic lease"]["id"]
    _buyer, headers = new_buyer()
    first = checkout(headers, [(shop["beat_id"], exclusive)])
    # Another cart with the same exclusive (the same cart again would answer the same order).
    second = checkout(headers, [(shop["beat_id"], exclusive), (other_beat, lease)])
    assert second.status_code == 201, second.json
    replaced = order_of(first.json["order_id"], headers)
    assert replaced["status"] == "expired" and replaced["status_reason"] == "replaced_by_new_checkout"
    assert payments.session(session_of(first.json["order_id"]))["status"] == "expired"
    assert active_holds(app, shop["beat_id"]) == 1
    # The old page can no longer be paid; the new one can.
    assert payments.complete(session_of(first.json["order_id"]))["error"]
    payments.complete(session_of(second.json["order_id"]), deliver="sync")
    assert order_of(second.json["order_id"], headers)["status"] == "paid"


def test_buyers_come_back_to_an_order_page(client, payments, shop, buyer, checkout, app, session_of):
    _buyer, headers = buyer
    started = checkout(headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])])
    success_url = payments.session(session_of(started.json["order_id"]))["success_url"]
    back = urlsplit(success_url)
    assert back.path == f"/orders/{started.json['order_id']}"
    page = client.get(f"{back.path}?{back.query}")
    assert page.status_code == 200 and re.search(rb'src="/static/app/main\.[0-9a-f]+\.js"', page.data), \
        "the order page is the app's page, with its (fingerprinted) entry script"


def test_a_hold_that_just_ran_out_still_stands_for_its_grace(app, payments, shop, new_buyer, checkout):
    exclusive = shop["tiers"]["Exclusive"]["id"]
    _first, first_headers = new_buyer("First")
    _second, second_headers = new_buyer("Second")
    first = checkout(first_headers, [(shop["beat_id"], exclusive)])
    with app.app_context():  # the page closed a minute ago; its payment may still be on its way
        hold = db.session.scalar(select(ExclusiveHold).where(ExclusiveHold.order_id == first.json["order_id"]))
        hold.expires_at = utcnow() - dt.timedelta(minutes=1)
        db.session.commit()
    assert checkout(second_headers, [(shop["beat_id"], exclusive)]).status_code == 409


def test_a_hold_covers_the_versions_of_a_beat(app, client, payments, shop, new_buyer, checkout, upload_beat,
                                              offer_all, session_of, order_of):
    version = upload_beat(shop["headers"], title="Night Drive (slowed)", version_of=shop["beat_id"])
    offer_all(shop["headers"], version)
    exclusive = shop["tiers"]["Exclusive"]["id"]
    _first, first_headers = new_buyer("First")
    _second, second_headers = new_buyer("Second")
    held = checkout(first_headers, [(shop["beat_id"], exclusive)])
    refused = checkout(second_headers, [(version, exclusive)])
    assert refused.status_code == 409 and refused.json["error"]["code"] == "exclusive_unavailable"
    offers = {o["tier_id"]: o["available"] for o in client.get(f"/api/v1/beats/{version}").json["offers"]}
    assert offers[exclusive] is False
    payments.complete(session_of(held.json["order_id"]), deliver="sync")
    assert order_of(held.json["order_id"], first_headers)["status"] == "paid"
    # The whole family left the store, so a lease of the version is no longer on sale.
    assert client.get(f"/api/v1/beats/{version}").json["status"] == "sold_exclusive"
    late_lease = checkout(second_headers, [(version, shop["tiers"]["Basic"]["id"])])
    assert late_lease.status_code == 422
