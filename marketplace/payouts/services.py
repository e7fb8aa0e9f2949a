"""Payout rules: connecting accounts, what each sale earns whom, and paying it out.

Services flush, never commit; the edges (a request, a webhook, a job) own the transaction.
A transfer attempt is committed as pending before Stripe is asked, and Stripe is asked with
the attempt's own idempotency key, so a crash or a timeout in between is settled by sending
the same attempt again: Stripe makes one transfer whatever happens.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import and_, case, func, select, update
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import User
from marketplace.accounts.verification import require_verified
from marketplace.catalog.models import BeatCredit
from marketplace.checkout.models import ItemStatus, Order, OrderItem
from marketplace.checkout.port import PaymentProviderError
from marketplace.collaborators.models import CreditInvitation, InvitationStatus
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.common.errors import Conflict, NotFound
from marketplace.jobs.queue import enqueue
from marketplace.licensing.models import License
from marketplace.payouts import held, ledger
from marketplace.payouts.models import (
    ConnectedAccount,
    LedgerEntry,
    LedgerKind,
    PayoutTransfer,
    TransferStatus,
)
from marketplace.payouts.port import AccountState, OnboardingLink, payout_port
from marketplace.payouts.splits import SplitInvalid, held_invitation, held_payee, payee_shares, platform_fee, split

log = logging.getLogger("marketplace.payouts")

PLATFORM = "platform"  # how references name the platform, which has no payee id
EARNING_KINDS = (LedgerKind.SALE, LedgerKind.PLATFORM_FEE)
# Stripe's answer when the charge named as source_transaction cannot fund a transfer (it was
# disputed, refunded, or has funded as much already): the platform's balance pays instead.
CHARGE_CANNOT_FUND = frozenset({"balance_insufficient"})
# A payee whose last transfer was refused is tried again by the sweep after this long, even
# when nothing about their account changed: nobody's money stays owed for good.
REFUSED_RETRY_AFTER = dt.timedelta(hours=6)
# What a refusal means, for the admin looking at failed transfers.
FAILURE_REASONS = {
    "balance_insufficient": "The charge named to fund it could not fund it (disputed, refunded, or used up), "
                            "or the platform's balance was too low.",
    "insufficient_capabilities_for_transfer": "The payee's Stripe account cannot receive transfers: it was "
                                              "disconnected or is missing information Stripe asks for.",
    "account_invalid": "The payee's Stripe account is no longer connected to the platform.",
}


class NothingToPayOut(Conflict):
    code = "nothing_to_pay_out"
    message = ("Payouts are for people who sell beats or are credited on one. To sell your own beats, "
               "choose 'Start selling beats' on your account page.")


# -- the fee ----------------------------------------------------------------------------

def fee_settings() -> tuple[int, int]:
    return current_app.config["PLATFORM_FEE_BPS"], current_app.config["PLATFORM_FEE_FIXED"]


def fee_for(price: int) -> int:
    return platform_fee(price, *fee_settings())


# -- connected accounts -------------------------------------------------------------------

def account_of(user_id: str) -> ConnectedAccount | None:
    return db.session.get(ConnectedAccount, user_id)


def connect(user: User, country: str, refresh_url: str, return_url: str) -> tuple[ConnectedAccount, OnboardingLink]:
    """The user's Express account (created on first use) and a fresh link to its onboarding."""
    require_verified(user, "set up payouts")
    if not may_be_paid(user):
        raise NothingToPayOut()
    account = account_of(user.id)
    if account is None:
        state = payout_port().create_express_account(user.email, user.id, country)
        try:
            with db.session.begin_nested():
                account = ConnectedAccount(user_id=user.id, stripe_account_id=state.id)
                _apply(account, state)
                db.session.add(account)
        except IntegrityError:  # a concurrent request saved it first (same idempotency key, same account)
            account = account_of(user.id)
    link = payout_port().create_onboarding_link(account.stripe_account_id, refresh_url, return_url)
    return account, link


def may_be_paid(user: User) -> bool:
    credited = db.session.scalar(select(BeatCredit.id).where(BeatCredit.user_id == user.id).limit(1))
    earned = db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.payee_id == user.id).limit(1))
    return credited is not None or earned is not None


def _apply(account: ConnectedAccount, state: AccountState) -> None:
    account.details_submitted = state.details_submitted
    account.payouts_enabled = state.payouts_enabled
    account.transfers_enabled = state.transfers_enabled
    account.disabled_reason = state.disabled_reason


def refresh_account(stripe_account_id: str) -> ConnectedAccount | None:
    """Read the account again from Stripe (an `account.updated` event is only a hint). When it
    can be paid, whatever its owner is owed is sent by a job."""
    account = db.session.scalar(select(ConnectedAccount).where(
        ConnectedAccount.stripe_account_id == stripe_account_id).with_for_update())
    if account is None:
        return None
    try:
        _apply(account, payout_port().retrieve_account(stripe_account_id))
    except PaymentProviderError:
        # Stripe no longer lets the platform read it: the account left the platform.
        account.transfers_enabled = account.payouts_enabled = False
        account.deauthorized_at = account.deauthorized_at or utcnow()
        db.session.flush()
        return account
    if account.details_submitted and not account.transfers_enabled and account.deauthorized_at is None \
            and account.disabled_reason is None:
        # Onboarded, then cut off without anything owed to Stripe: disconnected from the platform.
        account.deauthorized_at = utcnow()
    elif account.transfers_enabled:
        account.deauthorized_at = None
    account.updated_at = utcnow()
    db.session.flush()
    if account.payable and ledger.pending_balance(account.user_id) > 0:
        enqueue("payouts.pay_payee", account.user_id)
    return account


def account_status(account: ConnectedAccount | None) -> str:
    """not_connected, onboarding, disconnected, restricted (paid, but Stripe holds payouts
    until it gets what it asks for) or enabled."""
    if account is None:
        return "not_connected"
    if account.deauthorized_at is not None:
        return "disconnected"
    if not account.details_submitted:
        return "onboarding"
    if not account.transfers_enabled:
        return "disconnected"
    return "enabled" if account.payouts_enabled else "restricted"


# -- what a sale earns ----------------------------------------------------------------------

def record_sale(order: Order) -> None:
    """Ledger rows for each licensed line of a paid order (the platform's fee and one sale row
    per payee), then a job pays whoever can be paid. Writing twice writes once."""
    rows = []
    for item in order.items:
        if item.status != ItemStatus.LICENSED or not item.license_id:
            continue
        license_ = db.session.get(License, item.license_id)
        try:
            rows += _earnings(order, item, license_)
        except SplitInvalid as problem:
            # Never blocks the sale: the line is left unsplit, and reconcile reports it.
            log.error("split_invalid", extra={"order_id": order.id, "item_id": item.id, "error": str(problem)})
    written = ledger.write(rows)
    if written:
        enqueue("payouts.pay_order", order.id)
        for user_id in _told_of_sale(order, written):
            enqueue("payouts.notify_sale", order.id, user_id, key=f"sale-notice:{order.id}:{user_id}")


def _told_of_sale(order: Order, written: list[LedgerEntry]) -> list[str]:
    """Who hears of a sale: the seller of each line newly recorded, and each payee of a share."""
    items = {row.order_item_id for row in written}
    people = [item.seller_id for item in order.items if item.id in items]
    people += [row.payee_id for row in written if row.kind == LedgerKind.SALE and row.payee_id]
    return list(dict.fromkeys(people))


def sale_shares(order: Order, user_id: str) -> list[tuple[OrderItem, int]]:
    """The licensed lines of the order that the user sold or shares in, each with their share."""
    shares: dict[str, int] = {}
    for row in ledger.rows_of_order(order.id, [LedgerKind.SALE]):
        if row.payee_id == user_id:
            shares[row.order_item_id] = shares.get(row.order_item_id, 0) + row.amount
    return [(item, shares.get(item.id, 0)) for item in order.items
            if item.status == ItemStatus.LICENSED and (item.id in shares or item.seller_id == user_id)]


def _earnings(order: Order, item: OrderItem, license_: License) -> list[dict]:
    fee = fee_for(item.price_amount)
    parts = split(item.price_amount - fee, payee_shares(license_.credits, item.seller_id, _payee_now))
    base = {"order_id": order.id, "order_item_id": item.id, "currency": order.currency}
    rows = [{**base, "payee_id": None, "kind": LedgerKind.PLATFORM_FEE, "amount": fee,
             "reference": f"fee:{item.id}"}]
    for payee, amount in parts:
        invitation_id = held_invitation(payee)
        if invitation_id is not None:
            rows.append({**base, "payee_id": None, "kind": LedgerKind.HELD, "amount": amount,
                         "credit_invitation_id": invitation_id, "reference": f"held:{item.id}:{invitation_id}"})
        else:
            rows.append({**base, "payee_id": payee, "kind": LedgerKind.SALE, "amount": amount,
                         "reference": f"sale:{item.id}:{payee}"})
    return rows


def _payee_now(credit: dict) -> str | None:
    """Who a frozen credit pays when the sale is recorded: a credit by invitation pays the
    account that accepted it, is held while the invitation is pending, and goes to the owner
    once it was declined, expired or cancelled; any other credit pays its account (the owner's
    own, or one that consented before), a name only the owner."""
    invitation_id = credit.get("invitation_id")
    if not invitation_id:
        return credit.get("user_id")
    invitation = db.session.get(CreditInvitation, invitation_id)
    if invitation is None:
        return None
    if invitation.status == InvitationStatus.ACCEPTED:
        return invitation.accepted_by_id
    if invitation.status == InvitationStatus.PENDING:
        return held_payee(invitation.id)
    return None


def _reference(kind: str, row: LedgerEntry) -> str:
    return f"{kind}:{row.order_item_id}:{row.payee_id or PLATFORM}"


def _outstanding(order_id: str) -> dict[tuple[str | None, str | None], int]:
    """What each earning of the order (a line's fee or a payee's share) still stands at: earned,
    less what refunds took back of it."""
    rows = db.session.execute(select(LedgerEntry.order_item_id, LedgerEntry.payee_id,
                                     func.sum(LedgerEntry.amount))
                              .where(LedgerEntry.order_id == order_id,
                                     LedgerEntry.kind.in_([*EARNING_KINDS, LedgerKind.REFUND]),
                                     ~and_(*held.HELD_ROWS))  # held money is taken back apart
                              .group_by(LedgerEntry.order_item_id, LedgerEntry.payee_id))
    return {(item_id, payee_id): int(amount) for item_id, payee_id, amount in rows}


def _give_back(order: Order, item_ids: set[str] | None = None) -> None:
    """Take back what stands of the earnings of these lines (all of them: None), ending any
    dispute hold on them; a job reverses what transfers already sent."""
    existing = {row.reference for row in ledger.rows_of_order(order.id)}
    outstanding = _outstanding(order.id)
    rows = []
    for earned in ledger.rows_of_order(order.id, EARNING_KINDS):
        if item_ids is not None and earned.order_item_id not in item_ids:
            continue
        base = {"order_id": order.id, "order_item_id": earned.order_item_id, "payee_id": earned.payee_id,
                "currency": earned.currency}
        hold = _row(order.id, _reference(LedgerKind.DISPUTE_HOLD, earned))
        if hold is not None and _reference(LedgerKind.DISPUTE_RELEASE, earned) not in existing:
            rows.append({**base, "kind": LedgerKind.DISPUTE_RELEASE, "amount": -hold.amount,
                         "reference": _reference(LedgerKind.DISPUTE_RELEASE, earned)})
        rows.append({**base, "kind": LedgerKind.REFUND,
                     "amount": -outstanding.get((earned.order_item_id, earned.payee_id), 0),
                     "reference": _reference(LedgerKind.REFUND, earned)})
    rows += held.refund_rows(order.id, item_ids)
    ledger.write(rows)
    if any(row.kind == LedgerKind.TRANSFER for row in ledger.rows_of_order(order.id)):
        enqueue("payouts.reverse_order", order.id)


def _row(order_id: str, reference: str) -> LedgerEntry | None:
    return db.session.scalar(select(LedgerEntry).where(LedgerEntry.order_id == order_id,
                                                       LedgerEntry.reference == reference))


def record_refund(order: Order) -> None:
    """The order's money went back to the buyer (a refund, a lost dispute): what stands of every
    share and fee is taken back, any dispute hold ends, and a job reverses the transfers made."""
    _give_back(order)


def record_refunded_lines(order: Order) -> None:
    """Lines of the order were refunded (their licenses revoked): only their fee and shares are
    taken back; the other lines' stand."""
    _give_back(order, {item.id for item in order.items
                       if item.status == ItemStatus.REFUNDED and item.license_id})


def record_partial_refund(order: Order) -> None:
    """Part of the payment was refunded outside checkout (Stripe's dashboard). The lines keep
    their licenses; the platform's fee and every share of the lines still licensed are taken
    back in proportion to what they earned, to the cent (largest remainders). What refunded
    lines explain (checkout's own line refunds) is not counted again."""
    licensed = {item.id for item in order.items if item.status == ItemStatus.LICENSED and item.license_id}
    explained = sum(item.price_amount for item in order.items if item.status == ItemStatus.REFUNDED)
    # One earning per line and payee (a share released from a hold is a second sale row of it).
    earned_by_key: dict[tuple[str | None, str | None], LedgerEntry] = {}
    earned_amounts: dict[tuple[str | None, str | None], int] = {}
    for row in ledger.rows_of_order(order.id, EARNING_KINDS):
        if row.order_item_id in licensed:
            earned_by_key.setdefault((row.order_item_id, row.payee_id), row)
            earned_amounts[(row.order_item_id, row.payee_id)] = \
                earned_amounts.get((row.order_item_id, row.payee_id), 0) + row.amount
    earned = list(earned_by_key.values())
    outstanding = _outstanding(order.id)
    standing = [outstanding.get((row.order_item_id, row.payee_id), 0) for row in earned]
    given = min(order.refunded_amount - explained, sum(earned_amounts.values()))
    taken = sum(earned_amounts.values()) - sum(standing)  # by earlier partial refunds
    due = min(given - taken, sum(standing))
    if due <= 0:
        return
    # The reference names the state it was computed from: the same event handled twice writes once.
    ledger.write({"order_id": order.id, "order_item_id": row.order_item_id, "payee_id": row.payee_id,
                  "currency": row.currency, "kind": LedgerKind.REFUND, "amount": -part,
                  "reference": f"partial:{row.order_item_id}:{row.payee_id or PLATFORM}:{given}:{taken}"}
                 for row, part in zip(earned, _in_proportion(due, standing)))
    if any(row.kind == LedgerKind.TRANSFER for row in ledger.rows_of_order(order.id)):
        enqueue("payouts.reverse_order", order.id)


def _in_proportion(amount: int, weights: list[int]) -> list[int]:
    """`amount` shared in proportion to `weights`, to the cent: floors, then the cents left over
    to the largest remainders (the first on a tie)."""
    total = sum(weights)
    if total <= 0:
        return [0] * len(weights)
    parts = [amount * weight // total for weight in weights]
    remainders = [amount * weight % total for weight in weights]
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:amount - sum(parts)]:
        parts[index] += 1
    return parts


def hold_for_dispute(order: Order) -> None:
    """A dispute opened: what stands of the order's shares is held (not paid out) until it closes."""
    outstanding = _outstanding(order.id)
    rows = []
    for earned in ledger.rows_of_order(order.id, EARNING_KINDS):
        rows.append({"order_id": order.id, "order_item_id": earned.order_item_id, "payee_id": earned.payee_id,
                     "currency": earned.currency, "kind": LedgerKind.DISPUTE_HOLD,
                     "amount": -outstanding.get((earned.order_item_id, earned.payee_id), 0),
                     "reference": _reference(LedgerKind.DISPUTE_HOLD, earned)})
    ledger.write(rows)


def release_dispute(order: Order) -> None:
    """The dispute was won: the held shares are owed again, and paid."""
    rows = []
    for earned in ledger.rows_of_order(order.id, EARNING_KINDS):
        hold = _row(order.id, _reference(LedgerKind.DISPUTE_HOLD, earned))
        if hold is None:
            continue
        rows.append({"order_id": order.id, "order_item_id": earned.order_item_id, "payee_id": earned.payee_id,
                     "currency": earned.currency, "kind": LedgerKind.DISPUTE_RELEASE, "amount": -hold.amount,
                     "reference": _reference(LedgerKind.DISPUTE_RELEASE, earned)})
    if ledger.write(rows):
        enqueue("payouts.pay_order", order.id)


# -- paying ---------------------------------------------------------------------------------

def payees_of(order_id: str) -> list[str]:
    return list(db.session.scalars(select(LedgerEntry.payee_id).where(
        LedgerEntry.order_id == order_id, LedgerEntry.payee_id.is_not(None)).group_by(LedgerEntry.payee_id)
        .order_by(LedgerEntry.payee_id)))


def locked_account(user_id: str) -> ConnectedAccount | None:
    """The payee's account row, locked: one payee's transfers are planned one at a time (a
    no-op UPDATE takes SQLite's write lock; PostgreSQL locks the row)."""
    db.session.execute(update(ConnectedAccount).where(ConnectedAccount.user_id == user_id)
                       .values(user_id=ConnectedAccount.user_id).execution_options(synchronize_session=False))
    return db.session.get(ConnectedAccount, user_id, with_for_update=True, populate_existing=True)


def plan_transfer(payee_id: str, order_id: str | None = None,
                  source_transaction: str | None = None) -> PayoutTransfer | None:
    """A pending attempt for what the payee is owed: for one order (its earnings, funded by its
    charge) or, without an order, their whole balance. A negative amount owed on other orders
    (a refund after they were paid) is taken off. None when nothing can or need be sent."""
    account = locked_account(payee_id)
    if account is None or not account.payable:
        return None
    owed = ledger.owed_by_order(payee_id)
    for attempt in db.session.scalars(select(PayoutTransfer).where(
            PayoutTransfer.payee_id == payee_id, PayoutTransfer.status == TransferStatus.PENDING)):
        for part in attempt.allocation:
            owed[part["order_id"]] = owed.get(part["order_id"], 0) - part["amount"]
    if order_id is not None:
        if owed.get(order_id, 0) <= 0:
            return None
        owed = {key: amount for key, amount in owed.items() if key == order_id or amount < 0}
    allocation = [{"order_id": key, "amount": amount} for key, amount in sorted(owed.items()) if amount]
    total = sum(part["amount"] for part in allocation)
    if total <= 0:
        return None
    attempt = PayoutTransfer(
        payee_id=payee_id, order_id=order_id, destination=account.stripe_account_id, amount=total,
        currency=current_app.config["STORE_CURRENCY"], allocation=allocation,
        transfer_group=order_id or f"payee-{payee_id}", source_transaction=source_transaction)
    db.session.add(attempt)
    db.session.flush()
    return attempt


def send(attempt: PayoutTransfer) -> None:
    """Ask Stripe for the attempt's transfer (again, with the same key, when it is resent).
    Refused: the attempt fails with Stripe's code and the money stays owed. Unavailable: the
    error goes up and the attempt stays pending for the sweep."""
    if attempt.status != TransferStatus.PENDING:
        return
    try:
        made = payout_port().create_transfer(
            attempt.amount, attempt.currency, attempt.destination, attempt.transfer_group,
            attempt.source_transaction, attempt.idempotency_key,
            metadata={"payout_transfer_id": attempt.id, "payee_id": attempt.payee_id})
    except PaymentProviderError as refused:
        attempt.status = TransferStatus.FAILED
        attempt.failure_code = (refused.details.get("provider_code") or refused.code)[:100]
        log.error("payout_refused", extra={"transfer_id": attempt.id, "payee_id": attempt.payee_id,
                                           "code": attempt.failure_code})
        db.session.flush()
        return
    attempt.status, attempt.provider_transfer_id, attempt.paid_at = TransferStatus.PAID, made.id, utcnow()
    enqueue("payouts.notify_payout_sent", attempt.id, key=f"payout-sent:{attempt.id}")
    ledger.write({"payee_id": attempt.payee_id, "order_id": part["order_id"], "kind": LedgerKind.TRANSFER,
                  "amount": -part["amount"], "currency": attempt.currency, "transfer_id": attempt.id,
                  "provider_id": made.id, "reference": f"transfer:{attempt.id}:{part['order_id']}"}
                 for part in attempt.allocation)
    # An order refunded while its money was on its way: take it back.
    for order_id in _refunded_orders(part["order_id"] for part in attempt.allocation):
        enqueue("payouts.reverse_order", order_id)
    db.session.flush()


def _refunded_orders(order_ids: Iterable[str]) -> list[str]:
    return list(db.session.scalars(select(LedgerEntry.order_id).where(
        LedgerEntry.order_id.in_(list(order_ids)), LedgerEntry.kind == LedgerKind.REFUND).distinct()))


# What a payee stands at on an order once refunds and transfers are counted, dispute holds apart.
SETTLEMENT_KINDS = (*EARNING_KINDS, LedgerKind.REFUND, *ledger.PAID_KINDS)


def reversals_due(order_id: str) -> list[tuple[PayoutTransfer, int]]:
    """(transfer, amount) to take back for a refund of (part of) an order: each payee was sent
    more of this order than refunds left them, by that much, taken from the transfers that
    sent it (oldest first), never more than each one still has of this order."""
    if not _refunded_orders([order_id]):
        return []
    over_paid = db.session.execute(select(LedgerEntry.payee_id, func.sum(LedgerEntry.amount)).where(
        LedgerEntry.order_id == order_id, LedgerEntry.payee_id.is_not(None),
        LedgerEntry.kind.in_(SETTLEMENT_KINDS)).group_by(LedgerEntry.payee_id).order_by(LedgerEntry.payee_id))
    due = []
    for payee_id, balance in over_paid:
        owed_back = -int(balance)
        sent = db.session.execute(
            select(LedgerEntry.transfer_id, func.sum(LedgerEntry.amount))
            .where(LedgerEntry.order_id == order_id, LedgerEntry.payee_id == payee_id,
                   LedgerEntry.transfer_id.is_not(None), LedgerEntry.kind.in_(ledger.PAID_KINDS))
            .group_by(LedgerEntry.transfer_id).order_by(LedgerEntry.transfer_id))
        for transfer_id, total in sent:
            amount = min(owed_back, -int(total))
            if amount > 0:
                due.append((db.session.get(PayoutTransfer, transfer_id), amount))
                owed_back -= amount
    return due


def reverse(attempt: PayoutTransfer, order_id: str, amount: int) -> bool:
    """Take `amount` of this order's earnings back from a paid transfer; False when Stripe refused
    (logged; the sweep asks again). The key names the transfer, the order and how much of it will
    have been reversed: asking twice reverses once, a later line refund reverses again."""
    reversed_before = db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.transfer_id == attempt.id, LedgerEntry.order_id == order_id,
        LedgerEntry.kind == LedgerKind.TRANSFER_REVERSAL)) or 0
    total = reversed_before + amount
    try:
        reversal_id = payout_port().reverse_transfer(
            attempt.provider_transfer_id, amount, idempotency_key=f"reversal-{attempt.id}-{order_id}-{total}",
            metadata={"order_id": order_id, "payout_transfer_id": attempt.id})
    except PaymentProviderError as refused:
        log.error("payout_reversal_refused", extra={"transfer_id": attempt.id, "order_id": order_id,
                                                    "code": refused.details.get("provider_code") or refused.code})
        return False
    ledger.write([{"payee_id": attempt.payee_id, "order_id": order_id, "kind": LedgerKind.TRANSFER_REVERSAL,
                   "amount": amount, "currency": attempt.currency, "transfer_id": attempt.id,
                   "provider_id": reversal_id, "reference": f"reversal:{attempt.id}:{order_id}:{total}"}])
    attempt.amount_reversed = min(attempt.amount, attempt.amount_reversed + amount)
    db.session.flush()
    return True


def needs_other_funding(attempt: PayoutTransfer) -> bool:
    """Refused because its charge cannot fund it: worth sending again from the platform's balance."""
    return (attempt.status == TransferStatus.FAILED and attempt.source_transaction is not None
            and attempt.failure_code in CHARGE_CANNOT_FUND)


def failure_reason(attempt: PayoutTransfer) -> str | None:
    if attempt.status != TransferStatus.FAILED:
        return None
    code = attempt.failure_code or ""
    return FAILURE_REASONS.get(code, f"Stripe refused the transfer ({code}).")


def retry(transfer_id: str) -> PayoutTransfer:
    """An admin asks again for a failed attempt's money: a job plans a new attempt. A retry that
    cannot succeed is refused with the reason (the account cannot be paid, nothing is owed)."""
    attempt = db.session.get(PayoutTransfer, transfer_id)
    if attempt is None:
        raise NotFound("No such transfer.", code="transfer_not_found")
    if attempt.status != TransferStatus.FAILED:
        raise Conflict(f"Only a failed transfer can be retried; this one is {attempt.status}.",
                       code="transfer_not_failed")
    account = account_of(attempt.payee_id)
    if account is None or not account.payable:
        status = account_status(account)
        raise Conflict(f"The payee's Stripe account cannot receive transfers now ({status}): the money stays "
                       "owed and is sent once they connect or finish Stripe's onboarding.",
                       code="payee_not_payable", details={"account_status": status})
    if _still_owed(attempt) <= 0:
        raise Conflict("Nothing of this transfer is owed any more: a later transfer paid it, or a refund "
                       "took it back.", code="nothing_owed")
    if attempt.order_id:
        enqueue("payouts.pay_order", attempt.order_id)
    else:
        enqueue("payouts.pay_payee", attempt.payee_id)
    return attempt


def _still_owed(attempt: PayoutTransfer) -> int:
    owed = ledger.owed_by_order(attempt.payee_id)
    if attempt.order_id is not None:
        return owed.get(attempt.order_id, 0)
    return sum(owed.values())


def stale_attempts(older_than) -> list[str]:
    return list(db.session.scalars(select(PayoutTransfer.id).where(
        PayoutTransfer.status == TransferStatus.PENDING, PayoutTransfer.created_at < older_than)
        .order_by(PayoutTransfer.created_at).limit(500)))


def payees_to_pay() -> list[str]:
    """Payees owed money with an account that can be paid, except those whose last attempt was
    refused recently and after their account last changed (an admin's retry, an account update
    or time frees them: nobody is skipped for good)."""
    found = []
    retry_refused_before = utcnow() - REFUSED_RETRY_AFTER
    for payee_id in ledger.payees_owed():
        account = account_of(payee_id)
        if account is None or not account.payable:
            continue
        last = db.session.scalar(select(PayoutTransfer).where(PayoutTransfer.payee_id == payee_id)
                                 .order_by(PayoutTransfer.created_at.desc(), PayoutTransfer.id.desc()).limit(1))
        refused_lately = last is not None and last.status == TransferStatus.FAILED \
            and last.updated_at >= account.updated_at and last.updated_at > retry_refused_before
        if refused_lately:
            continue
        found.append(payee_id)
    return found


def orders_to_reverse() -> list[str]:
    """Orders with a refund whose payees were sent more than the refund left them, not yet taken back."""
    refunded = select(LedgerEntry.order_id).where(LedgerEntry.kind == LedgerKind.REFUND)
    over_paid = (select(LedgerEntry.order_id).where(LedgerEntry.order_id.in_(refunded),
                                                    LedgerEntry.payee_id.is_not(None),
                                                    LedgerEntry.kind.in_(SETTLEMENT_KINDS))
                 .group_by(LedgerEntry.order_id, LedgerEntry.payee_id)
                 .having(func.sum(LedgerEntry.amount) < 0)
                 .having(func.sum(case((LedgerEntry.kind.in_(ledger.PAID_KINDS), LedgerEntry.amount),
                                       else_=0)) < 0))
    return list(db.session.scalars(select(over_paid.subquery().c.order_id).distinct().limit(500)))
