"""Fixtures for the charts: payouts' (beatmakers with beats under every tier, buying and paying
through the Stripe sandbox), and a way to move a paid order's ledger rows to an earlier day."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from marketplace.db import db
from tests.payouts.conftest import beatmaker, buy  # noqa: F401
from tests.checkout.conftest import (  # noqa: F401
    admin_headers,
    buyer,
    checkout,
    masters,
    new_buyer,
    offer_all,
    order_of,
    outbox,
    payments,
    seller,
    session_of,
    shop,
    tiers_of,
    upload_beat,
)


APPEND_ONLY = "ledger_entries_append_only"  # the ledger's trigger on PostgreSQL


@pytest.fixture
def backdate(app):
    """Moves every ledger row of an order `days` earlier, as if it had been paid then. The ledger
    refuses changes (on PostgreSQL by trigger), so the trigger is set aside for this one
    statement of the test's own making; the app never changes a ledger row."""

    def move(order_id: str, days: int) -> None:
        with app.app_context():
            connection = db.session.connection()
            postgres = connection.dialect.name == "postgresql"
            if postgres:
                connection.execute(text(f"ALTER TABLE ledger_entries DISABLE TRIGGER {APPEND_ONLY}"))
            of_order = text("SELECT id, created_at FROM ledger_entries WHERE order_id = :order")
            rows = connection.execute(of_order, {"order": order_id}).all()
            for row_id, created_at in rows:
                moved = _as_datetime(created_at) - dt.timedelta(days=days)
                connection.execute(text("UPDATE ledger_entries SET created_at = :moved WHERE id = :id"),
                                   {"moved": moved if postgres else moved.replace(tzinfo=None), "id": row_id})
            if postgres:
                connection.execute(text(f"ALTER TABLE ledger_entries ENABLE TRIGGER {APPEND_ONLY}"))
            db.session.commit()

    return move


def _as_datetime(value) -> dt.datetime:
    """A timestamp as the driver answers it (SQLite: text of naive UTC), made aware UTC."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
