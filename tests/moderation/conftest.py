"""Fixtures for moderation: an admin, a beatmaker with published beats, people who report,
and readers of the audit log and the outbox."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.db import db
from marketplace.moderation.models import AuditEntry
from tests.catalog.conftest import make_beat  # noqa: F401
from tests.checkout.conftest import (  # noqa: F401
    checkout,
    new_buyer,
    order_of,
    outbox,
    payments,
    session_of,
    shop,
)
from tests.licensing.conftest import (  # noqa: F401
    buyer,
    masters,
    offer_all,
    sell,
    seller,
    tiers_of,
    upload_beat,
)


@pytest.fixture
def admin(make_user, headers_for):
    user_id = make_user(Role.ADMIN, "Admin")
    return user_id, headers_for(user_id)


@pytest.fixture
def admin_headers(admin):
    return admin[1]


@pytest.fixture
def owner(seller):  # noqa: F811
    """A beatmaker: (user id, headers)."""
    return seller


@pytest.fixture
def artist(buyer):  # noqa: F811
    """An artist: (user id, headers)."""
    return buyer


@pytest.fixture
def report(client):
    """Files a report; returns the response."""

    def file(beat_id, headers, reason="copyright", details="This is my beat, released in 2021."):
        return client.post(f"/api/v1/beats/{beat_id}/reports", json={"reason": reason, "details": details},
                           headers=headers)

    return file


@pytest.fixture
def audit_entries(app):
    """The audit log's rows (oldest first), as dicts, filtered by equality on columns."""

    def entries(**where):
        with app.app_context():
            query = select(AuditEntry).order_by(AuditEntry.id)
            for column, value in where.items():
                query = query.where(getattr(AuditEntry, column) == value)
            return [{column.name: getattr(entry, column.name) for column in AuditEntry.__table__.columns}
                    for entry in db.session.scalars(query)]

    return entries


def listed(client) -> list[str]:
    """The ids of the beats the public listing shows."""
    return [beat["id"] for beat in client.get("/api/v1/beats?limit=100").json["items"]]


def mails_to(sent, email_fragment: str, subject_fragment: str) -> list[str]:
    """Emails from `sent` (the outbox fixture) to this address with this subject."""
    return [mail for mail in sent() if email_fragment in mail and subject_fragment in mail]
