"""Reconciliation: the ledger against the orders it came from and the transfers Stripe made,
and every charge Stripe holds against the order it paid for."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select

from marketplace.checkout.models import ItemStatus, Order, OrderStatus
from marketplace.checkout.port import (
    ChargeState,
    PaymentProviderError,
    PaymentProviderUnavailable,
    payment_port,
)
from marketplace.common.money import Money
from marketplace.db import db
from marketplace.collaborators.models import CreditInvitation, InvitationStatus
from marketplace.payouts import held
from marketplace.payouts.models import LedgerEntry, LedgerKind, PayoutTransfer, TransferStatus
from marketplace.payouts.port import payout_port

SETTLED = (OrderStatus.PAID, OrderStatus.REFUNDED, OrderStatus.DISPUTED)
LINE_EARNING_KINDS = (LedgerKind.SALE, LedgerKind.PLATFORM_FEE, LedgerKind.HELD, LedgerKind.HELD_RELEASE)


def orders_to_check() -> list[str]:
    return list(db.session.scalars(select(Order.id).where(Order.status.in_(SETTLED), Order.paid_at.is_not(None))
                                   .order_by(Order.id)))


def charges_to_check() -> list[ChargeState]:
    """Every successful charge at Stripe (asks Stripe, page after page)."""
    return [charge for charge in payment_port().list_charges() if charge.status == "succeeded"]


def charge_differences(charge: ChargeState) -> Iterator[str]:
    """A charge is refunded in full, or it is the payment of a settled order and keeps what
    the order kept: a payment on a replaced or expired order, a second payment of an order and
    a payment of no order are given back, or reported here."""
    kept = charge.amount - charge.amount_refunded
    if kept == 0:
        return
    kept_money = Money(kept, charge.currency).formatted()
    where = f"charge {charge.id} ({charge.payment_intent_id}): {kept_money} kept"
    order = db.session.get(Order, charge.order_id) if charge.order_id else None
    if order is None and charge.payment_intent_id:
        order = db.session.scalar(select(Order).where(Order.payment_intent_id == charge.payment_intent_id)
                                  .limit(1))
    if order is None:
        yield f"{where}, and it pays for no order"
    elif order.payment_intent_id not in (None, charge.payment_intent_id):
        yield (f"{where}, a second payment of order {order.id} (paid by {order.payment_intent_id}), "
               "not refunded")
    elif order.status not in SETTLED or order.paid_at is None or order.payment_intent_id is None:
        yield f"{where} for order {order.id}, which is {order.status} ({order.status_reason}), not refunded"
    elif kept != order.total_amount - order.refunded_amount:
        owed = Money(order.total_amount - order.refunded_amount, order.currency).formatted()
        yield f"{where} for order {order.id}, which kept {owed}"


def transfers_to_check() -> list[str]:
    return list(db.session.scalars(select(PayoutTransfer.id).where(PayoutTransfer.status == TransferStatus.PAID)
                                   .order_by(PayoutTransfer.id)))


def _sums(query) -> dict[tuple[str, str], int]:
    return {(key, kind): int(total) for key, kind, total in db.session.execute(query)}


def order_differences(order_id: str) -> Iterator[str]:
    """Each licensed line's sale and fee rows add up to its price; a refunded line (or order)
    has refund rows taking all of it back; and what the ledger took back in all is what was
    given back to the buyer for licensed lines (line refunds and partial refunds included)."""
    order = db.session.get(Order, order_id)
    sums = _sums(select(LedgerEntry.order_item_id, LedgerEntry.kind, func.sum(LedgerEntry.amount))
                 .where(LedgerEntry.order_id == order_id).group_by(LedgerEntry.order_item_id, LedgerEntry.kind))
    given_back = order.status == OrderStatus.REFUNDED or order.status_reason == "dispute_lost"
    taken_back = 0
    for item in order.items:
        if item.license_id is None:
            continue
        # A held share counts as earned until the hold ends, and its release is paid as a sale.
        earned = sum(sums.get((item.id, kind), 0) for kind in LINE_EARNING_KINDS)
        if earned != item.price_amount:
            yield (f"order {order_id} line {item.id}: sale and fee rows add up to {earned}, "
                   f"the line was sold for {item.price_amount}")
        refunded = -sums.get((item.id, LedgerKind.REFUND), 0)
        taken_back += refunded
        if (given_back or item.status == ItemStatus.REFUNDED) and refunded != earned:
            yield f"order {order_id} line {item.id}: refunded {refunded} of {earned} on a refunded line"
    if given_back:
        return
    # Lines never licensed (a lost exclusive) are refunded without ever having earned anything.
    never_licensed = sum(item.price_amount for item in order.items
                         if item.license_id is None and item.status == ItemStatus.REFUNDED)
    refunded_for_licenses = max(0, order.refunded_amount - never_licensed)
    if taken_back != refunded_for_licenses:
        yield (f"order {order_id}: the ledger took back {taken_back}, the buyer was refunded "
               f"{refunded_for_licenses} for licensed lines")


def transfer_differences(transfer_id: str, ask_provider: bool) -> Iterator[str]:
    """A paid transfer has its ledger rows, and Stripe's transfer says the same."""
    attempt = db.session.get(PayoutTransfer, transfer_id)
    sums = _sums(select(LedgerEntry.transfer_id, LedgerEntry.kind, func.sum(LedgerEntry.amount))
                 .where(LedgerEntry.transfer_id == transfer_id).group_by(LedgerEntry.transfer_id, LedgerEntry.kind))
    sent, taken_back = -sums.get((transfer_id, LedgerKind.TRANSFER), 0), sums.get((transfer_id, LedgerKind.TRANSFER_REVERSAL), 0)
    if sent != attempt.amount:
        yield f"transfer {transfer_id}: ledger says {sent} sent, the transfer is {attempt.amount}"
    if taken_back != attempt.amount_reversed:
        yield f"transfer {transfer_id}: ledger says {taken_back} reversed, the transfer {attempt.amount_reversed}"
    if not ask_provider:
        return
    try:
        found = payout_port().retrieve_transfer(attempt.provider_transfer_id)
    except (PaymentProviderError, PaymentProviderUnavailable) as problem:
        yield f"transfer {transfer_id}: Stripe could not be asked about {attempt.provider_transfer_id} ({problem.code})"
        return
    if (found.amount, found.amount_reversed, found.destination) != (attempt.amount, attempt.amount_reversed,
                                                                     attempt.destination):
        yield (f"transfer {transfer_id}: Stripe has {found.amount} to {found.destination}, {found.amount_reversed} "
               f"reversed; we have {attempt.amount} to {attempt.destination}, {attempt.amount_reversed} reversed")


def invitations_to_check() -> list[str]:
    return list(db.session.scalars(select(LedgerEntry.credit_invitation_id).where(
        LedgerEntry.credit_invitation_id.is_not(None)).distinct().order_by(LedgerEntry.credit_invitation_id)))


def held_differences(invitation_id: str) -> Iterator[str]:
    """Money held for an invitation is never negative on a line, stays held only while the
    invitation is pending, and each release paid someone exactly what it took out of the hold."""
    invitation = db.session.get(CreditInvitation, invitation_id)
    lines = held.held_by_line(invitation_id)
    for _, order_id, item_id, _, amount in lines:
        if amount < 0:
            yield f"invitation {invitation_id} order {order_id} line {item_id}: {amount} held, less than nothing"
        elif invitation is None or invitation.status != InvitationStatus.PENDING:
            status = invitation.status if invitation is not None else "gone"
            yield f"invitation {invitation_id} ({status}) order {order_id} line {item_id}: {amount} still held"
    released = _sums(select(LedgerEntry.order_item_id, LedgerEntry.kind, func.sum(LedgerEntry.amount))
                     .where(LedgerEntry.credit_invitation_id == invitation_id,
                            LedgerEntry.kind.in_([LedgerKind.HELD_RELEASE, LedgerKind.SALE]))
                     .group_by(LedgerEntry.order_item_id, LedgerEntry.kind))
    for item_id in sorted({key for key, _ in released}):
        taken, paid = -released.get((item_id, LedgerKind.HELD_RELEASE), 0), released.get((item_id, LedgerKind.SALE), 0)
        if taken != paid:
            yield f"invitation {invitation_id} line {item_id}: {taken} released from the hold, {paid} paid out"
