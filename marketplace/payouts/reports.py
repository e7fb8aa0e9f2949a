"""What the dashboards show: a payee's balance, ledger, sales per beat and tier (and as CSV),
and the platform's fees per month. Everything is summed from the ledger."""

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
from marketplace.payouts import ledger, services
from marketplace.payouts.models import ConnectedAccount, LedgerEntry, LedgerKind, PayoutTransfer

SALES_COLUMNS = ("beat_id", "beat_title", "tier_name", "sales", "gross", "fees", "earnings", "refunded", "currency")
MONEY_COLUMNS = ("gross", "fees", "earnings", "refunded")
WHY_PENDING = {
    "not_connected": "Connect a Stripe account to be paid; your earnings are kept until you do.",
    "onboarding": "Finish Stripe's onboarding to be paid; your earnings are kept until you do.",
    "disconnected": "Your Stripe account is disconnected from the store; connect it again to be paid.",
}


# Stripe's reasons for holding an account, as its holder would say them (Stripe's code stays in
# `disabled_reason` for clients that branch on it).
WHY_DISABLED = {
    "requirements.past_due": "Stripe is waiting for details it asked for and the deadline has passed: "
                             "continue with Stripe to give them.",
    "requirements.pending_verification": "Stripe is checking the details you gave; nothing to do for now.",
    "action_required.requested_capabilities": "Stripe needs you to accept what the account will be used for: "
                                              "continue with Stripe.",
    "under_review": "Stripe is reviewing the account; it writes to you if it needs anything.",
    "listed": "Stripe is reviewing the account; it writes to you if it needs anything.",
    "platform_paused": "Payouts to this account are paused by the store; write to support.",
    "rejected.fraud": "Stripe closed the account. Write to support to be paid another way.",
    "rejected.terms_of_service": "Stripe closed the account. Write to support to be paid another way.",
    "rejected.listed": "Stripe closed the account. Write to support to be paid another way.",
    "rejected.other": "Stripe closed the account. Write to support to be paid another way.",
}
WHY_DISABLED_OTHERWISE = ("Stripe is holding payouts to this account: "
                          "continue with Stripe to see what it needs.")


def why_disabled(reason: str | None) -> str | None:
    return None if not reason else WHY_DISABLED.get(reason, WHY_DISABLED_OTHERWISE)


def money(amount: int) -> dict[str, Any]:
    return {"amount": int(amount), "currency": current_app.config["STORE_CURRENCY"]}


def account_document(account: ConnectedAccount | None) -> dict[str, Any]:
    return {"status": services.account_status(account),
            "stripe_account_id": account.stripe_account_id if account else None,
            "details_submitted": bool(account and account.details_submitted),
            "payouts_enabled": bool(account and account.payouts_enabled),
            "transfers_enabled": bool(account and account.transfers_enabled),
            "disabled_reason": account.disabled_reason if account else None,
            "why_disabled": why_disabled(account.disabled_reason if account else None),
            "connected_at": account.created_at if account else None}


def balance_document(user_id: str) -> dict[str, Any]:
    pending = ledger.pending_balance(user_id)
    status = services.account_status(services.account_of(user_id))
    return {"pending": money(pending), "paid": money(ledger.paid_balance(user_id)),
            "currency": current_app.config["STORE_CURRENCY"], "account_status": status,
            "why_pending": WHY_PENDING.get(status) if pending > 0 else None}


def ledger_page(user_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """The payee's rows, newest first (ids are time-ordered), `limit` at a time."""
    query = select(LedgerEntry).where(LedgerEntry.payee_id == user_id)
    if cursor:
        query = query.where(LedgerEntry.id < cursor)
    rows = list(db.session.scalars(query.order_by(LedgerEntry.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [{"id": row.id, "kind": row.kind, "amount": money(row.amount), "order_id": row.order_id,
                       "order_item_id": row.order_item_id, "provider_id": row.provider_id,
                       "created_at": row.created_at} for row in rows],
            "next_cursor": rows[-1].id if more else None}


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


def sales_document(user_id: str) -> list[dict[str, Any]]:
    return [{**row, **{key: money(row[key]) for key in ("gross", "fees", "earnings", "refunded")}}
            for row in sales_rows(user_id)]


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


def platform_fees() -> dict[str, Any]:
    """The platform's fees per month (of the sale), less the fees of refunded sales."""
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
    rows = [{"month": key, "lines": value["lines"], "fees": money(value["fees"]),
             "refunded": money(value["refunded"]), "net": money(value["fees"] - value["refunded"])}
            for key, value in sorted(months.items(), reverse=True)]
    return {"total": money(sum(value["fees"] - value["refunded"] for value in months.values())), "months": rows}


def transfer_document(attempt: PayoutTransfer) -> dict[str, Any]:
    return {"id": attempt.id, "payee_id": attempt.payee_id, "order_id": attempt.order_id,
            "amount": money(attempt.amount), "amount_reversed": money(attempt.amount_reversed),
            "status": attempt.status, "failure_code": attempt.failure_code,
            "failure_reason": services.failure_reason(attempt),
            "provider_transfer_id": attempt.provider_transfer_id, "destination": attempt.destination,
            "created_at": attempt.created_at, "paid_at": attempt.paid_at}


def transfers(status: str | None, limit: int) -> list[dict[str, Any]]:
    query = select(PayoutTransfer)
    if status:
        query = query.where(PayoutTransfer.status == status)
    return [transfer_document(attempt) for attempt in db.session.scalars(
        query.order_by(PayoutTransfer.created_at.desc(), PayoutTransfer.id.desc()).limit(limit))]
