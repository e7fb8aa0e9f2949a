"""A beat that leaves the store mid-checkout (a takedown, with or without revoking, its owner's
suspension, a pending review, an archive): its open payment pages are expired at Stripe and
their holds released; a payment that still arrives is refunded, for leases as for exclusives,
with no license, no ledger row and no download."""

from __future__ import annotations

import threading

import pytest
import requests
from sqlalchemy import func, select

from marketplace.catalog import services as catalog
from marketplace.catalog.lifecycle import BeatStatus
from marketplace.checkout.models import ExclusiveHold
from marketplace.db import db
from marketplace.licensing.models import License
from marketplace.moderation.beats import hold_back_on_publication
from marketplace.payouts.models import LedgerEntry
from tests.checkout.conftest import wait_for
from tests.conftest import postgres_only

WAYS_OUT = ["takedown", "takedown_revoking", "suspension", "review", "archive"]


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def live_holds(app, beat_id):
    return count(app, ExclusiveHold, ExclusiveHold.beat_id == beat_id, ExclusiveHold.released_at.is_(None))


@pytest.fixture
def take_out(app, client, shop, admin_headers, monkeypatch):
    """Takes the shop's beat out of the store in one of the ways a beat leaves it."""

    def leave(way):
        beat_id = shop["beat_id"]
        if way in ("takedown", "takedown_revoking"):
            response = client.post(f"/api/v1/admin/beats/{beat_id}/takedown", headers=admin_headers, json={
                "reason": "Copyright claim by the label.", "revoke_licenses": way == "takedown_revoking"})
        elif way == "suspension":
            response = client.post(f"/api/v1/admin/users/{shop['seller_id']}/suspend", headers=admin_headers,
                                   json={"reason": "Stolen beats."})
        elif way == "archive":
            response = client.delete(f"/api/v1/beats/{beat_id}", headers=shop["headers"])
        else:  # a review, as pre-moderation puts a beat under one
            monkeypatch.setitem(app.config, "PREMODERATION_MIN_APPROVED_BEATS", 5)
            with app.app_context():
                assert hold_back_on_publication(catalog.get_beat(beat_id), BeatStatus.PUBLISHED)
                db.session.commit()
            return
        assert response.status_code == 200, response.json

    return leave


def start(checkout, headers, shop, tier):
    started = checkout(headers, [(shop["beat_id"], shop["tiers"][tier]["id"])])
    assert started.status_code == 201, started.json
    return started.json["order_id"]


@pytest.mark.parametrize("way", WAYS_OUT)
def test_open_checkouts_end_when_their_beat_leaves_the_store(app, payments, shop, new_buyer, checkout,
                                                             session_of, order_of, take_out, way):
    _first, first_headers = new_buyer("First")
    _second, second_headers = new_buyer("Second")
    exclusive = start(checkout, first_headers, shop, "Exclusive")
    lease = start(checkout, second_headers, shop, "Basic")
    assert live_holds(app, shop["beat_id"]) == 1

    take_out(way)

    assert live_holds(app, shop["beat_id"]) == 0
    for order_id, headers in ((exclusive, first_headers), (lease, second_headers)):
        assert payments.session(session_of(order_id))["status"] == "expired"
        order = order_of(order_id, headers)
        assert (order["status"], order["status_reason"]) == ("expired", "beat_left_store")
        assert order["licenses"] == []


@pytest.mark.parametrize("tier", ["Basic", "Exclusive"])
@pytest.mark.parametrize("way", WAYS_OUT)
def test_a_payment_arriving_after_the_beat_left_the_store_is_refunded(
        app, client, payments, shop, buyer, checkout, session_of, order_of, outbox, take_out, way, tier):
    _buyer_id, headers = buyer
    order_id = start(checkout, headers, shop, tier)
    session_id = session_of(order_id)
    # Stripe cannot be reached when the page should close: the expiry never happens.
    payments.fault("POST", f"/v1/checkout/sessions/{session_id}/expire", "error_500")

    take_out(way)

    assert order_of(order_id, headers)["status"] == "pending"
    assert live_holds(app, shop["beat_id"]) == 0
    completed = payments.complete(session_id, deliver="sync")  # the buyer was on the payment page
    assert completed["delivery"]["status"] == 200, completed["delivery"]
    assert_refunded_for_leaving(app, client, payments, order_of, outbox, order_id, headers)


@pytest.mark.parametrize("tier", ["Basic", "Exclusive"])
def test_a_payment_made_as_the_beat_left_the_store_is_refunded(app, client, payments, shop, buyer, checkout,
                                                               session_of, order_of, outbox, take_out, tier):
    _buyer_id, headers = buyer
    order_id = start(checkout, headers, shop, tier)
    # Paid at Stripe a moment before the takedown; its notification is still on its way, and
    # the payment page can no longer be expired.
    payments.complete(session_of(order_id), deliver="none")

    take_out("takedown")

    assert_refunded_for_leaving(app, client, payments, order_of, outbox, order_id, headers)


def assert_refunded_for_leaving(app, client, payments, order_of, outbox, order_id, headers):
    order = order_of(order_id, headers)
    assert (order["status"], order["status_reason"]) == ("refunded", "beat_left_store")
    assert [(item["status"], item["refund_reason"]) for item in order["items"]] == [
        ("refunded", "beat_left_store")]
    assert order["licenses"] == [] and order["refunded"] == order["total"]
    [refund] = payments.events(type="charge.refunded")
    assert refund["data"]["object"]["amount_refunded"] == order["total"]["amount"]
    assert count(app, License) == 0 and count(app, LedgerEntry) == 0
    assert client.get("/api/v1/licenses", headers=headers).json == []
    assert wait_for(lambda: [mail for mail in outbox() if "taken out of the store before your payment" in mail])


def test_a_lease_checked_out_before_the_exclusive_sold_is_still_honoured(
        app, client, payments, shop, new_buyer, checkout, session_of, order_of):
    _lessee, lessee_headers = new_buyer("Lessee")
    _owner, owner_headers = new_buyer("Owner")
    lease = start(checkout, lessee_headers, shop, "Basic")
    exclusive = start(checkout, owner_headers, shop, "Exclusive")
    payments.complete(session_of(exclusive), deliver="sync")
    assert client.get(f"/api/v1/beats/{shop['beat_id']}").json["status"] == "sold_exclusive"

    payments.complete(session_of(lease), deliver="sync")
    order = order_of(lease, lessee_headers)
    assert order["status"] == "paid" and len(order["licenses"]) == 1


@pytest.mark.postgres_only
@postgres_only("a takedown racing a payment on row locks")
@pytest.mark.parametrize("tier", ["Basic", "Exclusive"])
def test_a_takedown_racing_a_payment_ends_in_a_license_or_a_refund(app, live_server, payments, shop, buyer,
                                                                   admin_headers, checkout, session_of,
                                                                   order_of, tier):
    _buyer_id, headers = buyer
    order_id = start(checkout, headers, shop, tier)
    session_id = session_of(order_id)
    barrier = threading.Barrier(2)
    answers: dict[str, object] = {}

    def take_down():
        barrier.wait()
        answers["takedown"] = requests.post(
            f"{live_server}/api/v1/admin/beats/{shop['beat_id']}/takedown", headers=admin_headers, timeout=30,
            json={"reason": "Copyright claim by the label."}).status_code

    def pay():
        barrier.wait()
        answers["payment"] = payments.complete(session_id, deliver="sync")

    threads = [threading.Thread(target=take_down), threading.Thread(target=pay)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers["takedown"] == 200
    order = wait_for(lambda: (found := order_of(order_id, headers))["status"] != "pending" and found)
    licenses, ledger = count(app, License), count(app, LedgerEntry)
    if "error" in answers["payment"]:  # the page was closed at Stripe before the buyer could pay
        assert (order["status"], order["status_reason"]) == ("expired", "beat_left_store")
        assert licenses == 0 and ledger == 0
        return
    assert answers["payment"]["delivery"]["status"] == 200
    if order["status"] == "paid":  # paid before the takedown: the sale stands, as every earlier one does
        assert len(order["licenses"]) == 1 and licenses == 1 and ledger > 0
    else:
        assert (order["status"], order["status_reason"]) == ("refunded", "beat_left_store")
        assert order["licenses"] == [] and licenses == 0 and ledger == 0
        assert wait_for(lambda: payments.events(type="charge.refunded"))
