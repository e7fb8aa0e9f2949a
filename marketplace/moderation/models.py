"""Reports, strikes, the reasons a beat is out of the store, and the audit log.

Their ids are ordered (new_ordered_id): queues and the log read in the order rows were
written, even rows written in the same millisecond."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.catalog.models import Beat
from marketplace.common.clock import utcnow
from marketplace.common.ids import ID_LENGTH, new_ordered_id
from marketplace.db import Base, UTCDateTime, sql_in

REASON_MAX = 500
DETAILS_MAX = 2000


class ReportReason(enum.StrEnum):
    COPYRIGHT = "copyright"
    UNCLEARED_SAMPLE = "uncleared_sample"
    STOLEN_BEAT = "stolen_beat"
    OFFENSIVE = "offensive"
    SPAM = "spam"
    FRAUD = "fraud"
    OTHER = "other"


class ReportStatus(enum.StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"
    TAKEN_DOWN = "taken_down"


class Report(Base):
    """A user's complaint about a beat. The beatmaker sees it, never who filed it."""

    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint(sql_in(ReportReason, "reason"), name="reason"),
        CheckConstraint(sql_in(ReportStatus, "status"), name="status"),
        # One open report per user and beat: a second complaint waits for the first answer.
        Index("uq_reports_one_open_per_reporter_and_beat", "beat_id", "reporter_id", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        Index("ix_reports_status_created_at", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True,
                                    default=lambda: new_ordered_id("rpt"))
    beat_id: Mapped[str] = mapped_column(ForeignKey("beats.id"), index=True)
    reporter_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    details: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.OPEN)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    resolution_note: Mapped[str | None] = mapped_column(Text)

    beat: Mapped[Beat] = relationship(lazy="joined", innerjoin=True)
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id], lazy="joined", innerjoin=True)


class Strike(Base):
    """A warning recorded against an account. Enough active strikes suspend it."""

    __tablename__ = "strikes"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True,
                                    default=lambda: new_ordered_id("stk"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(String(REASON_MAX))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    lifted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    lifted_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    lift_reason: Mapped[str | None] = mapped_column(String(REASON_MAX))

    @property
    def active(self) -> bool:
        return self.lifted_at is None


class RestrictionCause(enum.StrEnum):
    TAKEDOWN = "takedown"  # an admin took the beat down
    SUSPENSION = "suspension"  # its owner is suspended
    REVIEW = "review"  # pre-moderation: waiting for an admin's approval


class BeatRestriction(Base):
    """One reason a beat is out of the store (status `taken_down`). A beat comes back, to the
    status it had (`restore_to`), only when its last active restriction is lifted, so lifting
    a suspension brings back exactly the beats the suspension hid and no beat taken down."""

    __tablename__ = "beat_restrictions"
    __table_args__ = (
        CheckConstraint(sql_in(RestrictionCause, "cause"), name="cause"),
        Index("ix_beat_restrictions_active", "beat_id", "cause",
              postgresql_where=text("lifted_at IS NULL"), sqlite_where=text("lifted_at IS NULL")),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True,
                                    default=lambda: new_ordered_id("rst"))
    beat_id: Mapped[str] = mapped_column(ForeignKey("beats.id"), index=True)
    cause: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(REASON_MAX))
    restore_to: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    # A review refused: the beat stays out, and its owner is told why.
    rejected_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    lifted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    lifted_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(REASON_MAX))

    beat: Mapped[Beat] = relationship(lazy="joined", innerjoin=True)


class ActorKind(enum.StrEnum):
    ADMIN = "admin"
    SYSTEM = "system"  # an automatic action: auto-suspension, auto-refund, pre-moderation
    CLI = "cli"  # an operator's `flask ...` command


class AuditEntry(Base):
    """One moderation action, written in the transaction of the action itself. Rows are
    only ever inserted: no code path updates or deletes them (see audit.py), and on
    PostgreSQL a trigger refuses it too."""

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint(sql_in(ActorKind, "actor_kind"), name="actor_kind"),
        Index("ix_audit_log_target", "target_type", "target_id"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True,
                                    default=lambda: new_ordered_id("aud"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    reason: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict] = mapped_column(JSON)
    after: Mapped[dict] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(64))
