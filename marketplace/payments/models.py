from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.common.clock import utcnow
from marketplace.db import Base, UTCDateTime


class ProcessedEvent(Base):
    """One row per provider event handled. It is written in the same transaction as the
    event's work, so an event is either fully handled and recorded, or neither."""

    __tablename__ = "processed_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # the provider's event id
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
