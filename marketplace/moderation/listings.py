"""What admins browse: the report queue, beats (with what holds them out of the store), the
review queue, and the audit log with its CSV export. Pages are keyset-paginated by id (ids
are time-ordered), so rows added meanwhile never make a page repeat or skip one."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Select, func, or_, select

from marketplace.accounts.models import User, UserRole
from marketplace.catalog.models import Beat
from marketplace.common.clock import utcnow
from marketplace.common.pagination import Page, page_by_id
from marketplace.db import db
from marketplace.moderation.models import AuditEntry, BeatRestriction, Report, RestrictionCause


def _hours_ago(hours: int) -> dt.datetime:
    return utcnow() - dt.timedelta(hours=hours)


def report_queue(*, status: str | None = None, reason: str | None = None, beatmaker: str | None = None,
                 beat_id: str | None = None, samples: str | None = None, min_age_hours: int | None = None,
                 max_age_hours: int | None = None, cursor: str | None = None, limit: int = 50) -> Page:
    """Reports, oldest first (the order they are worked through)."""
    query = select(Report).join(Beat, Beat.id == Report.beat_id)
    conditions = [
        (status, lambda v: Report.status == v),
        (reason, lambda v: Report.reason == v),
        (beatmaker, lambda v: Beat.owner_id == v),
        (beat_id, lambda v: Report.beat_id == v),
        (samples, lambda v: Beat.samples == v),
        (min_age_hours, lambda v: Report.created_at <= _hours_ago(v)),
        (max_age_hours, lambda v: Report.created_at >= _hours_ago(v)),
    ]
    for value, condition in conditions:
        if value is not None:
            query = query.where(condition(value))
    return page_by_id(db.session, query, Report.id, cursor, limit, newest_first=False)


def beats_for_admin(*, q: str | None = None, status: str | None = None, samples: str | None = None,
                    beatmaker: str | None = None, held: str | None = None, cursor: str | None = None,
                    limit: int = 50) -> Page:
    """Beats in any status, newest first; `q` matches part of the title in any case, `held`
    keeps those held out for that cause."""
    query = select(Beat)
    if q:
        query = query.where(func.lower(Beat.title).contains(q.strip().lower(), autoescape=True))
    if status is not None:
        query = query.where(Beat.status == status)
    if samples is not None:
        query = query.where(Beat.samples == samples)
    if beatmaker is not None:
        query = query.where(Beat.owner_id == beatmaker)
    if held is not None:
        query = query.where(Beat.id.in_(select(BeatRestriction.beat_id).where(
            BeatRestriction.cause == held, BeatRestriction.lifted_at.is_(None))))
    return page_by_id(db.session, query, Beat.id, cursor, limit, newest_first=True)


def review_queue(*, state: str = "pending", cursor: str | None = None, limit: int = 50) -> Page:
    """Beats waiting for review (or refused), oldest first; each item is the review itself."""
    decided = BeatRestriction.rejected_at.is_not(None) if state == "rejected" else BeatRestriction.rejected_at.is_(None)
    query = select(BeatRestriction).where(BeatRestriction.cause == RestrictionCause.REVIEW,
                                          BeatRestriction.lifted_at.is_(None), decided)
    return page_by_id(db.session, query, BeatRestriction.id, cursor, limit, newest_first=False)


def users_for_admin(*, q: str | None = None, status: str | None = None, role: str | None = None,
                    cursor: str | None = None, limit: int = 50) -> Page:
    """Accounts, newest first; `q` matches part of the email or the display name, in any case."""
    query = select(User)
    if q:
        # autoescape: a typed % or _ is matched as itself, not as a wildcard
        needle = q.strip().lower()
        query = query.where(or_(User.email.contains(needle, autoescape=True),
                                func.lower(User.display_name).contains(needle, autoescape=True)))
    if status is not None:
        query = query.where(User.status == status)
    if role is not None:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    return page_by_id(db.session, query, User.id, cursor, limit, newest_first=True)


def restrictions_of(beat_ids: list[str]) -> dict[str, list[BeatRestriction]]:
    """The active restrictions of each beat, in one query."""
    found: dict[str, list[BeatRestriction]] = {beat_id: [] for beat_id in beat_ids}
    if beat_ids:
        for row in db.session.scalars(select(BeatRestriction).where(
                BeatRestriction.beat_id.in_(beat_ids), BeatRestriction.lifted_at.is_(None))
                .order_by(BeatRestriction.id)):
            found[row.beat_id].append(row)
    return found


# -- the audit log ------------------------------------------------------------------------

AUDIT_FILTERS = ("action", "actor_id", "actor_kind", "target_type", "target_id")


def _audit_query(filters: dict[str, Any]) -> Select[Any]:
    query = select(AuditEntry)
    for name in AUDIT_FILTERS:
        if filters.get(name) is not None:
            query = query.where(getattr(AuditEntry, name) == filters[name])
    if filters.get("since") is not None:
        query = query.where(AuditEntry.created_at >= filters["since"])
    if filters.get("until") is not None:
        query = query.where(AuditEntry.created_at < filters["until"])
    return query


def audit_page(filters: dict[str, Any], cursor: str | None, limit: int) -> Page:
    """Audit entries, newest first."""
    return page_by_id(db.session, _audit_query(filters), AuditEntry.id, cursor, limit, newest_first=True)


def named_entries(entries: Sequence[AuditEntry]) -> list[dict[str, Any]]:
    """The entries as documents that also name who acted and what it was done to, so a person
    reads "Ann Admin took down Night Drive" and not two ids. Names are read as they are now,
    in one query per kind of thing for the whole batch; a name that no longer exists is None.

    actor_name, actor_email: the admin who acted. target_name: a beat's title, an account's
    display name, or the title of the beat a report is about; target_email: an account's."""
    user_ids = {entry.actor_id for entry in entries if entry.actor_id}
    user_ids |= {entry.target_id for entry in entries if entry.target_type == "user"}
    report_ids = {entry.target_id for entry in entries if entry.target_type == "report"}
    reports = dict(db.session.execute(
        select(Report.id, Report.beat_id).where(Report.id.in_(report_ids))).all()) if report_ids else {}
    beat_ids = {entry.target_id for entry in entries if entry.target_type == "beat"} | set(reports.values())
    users = {row.id: row for row in db.session.execute(
        select(User.id, User.display_name, User.email).where(User.id.in_(user_ids)))} if user_ids else {}
    titles = dict(db.session.execute(select(Beat.id, Beat.title).where(Beat.id.in_(beat_ids))).all()
                  ) if beat_ids else {}

    def target_name(entry: AuditEntry) -> str | None:
        if entry.target_type == "user":
            return users[entry.target_id].display_name if entry.target_id in users else None
        if entry.target_type == "report":
            return titles.get(reports.get(entry.target_id, ""))
        return titles.get(entry.target_id) if entry.target_type == "beat" else None

    documents = []
    for entry in entries:
        actor = users.get(entry.actor_id) if entry.actor_id else None
        target_user = users.get(entry.target_id) if entry.target_type == "user" else None
        documents.append({**{column: getattr(entry, column) for column in ENTRY_FIELDS},
                          "actor_name": actor.display_name if actor else None,
                          "actor_email": actor.email if actor else None,
                          "target_name": target_name(entry),
                          "target_email": target_user.email if target_user else None})
    return documents


ENTRY_FIELDS = ("id", "created_at", "actor_kind", "actor_id", "action", "target_type", "target_id", "reason",
                "before", "after", "request_id")
# The ids stay, each followed by the name it stands for.
CSV_COLUMNS = ("id", "created_at", "actor_kind", "actor_id", "actor_name", "actor_email", "action",
               "target_type", "target_id", "target_name", "target_email", "reason", "before", "after",
               "request_id")
CSV_BATCH = 500


def _cell(value: Any) -> str:
    """A CSV cell. Text a spreadsheet would run as a formula is quoted with a leading
    apostrophe (reasons are typed by people, and people type '=' too)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        value = json.dumps(value, sort_keys=True, ensure_ascii=False)
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def audit_csv(filters: dict[str, Any]) -> Iterator[str]:
    """The matching entries as CSV, oldest first, produced a chunk at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    statement = _audit_query(filters).order_by(AuditEntry.id).execution_options(yield_per=CSV_BATCH)
    for batch in db.session.scalars(statement).partitions(CSV_BATCH):
        for entry in named_entries(batch):
            writer.writerow([_cell(entry[column]) for column in CSV_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
