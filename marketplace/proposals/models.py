"""Proposals and the sellers' proposal terms per tier.

A proposal is open while it waits for someone (the seller: open; the artist: countered) or
for its payment (accepted). While it is open it takes one of the artist's numbered slots:
the unique indexes on (artist_id, slot) and (artist_id, beat_id) over open proposals cap how
many an artist has open at once, and allow one per beat, whatever requests race.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.catalog.models import Beat
from marketplace.common.clock import utcnow
from marketplace.common.ids import ID_LENGTH, new_id
from marketplace.db import Base, UTCDateTime, sql_in
from marketplace.licensing.models import LicenseTier


class ProposalStatus(enum.StrEnum):
    OPEN = "open"  # waits for the seller
    COUNTERED = "countered"  # the seller named another price: waits for the artist
    ACCEPTED = "accepted"  # agreed: the artist may pay it in a private checkout
    PAID = "paid"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    ENDED = "ended"  # the exclusive was sold to someone else, or the beat left the store


OPEN_STATUSES = (ProposalStatus.OPEN, ProposalStatus.COUNTERED, ProposalStatus.ACCEPTED)
_OPEN_SQL = sql_in(OPEN_STATUSES, "status")


class Proposal(Base):
    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint(sql_in(ProposalStatus, "status"), name="status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("counter_amount IS NULL OR counter_amount > 0", name="counter_positive"),
        CheckConstraint("agreed_amount IS NULL OR agreed_amount > 0", name="agreed_positive"),
        # An open proposal holds a slot, a closed one none.
        CheckConstraint(f"(slot IS NOT NULL AND slot >= 1) = ({_OPEN_SQL})", name="slot_while_open"),
        Index("uq_proposals_artist_slot", "artist_id", "slot", unique=True,
              postgresql_where=text("slot IS NOT NULL"), sqlite_where=text("slot IS NOT NULL")),
        Index("uq_proposals_one_open_per_artist_and_beat", "artist_id", "beat_id", unique=True,
              postgresql_where=text("slot IS NOT NULL"), sqlite_where=text("slot IS NOT NULL")),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("prp"))
    beat_id: Mapped[str] = mapped_column(ForeignKey("beats.id"), index=True)
    tier_id: Mapped[str] = mapped_column(ForeignKey("license_tiers.id"))
    artist_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)  # what the artist proposed, in minor units
    message: Mapped[str] = mapped_column(Text, default="")
    counter_amount: Mapped[int | None] = mapped_column(BigInteger)
    counter_message: Mapped[str | None] = mapped_column(Text)
    agreed_amount: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=ProposalStatus.OPEN)
    slot: Mapped[int | None] = mapped_column(Integer)
    # Until when the party it waits for may answer (open, countered).
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # An accepted proposal: until when its private checkout may be opened.
    checkout_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    beat: Mapped[Beat] = relationship()
    tier: Mapped[LicenseTier] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ProposalTerms(Base):
    """Whether a seller's tier takes proposals, and the least one may be. A tier without a row
    takes them if it is the exclusive, with no minimum of the seller's own."""

    __tablename__ = "proposal_terms"
    __table_args__ = (CheckConstraint("minimum_amount >= 0", name="minimum_not_negative"),)

    tier_id: Mapped[str] = mapped_column(ForeignKey("license_tiers.id"), primary_key=True)
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    minimum_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
