from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.common.clock import utcnow
from marketplace.db import Base, UTCDateTime


class ProducerProfile(Base):
    """What a person shows on their public page beyond their name and handle (kept on users,
    where listings read them)."""

    __tablename__ = "producer_profiles"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    bio: Mapped[str] = mapped_column(Text, default="")
    links: Mapped[list] = mapped_column(JSON, default=list)
    # The stored key of the large avatar rendition; the small one sits beside it.
    avatar_key: Mapped[str | None] = mapped_column(String(255))
    # Bumped at every new avatar, so its URL changes and caches never show the old one.
    avatar_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
