from __future__ import annotations

import marshmallow as ma
from flask import Response

from marketplace.accounts.auth import auth_required, current_user
from marketplace.accounts.models import Role
from marketplace.api import Blueprint, document_errors
from marketplace.common.links import request_base_url
from marketplace.db import db
from marketplace.payouts import documents, earnings, services
from marketplace.payouts.schemas import (
    ConnectInSchema,
    FeeArgs,
    LedgerArgs,
    LedgerPageSchema,
    OnboardingSchema,
    PayoutAccountSchema,
    PayoutBalanceSchema,
    PayoutTransferArgs,
    PayoutTransferSchema,
    PlatformFeeSchema,
    PlatformFeesSchema,
    SalesRowSchema,
)

blp = Blueprint("payouts", __name__, url_prefix="/payouts",
                description="Payouts: the platform fee, your Stripe account, balance, ledger and sales")
admin_blp = Blueprint("payouts_admin", __name__, url_prefix="/admin/payouts",
                      description="Payouts for admins: platform fees and transfers")


@blp.get("/fee")
@blp.arguments(FeeArgs, location="query", unknown=ma.RAISE)
@blp.response(200, PlatformFeeSchema)
def fee(args):
    """The platform's fee on each sold line, and (with `price`) what it leaves of that price."""
    bps, fixed = services.fee_settings()
    example = None
    if args["price"] is not None:
        charged = services.fee_for(args["price"])
        example = {"price": documents.money(args["price"]), "fee": documents.money(charged),
                   "net": documents.money(args["price"] - charged)}
    return {"percent_bps": bps, "fixed": documents.money(fixed), "example": example,
            "rule": "per line: the price times percent_bps / 10000 rounded half up, plus fixed, "
                    "at most the price; the rest is split among the beat's credits by profit share"}


@blp.post("/account")
@auth_required()
@blp.arguments(ConnectInSchema)
@blp.response(201, OnboardingSchema)
@document_errors(409, 502, 503)
def connect_account(body):
    """Create your Stripe Express account if you have none, and get a fresh link to its
    onboarding (it works once and expires within minutes: ask again for a new one)."""
    base = request_base_url()
    account, link = services.connect(current_user(), body["country"], refresh_url=f"{base}/payouts?onboarding=refresh",
                                     return_url=f"{base}/payouts?onboarding=done")
    db.session.commit()
    return {"url": link.url, "expires_at": link.expires_at, "account": documents.connected_account_document(account)}


@blp.get("/account")
@auth_required()
@blp.response(200, PayoutAccountSchema)
def get_account():
    """Your Stripe account as Stripe last reported it."""
    user = current_user()
    return {**documents.connected_account_document(services.account_of(user.id)),
            "may_connect": services.may_be_paid(user)}


@blp.get("/balance")
@auth_required()
@blp.response(200, PayoutBalanceSchema)
def balance():
    """What you were paid, and what you earned that is not sent yet (and why, if it waits)."""
    return documents.balance_document(current_user().id)


@blp.get("/ledger")
@auth_required()
@blp.arguments(LedgerArgs, location="query", unknown=ma.RAISE)
@blp.response(200, LedgerPageSchema)
def ledger(args):
    """Your earnings ledger, newest first."""
    return documents.ledger_page_document(current_user().id, args["limit"], args.get("cursor"))


@blp.get("/sales")
@auth_required()
@blp.response(200, SalesRowSchema(many=True))
def sales():
    """Your sales per beat and tier: lines sold, gross, platform fees, your earnings."""
    return documents.sales_document(current_user().id)


@blp.get("/sales.csv")
@auth_required()
@blp.response(200, description="Your sales per beat and tier as CSV (text/csv), amounts in minor units")
def sales_csv():
    """Your sales per beat and tier as CSV."""
    return Response(earnings.sales_csv(current_user().id), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="sales.csv"'})


@admin_blp.get("/fees")
@auth_required(Role.ADMIN)
@admin_blp.response(200, PlatformFeesSchema)
def platform_fees():
    """The platform's fees, per month, less those of refunded sales."""
    return documents.platform_fees_document()


@admin_blp.get("/transfers")
@auth_required(Role.ADMIN)
@admin_blp.arguments(PayoutTransferArgs, location="query", unknown=ma.RAISE)
@admin_blp.response(200, PayoutTransferSchema(many=True))
def transfers(args):
    """Transfer attempts, newest first; `status=failed` lists those Stripe refused."""
    return documents.transfer_documents(args["status"], args["limit"])


@admin_blp.post("/transfers/<transfer_id>/retry")
@auth_required(Role.ADMIN)
@admin_blp.response(202, PayoutTransferSchema)
@document_errors(404, 409)
def retry_transfer(transfer_id):
    """Ask again for the money of a failed transfer: a job makes a new attempt."""
    attempt = services.retry(transfer_id)
    db.session.commit()
    return documents.transfer_document(attempt)
