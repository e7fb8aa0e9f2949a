"""Faults on the way: Stripe failing on each call the webhook and the refund job make, and the
database failing in the middle of a webhook. Nothing is lost or granted twice."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from marketplace.checkout.holds import HOLD_GRACE
from marketplace.checkout.models import ExclusiveHold
from marketplace.checkout.tasks import sweep_orders
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.licensing.models import License
from marketplace.payments.models import ProcessedEvent


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def start(checkout, shop, headers, tier="Basic"):
    response = checkout(headers, [(shop["beat_id"], shop["tiers"][tier]["id"])])
    assert response.status_code == 201, response.json
    return response.json["order_id"]


@pytest.mark.parametrize("mode", ["error_500", "timeout", "close"])
def test_stripe_failing_while_a_webhook_fetches_the_session(app, payments, shop, new_buyer, checkout,
                                                            session_of, mode):
    _buyer, headers = new_buyer()
    order_id = start(checkout, shop, headers)
    payments.complete(session_of(order_id), deliver="none")
    event_id = payments.events(type="checkout.session.completed")[-1]["id"]
    payments.fault("GET", "/v1/checkout/sessions", mode, times=1, seconds=4)
    failed = payments.deliver(event_id)
    assert failed["status"] == 503  # Stripe will deliver it again
    assert count(app, ProcessedEvent) == 0 and count(app, License) == 0
    assert json.loads(payments.deliver(event_id)["body"])["outcome"] == "handled"
    assert count(app, License) == 1


def test_the_database_failing_in_the_middle_of_a_webhook(app, payments, shop, new_buyer, checkout, session_of):
    _buyer, headers = new_buyer()
    order_id = start(checkout, shop, headers)
    payments.complete(session_of(order_id), deliver="none")
    event_id = payments.events(type="checkout.session.completed")[-1]["id"]
    with app.app_context():
        engine = db.engine
    failures = []

    def fail_once_on_license_insert(_conn, _cursor, statement, *_args):
        if statement.startswith("INSERT INTO licenses") and not failures:
            failures.append(statement)
            raise OperationalError(statement, {}, Exception("the database went away"))

    event.listen(engine, "before_cursor_execute", fail_once_on_license_insert)
    try:
        failed = payments.deliver(event_id)
    finally:
        event.remove(engine, "before_cursor_execute", fail_once_on_license_insert)
    assert failures and failed["status"] == 500
    assert json.loads(failed["body"])["error"]["code"] == "internal_error"
    assert count(app, ProcessedEvent) == 0 and count(app, License) == 0  # all of it rolled back
    assert json.loads(payments.deliver(event_id)["body"])["outcome"] == "handled"
    assert json.loads(payments.deliver(event_id)["body"])["outcome"] == "duplicate"
    assert count(app, License) == 1


def test_a_refund_that_stripe_cannot_take_now_is_made_later_once(app, payments, shop, new_buyer, checkout,
                                                                 session_of, order_of):
    exclusive = shop["tiers"]["Exclusive"]["id"]
    _late, late_headers = new_buyer("Late")
    _rival, rival_headers = new_buyer("Rival")
    late = start(checkout, shop, late_headers, "Exclusive")
    with app.app_context():
        hold = db.session.scalar(select(ExclusiveHold).where(ExclusiveHold.order_id == late))
        hold.expires_at = utcnow() - HOLD_GRACE - dt.timedelta(seconds=1)
        db.session.commit()
    rival = checkout(rival_headers, [(shop["beat_id"], exclusive)]).json["order_id"]
    payments.complete(session_of(rival), deliver="sync")
    payments.fault("POST", "/v1/refunds", "error_500", times=20)
    payments.complete(session_of(late), deliver="sync")  # the refund job meets a Stripe outage
    order = order_of(late, late_headers)
    assert order["status"] == "refunded" and order["refunded"]["amount"] == 0
    assert payments.events(type="refund.created") == []
    payments.clear_faults()
    with app.app_context():
        sweep_orders()  # the sweep queues the refund again
    assert order_of(late, late_headers)["refunded"] == order["total"]
    with app.app_context():
        sweep_orders()
    assert len(payments.events(type="refund.created")) == 1
