from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ColumnElement,
    Connection,
    Date,
    ForeignKey,
    Index,
    JSON,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, Mapper, Session, mapped_column, object_session, relationship

from marketplace.accounts.models import User
from marketplace.catalog.credits import CreditRole, CreditStatus, render_credit_line
from marketplace.catalog.lifecycle import BeatStatus
from marketplace.common.clock import utcnow
from marketplace.common.ids import ID_LENGTH, new_id
from marketplace.db import Base, UTCDateTime, sql_in

BPM_MIN, BPM_MAX = 40, 300
SAMPLE_DECLARATIONS = ("none", "cleared", "uncleared")
# Sorting by price puts beats without a price last, in either direction.
PRICE_ASC_WHEN_MISSING = 2**62
PRICE_DESC_WHEN_MISSING = -1
PUBLISHED_ONLY = text("status = 'published'")
TAG_MAX_LENGTH = 30
# A beat's tags in order, beside the beat: a text array on PostgreSQL (GIN-indexed by the
# migration, for the tag filter), JSON on SQLite (which filters through beat_tags instead).
TagList = JSON().with_variant(ARRAY(String(TAG_MAX_LENGTH)), "postgresql")


class Beat(Base):
    __tablename__ = "beats"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("bt"))
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    bpm: Mapped[int] = mapped_column(Integer)
    musical_key: Mapped[str | None] = mapped_column(String(16))
    genre: Mapped[str | None] = mapped_column(String(40))
    mood: Mapped[str | None] = mapped_column(String(40))
    samples: Mapped[str] = mapped_column(String(16), default="none")
    version_of_id: Mapped[str | None] = mapped_column(ForeignKey("beats.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=BeatStatus.PROCESSING)
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    play_count: Mapped[int] = mapped_column(BigInteger, default=0)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    # The lowest active offer price, kept by licensing so the catalogue can sort and filter
    # by price without reading offers. Minor units of the platform currency.
    price_from_amount: Mapped[int | None] = mapped_column(BigInteger)
    price_currency: Mapped[str | None] = mapped_column(String(3))
    # Files. Masters and stems are private; previews and waveforms are public.
    master_key: Mapped[str | None] = mapped_column(String(255))
    master_format: Mapped[str | None] = mapped_column(String(8))
    master_lossless: Mapped[bool] = mapped_column(default=False, server_default=false())
    master_sha256: Mapped[str | None] = mapped_column(String(64))
    master_size: Mapped[int | None] = mapped_column(BigInteger)
    stems_key: Mapped[str | None] = mapped_column(String(255))
    stems_sha256: Mapped[str | None] = mapped_column(String(64))
    stems_size: Mapped[int | None] = mapped_column(BigInteger)
    cover_key: Mapped[str | None] = mapped_column(String(255))
    cover_content_type: Mapped[str | None] = mapped_column(String(32))
    preview_key: Mapped[str | None] = mapped_column(String(255))
    waveform_key: Mapped[str | None] = mapped_column(String(255))
    # Bumped at every render, so preview URLs change when the audio does (cache busting).
    preview_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    processing_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When a re-render (after a voice tag change) was queued and not started yet: changes made
    # meanwhile queue no other one, since the render reads the tag settings when it starts.
    rerender_queued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Bumped in the same transaction as every change to what the beat's listing document
    # shows, except its play count (see the hooks at the end of this module): listings keep
    # documents between requests under this number (listing_cache.py).
    listing_revision: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Title, genre, mood, tags and credited names, in one text the full-text index is built from.
    search_document: Mapped[str] = mapped_column(Text, default="")
    # The beat_tags rows' tags in their order, written with them (services._apply_changes),
    # so a listing reads and filters them without a join. beat_tags stays the source of truth.
    tag_list: Mapped[list[str]] = mapped_column("tags", TagList, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sold_exclusive_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The seller offers the tagged preview as a free download for non-profit use.
    free_download: Mapped[bool] = mapped_column(default=False, server_default=false())

    owner: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    credits: Mapped[list[BeatCredit]] = relationship(
        back_populates="beat", cascade="all, delete-orphan", order_by="BeatCredit.position",
        lazy="selectin")
    tag_rows: Mapped[list[BeatTag]] = relationship(
        cascade="all, delete-orphan", order_by="BeatTag.position", lazy="selectin")

    __table_args__ = (
        CheckConstraint(sql_in(BeatStatus, "status"), name="status"),
        CheckConstraint(f"bpm BETWEEN {BPM_MIN} AND {BPM_MAX}", name="bpm_range"),
        CheckConstraint(f"samples IN {SAMPLE_DECLARATIONS}", name="samples"),
        CheckConstraint("play_count >= 0", name="play_count_not_negative"),
        CheckConstraint("price_from_amount IS NULL OR price_from_amount >= 0", name="price_not_negative"),
        CheckConstraint("version_of_id IS NULL OR version_of_id <> id", name="not_own_version"),
        # One index per sort of the public listing, holding published beats only.
        Index("ix_beats_listing_newest", "published_at", "id",
              postgresql_where=PUBLISHED_ONLY, sqlite_where=PUBLISHED_ONLY),
        # Browsing one genre, newest first, the most common way into the store.
        Index("ix_beats_listing_genre_newest", "genre", "published_at", "id",
              postgresql_where=PUBLISHED_ONLY, sqlite_where=PUBLISHED_ONLY),
        Index("ix_beats_listing_popular", "play_count", "id",
              postgresql_where=PUBLISHED_ONLY, sqlite_where=PUBLISHED_ONLY),
        # The most played of one genre, so a search within it reads that genre's beats only.
        Index("ix_beats_listing_genre_popular", "genre", "play_count", "id",
              postgresql_where=PUBLISHED_ONLY, sqlite_where=PUBLISHED_ONLY),
        Index("ix_beats_listing_bpm", "bpm", "id",
              postgresql_where=PUBLISHED_ONLY, sqlite_where=PUBLISHED_ONLY),
        Index("ix_beats_listing_price_asc",
              func.coalesce(text("price_from_amount"), PRICE_ASC_WHEN_MISSING), "id",
              postgresql_where=PUBLISHED_ONLY, sqlite_where=PUBLISHED_ONLY),
        Index("ix_beats_listing_price_desc",
              func.coalesce(text("price_from_amount"), PRICE_DESC_WHEN_MISSING), "id",
              postgresql_where=PUBLISHED_ONLY, sqlite_where=PUBLISHED_ONLY),
    )

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]

    @property
    def credit_line(self) -> str:
        return render_credit_line([(credit.name, credit.role) for credit in self.credits])


FILE_KINDS = ("master", "stems")
REPLACEMENT_STATES = ("pending", "failed")


class BeatFile(Base):
    """A stored master or stems ZIP of a beat. The beat's `master_key` and `stems_key` name the
    current ones; a file replaced since stays stored while a license delivers it (licenses
    name the file they were sold with, and the foreign key keeps its row), and is deleted once
    nothing refers to it. A new master is a `replacement` until its preview is rendered:
    `pending`, or `failed` with the reason; the beat keeps its old master and preview till then."""

    __tablename__ = "beat_files"
    __table_args__ = (
        CheckConstraint(f"kind IN {FILE_KINDS}", name="kind"),
        CheckConstraint(f"replacement IS NULL OR replacement IN {REPLACEMENT_STATES}", name="replacement"),
        CheckConstraint("replacement IS NULL OR kind = 'master'", name="only_masters_wait"),
        # One replacement in waiting per beat: a new one takes the place of the old.
        Index("uq_beat_files_one_replacement_per_beat", "beat_id", unique=True,
              postgresql_where=text("replacement IS NOT NULL"), sqlite_where=text("replacement IS NOT NULL")),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("bf"))
    beat_id: Mapped[str] = mapped_column(ForeignKey("beats.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(255), unique=True)
    audio_format: Mapped[str | None] = mapped_column(String(8))
    lossless: Mapped[bool] = mapped_column(default=False, server_default=false())
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    replacement: Mapped[str | None] = mapped_column(String(16))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class VoiceTag(Base):
    """A beatmaker's producer tag and where it lands in previews. Without an uploaded tag
    (`tag_key` empty) the platform's default tag is used: no preview goes unprotected."""

    __tablename__ = "voice_tags"
    __table_args__ = (
        CheckConstraint("interval_seconds BETWEEN 5 AND 120", name="interval_range"),
        CheckConstraint("gain_db BETWEEN -30 AND 10", name="gain_range"),
        CheckConstraint("first_at_seconds BETWEEN 0 AND 60", name="first_at_range"),
    )

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    tag_key: Mapped[str | None] = mapped_column(String(255))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    interval_seconds: Mapped[float] = mapped_column(default=30.0)
    gain_db: Mapped[float] = mapped_column(default=0.0)
    first_at_seconds: Mapped[float] = mapped_column(default=0.0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class BeatTag(Base):
    __tablename__ = "beat_tags"
    __table_args__ = (Index("ix_beat_tags_tag", "tag", "beat_id"),)

    beat_id: Mapped[str] = mapped_column(ForeignKey("beats.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(TAG_MAX_LENGTH), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class BeatCredit(Base):
    __tablename__ = "beat_credits"
    __table_args__ = (
        UniqueConstraint("beat_id", "position"),
        CheckConstraint(sql_in(CreditRole, "role"), name="role"),
        CheckConstraint("profit_share_bps IS NULL OR profit_share_bps BETWEEN 0 AND 10000",
                        name="profit_share_range"),
        CheckConstraint("publishing_share_bps IS NULL OR publishing_share_bps BETWEEN 0 AND 10000",
                        name="publishing_share_range"),
        CheckConstraint("master_points_bps IS NULL OR master_points_bps BETWEEN 0 AND 10000",
                        name="master_points_range"),
        CheckConstraint(sql_in(CreditStatus, "status"), name="status"),
        # Nobody is credited by account without consent: only an accepted credit links one.
        CheckConstraint("user_id IS NULL OR status = 'accepted'", name="linked_only_when_accepted"),
        CheckConstraint("status <> 'pending' OR invitation_id IS NOT NULL", name="pending_has_invitation"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("crd"))
    beat_id: Mapped[str] = mapped_column(ForeignKey("beats.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    profit_share_bps: Mapped[int | None] = mapped_column(Integer)
    publishing_share_bps: Mapped[int | None] = mapped_column(Integer)
    master_points_bps: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=CreditStatus.NAME_ONLY,
                                        server_default=CreditStatus.NAME_ONLY)
    # The invitation behind the credit: pending, or as it was decided.
    invitation_id: Mapped[str | None] = mapped_column(ForeignKey("credit_invitations.id", ondelete="SET NULL"),
                                                      index=True)
    # For the split sheet: the performing rights organisation and the writer's IPI number.
    pro: Mapped[str | None] = mapped_column(String(40))
    ipi: Mapped[str | None] = mapped_column(String(15))

    beat: Mapped[Beat] = relationship(back_populates="credits")
    user: Mapped[User | None] = relationship(lazy="selectin")

    @property
    def handle(self) -> str | None:
        """The credited person's public handle, for the credit line to link to their profile."""
        return public_handle(self.user)


class BeatDailyPlays(Base):
    """How often a beat's preview started playing on one day (UTC): the studio's plays per day.
    One row per beat and day, counted up in the database as plays arrive."""

    __tablename__ = "beat_daily_plays"
    __table_args__ = (CheckConstraint("plays >= 0", name="plays_not_negative"),)

    beat_id: Mapped[str] = mapped_column(ForeignKey("beats.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    plays: Mapped[int] = mapped_column(BigInteger, default=0)


def public_handle(user: User | None) -> str | None:
    """A handle to link to: closed and suspended accounts have no public profile."""
    return user.handle if user is not None and user.is_active else None


# Listing revisions. Every ORM write that changes a listed document bumps the beats' revision,
# whatever code path makes it; the licensing package does the same for offers and tiers.
# Writes that bypass the ORM must bump it themselves (record_play changes only the play
# count, which listings read fresh).

_CHANGED_LISTINGS = "changed_listings"


def listing_changed(changed: object, beats: ColumnElement[bool]) -> None:
    """Note, while a flush writes `changed`, that the listings of the beats matching `beats`
    show it: the flush bumps their revision once at its end."""
    session = object_session(changed)
    if session is not None:
        session.info.setdefault(_CHANGED_LISTINGS, []).append(beats)


def forget_changes_of_failed_flushes(session: Session, _context: Any, _instances: Any) -> None:
    """before_flush: start each flush with no beats to bump (a failed flush leaves its notes)."""
    session.info.pop(_CHANGED_LISTINGS, None)


def bump_changed_listings(session: Session, _context: Any) -> None:
    """after_flush: one increment in SQL per beat, in the flush's transaction, so concurrent changes never
    end on one revision. The rows are locked in id order first, as fulfilment locks them, so
    two flushes bumping overlapping beats (two tier edits of one seller) wait for each other
    instead of deadlocking."""
    changed = session.info.pop(_CHANGED_LISTINGS, None)
    if not changed:
        return
    beats = Beat.__table__
    in_id_order = select(beats.c.id).where(or_(*changed)).order_by(beats.c.id).with_for_update()
    session.connection().execute(update(beats).where(beats.c.id.in_(in_id_order))
                                 .values(listing_revision=beats.c.listing_revision + 1))


def beat_changed(_mapper: Mapper, _connection: Connection, beat: Beat) -> None:
    # Also called when only its credits or tags changed. In the beat's own UPDATE: no extra write.
    beat.listing_revision = Beat.__table__.c.listing_revision + 1


def beat_part_changed(_mapper: Mapper, _connection: Connection, part: BeatCredit | BeatTag) -> None:
    listing_changed(part, Beat.__table__.c.id == part.beat_id)


def owner_renamed(_mapper: Mapper, _connection: Connection, user: User) -> None:
    state = inspect(user).attrs
    if state.handle.history.has_changes() or state.status.history.has_changes():
        # Listings link the beatmaker's and every credited person's name to their profile.
        credited = select(BeatCredit.beat_id).where(BeatCredit.user_id == user.id)
        listing_changed(user, or_(Beat.__table__.c.owner_id == user.id, Beat.__table__.c.id.in_(credited)))
    elif state.display_name.history.has_changes():
        listing_changed(user, Beat.__table__.c.owner_id == user.id)
