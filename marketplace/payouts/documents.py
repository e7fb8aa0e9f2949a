"""The JSON documents of payout answers (the schemas in schemas.py describe them): a payee's
Stripe account, balance, ledger and sales, the platform's fees, and transfers."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from marketplace.common.money import money_document
from marketplace.common.pagination import page_by_id
from marketplace.db import db
from marketplace.payouts import earnings, ledger, services
from marketplace.payouts.models import ConnectedAccount, LedgerEntry, PayoutTransfer

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
    """Payouts are in the store's currency."""
    return money_document(amount, current_app.config["STORE_CURRENCY"])


def connected_account_document(account: ConnectedAccount | None) -> dict[str, Any]:
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


def ledger_page_document(user_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """The payee's rows, newest first (ids are time-ordered), `limit` at a time."""
    page = page_by_id(db.session, select(LedgerEntry).where(LedgerEntry.payee_id == user_id), LedgerEntry.id,
                      cursor, limit, newest_first=True)
    return page.as_document(lambda rows: [
        {"id": row.id, "kind": row.kind, "amount": money(row.amount), "order_id": row.order_id,
         "order_item_id": row.order_item_id, "provider_id": row.provider_id, "created_at": row.created_at}
        for row in rows])


def sales_document(user_id: str) -> list[dict[str, Any]]:
    return [{**row, **{key: money(row[key]) for key in earnings.MONEY_COLUMNS}}
            for row in earnings.sales_rows(user_id)]


def platform_fees_document() -> dict[str, Any]:
    """The platform's fees per month (of the sale), less the fees of refunded sales."""
    months = earnings.fees_by_month()
    rows = [{"month": key, "lines": value["lines"], "fees": money(value["fees"]),
             "refunded": money(value["refunded"]), "net": money(value["fees"] - value["refunded"])}
            for key, value in months.items()]
    return {"total": money(sum(value["fees"] - value["refunded"] for value in months.values())), "months": rows}


def transfer_document(attempt: PayoutTransfer) -> dict[str, Any]:
    return {"id": attempt.id, "payee_id": attempt.payee_id, "order_id": attempt.order_id,
            "amount": money(attempt.amount), "amount_reversed": money(attempt.amount_reversed),
            "status": attempt.status, "failure_code": attempt.failure_code,
            "failure_reason": services.failure_reason(attempt),
            "provider_transfer_id": attempt.provider_transfer_id, "destination": attempt.destination,
            "created_at": attempt.created_at, "paid_at": attempt.paid_at}


def transfer_documents(status: str | None, limit: int) -> list[dict[str, Any]]:
    query = select(PayoutTransfer)
    if status:
        query = query.where(PayoutTransfer.status == status)
    return [transfer_document(attempt) for attempt in db.session.scalars(
        query.order_by(PayoutTransfer.created_at.desc(), PayoutTransfer.id.desc()).limit(limit))]
