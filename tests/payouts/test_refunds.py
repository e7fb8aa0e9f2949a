"""Refunds in the ledger: a refunded line takes back only its own fee and shares (and only what
its transfers sent), a partial refund made in Stripe's dashboard takes back the fee and every
share in proportion, and `flask payouts reconcile` balances after each."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.db import db
from marketplace.payouts.models import LedgerEntry
from tests.checkout.conftest import wait_for
from tests.payouts.test_payouts import _session


def settle(predicate):
    """Waits for what webhooks and jobs do after a request; generous, for a busy machine."""
    return wait_for(predicate, seconds=30)


def refund_rows(app, order_id):
    """{(line id, payee or None): amount taken back} from the order's refund rows."""
    with app.app_context():
        rows = db.session.scalars(select(LedgerEntry).where(LedgerEntry.order_id == order_id,
                                                            LedgerEntry.kind == "refund"))
        taken: dict = {}
        for row in rows:
            key = (row.order_item_id, row.payee_id)
            taken[key] = taken.get(key, 0) - row.amount
        return taken


def earned_rows(app, order_id):
    with app.app_context():
        return {(row.order_item_id, row.payee_id): row.amount for row in db.session.scalars(
            select(LedgerEntry).where(LedgerEntry.order_id == order_id,
                                      LedgerEntry.kind.in_(["sale", "platform_fee"])))}


def reversed_by_destination(stripe_transfers, order_id):
    return {t["destination"]: (t["amount"], t["amount_reversed"])
            for t in stripe_transfers(transfer_group=order_id)}


def balanced(reconcile):
    result = reconcile()
    assert result.exit_code == 0, result.output
    assert "no difference" in result.output


def test_refunding_one_line_takes_back_only_its_fee_and_shares(
        app, client, payments, beatmaker, credit, connect, make_user, headers_for, new_buyer, buy,
        stripe_transfers, balance, admin_headers, order_of, reconcile, outbox):
    anna, anna_headers, anna_beat, anna_tiers = beatmaker("Anna")
    ben, ben_headers, ben_beat, ben_tiers = beatmaker("Ben")
    cleo = make_user(Role.BEATMAKER, "Cleo")
    cleo_headers = headers_for(cleo)
    credit(anna_headers, anna_beat, [("Anna", anna, "producer", 6000), ("Cleo", cleo, "co_producer", 4000)])
    accounts = {user: connect(headers) for user, headers in
                ((anna, anna_headers), (ben, ben_headers), (cleo, cleo_headers))}
    _buyer, buyer_headers = new_buyer()
    order = buy(buyer_headers, [(anna_beat, anna_tiers["Basic"]["id"]),
                                (ben_beat, ben_tiers["Premium"]["id"])])
    anna_line = next(item for item in order["items"] if item["beat_id"] == anna_beat)

    refunded = client.post(f"/api/v1/orders/{order['id']}/refund", json={"items": [anna_line["id"]]},
                           headers=admin_headers)
    assert refunded.status_code == 202, refunded.json
    assert refunded.json["status"] == "paid"
    assert {item["beat_id"]: item["status"] for item in refunded.json["items"]} == {anna_beat: "refunded",
                                                                                   ben_beat: "licensed"}
    # Stripe refunds the line's price, once; the license of that line only is revoked, at once.
    settle(lambda: order_of(order["id"], buyer_headers)["refunded"]["amount"] == 2999)
    assert [e["data"]["object"]["amount"] for e in payments.events(type="refund.created")] == [2999]
    assert {lic["beat_id"]: lic["status"] for lic in order_of(order["id"], buyer_headers)["licenses"]} == {
        anna_beat: "revoked", ben_beat: "active"}
    # The line's fee and both its shares are taken back; Ben's line stands, and so does his transfer.
    assert refund_rows(app, order["id"]) == {(anna_line["id"], None): 300, (anna_line["id"], anna): 1619,
                                             (anna_line["id"], cleo): 1080}
    settle(lambda: reversed_by_destination(stripe_transfers, order["id"]) == {
        accounts[anna]: (1619, 1619), accounts[cleo]: (1080, 1080), accounts[ben]: (4499, 0)})
    settle(lambda: balance(anna_headers) == (0, 0) and balance(cleo_headers) == (0, 0))
    assert balance(ben_headers) == (0, 4499)
    assert settle(lambda: [m for m in outbox() if "Refund for your order" in m and "29.99" in m])
    balanced(reconcile)

    # No body: what is left of the order is refunded, and reconcile still balances.
    rest = client.post(f"/api/v1/orders/{order['id']}/refund", headers=admin_headers)
    assert rest.status_code == 202, rest.json
    settle(lambda: order_of(order["id"], buyer_headers)["status"] == "refunded")
    assert sorted(e["data"]["object"]["amount"]
                  for e in payments.events(type="refund.created")) == [2999, 4999]
    settle(lambda: reversed_by_destination(stripe_transfers, order["id"])[accounts[ben]] == (4499, 4499))
    balanced(reconcile)


def test_a_partial_refund_from_the_dashboard_takes_back_the_fee_and_shares_in_proportion(
        app, client, payments, beatmaker, connect, new_buyer, buy, stripe_transfers, balance, admin_headers,
        order_of, reconcile):
    anna, anna_headers, anna_beat, anna_tiers = beatmaker("Anna")
    ben, ben_headers, ben_beat, ben_tiers = beatmaker("Ben")
    accounts = {anna: connect(anna_headers), ben: connect(ben_headers)}
    _buyer, buyer_headers = new_buyer()
    order = buy(buyer_headers, [(anna_beat, anna_tiers["Basic"]["id"]),
                                (ben_beat, ben_tiers["Premium"]["id"])])
    intent = payments.session(_session(app, order["id"]))["payment_intent"]
    earned = earned_rows(app, order["id"])  # 2999 and 4999: 7998 in all

    payments.refund(intent, amount=1000, deliver="sync")
    taken = refund_rows(app, order["id"])
    assert sum(taken.values()) == 1000
    for key, amount in taken.items():  # each fee and share within a cent of its proportion
        assert abs(amount - earned[key] * 1000 / 7998) < 1, (key, amount)
    assert set(taken) == set(earned)
    assert order_of(order["id"], buyer_headers)["status"] == "paid"
    assert {lic["status"] for lic in order_of(order["id"], buyer_headers)["licenses"]} == {"active"}
    # What the payees were sent of it is reversed.
    expected = {accounts[anna]: taken[(_line(order, anna_beat), anna)],
                accounts[ben]: taken[(_line(order, ben_beat), ben)]}
    settle(lambda: {destination: taken_back for destination, (_sent, taken_back)
                      in reversed_by_destination(stripe_transfers, order["id"]).items()} == expected)
    balanced(reconcile)
    # The same event again takes nothing more.
    [event] = [e for e in payments.events(type="charge.refunded")]
    payments.deliver(event["id"])
    assert sum(refund_rows(app, order["id"]).values()) == 1000

    payments.refund(intent, amount=500, deliver="sync")
    assert sum(refund_rows(app, order["id"]).values()) == 1500
    balanced(reconcile)

    # Refunding Anna's line afterwards takes back what was left of it; Ben's line now carries
    # all that the dashboard gave back.
    refunded = client.post(f"/api/v1/orders/{order['id']}/refund", json={"items": [_line(order, anna_beat)]},
                           headers=admin_headers)
    assert refunded.status_code == 202, refunded.json
    settle(lambda: order_of(order["id"], buyer_headers)["refunded"]["amount"] == 1500 + 2999)
    taken = refund_rows(app, order["id"])
    assert sum(amount for (line, _payee), amount in taken.items() if line == _line(order, anna_beat)) == 2999
    assert sum(amount for (line, _payee), amount in taken.items() if line == _line(order, ben_beat)) == 1500
    settle(lambda: balance(anna_headers) == (0, 0))
    balanced(reconcile)

    # And the rest: everything is taken back, to the cent.
    assert client.post(f"/api/v1/orders/{order['id']}/refund", headers=admin_headers).status_code == 202
    settle(lambda: order_of(order["id"], buyer_headers)["status"] == "refunded")
    assert refund_rows(app, order["id"]) == earned
    settle(lambda: all(t["amount_reversed"] == t["amount"]
                         for t in stripe_transfers(transfer_group=order["id"])))
    settle(lambda: balance(ben_headers) == (0, 0))
    balanced(reconcile)


def test_reconcile_reports_a_partial_refund_the_ledger_did_not_take_back(
        app, payments, beatmaker, new_buyer, buy, reconcile):
    from marketplace.checkout.models import Order

    _anna, _headers, beat, tiers = beatmaker("Anna")
    _buyer, buyer_headers = new_buyer()
    order = buy(buyer_headers, [(beat, tiers["Basic"]["id"])])
    with app.app_context():  # a refund the ledger never heard of
        db.session.get(Order, order["id"]).refunded_amount = 700
        db.session.commit()
    result = reconcile()
    assert result.exit_code == 1
    assert f"order {order['id']}: the ledger took back 0, the buyer was refunded 700" in result.output


def _line(order, beat_id):
    return next(item["id"] for item in order["items"] if item["beat_id"] == beat_id)
