"""Database plumbing: the declarative base, the engine, and one session per app context.

Services use ``db.session`` and may flush, never commit. The edges (a request view, a
webhook, a background task) decide when the unit of work ends and commit it; whatever is
left uncommitted is rolled back when the app context ends.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import DateTime, MetaData, create_engine, event, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def sql_in(values: Iterable[enum.Enum], column: str) -> str:
    """SQL for a check constraint: `column` holds one of an enum's values."""
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python, on every backend.

    SQLite has no time zones, so values are stored as naive UTC there and made aware again
    when read. Naive values are refused: they are a bug waiting to happen.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use marketplace.common.clock.utcnow()")
        value = value.astimezone(dt.timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


def make_engine(url: str, echo: bool = False) -> Engine:
    """An engine with the settings each backend needs to behave like production."""
    if url.startswith("sqlite"):
        _make_sqlite_directory(url)
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            # One shared connection, or every session would see its own empty database.
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, echo=echo, **kwargs)
        event.listen(engine, "connect", _configure_sqlite_connection)
        event.listen(engine, "savepoint", _begin_before_first_savepoint)
        return engine
    engine = create_engine(url, echo=echo, pool_pre_ping=True)
    event.listen(engine, "connect", _plan_for_each_run)
    return engine


def _plan_for_each_run(dbapi_connection: Any, _record: Any) -> None:
    """Statements run outside a transaction (listings) stay prepared on their connection:
    psycopg prepares a statement run five times, and only a rollback discards it. PostgreSQL
    still plans each run for its own values, as for statements that are not prepared: a
    generic plan, made for no value in particular, can be far off for some (a rare search
    word looked for along the whole newest-first index)."""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    dbapi_connection.execute("SET plan_cache_mode = force_custom_plan")
    dbapi_connection.autocommit = autocommit


def _make_sqlite_directory(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")  # off by default in SQLite
    cursor.execute("PRAGMA journal_mode = WAL")  # readers do not block the writer
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.close()


def _begin_before_first_savepoint(connection: Any, _name: str | None) -> None:
    """The sqlite3 module begins a transaction only before a write, so a SAVEPOINT issued
    first would open a transaction of its own that its RELEASE commits. Begin one first.
    (Reads stay outside transactions until the first write, so concurrent writers wait on
    the busy timeout instead of failing on a stale snapshot.)"""
    dbapi_connection = connection.connection.dbapi_connection
    if not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN")


class Database:
    """Each app's engine, and a session per app context bound to the current app's engine.

    The engine lives on the app (not on this object), so several apps, say a test app and
    a migration check on another database, can exist side by side.
    """

    def __init__(self) -> None:
        self.session: scoped_session[Session] = scoped_session(_new_session,
                                                               scopefunc=_app_context_id)

    def init_app(self, app: Flask) -> None:
        app.extensions["database_engine"] = make_engine(app.config["DATABASE_URL"],
                                                        app.config.get("DATABASE_ECHO", False))

        @app.teardown_appcontext
        def end_session(_exc: BaseException | None) -> None:
            # Roll back whatever the edge did not commit. An explicit rollback (not just
            # close) runs the rollback hooks, which delete files stored for a refused request.
            try:
                self.session.rollback()
            finally:
                self.session.remove()

    @property
    def engine(self) -> Engine:
        return current_app.extensions["database_engine"]


def _new_session() -> Session:
    return Session(bind=current_app.extensions["database_engine"], expire_on_commit=False)


def _app_context_id() -> int:
    return id(g._get_current_object())


db = Database()


def add_unless_refused(row: object) -> bool:
    """Add `row` in a savepoint; False, with the session as it was, when a unique index refuses
    it. Races between requests are decided this way: the database lets one of them in."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return False
    return True
