"""The earnings ledger: written once per fact, never changed, and checked by reconcile."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from marketplace.checkout.models import Order
from marketplace.db import db
from marketplace.payouts import services
from marketplace.payouts.ledger import LedgerIsAppendOnly
from marketplace.payouts.models import LedgerEntry, LedgerKind
from tests.conftest import postgres_only


@pytest.fixture
def sold(shop, new_buyer, buy):
    _buyer, headers = new_buyer()
    return buy(headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])])


def count_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerEntry))


def test_a_sale_is_written_once_however_often_it_is_reported(app, sold):
    with app.app_context():
        assert count_rows() == 2  # the fee and the beatmaker's share
        order = db.session.get(Order, sold["id"])
        services.record_sale(order)
        services.hold_for_dispute(order)
        services.hold_for_dispute(order)
        db.session.commit()
        assert count_rows() == 4
        assert {row.kind for row in db.session.scalars(select(LedgerEntry))} == {
            LedgerKind.SALE, LedgerKind.PLATFORM_FEE, LedgerKind.DISPUTE_HOLD}


def test_ledger_rows_cannot_be_changed_or_deleted(app, sold):
    with app.app_context():
        entry = db.session.scalars(select(LedgerEntry)).first()
        entry.amount += 1
        with pytest.raises(LedgerIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.scalars(select(LedgerEntry)).first())
        with pytest.raises(LedgerIsAppendOnly):
            db.session.flush()
        db.session.rollback()


@postgres_only("the ledger's append-only trigger")
def test_postgresql_refuses_changes_to_the_ledger_whatever_the_client(app, sold):
    with app.app_context(), db.engine.connect() as connection:
        for statement in ("UPDATE ledger_entries SET amount = 0", "DELETE FROM ledger_entries"):
            with pytest.raises(DBAPIError, match="append-only"):
                connection.execute(text(statement))
            connection.rollback()


def test_reconcile_reports_a_line_whose_rows_do_not_add_up(app, sold, reconcile):
    with app.app_context():
        order = db.session.get(Order, sold["id"])
        db.session.add(LedgerEntry(payee_id=None, order_id=order.id, order_item_id=order.items[0].id,
                                   kind=LedgerKind.PLATFORM_FEE, amount=1, currency="usd", reference="stray"))
        db.session.commit()
    result = reconcile("--offline")
    assert result.exit_code == 1
    assert f"order {sold['id']} line {sold['items'][0]['id']}" in result.output
    assert "sale and fee rows add up to 3000, the line was sold for 2999" in result.output
    assert "1 differences" in result.output


def test_a_split_that_does_not_add_up_never_blocks_the_sale_and_reconcile_names_the_line(
        app, shop, new_buyer, buy, reconcile):
    from marketplace.catalog.models import BeatCredit
    from marketplace.collaborators.models import SplitVersion

    with app.app_context():  # past the credits API, which refuses this
        for credit in db.session.scalars(select(BeatCredit).where(BeatCredit.beat_id == shop["beat_id"])):
            credit.profit_share_bps = 9000
        for version in db.session.scalars(select(SplitVersion).where(SplitVersion.beat_id == shop["beat_id"])):
            version.entries = [{**entry, "profit_share_bps": 9000} for entry in version.entries]
        db.session.commit()
    _buyer, headers = new_buyer()
    order = buy(headers, [(shop["beat_id"], shop["tiers"]["Basic"]["id"])])
    assert len(order["licenses"]) == 1
    with app.app_context():
        assert count_rows() == 0
    result = reconcile("--offline")
    assert result.exit_code == 1
    assert f"line {order['items'][0]['id']}: sale and fee rows add up to 0, the line was sold for 2999" in result.output
