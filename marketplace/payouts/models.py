"""Connected accounts, the earnings ledger and our transfer attempts.

The ledger is append-only: a row is never changed or removed (a flush that tries fails, and
on PostgreSQL a trigger refuses it whatever the client). Every row has a unique `reference`
naming what it records, so writing the same fact twice writes it once.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.common.clock import utcnow
from marketplace.common.ids import ID_LENGTH, new_id
from marketplace.db import Base, UTCDateTime, sql_in


class ConnectedAccount(Base):
    """A user's Stripe Express account, as its last `account.updated` left it."""

    __tablename__ = "connected_accounts"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    stripe_account_id: Mapped[str] = mapped_column(String(255), unique=True)
    details_submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    payouts_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Its `transfers` capability is active: the platform can send it money.
    transfers_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(100))
    deauthorized_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def payable(self) -> bool:
        return self.transfers_enabled and self.deauthorized_at is None


class LedgerKind(enum.StrEnum):
    SALE = "sale"  # + a payee's share of a paid line
    PLATFORM_FEE = "platform_fee"  # + the platform's fee on a paid line (payee: the platform)
    REFUND = "refund"  # - a share or fee given back (a refund, a lost dispute)
    TRANSFER = "transfer"  # - money sent to the payee's connected account
    TRANSFER_REVERSAL = "transfer_reversal"  # + money taken back from it
    DISPUTE_HOLD = "dispute_hold"  # - a share held while its payment is disputed
    DISPUTE_RELEASE = "dispute_release"  # + the hold ended (won, or settled as a refund)
    # The share of a pending credit, kept for its invitation (no payee until it is decided).
    HELD = "held"  # + held for the invitation
    HELD_RELEASE = "held_release"  # - the hold ended; a sale row pays it to the collaborator or the owner


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint(sql_in(LedgerKind, "kind"), name="kind"),
        Index("ix_ledger_entries_payee_id_created_at", "payee_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("led"))
    payee_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))  # None: the platform
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    order_item_id: Mapped[str | None] = mapped_column(ForeignKey("order_items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)  # signed minor units: what the payee is owed moves by this
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(200), unique=True)
    transfer_id: Mapped[str | None] = mapped_column(ForeignKey("payout_transfers.id"), index=True)
    provider_id: Mapped[str | None] = mapped_column(String(255))  # the Stripe transfer or reversal
    # Rows about a held share name its invitation, and why the hold ended (accepted, declined...).
    credit_invitation_id: Mapped[str | None] = mapped_column(ForeignKey("credit_invitations.id"), index=True)
    reason: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TransferStatus(enum.StrEnum):
    PENDING = "pending"  # created here; Stripe may or may not have it yet (same key on resend)
    PAID = "paid"
    FAILED = "failed"  # Stripe refused it: nothing moved, the money is still owed


class PayoutTransfer(Base):
    """One attempt to send money to a payee. `allocation` says which orders' earnings it pays
    ([{"order_id", "amount"}], adding up to `amount`); it becomes ledger rows once paid."""

    __tablename__ = "payout_transfers"
    __table_args__ = (
        CheckConstraint(sql_in(TransferStatus, "status"), name="status"),
        CheckConstraint("amount > 0 AND amount_reversed >= 0 AND amount_reversed <= amount",
                        name="amounts_valid"),
        Index("ix_payout_transfers_pending", "created_at", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("pot"))
    payee_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), index=True)  # None: a balance payout
    destination: Mapped[str] = mapped_column(String(255))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    transfer_group: Mapped[str] = mapped_column(String(100))
    source_transaction: Mapped[str | None] = mapped_column(String(255))
    allocation: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=TransferStatus.PENDING)
    provider_transfer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    failure_code: Mapped[str | None] = mapped_column(String(100))
    amount_reversed: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    @property
    def idempotency_key(self) -> str:
        return f"payout-{self.id}"
