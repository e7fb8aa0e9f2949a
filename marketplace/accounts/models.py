from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.common.clock import utcnow
from marketplace.common.ids import ID_LENGTH, new_id
from marketplace.db import Base, UTCDateTime, sql_in


class Role(enum.StrEnum):
    ARTIST = "artist"
    BEATMAKER = "beatmaker"
    ADMIN = "admin"


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


# The mails a person may turn off, each a `mail_<category>` switch on their account (see
# marketplace.mail.messages for which mail is in which).
MAIL_CATEGORIES = ("sale_notices", "marketing")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(sql_in(UserStatus, "status"), name="status"),
                      Index("uq_users_email_key", "email_key", unique=True),
                      Index("uq_users_handle_key", "handle_key", unique=True))

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True,
                                    default=lambda: new_id("usr"))
    # Stored normalised (NFKC, case-folded, IDNA domain), so uniqueness holds for every spelling.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # The address as a person sees it (accounts.emails.email_key); unique, so a look-alike of an
    # existing address is refused by the database too. Null only for accounts that collided
    # before it existed: they are listed in email_collisions for an admin to merge.
    email_key: Mapped[str | None] = mapped_column(String(320))
    display_name: Mapped[str] = mapped_column(String(80))
    # The public handle (`@name`, profiles.handles) as its owner wrote it, and its lower-case key
    # under a unique index, so two spellings of one handle can never belong to two people.
    handle: Mapped[str | None] = mapped_column(String(30))
    handle_key: Mapped[str | None] = mapped_column(String(30))
    password_hash: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=UserStatus.ACTIVE)
    # When the owner of the mailbox proved it, by the mailed link (or a password reset).
    email_verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # When the owner closed the account (privacy.closing): it is anonymised, and its status is
    # `suspended` for good, so whatever serves active accounts only (sign-in, the store) leaves it out.
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    # The mails its owner may turn off (MAIL_CATEGORIES); the others always go. Marketing is
    # asked for, never assumed.
    mail_sale_notices: Mapped[bool] = mapped_column(default=True, server_default=true())
    mail_marketing: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin")

    @property
    def roles(self) -> list[str]:
        return sorted(row.role for row in self.role_rows)

    def has_role(self, role: Role) -> bool:
        return any(row.role == role for row in self.role_rows)

    @property
    def is_active(self) -> bool:
        return self.status == UserStatus.ACTIVE

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (CheckConstraint(sql_in(Role, "role"), name="role"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(back_populates="role_rows")


class AccessToken(Base):
    """An opaque bearer token. Only its SHA-256 is stored: a leaked table grants nothing."""

    __tablename__ = "access_tokens"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True,
                                    default=lambda: new_id("tok"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # What the owner sees in their list of sessions, to tell a device of theirs from a thief's.
    user_agent: Mapped[str | None] = mapped_column(String(256))
    address: Mapped[str | None] = mapped_column(String(64))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")

    def is_usable(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


class PasswordResetLink(Base):
    """A link mailed to reset a password: single use, short-lived. Only the SHA-256 of its
    token is stored, as for access tokens. Asking again supersedes the earlier links."""

    __tablename__ = "password_reset_links"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True,
                                    default=lambda: new_id("prl"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Set when the link was used, or when a newer link or a completed reset made it void.
    spent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class EmailChangeRequest(Base):
    """A change of address waiting for its confirmation from the new mailbox. The link's token
    is made by the job that mails it, and only its SHA-256 stored (empty until then). Asking
    again, confirming, a password change or reset, or closing the account voids it."""

    __tablename__ = "email_change_requests"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("ecr"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    new_email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Set when it was confirmed, or voided.
    spent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class SignInAddress(Base):
    """An address an account signed in from with its password. While someone guesses the
    account's password from elsewhere, sign-ins from these addresses are never slowed down.
    The address is kept as a keyed hash: the table says nothing about where anyone was."""

    __tablename__ = "sign_in_addresses"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_signed_in_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_signed_in_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

class EmailCollision(Base):
    """An account whose address, once normalised, is the same mailbox as an older account's.
    Found when the normalisation arrived; an admin merges the two (`flask users collisions`)."""

    __tablename__ = "email_collisions"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id("ecl"))
    email_key: Mapped[str] = mapped_column(String(320), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    # The older account, which keeps the address.
    kept_user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    found_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
