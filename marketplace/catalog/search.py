"""Search and browse over published beats, with keyset (cursor) pagination.

Each sort orders by one key and the beat id as a tiebreak, and the cursor carries the last
row's (key, id). The next page starts strictly after it, so rows inserted meanwhile can
never make a page repeat or skip a beat. Text search uses PostgreSQL's full text search
(a GIN-indexed tsvector built from ``search_document``) or SQLite's FTS5.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import functools
import json
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, bindparam, exists, func, literal_column, select, text, tuple_

from marketplace.accounts.models import User
from marketplace.catalog.documents import beat_document, offers_for
from marketplace.catalog.models import (
    PRICE_ASC_WHEN_MISSING,
    PRICE_DESC_WHEN_MISSING,
    Beat,
    BeatCredit,
    BeatTag,
)
from marketplace.db import db
from marketplace.errors import ValidationFailed

MAX_SEARCH_TERMS = 10
# Tables and columns that only exist in one backend and are built by migrations, not models.
DATABASE_ONLY_OBJECTS = {"search_vector", "ix_beats_search_vector", "beats_fts"}


@dataclasses.dataclass(frozen=True)
class Sort:
    key: Callable[[], ColumnElement[Any]]
    descending: bool
    parse_key: Callable[[Any], Any]
    dump_key: Callable[[Any], Any]


def _parse_time(value: Any) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("naive time in cursor")
    return parsed.astimezone(dt.timezone.utc)  # raises OverflowError at the edges of time


def _as_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
        raise ValueError("not a 64-bit integer")
    return value


def _price_or(missing: int) -> ColumnElement[Any]:
    # A literal, not a parameter, so the expression matches the listing index's exactly.
    return func.coalesce(Beat.price_from_amount, literal_column(str(missing)))


SORTS: dict[str, Sort] = {
    "newest": Sort(lambda: Beat.published_at, True, _parse_time, lambda v: v.isoformat()),
    "popular": Sort(lambda: Beat.play_count, True, _as_int, int),
    "price_asc": Sort(lambda: _price_or(PRICE_ASC_WHEN_MISSING), False, _as_int, int),
    "price_desc": Sort(lambda: _price_or(PRICE_DESC_WHEN_MISSING), True, _as_int, int),
    "bpm": Sort(lambda: Beat.bpm, False, _as_int, int),
}


class InvalidCursor(ValidationFailed):
    def __init__(self, reason: str) -> None:
        super().__init__("The cursor is not valid for this listing.", details={"cursor": [reason]})


@dataclasses.dataclass(frozen=True)
class BeatQuery:
    q: str | None = None
    genre: str | None = None
    mood: str | None = None
    key: str | None = None
    bpm_min: int | None = None
    bpm_max: int | None = None
    price_min: int | None = None
    price_max: int | None = None
    tag: str | None = None
    beatmaker: str | None = None
    sort: str = "newest"
    cursor: str | None = None
    limit: int = 20


@dataclasses.dataclass(frozen=True)
class BeatPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(sort_name: str, key_value: Any, beat_id: str) -> str:
    raw = json.dumps({"s": sort_name, "k": SORTS[sort_name].dump_key(key_value), "id": beat_id},
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(sort_name: str, cursor: str) -> tuple[Any, str]:
    """The (key, id) a cursor carries, or InvalidCursor if it is not one of ours for this sort."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("s") != sort_name:
            raise InvalidCursor("This cursor belongs to another sort or is not a cursor.")
        beat_id = data["id"]
        if not isinstance(beat_id, str) or len(beat_id) > 64:
            raise InvalidCursor("This cursor is damaged.")
        return SORTS[sort_name].parse_key(data["k"]), beat_id
    except InvalidCursor:
        raise
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError,
            ValueError, OverflowError):
        raise InvalidCursor("This cursor is damaged.") from None


def search_terms(q: str) -> list[str]:
    """Words of a query: letters and digits only, so no query syntax can be injected."""
    return re.findall(r"\w+", q.casefold())[:MAX_SEARCH_TERMS]


def _text_match(terms: list[str]) -> ColumnElement[bool]:
    """Every word must match the start of a word of the title, tags or credited names."""
    if db.session.get_bind().dialect.name == "postgresql":
        tsquery = " & ".join(f"{term}:*" for term in terms)
        return literal_column("beats.search_vector").op("@@")(func.to_tsquery("simple", tsquery))
    fts_query = " AND ".join(f'"{term}"*' for term in terms)
    matching = select(literal_column("beat_id")).select_from(text("beats_fts")).where(
        text("beats_fts MATCH :fts_query").bindparams(fts_query=fts_query))
    return Beat.id.in_(matching)


# What a listing shows of each beat.
LISTING_COLUMNS = (
    Beat.id, Beat.title, Beat.description, Beat.status, Beat.bpm, Beat.musical_key, Beat.genre,
    Beat.mood, Beat.samples, Beat.version_of_id, Beat.duration_ms, Beat.play_count,
    Beat.price_from_amount, Beat.price_currency, Beat.failure_reason, Beat.created_at,
    Beat.published_at, Beat.sold_exclusive_at, Beat.owner_id, Beat.preview_key, Beat.waveform_key,
    Beat.preview_version, Beat.cover_key, Beat.stems_key, Beat.master_lossless,
    User.display_name.label("owner_name"),
)


class CreditRow(NamedTuple):
    position: int
    name: str
    user_id: str | None
    role: str
    profit_share_bps: int | None
    publishing_share_bps: int | None
    master_points_bps: int | None


@functools.cache
def _listing(sort_name: str, postgres: bool) -> Select[Any]:
    """The unfiltered listing for a sort, built once: statements are immutable, and building
    one with this many columns costs more than running it. Each beat's credits and tags come
    as JSON arrays beside it; the database computes them for the rows of the page only
    (PostgreSQL and SQLite evaluate such subqueries after the sort and limit)."""
    credits, tags = _json_aggregates(postgres, Beat.id)
    # Literal SQL for the status tests, so PostgreSQL matches the partial listing indexes
    # even in prepared (generic) plans.
    return (select(*LISTING_COLUMNS, SORTS[sort_name].key().label("sort_key"), credits.label("credits_json"),
                   tags.label("tags_json"))
            .join(User, User.id == Beat.owner_id)
            .where(text("beats.status = 'published'"), text("users.status = 'active'")))


def _filtered(query: BeatQuery) -> Select[Any]:
    statement = _listing(query.sort, db.session.get_bind().dialect.name == "postgresql")
    conditions = {
        "genre": lambda v: Beat.genre == v,
        "mood": lambda v: Beat.mood == v,
        "key": lambda v: Beat.musical_key == v,
        "bpm_min": lambda v: Beat.bpm >= v,
        "bpm_max": lambda v: Beat.bpm <= v,
        "price_min": lambda v: Beat.price_from_amount >= v,
        "price_max": lambda v: Beat.price_from_amount <= v,
        "beatmaker": lambda v: Beat.owner_id == v,
        "tag": lambda v: exists().where(BeatTag.beat_id == Beat.id, BeatTag.tag == v),
    }
    for field, condition in conditions.items():
        value = getattr(query, field)
        if value is not None:
            statement = statement.where(condition(value))
    terms = search_terms(query.q or "")
    if terms:
        statement = statement.where(_text_match(terms))
    return statement


def search_beats(query: BeatQuery) -> BeatPage:
    """One page of published beats as API documents: one SQL query for the beats with their
    owners, credits and tags, and one for the offers of those on sale, whatever the page size.
    This is the catalogue's hot path, so it reads plain rows and builds no ORM objects.
    """
    sort = SORTS[query.sort]
    key = sort.key()
    statement = _filtered(query)
    if query.cursor:
        after_key, after_id = decode_cursor(query.sort, query.cursor)
        position = tuple_(key, Beat.id)
        boundary = tuple_(_literal_like(key, after_key), _literal_like(Beat.id, after_id))
        statement = statement.where(position < boundary if sort.descending else position > boundary)
    order = [key.desc(), Beat.id.desc()] if sort.descending else [key.asc(), Beat.id.asc()]
    rows = db.session.execute(statement.order_by(*order).limit(query.limit + 1)).all()
    shown = rows[:query.limit]
    next_cursor = None
    if len(rows) > query.limit:
        next_cursor = encode_cursor(query.sort, shown[-1].sort_key, shown[-1].id)
    offers = offers_for(shown)
    items = [beat_document(row, row.owner_name, _credit_rows(row.credits_json),
                           [tag for _position, tag in sorted(_json(row.tags_json))], offers.get(row.id, []))
             for row in shown]
    return BeatPage(items=items, next_cursor=next_cursor)


def _json_aggregates(postgres: bool, beat_id: ColumnElement[str]) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """Each beat's credits and tags as JSON arrays of [position, ...] rows."""
    credit_fields = (BeatCredit.position, BeatCredit.name, BeatCredit.user_id, BeatCredit.role,
                     BeatCredit.profit_share_bps, BeatCredit.publishing_share_bps,
                     BeatCredit.master_points_bps)
    if postgres:
        aggregate, row = func.json_agg, func.json_build_array
    else:
        aggregate, row = func.json_group_array, func.json_array
    credits = (select(aggregate(row(*credit_fields))).where(BeatCredit.beat_id == beat_id)
               .scalar_subquery())
    tags = (select(aggregate(row(BeatTag.position, BeatTag.tag))).where(BeatTag.beat_id == beat_id)
            .scalar_subquery())
    return credits, tags


def _json(value: Any) -> list[Any]:
    """PostgreSQL's driver decodes JSON itself; SQLite hands over text."""
    if isinstance(value, str):
        return json.loads(value)
    return value or []


def _credit_rows(value: Any) -> list[CreditRow]:
    return sorted(CreditRow(*fields) for fields in _json(value))


def _literal_like(column: ColumnElement[Any], value: Any) -> ColumnElement[Any]:
    """A bound value typed like `column`, so times are stored-format on every backend."""
    return bindparam(None, value, type_=column.type)
