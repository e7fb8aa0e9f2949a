"""What the dashboards sum from the ledger: a payee's sales per beat and tier (also as a CSV
file), and the platform's fees per month. Their answers are built in documents.py."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select

from marketplace.checkout.models import OrderItem
from marketplace.common.money import decimal_amount
from marketplace.db import db
from marketplace.payouts.models import LedgerEntry, LedgerKind

SALES_COLUMNS = ("beat_id", "beat_title", "tier_name", "sales", "gross", "fees", "earnings", "refunded", "currency")
MONEY_COLUMNS = ("gross", "fees", "earnings", "refunded")


def sales_rows(user_id: str) -> list[dict[str, Any]]:
    """Per beat and tier: the lines the payee earned from, what they sold for, the platform's
    fees on them, the payee's share and what of it was refunded."""
    mine = list(db.session.execute(
        select(LedgerEntry.kind, LedgerEntry.amount, OrderItem.id, OrderItem.beat_id, OrderItem.beat_title,
               OrderItem.tier_name, OrderItem.price_amount)
        .join(OrderItem, OrderItem.id == LedgerEntry.order_item_id)
        .where(LedgerEntry.payee_id == user_id, LedgerEntry.kind.in_((LedgerKind.SALE, LedgerKind.REFUND)))))
    items = {row.id for row in mine if row.kind == LedgerKind.SALE}
    fees = {item_id: amount for item_id, amount in db.session.execute(
        select(LedgerEntry.order_item_id, LedgerEntry.amount).where(
            LedgerEntry.order_item_id.in_(items), LedgerEntry.kind == LedgerKind.PLATFORM_FEE))} if items else {}
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for row in mine:
        group = groups.setdefault((row.beat_id, row.tier_name), {
            "beat_id": row.beat_id, "beat_title": row.beat_title, "tier_name": row.tier_name, "sales": 0,
            "gross": 0, "fees": 0, "earnings": 0, "refunded": 0})
        if row.kind == LedgerKind.SALE:
            group["sales"] += 1
            group["gross"] += row.price_amount
            group["fees"] += fees.get(row.id, 0)
            group["earnings"] += row.amount
        else:
            group["refunded"] -= row.amount
    return sorted(groups.values(), key=lambda group: (group["beat_title"].casefold(), group["tier_name"]))


def sales_csv(user_id: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(SALES_COLUMNS)
    currency = current_app.config["STORE_CURRENCY"]
    for row in sales_rows(user_id):
        # Amounts in the currency's major units with its own decimals (29.99 USD, 3000 JPY).
        amounts = {key: Decimal(decimal_amount(row[key], currency)) for key in MONEY_COLUMNS}
        writer.writerow([_cell({**row, **amounts}.get(column, currency)) for column in SALES_COLUMNS])
    return buffer.getvalue()


def _cell(value: Any) -> str:
    """Titles are typed by people: one a spreadsheet would run as a formula gets an apostrophe."""
    text = str(value)
    return f"'{text}" if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def fees_by_month() -> dict[str, dict[str, int]]:
    """The platform's fees per month (of the sale), with the fees of refunded sales, newest first."""
    months: dict[str, dict[str, int]] = {}
    for kind, amount, created_at in db.session.execute(
            select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.created_at)
            .where(LedgerEntry.payee_id.is_(None), LedgerEntry.credit_invitation_id.is_(None))):  # held: no fee
        month = months.setdefault(created_at.strftime("%Y-%m"), {"lines": 0, "fees": 0, "refunded": 0})
        if kind == LedgerKind.PLATFORM_FEE:
            month["lines"] += 1
            month["fees"] += amount
        elif kind == LedgerKind.REFUND:
            month["refunded"] -= amount
    return dict(sorted(months.items(), reverse=True))
