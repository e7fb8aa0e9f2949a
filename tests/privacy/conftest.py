"""Fixtures for closing accounts and exporting data: those of payouts (beatmakers with beats
on sale, buying through the Stripe sandbox, connected accounts)."""

from __future__ import annotations

from tests.payouts.conftest import (  # noqa: F401
    admin_headers,
    balance,
    beatmaker,
    buy,
    buyer,
    checkout,
    connect,
    credit,
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
