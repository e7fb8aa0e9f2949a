from __future__ import annotations

import dataclasses
import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from marketplace.catalog.models import Beat, listing_changed
from marketplace.common.clock import utcnow
from marketplace.common.ids import ID_LENGTH, new_id
from marketplace.db import Base, UTCDateTime, sql_in

LIMIT_NAMES = ("distribution_copies", "audio_streams", "music_videos", "radio_stations", "paid_performances")
DELIVERABLES = ("mp3", "wav", "stems")


class TierKind(enum.StrEnum):
    LEASE = "lease"
    EXCLUSIVE = "exclusive"


class ContentIdPolicy(enum.StrEnum):
    NOT_ALLOWED = "not_allowed"  # the licensee may not register the beat with Content ID
    ALLOWED = "allowed"


class LicenseStatus(enum.StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class SigningKeyState(enum.StrEnum):
    ACTIVE = "active"  # signs new certificates; one at a time
    RETIRED = "retired"  # signs nothing more, stays published so earlier certificates verify


class SigningKey(Base):
    """A public key of the platform that signs license certificates, published at
    /.well-known/jwks.json under its key id. The private key stays in the keys folder."""

    __tablename__ = "license_signing_keys"
    __table_args__ = (
        CheckConstraint(sql_in(SigningKeyState, "state"), name="state"),
        # One key signs at a time, whatever two rotations at once attempt.
        Index("uq_license_signing_keys_one_active", "state", unique=True,
              postgresql_where=text("state = 'active'"), sqlite_where=text("state = 'active'")),
    )

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)  # the key's RFC 7638 thumbprint
    public_jwk: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

# How a license stands as people see it: an active license replaced by an upgrade is
# "superseded" (still valid for what was done under it, no longer the one in use).
SUPERSEDED = "superseded"


class LicenseTier(Base):
    """A beatmaker's license terms. Edits apply to future sales only: every license keeps a
    frozen copy of the terms it was sold under."""

    __tablename__ = "license_tiers"
    __table_args__ = (
        CheckConstraint(sql_in(TierKind, "kind"), name="kind"),
        CheckConstraint(sql_in(ContentIdPolicy, "content_id"), name="content_id"),
        CheckConstraint("publishing_share_bps BETWEEN 0 AND 10000", name="publishing_share_range"),
        CheckConstraint("master_points_bps BETWEEN 0 AND 10000", name="master_points_range"),
        CheckConstraint("default_price_amount > 0", name="default_price_positive"),
        CheckConstraint("term_years IS NULL OR term_years > 0", name="term_positive"),
        *[CheckConstraint(f"{name} IS NULL OR {name} >= 0", name=f"{name}_not_negative") for name in LIMIT_NAMES],
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("tier"))
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(16))
    includes_mp3: Mapped[bool] = mapped_column(Boolean, default=True)
    includes_wav: Mapped[bool] = mapped_column(Boolean, default=False)
    includes_stems: Mapped[bool] = mapped_column(Boolean, default=False)
    distribution_copies: Mapped[int | None] = mapped_column(BigInteger)
    audio_streams: Mapped[int | None] = mapped_column(BigInteger)
    music_videos: Mapped[int | None] = mapped_column(BigInteger)
    radio_stations: Mapped[int | None] = mapped_column(BigInteger)
    paid_performances: Mapped[int | None] = mapped_column(BigInteger)
    term_years: Mapped[int | None] = mapped_column(Integer)  # None: perpetual
    credit_line_template: Mapped[str] = mapped_column(String(200))
    publishing_share_bps: Mapped[int] = mapped_column(Integer)
    master_points_bps: Mapped[int] = mapped_column(Integer)
    content_id: Mapped[str] = mapped_column(String(16))
    default_price_amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def deliverables(self) -> list[str]:
        return [kind for kind in DELIVERABLES if getattr(self, f"includes_{kind}")]

    @property
    def limits(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in LIMIT_NAMES}


class Offer(Base):
    """A beat sold under a tier, at a price. A beat has at most one offer per tier."""

    __tablename__ = "offers"
    __table_args__ = (
        UniqueConstraint("beat_id", "tier_id"),
        # Every field of a beat's active offers that a listing reads (offers_aggregate), so
        # PostgreSQL reads them from the index alone.
        Index("ix_offers_listing", "beat_id", "position", "tier_id", "price_amount", "currency",
              postgresql_where=text("active"), sqlite_where=text("active")),
        CheckConstraint("price_amount > 0", name="price_positive"),
        CheckConstraint("upgrade_floor_amount >= 0 AND upgrade_floor_amount <= price_amount",
                        name="upgrade_floor_within_price"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("ofr"))
    beat_id: Mapped[str] = mapped_column(ForeignKey("beats.id", ondelete="CASCADE"), index=True)
    tier_id: Mapped[str] = mapped_column(ForeignKey("license_tiers.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    price_amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The least an upgrade to this offer costs, whatever the buyer paid before (0: no floor).
    upgrade_floor_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    tier: Mapped[LicenseTier] = relationship(lazy="joined", innerjoin=True)


class License(Base):
    __tablename__ = "licenses"
    __table_args__ = (
        CheckConstraint(sql_in(TierKind, "kind"), name="kind"),
        CheckConstraint(sql_in(LicenseStatus, "status"), name="status"),
        CheckConstraint("price_amount >= 0", name="price_not_negative"),
        CheckConstraint("(certificate IS NULL) = (certificate_kid IS NULL)", name="certificate_has_key"),
        # Exclusive rights are sold once per beat, ever: the database refuses a second one
        # whatever the code does.
        Index("uq_licenses_one_exclusive_per_beat", "beat_id", unique=True,
              postgresql_where=text("kind = 'exclusive'"), sqlite_where=text("kind = 'exclusive'")),
        # A license is upgraded once: of the upgrades based on it, one at most stands (a revoked
        # one, refunded, gave the license back and it may be upgraded again).
        Index("uq_licenses_one_standing_upgrade_per_license", "upgrade_of_id", unique=True,
              postgresql_where=text("status <> 'revoked'"), sqlite_where=text("status <> 'revoked'")),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("lic"))
    license_number: Mapped[str] = mapped_column(String(32), unique=True)
    # Who sold it and why: one license per sale line, so issuing twice returns the first.
    sale_reference: Mapped[str] = mapped_column(String(100), unique=True)
    beat_id: Mapped[str] = mapped_column(ForeignKey("beats.id"), index=True)
    tier_id: Mapped[str] = mapped_column(ForeignKey("license_tiers.id"), index=True)
    buyer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=LicenseStatus.ACTIVE)
    buyer_name: Mapped[str] = mapped_column(String(80))
    price_amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    terms: Mapped[dict] = mapped_column(JSON)
    credits: Mapped[list] = mapped_column(JSON)
    # The split sheet version in force when it was sold (printed on the contract, the split sheet).
    split_version_id: Mapped[str | None] = mapped_column(ForeignKey("split_versions.id"), index=True)
    beat_snapshot: Mapped[dict] = mapped_column(JSON)
    contract_key: Mapped[str | None] = mapped_column(String(255))
    contract_template: Mapped[str | None] = mapped_column(String(40))
    contract_sha256: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoke_reason: Mapped[str | None] = mapped_column(String(200))
    # While the payment is disputed, the license stays but its files cannot be downloaded.
    frozen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # When this lessee was told the beat's exclusive rights were sold (told once only).
    exclusive_notice_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The signed certificate (a compact JWS), made once the delivered files are built; its key
    # stays published for as long as a certificate names it.
    certificate: Mapped[str | None] = mapped_column(Text)
    certificate_kid: Mapped[str | None] = mapped_column(ForeignKey("license_signing_keys.kid"))
    # The secret seed of the inaudible mark in this lease's delivered MP3, which names it in a
    # leaked copy (see audio/WATERMARK.md). None: delivered unmarked (exclusives, older sales).
    watermark_seed: Mapped[str | None] = mapped_column(String(64))

    # An upgrade names the license it replaced (and was priced on); that license names it back
    # while it stands. A refund of the upgrade clears superseded_by_id: the old one is in use again.
    upgrade_of_id: Mapped[str | None] = mapped_column(ForeignKey("licenses.id"))
    superseded_by_id: Mapped[str | None] = mapped_column(ForeignKey("licenses.id"))
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    files: Mapped[list[LicenseFile]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                    order_by="LicenseFile.kind")

    @property
    def standing(self) -> str:
        """active, superseded (by an upgrade) or revoked."""
        if self.status == LicenseStatus.ACTIVE and self.superseded_by_id is not None:
            return SUPERSEDED
        return self.status


class LicenseFile(Base):
    """A file delivered with a license, built by a background job from the master."""

    __tablename__ = "license_files"
    __table_args__ = (CheckConstraint(f"kind IN {DELIVERABLES}", name="kind"),)

    license_id: Mapped[str] = mapped_column(ForeignKey("licenses.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    # The beat's master or stems as they were at sale, which this file is built from and
    # delivers, whatever the beatmaker replaces later; the file stays stored while named here.
    source_file_id: Mapped[str | None] = mapped_column(ForeignKey("beat_files.id"),
                                                       index=True)
    key: Mapped[str | None] = mapped_column(String(255))
    filename: Mapped[str | None] = mapped_column(String(200))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)
    ready_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


FREE = "free"  # the kind of a free download's license


@dataclasses.dataclass(frozen=True)
class FreeFile:
    """The one file a free license delivers: a copy of the beat's tagged preview."""

    kind: str
    key: str | None
    filename: str | None
    sha256: str | None
    size: int | None


class FreeLicense(Base):
    """A free download's license: the tagged preview, for non-profit use only. Kept apart from
    sold licenses, so nothing that counts sales, pays sellers or guards the exclusive sees it;
    it answers to the same names as a License where the two are shown, verified and signed.
    One per account and beat: downloading again answers the same license."""

    __tablename__ = "free_licenses"
    __table_args__ = (
        UniqueConstraint("beat_id", "buyer_id"),
        CheckConstraint(sql_in(LicenseStatus, "status"), name="status"),
        CheckConstraint("(certificate IS NULL) = (certificate_kid IS NULL)", name="certificate_has_key"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("flic"))
    license_number: Mapped[str] = mapped_column(String(32), unique=True)
    beat_id: Mapped[str] = mapped_column(ForeignKey("beats.id"), index=True)
    buyer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=LicenseStatus.ACTIVE)
    buyer_name: Mapped[str] = mapped_column(String(80))
    currency: Mapped[str] = mapped_column(String(3))
    terms: Mapped[dict] = mapped_column(JSON)
    credits: Mapped[list] = mapped_column(JSON)
    beat_snapshot: Mapped[dict] = mapped_column(JSON)
    # The delivered copy of the tagged preview, stored apart so a later re-render changes nothing.
    file_key: Mapped[str | None] = mapped_column(String(255))
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    contract_key: Mapped[str | None] = mapped_column(String(255))
    contract_template: Mapped[str | None] = mapped_column(String(40))
    contract_sha256: Mapped[str | None] = mapped_column(String(64))
    certificate: Mapped[str | None] = mapped_column(Text)
    certificate_kid: Mapped[str | None] = mapped_column(ForeignKey("license_signing_keys.kid"))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    # What a License has and a free license never does: a price, upgrades, a dispute.
    kind = FREE
    price_amount = 0
    tier_id = None
    frozen_at = None
    upgrade_of_id = None
    superseded_by_id = None
    superseded_at = None

    @property
    def standing(self) -> str:
        return self.status

    @property
    def files(self) -> list[FreeFile]:
        return [FreeFile("mp3", self.file_key, self.file_name, self.file_sha256, self.file_size)]


class DownloadLog(Base):
    """Every download link handed out: who, which file, when, from where."""

    __tablename__ = "download_log"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("dl"))
    license_id: Mapped[str] = mapped_column(ForeignKey("licenses.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(8))
    client_address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


# A beat's listing shows its offers with their tiers' terms, so a change to either bumps the
# beat's listing revision (see catalog.models; marketplace.listeners registers these).

def offer_changed(_mapper: Mapper, _connection: Connection, offer: Offer) -> None:
    listing_changed(offer, Beat.__table__.c.id == offer.beat_id)


def tier_changed(_mapper: Mapper, _connection: Connection, tier: LicenseTier) -> None:
    offered_on = select(Offer.__table__.c.beat_id).where(Offer.__table__.c.tier_id == tier.id)
    listing_changed(tier, Beat.__table__.c.id.in_(offered_on))
