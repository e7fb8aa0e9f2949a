"""Each mail of an order goes out once per event: the receipt per order, the refund receipt per
refund of lines, the notice to a lessee per lease when the exclusive sells, the failed payment
per order. Their jobs are queued with a key naming the event, and an event seen again queues
nothing."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.db import db
from marketplace.jobs.outbox import OutboxJob
from marketplace.jobs.queue import enqueue

MAILS = ("checkout.send_receipt", "checkout.send_refund_receipt", "licensing.notify_exclusive_sold",
         "checkout.notify_payment_failed")


def keyed_mail_rows(app) -> dict[str, tuple[str, list]]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxJob).where(OutboxJob.job.in_(MAILS)))
        found = {row.dedupe_key: (row.job, row.args) for row in rows}
        db.session.remove()
        return found


def queue_again(app, rows: dict[str, tuple[str, list]]) -> None:
    """Every event seen a second time (a notification delivered twice, a sweep catching up)."""
    with app.app_context():
        for key, (job, args) in rows.items():
            enqueue(job, *args, key=key)
        db.session.commit()


def paid(checkout, payments, session_of, order_of, headers, items):
    started = checkout(headers, items)
    assert started.status_code == 201, started.json
    payments.complete(session_of(started.json["order_id"]), deliver="sync")
    order = order_of(started.json["order_id"], headers)
    assert order["status"] == "paid", order
    return order


def test_receipts_refund_receipts_and_exclusive_sold_notices_go_out_once_per_event(
        app, client, payments, shop, new_buyer, checkout, session_of, order_of, admin_headers, outbox):
    beat, tiers = shop["beat_id"], shop["tiers"]
    _lessee, lessee_headers = new_buyer("Lessee")
    lease = paid(checkout, payments, session_of, order_of, lessee_headers, [(beat, tiers["Basic"]["id"])])
    _owner, owner_headers = new_buyer("Owner")
    exclusive = paid(checkout, payments, session_of, order_of, owner_headers,
                     [(beat, tiers["Exclusive"]["id"])])
    [line] = exclusive["items"]
    refunded = client.post(f"/api/v1/orders/{exclusive['id']}/refund", json={"items": [line["id"]]},
                           headers=admin_headers)
    assert refunded.status_code == 202, refunded.json

    rows = keyed_mail_rows(app)
    lease_license = lease["licenses"][0]["id"]
    assert {key: job for key, (job, _args) in rows.items()} == {
        f"receipt:{lease['id']}": "checkout.send_receipt",
        f"receipt:{exclusive['id']}": "checkout.send_receipt",
        f"exclusive-sold:{lease_license}": "licensing.notify_exclusive_sold",
        f"refund-receipt:{exclusive['id']}:{line['id']}": "checkout.send_refund_receipt",
    }
    assert rows[f"refund-receipt:{exclusive['id']}:{line['id']}"][1] == [exclusive["id"], [line["id"]]]
    sent = outbox()  # the jobs ran after each commit (eagerly, in tests)
    assert len([mail for mail in sent if "Refund for your order" in mail]) == 1

    queue_again(app, rows)
    assert keyed_mail_rows(app) == rows
    assert outbox() == sent


def test_a_failed_payment_is_told_once(app, payments, shop, new_buyer, checkout, session_of, order_of,
                                       outbox):
    _buyer, headers = new_buyer()
    started = checkout(headers, [(shop["beat_id"], shop["tiers"]["Exclusive"]["id"])])
    order_id = started.json["order_id"]
    payments.complete(session_of(order_id), async_payment=True, deliver="sync")
    payments.async_fail(session_of(order_id), deliver="sync")
    assert order_of(order_id, headers)["status"] == "failed"
    rows = keyed_mail_rows(app)
    assert rows == {f"payment-failed:{order_id}": ("checkout.notify_payment_failed", [order_id])}
    sent = outbox()
    assert len([mail for mail in sent if "did not go through" in mail]) == 1

    queue_again(app, rows)
    assert keyed_mail_rows(app) == rows
    assert outbox() == sent
