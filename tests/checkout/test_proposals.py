"""Price proposals: an artist offers a price for a beat's exclusive (or a tier its seller opens
to offers), the seller accepts, declines or counters, and an accepted offer is paid in a
private checkout at the agreed price, against the Stripe sandbox and its webhooks."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import requests
from sqlalchemy import func, select, update

from marketplace.checkout.models import ExclusiveHold
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.jobs import queue
from marketplace.proposals import services as proposal_services
from marketplace.proposals.models import Proposal
from tests.checkout.conftest import wait_for
from tests.conftest import postgres_only

EXCLUSIVE = 49999


def tier_of(shop, name):
    return shop["tiers"][name]["id"]


def propose(client, headers, beat_id, tier_id, amount, message="Would you take this?"):
    return client.post("/api/v1/proposals", headers=headers,
                       json={"beat_id": beat_id, "tier_id": tier_id, "amount": amount, "message": message})


def made(client, headers, shop, amount=30000, tier="Exclusive", message="Would you take this?"):
    response = propose(client, headers, shop["beat_id"], tier_of(shop, tier), amount, message)
    assert response.status_code == 201, response.json
    return response.json


def act(client, headers, proposal_id, action, body=None):
    return client.post(f"/api/v1/proposals/{proposal_id}/{action}", headers=headers, json=body)


def accepted(client, shop, headers, amount=30000):
    proposal = made(client, headers, shop, amount)
    answer = act(client, shop["headers"], proposal["id"], "accept")
    assert answer.status_code == 200, answer.json
    return answer.json


def private_checkout(client, headers, proposal_id):
    return client.post("/api/v1/checkout", headers=headers,
                       json={"items": [{"kind": "proposal", "proposal_id": proposal_id}]})


def pay(payments, session_of, order_of, order_id, headers):
    payments.complete(session_of(order_id), deliver="sync")
    order = order_of(order_id, headers)
    assert order["status"] == "paid", order
    return order


@pytest.fixture
def mails_to(app, outbox):
    """The mails sent to the account with this name, each as one string."""
    from marketplace.accounts.models import User

    def sent(name):
        with app.app_context():
            address = db.session.scalar(select(User.email).where(User.display_name == name))
        return [mail for mail in outbox() if address in mail.split("\n\n", 1)[0]]
    return sent


# -- the flow --------------------------------------------------------------------------------------

def test_an_offer_countered_accepted_and_paid_at_the_agreed_price_mails_each_step(
        client, payments, shop, buyer, checkout, session_of, order_of, mails_to):
    _buyer_id, headers = buyer
    proposal = made(client, headers, shop, 30000, message="Love this one ❤️ — ¿35? 这首歌很好")
    assert proposal["status"] == "open" and proposal["waiting_for"] == "seller"
    assert proposal["message"] == "Love this one ❤️ — ¿35? 这首歌很好"
    seller_view = client.get("/api/v1/studio/proposals", headers=shop["headers"]).json
    assert [p["id"] for p in seller_view] == [proposal["id"]]

    countered = act(client, shop["headers"], proposal["id"], "counter",
                    {"amount": 40000, "message": "Meet at 400"})
    assert countered.status_code == 200, countered.json
    assert countered.json["status"] == "countered" and countered.json["waiting_for"] == "artist"
    # The seller cannot answer their own counter; the artist accepts it.
    assert act(client, shop["headers"], proposal["id"], "accept").json["error"]["code"] == "not_your_turn"
    agreed = act(client, headers, proposal["id"], "accept")
    assert agreed.status_code == 200 and agreed.json["agreed"] == {"amount": 40000, "currency": "usd"}
    assert agreed.json["checkout_until"] is not None

    started = private_checkout(client, headers, proposal["id"])
    assert started.status_code == 201, started.json
    order = pay(payments, session_of, order_of, started.json["order_id"], headers)
    assert order["total"]["amount"] == 40000
    assert payments.session(session_of(order["id"]))["amount_total"] == 40000
    license_id = order["items"][0]["license_id"]
    assert client.get(f"/api/v1/licenses/{license_id}", headers=headers).json["kind"] == "exclusive"
    mine = client.get("/api/v1/proposals", headers=headers).json
    assert mine[0]["status"] == "paid"

    # Paying the agreed price again is refused in words.
    again = private_checkout(client, headers, proposal["id"])
    assert again.status_code == 422 and "already paid" in again.json["error"]["message"]

    wait_for(lambda: len(mails_to("Metro")) >= 2 and len(mails_to("Ann Artist")) >= 2)
    to_seller = "\n".join(mails_to("Metro"))
    to_artist = "\n".join(mails_to("Ann Artist"))
    assert "New offer" in to_seller and "这首歌很好" in to_seller and "Offer accepted" in to_seller
    assert "Counter-offer" in to_artist and "Meet at 400" in to_artist


def test_the_seller_declines_and_the_artist_is_told(client, shop, buyer, mails_to):
    _buyer_id, headers = buyer
    proposal = made(client, headers, shop)
    # Only the seller answers an open offer; the artist may not accept their own.
    assert act(client, headers, proposal["id"], "accept").json["error"]["code"] == "not_your_turn"
    declined = act(client, shop["headers"], proposal["id"], "decline")
    assert declined.status_code == 200 and declined.json["status"] == "declined"
    assert act(client, shop["headers"], proposal["id"], "accept").json["error"]["code"] == "proposal_closed"
    wait_for(lambda: any("Offer declined" in mail for mail in mails_to("Ann Artist")))
    # A declined offer frees the beat: a new one may be made.
    assert propose(client, headers, shop["beat_id"], tier_of(shop, "Exclusive"), 32000).status_code == 201


def test_an_artist_declines_a_counter_and_withdraws_an_offer(client, shop, buyer):
    _buyer_id, headers = buyer
    proposal = made(client, headers, shop)
    act(client, shop["headers"], proposal["id"], "counter", {"amount": 45000})
    declined = act(client, headers, proposal["id"], "decline")
    assert declined.status_code == 200 and declined.json["status"] == "declined"
    again = made(client, headers, shop, 31000)
    withdrawn = act(client, headers, again["id"], "withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"


# -- what is refused ----------------------------------------------------------------------------

def test_an_offer_below_the_sellers_minimum_is_refused_with_the_minimum_in_words(client, shop, buyer):
    _buyer_id, headers = buyer
    exclusive = tier_of(shop, "Exclusive")
    terms = client.put(f"/api/v1/studio/proposal-terms/{exclusive}", headers=shop["headers"],
                       json={"open": True, "minimum_amount": 25000})
    assert terms.status_code == 200 and terms.json["minimum"] == {"amount": 25000, "currency": "usd"}
    low = propose(client, headers, shop["beat_id"], exclusive, 24999)
    assert low.status_code == 422 and "USD 250.00" in low.json["error"]["details"]["amount"][0]
    assert propose(client, headers, shop["beat_id"], exclusive, 25000).status_code == 201


@pytest.mark.parametrize("amount, words", [
    (0, "at least USD 0.50"), (-500, "at least USD 0.50"), (49, "at least USD 0.50"),
    (10 ** 12, "at most USD 999,999.99"),
])
def test_amounts_that_cannot_be_charged_are_refused_in_words(client, shop, buyer, amount, words):
    _buyer_id, headers = buyer
    response = propose(client, headers, shop["beat_id"], tier_of(shop, "Exclusive"), amount)
    assert response.status_code == 422 and words in response.json["error"]["details"]["amount"][0]
    proposal = made(client, headers, shop)
    counter = act(client, shop["headers"], proposal["id"], "counter", {"amount": amount})
    assert counter.status_code == 422 and words in counter.json["error"]["details"]["amount"][0]


@pytest.mark.parametrize("amount", ["12.50", 12.5, None, True])
def test_an_amount_that_is_not_whole_minor_units_is_refused(client, shop, buyer, amount):
    _buyer_id, headers = buyer
    response = propose(client, headers, shop["beat_id"], tier_of(shop, "Exclusive"), amount)
    assert response.status_code == 422 and "amount" in response.json["error"]["details"]


@pytest.mark.parametrize("message", ["Hi\x00there", "bell\x07", "\u202eevil"])
def test_a_message_with_control_characters_is_refused(client, shop, buyer, message):
    _buyer_id, headers = buyer
    response = propose(client, headers, shop["beat_id"], tier_of(shop, "Exclusive"), 30000, message)
    assert response.status_code == 422 and "message" in response.json["error"]["details"]


def test_a_tier_the_seller_did_not_open_and_their_own_beat_are_refused(client, shop, buyer):
    _buyer_id, headers = buyer
    basic = tier_of(shop, "Basic")
    closed = propose(client, headers, shop["beat_id"], basic, 2000)
    assert closed.status_code == 422 and "does not take offers" in closed.json["error"]["message"]
    client.put(f"/api/v1/studio/proposal-terms/{basic}", headers=shop["headers"], json={"open": True})
    assert propose(client, headers, shop["beat_id"], basic, 2000).status_code == 201
    client.put(f"/api/v1/studio/proposal-terms/{tier_of(shop, 'Exclusive')}", headers=shop["headers"],
               json={"open": False})
    other_headers = shop["headers"]
    own = propose(client, other_headers, shop["beat_id"], basic, 2000)
    assert own.status_code == 403  # a beatmaker's account makes no offers


def test_one_open_offer_per_beat_and_at_most_three_at_once(client, shop, buyer, upload_beat, offer_all):
    _buyer_id, headers = buyer
    made(client, headers, shop)
    twice = propose(client, headers, shop["beat_id"], tier_of(shop, "Exclusive"), 31000)
    assert twice.status_code == 409 and twice.json["error"]["code"] == "proposal_already_open"
    more = []
    for index in range(3):
        beat_id = upload_beat(shop["headers"], title=f"More {index}")
        offer_all(shop["headers"], beat_id)
        more.append(beat_id)
    assert propose(client, headers, more[0], tier_of(shop, "Exclusive"), 30000).status_code == 201
    assert propose(client, headers, more[1], tier_of(shop, "Exclusive"), 30000).status_code == 201
    fourth = propose(client, headers, more[2], tier_of(shop, "Exclusive"), 30000)
    assert fourth.status_code == 409 and "3 open offers" in fourth.json["error"]["message"]


def test_offers_per_account_are_rate_limited(app, client, shop, buyer):
    _buyer_id, headers = buyer
    original = app.config["PROPOSAL_LIMIT_PER_ACCOUNT"]
    app.config["PROPOSAL_LIMIT_PER_ACCOUNT"] = "2 per hour"
    try:
        proposal = made(client, headers, shop)
        act(client, headers, proposal["id"], "withdraw")
        made(client, headers, shop, 31000)
        limited = propose(client, headers, shop["beat_id"], tier_of(shop, "Exclusive"), 32000)
    finally:
        app.config["PROPOSAL_LIMIT_PER_ACCOUNT"] = original
    assert limited.status_code == 429 and "many offers" in limited.json["error"]["message"]


def test_only_the_artist_whose_offer_was_accepted_may_pay_it(client, payments, shop, buyer, new_buyer):
    _buyer_id, headers = buyer
    proposal = accepted(client, shop, headers)
    _other, other_headers = new_buyer("Someone Else")
    refused = private_checkout(client, other_headers, proposal["id"])
    assert refused.status_code == 422 and "only the artist" in refused.json["error"]["message"]
    # Nor is the offer visible to them.
    assert act(client, other_headers, proposal["id"], "withdraw").status_code == 404


def test_a_second_payment_of_one_offer_is_refunded_and_no_deal_or_coupon_applies(
        client, payments, shop, buyer, upload_beat, offer_all, session_of, order_of, mails_to):
    _buyer_id, headers = buyer
    basic = tier_of(shop, "Basic")
    client.put(f"/api/v1/studio/proposal-terms/{basic}", headers=shop["headers"], json={"open": True})
    coupon = client.post("/api/v1/coupons", headers=shop["headers"], json={
        "code": "HALF", "kind": "percent", "percent_off": 50})
    assert coupon.status_code == 201, coupon.json
    proposal = made(client, headers, shop, 2000, tier="Basic")
    act(client, shop["headers"], proposal["id"], "accept")
    other_beat = upload_beat(shop["headers"], title="Another")
    offer_all(shop["headers"], other_beat)
    # Two pending checkouts of the same offer (the second with another beat, so another cart).
    first = private_checkout(client, headers, proposal["id"])
    second = client.post("/api/v1/checkout", headers=headers, json={"coupon_code": "HALF", "items": [
        {"kind": "proposal", "proposal_id": proposal["id"]}, {"beat_id": other_beat, "tier_id": basic}]})
    assert first.status_code == 201 and second.status_code == 201, (first.json, second.json)
    assert first.json["order_id"] != second.json["order_id"]
    pay(payments, session_of, order_of, first.json["order_id"], headers)

    payments.complete(session_of(second.json["order_id"]), deliver="sync")
    second_id = second.json["order_id"]
    order = wait_for(lambda: (o := order_of(second_id, headers))["items"][0]["status"] == "refunded" and o)
    offer_line, lease_line = order["items"]
    assert offer_line["price"]["amount"] == 2000 and offer_line["refund_reason"] == "proposal_unavailable"
    assert lease_line["status"] == "licensed" and lease_line["price"]["amount"] == 2999 // 2 + 1
    wait_for(lambda: any("already paid" in mail for mail in mails_to("Ann Artist")))


def test_the_agreed_price_holds_when_the_seller_changes_the_price(
        client, payments, shop, buyer, session_of, order_of):
    _buyer_id, headers = buyer
    proposal = accepted(client, shop, headers, 30000)
    offers = [{"tier_id": tier["id"],
               "price": {"amount": tier["default_price"]["amount"] * 3, "currency": "usd"}}
              for tier in shop["tiers"].values()]
    assert client.put(f"/api/v1/beats/{shop['beat_id']}/offers", json=offers,
                      headers=shop["headers"]).status_code == 200
    started = private_checkout(client, headers, proposal["id"])
    assert started.status_code == 201, started.json
    assert pay(payments, session_of, order_of, started.json["order_id"], headers)["total"]["amount"] == 30000


def test_a_beat_taken_down_after_acceptance_cannot_be_paid(client, payments, shop, buyer, admin_headers):
    _buyer_id, headers = buyer
    proposal = accepted(client, shop, headers)
    taken = client.post(f"/api/v1/admin/beats/{shop['beat_id']}/takedown", headers=admin_headers,
                        json={"reason": "Copyright claim by the label.", "revoke_licenses": False})
    assert taken.status_code == 200, taken.json
    refused = private_checkout(client, headers, proposal["id"])
    assert refused.status_code == 422 and "taken out of the store" in refused.json["error"]["message"]


def test_the_exclusive_sold_to_someone_else_ends_every_open_offer_with_a_notice(
        client, payments, shop, buyer, new_buyer, checkout, session_of, order_of, mails_to):
    _buyer_id, headers = buyer
    open_one = made(client, headers, shop)
    _second, second_headers = new_buyer("Second Artist")
    agreed = made(client, second_headers, shop, 35000)
    act(client, shop["headers"], agreed["id"], "accept")
    _third, third_headers = new_buyer("Third")
    started = checkout(third_headers, [(shop["beat_id"], tier_of(shop, "Exclusive"))])
    assert started.status_code == 201, started.json
    pay(payments, session_of, order_of, started.json["order_id"], third_headers)

    assert client.get("/api/v1/proposals", headers=headers).json[0]["status"] == "ended"
    assert client.get("/api/v1/proposals", headers=second_headers).json[0]["status"] == "ended"
    refused = private_checkout(client, second_headers, agreed["id"])
    assert refused.status_code == 422 and "ended" in refused.json["error"]["message"]
    wait_for(lambda: any("Offer ended" in mail for mail in mails_to("Ann Artist"))
             and any("Offer ended" in mail for mail in mails_to("Second Artist")))
    assert open_one["id"] != agreed["id"]


def test_the_sweep_expires_unanswered_and_unpaid_offers(app, client, shop, buyer, new_buyer, mails_to):
    _buyer_id, headers = buyer
    unanswered = made(client, headers, shop)
    _second, second_headers = new_buyer("Slow Payer")
    unpaid = accepted(client, shop, second_headers, 35000)
    with app.app_context():
        assert proposal_services.expire_due(utcnow()) == 0
        later = utcnow() + dt.timedelta(hours=app.config["PROPOSAL_HOURS"], minutes=1)
        assert proposal_services.expire_due(later) == 2
        db.session.rollback()
        # The periodic job does the same once the times have passed.
        assert queue.PERIODIC["proposals.expire"] > 0
        past = utcnow() - dt.timedelta(minutes=1)
        db.session.execute(update(Proposal).values(expires_at=past, checkout_until=past))
        db.session.commit()
        queue.JOBS["proposals.expire"]()
        statuses = {p.id: p.status for p in db.session.scalars(select(Proposal))}
    assert statuses == {unanswered["id"]: "expired", unpaid["id"]: "expired"}
    refused = private_checkout(client, second_headers, unpaid["id"])
    assert refused.status_code == 422
    wait_for(lambda: any("Offer expired" in mail for mail in mails_to("Slow Payer")))


# -- at the same moment --------------------------------------------------------------------------

@postgres_only("concurrent checkouts of one exclusive")
def test_an_accepted_offers_checkout_and_a_public_checkout_at_once_make_exactly_one_hold(
        app, client, live_server, payments, shop, buyer, new_buyer):
    _buyer_id, headers = buyer
    proposal = accepted(client, shop, headers)
    _public, public_headers = new_buyer("Public Buyer")
    public_item = {"beat_id": shop["beat_id"], "tier_id": tier_of(shop, "Exclusive")}
    bodies = [(headers, {"items": [{"kind": "proposal", "proposal_id": proposal["id"]}]}),
              (public_headers, {"items": [public_item]})]
    barrier = threading.Barrier(len(bodies))
    answers: list[tuple[int, dict]] = []

    def attempt(who, body):
        barrier.wait()
        response = requests.post(f"{live_server}/api/v1/checkout", headers=who, json=body, timeout=60)
        answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=attempt, args=pair) for pair in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _body in answers) == [201, 409], answers
    assert [body["error"]["code"] for status, body in answers if status == 409] == ["exclusive_unavailable"]
    with app.app_context():
        holds = db.session.scalar(select(func.count()).select_from(ExclusiveHold).where(
            ExclusiveHold.beat_id == shop["beat_id"], ExclusiveHold.released_at.is_(None)))
    assert holds == 1
