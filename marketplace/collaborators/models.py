"""Invitations to be credited on a beat, and the versions of a beat's split sheet.

A credit naming another person's account exists only once that person accepted an invitation:
until then the credit carries the typed name and is `pending`, and its profit share is held in
the ledger for the invitation. A split sheet version is every credit with its shares as one
document, kept for good: sales follow the version in force, and a change that moves the share
of a collaborator who accepted waits for their acceptance.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.common.clock import utcnow
from marketplace.common.ids import ID_LENGTH, new_id
from marketplace.db import Base, UTCDateTime, sql_in


class InvitationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # the owner withdrew it, or invited again


class CreditInvitation(Base):
    """An invitation to be credited: sent to an address (an account need not exist yet) or to
    an account found by its public handle. The mailed link's token is stored as its SHA-256."""

    __tablename__ = "credit_invitations"
    __table_args__ = (
        CheckConstraint(sql_in(InvitationStatus, "status"), name="status"),
        CheckConstraint("email_key IS NOT NULL OR invitee_id IS NOT NULL", name="has_invitee"),
        # Decided once: a pending invitation has no decision, a decided one has its time.
        CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name="decided_once"),
        CheckConstraint("status <> 'accepted' OR accepted_by_id IS NOT NULL", name="accepted_by_someone"),
        CheckConstraint("profit_share_bps IS NULL OR profit_share_bps BETWEEN 0 AND 10000",
                        name="profit_share_range"),
        CheckConstraint("publishing_share_bps IS NULL OR publishing_share_bps BETWEEN 0 AND 10000",
                        name="publishing_share_range"),
        Index("ix_credit_invitations_pending_expiry", "expires_at",
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("cinv"))
    beat_id: Mapped[str] = mapped_column(ForeignKey("beats.id", ondelete="CASCADE"), index=True)
    invited_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    # By address: who may accept is whoever proves the address (the link, or a verified account).
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(String(320), index=True)
    # By handle: that account. Also set on acceptance to the account that accepted.
    invitee_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(32))
    # What the invitee is asked to accept; kept in step with the credit while pending.
    profit_share_bps: Mapped[int | None] = mapped_column(Integer)
    publishing_share_bps: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=InvitationStatus.PENDING)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    accepted_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The invitation this one replaced (invited again after a decline or an expiry).
    replaces_id: Mapped[str | None] = mapped_column(ForeignKey("credit_invitations.id"))

    invitee = relationship("User", foreign_keys=[invitee_id], lazy="selectin")


class SplitVersionStatus(enum.StrEnum):
    PROPOSED = "proposed"  # waits for the acceptance of collaborators whose share it changes
    IN_FORCE = "in_force"  # what sales follow now
    SUPERSEDED = "superseded"  # was in force; a later version replaced it
    WITHDRAWN = "withdrawn"  # never came into force: a later change replaced the proposal


class SplitVersion(Base):
    """One version of a beat's split sheet: the credits with their shares, numbered from 1,
    with the SHA-256 of its canonical JSON so a printed sheet can be checked against it."""

    __tablename__ = "split_versions"
    __table_args__ = (
        UniqueConstraint("beat_id", "number"),
        CheckConstraint(sql_in(SplitVersionStatus, "status"), name="status"),
        CheckConstraint("number >= 1", name="number_positive"),
        # One version in force per beat, whatever the code does.
        Index("uq_split_versions_one_in_force", "beat_id", unique=True,
              postgresql_where=text("status = 'in_force'"), sqlite_where=text("status = 'in_force'")),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("spl"))
    beat_id: Mapped[str] = mapped_column(ForeignKey("beats.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    # [{name, role, profit_share_bps, publishing_share_bps, master_points_bps, pro, ipi,
    #   user_id, invitation_id}] in credit order.
    entries: Mapped[list] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    in_force_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    acceptances: Mapped[list[SplitAcceptance]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="SplitAcceptance.created_at")


class SplitAcceptance(Base):
    """Who must accept (or accepted) a version: the owner who made it, each collaborator whose
    share it changes, each invitee who accepted while it was the latest. `accepted_at` is None
    while awaited."""

    __tablename__ = "split_acceptances"
    __table_args__ = (UniqueConstraint("version_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("sac"))
    version_id: Mapped[str] = mapped_column(ForeignKey("split_versions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
