"""Search and browse over the beats on sale, with keyset (cursor) pagination.

Each sort orders by one key and the beat id as a tiebreak, and the cursor carries the last
row's (key, id). The next page starts strictly after it, so rows inserted meanwhile can
never make a page repeat or skip a beat. Text search uses PostgreSQL's full text search
(a GIN-indexed tsvector built from ``search_document``) or SQLite's FTS5.
"""

from __future__ import annotations

import base64
import binascii
import collections
import contextlib
import dataclasses
import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import orjson

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    Text,
    bindparam,
    cast,
    exists,
    false,
    func,
    literal_column,
    select,
    text,
)

from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.orm import aliased

from marketplace.accounts.models import User
from marketplace.catalog.documents import OfferSource, beat_document, listed_beat_json, offer_source
from marketplace.catalog.listing_cache import ListedBeat, listing_cache
from marketplace.catalog.models import (
    PRICE_ASC_WHEN_MISSING,
    PRICE_DESC_WHEN_MISSING,
    TAG_MAX_LENGTH,
    Beat,
    BeatCredit,
    BeatTag,
)
from marketplace.common.pagination import Page, after, cut, in_order
from marketplace.db import db
from marketplace.common.errors import ValidationFailed

MAX_SEARCH_TERMS = 10
# Tables and columns that only exist in one backend and are built by migrations, not models.
DATABASE_ONLY_OBJECTS = {"search_vector", "ix_beats_search_vector", "beats_fts", "ix_beats_tags"}


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


def _text_query(terms: list[str], postgres: bool) -> str:
    """Every word must match the start of a word of the title, genre, mood, tags or credited names."""
    if postgres:
        return " & ".join(f"{term}:*" for term in terms)
    return " AND ".join(f'"{term}"*' for term in terms)


def _text_match(postgres: bool) -> ColumnElement[bool]:
    """The beat matches the `text_query` parameter (see _text_query)."""
    if postgres:
        return literal_column("beats.search_vector").op("@@")(
            func.to_tsquery("simple", bindparam("text_query", type_=String)))
    matching = select(literal_column("beat_id")).select_from(text("beats_fts")).where(
        text("beats_fts MATCH :text_query"))
    return Beat.id.in_(matching)


# The filters of a listing, each given the parameter that carries its value.
FILTERS: dict[str, Callable[[Any], ColumnElement[bool]]] = {
    "genre": lambda value: Beat.genre == value,
    "mood": lambda value: Beat.mood == value,
    "key": lambda value: Beat.musical_key == value,
    "bpm_min": lambda value: Beat.bpm >= value,
    "bpm_max": lambda value: Beat.bpm <= value,
    "price_min": lambda value: Beat.price_from_amount >= value,
    "price_max": lambda value: Beat.price_from_amount <= value,
    "beatmaker": lambda value: Beat.owner_id == value,
    "tag": lambda value: exists().where(BeatTag.beat_id == Beat.id, BeatTag.tag == value),
}


def _filter(name: str, postgres: bool) -> ColumnElement[bool]:
    """The filter `name` on its parameter. On PostgreSQL the tag filter reads the beat's own
    tags array (GIN-indexed): while the listing walks a sort's index it tests each beat's row
    as it goes, with no lookup in beat_tags per beat, and a rare tag is found through the index."""
    if name == "tag" and postgres:
        wanted = cast(array([bindparam("tag", type_=String)]), ARRAY(String(TAG_MAX_LENGTH)))  # as the column
        return Beat.tag_list.op("@>", is_comparison=True)(wanted)
    return FILTERS[name](bindparam(name))

# What a listing's document of a beat is built from.
LISTING_COLUMNS = (
    Beat.id, Beat.title, Beat.description, Beat.status, Beat.bpm, Beat.musical_key, Beat.genre,
    Beat.mood, Beat.samples, Beat.version_of_id, Beat.duration_ms, Beat.play_count,
    Beat.price_from_amount, Beat.price_currency, Beat.failure_reason, Beat.created_at,
    Beat.published_at, Beat.sold_exclusive_at, Beat.owner_id, Beat.preview_key, Beat.waveform_key,
    Beat.preview_version, Beat.cover_key, Beat.stems_key, Beat.master_lossless, Beat.listing_revision,
    Beat.tag_list, Beat.free_download,
    User.display_name.label("owner_name"), User.handle.label("owner_handle"),
)


class CreditRow(NamedTuple):
    position: int
    name: str
    user_id: str | None
    role: str
    profit_share_bps: int | None
    publishing_share_bps: int | None
    master_points_bps: int | None
    handle: str | None
    status: str
    pro: str | None
    ipi: str | None
    invitation_id: str | None


def listed_beats() -> Select[Any]:
    """Published beats of active beatmakers that are on sale: a beat without an active offer
    (licensing keeps its listing price empty then) stays published, and reachable at its
    address, but is neither listed nor found until it is offered again. Literal SQL for the
    status tests, so PostgreSQL matches the partial listing indexes even in prepared
    (generic) plans."""
    return (select().select_from(Beat).join(User, User.id == Beat.owner_id)
            .where(text("beats.status = 'published'"), text("users.status = 'active'"),
                   text("beats.price_from_amount IS NOT NULL")))


@functools.lru_cache(maxsize=1024)
def _page(sort_name: str, filters: tuple[str, ...], text_search: bool, after_cursor: bool, postgres: bool,
          offers: OfferSource | None) -> Select[Any]:
    """A page's statement for one shape of query, built once: every value is a bound
    parameter (the FILTERS' names, text_query, after_key and after_id, limit), so each run
    only binds them. Statements are immutable, and building one costs more than running it.

    It finds the page's beats with what changes without their listing revision: the play
    count, and whether a checkout holds the exclusive (the database evaluates that for the
    rows of the page only, after the sort and limit).
    """
    sort = SORTS[sort_name]
    key = sort.key()
    held = offers.held_column() if offers else false()
    statement = listed_beats().add_columns(Beat.id, key.label("sort_key"), Beat.listing_revision,
                                           Beat.play_count, held.label("held"))
    for name in filters:
        statement = statement.where(_filter(name, postgres))
    if text_search:
        statement = statement.where(_text_match(postgres))
    if after_cursor:
        boundary = (bindparam("after_key", type_=key.type), bindparam("after_id", type_=Beat.id.type))
        statement = statement.where(after((key, Beat.id), boundary, sort.descending))
    order = in_order((key, Beat.id), sort.descending)
    return statement.order_by(*order).limit(bindparam("limit", type_=Integer))


@functools.lru_cache(maxsize=8)
def _documents_source(postgres: bool, offers: OfferSource | None) -> Select[Any]:
    """What the documents of some listed beats (the `ids` parameter) are built from: the
    beats with their owners and tags, and their credits and offers as JSON arrays beside them."""
    columns = [*LISTING_COLUMNS, _credits_aggregate(postgres, Beat.id).label("credits_json")]
    if offers:
        columns.append(offers.column(postgres).label("offers_json"))
    return listed_beats().add_columns(*columns).where(Beat.id.in_(bindparam("ids", expanding=True)))


@functools.lru_cache(maxsize=8)
def _row_type(statement: Select[Any]) -> type[tuple[Any, ...]]:
    """Plain named tuples for a statement's rows: a field of one reads several times faster
    than a field of a Row, and documents read some thirty fields of every row."""
    return collections.namedtuple("ListingRow", [column.key for column in statement.selected_columns])


@contextlib.contextmanager
def _reading() -> Iterator[Connection]:
    """A connection for a listing. It only reads, so on PostgreSQL it runs outside any
    transaction: no BEGIN and ROLLBACK round trips, and the driver keeps the statements it
    prepared (a rollback discards them)."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


def _query_parameters(query: BeatQuery, postgres: bool) -> tuple[dict[str, Any], bool]:
    """The statement parameters of a query (but its limit), and whether it searches text."""
    params: dict[str, Any] = {name: getattr(query, name) for name in FILTERS if getattr(query, name) is not None}
    terms = search_terms(query.q or "")
    if terms:
        params["text_query"] = _text_query(terms, postgres)
    if query.cursor:
        params["after_key"], params["after_id"] = decode_cursor(query.sort, query.cursor)
    return params, bool(terms)


def _shape(query: BeatQuery, params: dict[str, Any], text_search: bool) -> tuple[str, tuple[str, ...], bool, bool]:
    """What a query's statement is built from: its sort, filters, text search and cursor."""
    return query.sort, tuple(name for name in FILTERS if name in params), text_search, bool(query.cursor)


def listing_json(query: BeatQuery) -> bytes:
    """One page of published beats as the API's JSON answer ({"items", "next_cursor"}).

    On PostgreSQL in one SQL query, whatever the page size: the database finds the page and
    builds each beat's document as JSON text (documents.listed_beat_json), which is sent as
    it is, so nothing of a document is built or encoded in Python. Elsewhere, search_beats.
    """
    if db.engine.dialect.name != "postgresql":
        page = search_beats(query)
        return orjson.dumps(page.as_document())
    params, text_search = _query_parameters(query, True)
    statement = _page_with_documents(*_shape(query, params, text_search), offer_source())
    with _reading() as connection:
        rows = connection.execute(statement, {**params, "limit": query.limit + 1}).all()
    found = cut(rows, query.limit, lambda row: encode_cursor(query.sort, row.sort_key, row.id))
    items = ",".join(row.document for row in found.items)
    return f'{{"items":[{items}],"next_cursor":{json.dumps(found.next_cursor)}}}'.encode()


@functools.lru_cache(maxsize=1024)
def _page_with_documents(sort_name: str, filters: tuple[str, ...], text_search: bool, after_cursor: bool,
                         offers: OfferSource | None) -> Select[Any]:
    """A page's statement with its beats' documents as JSON text, on PostgreSQL, built once
    per shape of query (see _page). The documents are built for the page's rows only, after
    its sort and limit, with their play counts and holds as the page read them."""
    page = _page(sort_name, filters, text_search, after_cursor, True, offers).subquery("page")
    offers_json = offers.json_column(page.c.held) if offers else None
    document = cast(listed_beat_json(page.c.play_count, offers_json), Text)
    order = [page.c.sort_key, page.c.id]
    return (select(page.c.id, page.c.sort_key, document.label("document"))
            .select_from(page.join(Beat, Beat.id == page.c.id).join(User, User.id == Beat.owner_id))
            .order_by(*(column.desc() if SORTS[sort_name].descending else column.asc() for column in order)))


def search_beats(query: BeatQuery) -> Page[dict[str, Any]]:
    """One page of published beats as API documents built in Python, in two SQL queries at
    most whatever the page size: one finds the page, and one builds the documents of the beats
    on it that this process does not keep at their current revision (listing_cache.py). The
    listing's path where the database does not build them (listing_json). It runs statements
    built once per shape of query, reads plain rows and builds no ORM objects.
    """
    postgres = db.engine.dialect.name == "postgresql"
    offers = offer_source()
    params, text_search = _query_parameters(query, postgres)
    statement = _page(*_shape(query, params, text_search), postgres, offers)
    with _reading() as connection:
        rows = connection.execute(statement, {**params, "limit": query.limit + 1}).all()
        found = cut(rows, query.limit, lambda row: encode_cursor(query.sort, row.sort_key, row.id))
        listed = _listed_beats(connection, found.items, postgres, offers)
    items = [listed[row.id].shown(row.play_count, row.held) for row in found.items if row.id in listed]
    return Page(items, found.next_cursor)


def _listed_beats(connection: Connection, rows: list[Any], postgres: bool,
                  offers: OfferSource | None) -> dict[str, ListedBeat]:
    """The documents of a page's beats: kept ones at their revision, the others built now."""
    cache = listing_cache()
    listed: dict[str, ListedBeat] = {}
    for row in rows:
        entry = cache.get(row.id, row.listing_revision)
        if entry is not None:
            listed[row.id] = entry
    missing = [row.id for row in rows if row.id not in listed]
    if missing:
        # A beat changed since the page was found is built as it is now, under its new
        # revision; one no longer listed is left out of the page.
        for entry in _build(connection, missing, postgres, offers):
            cache.put(entry)
            listed[entry.beat_id] = entry
    return listed


def _build(connection: Connection, beat_ids: list[str], postgres: bool,
           offers: OfferSource | None) -> Iterator[ListedBeat]:
    statement = _documents_source(postgres, offers)
    make_row = _row_type(statement)._make
    for row in map(make_row, connection.execute(statement, {"ids": beat_ids})):
        offer_documents = offers.documents(row, row.offers_json) if offers else []
        document = beat_document(row, row.owner_name, _credit_rows(row.credits_json), _json(row.tags),
                                 offer_documents, row.owner_handle)
        held_offers = offers.withhold(offer_documents) if offers else offer_documents
        yield ListedBeat(row.id, row.listing_revision, document, held_offers)


def _credited_handle() -> ColumnElement[Any]:
    """The credited person's handle, when their account is active (others have no profile)."""
    credited = aliased(User)
    return (select(credited.handle).where(credited.id == BeatCredit.user_id, credited.status == "active")
            .scalar_subquery())


def _credits_aggregate(postgres: bool, beat_id: ColumnElement[str]) -> ColumnElement[Any]:
    """Each beat's credits as a JSON array of [position, ...] rows."""
    credit_fields = (BeatCredit.position, BeatCredit.name, BeatCredit.user_id, BeatCredit.role,
                     BeatCredit.profit_share_bps, BeatCredit.publishing_share_bps,
                     BeatCredit.master_points_bps, _credited_handle(), BeatCredit.status, BeatCredit.pro,
                     BeatCredit.ipi, BeatCredit.invitation_id)
    if postgres:
        aggregate, row = func.json_agg, func.json_build_array
    else:
        aggregate, row = func.json_group_array, func.json_array
    return select(aggregate(row(*credit_fields))).where(BeatCredit.beat_id == beat_id).scalar_subquery()


def _json(value: Any) -> list[Any]:
    """PostgreSQL's driver decodes JSON (and arrays) itself; SQLite hands over JSON as text."""
    if isinstance(value, str):
        return json.loads(value)
    return value or []


def _credit_rows(value: Any) -> list[CreditRow]:
    return sorted(CreditRow(*fields) for fields in _json(value))
