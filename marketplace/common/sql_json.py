"""Building blocks for JSON documents built by PostgreSQL itself (json_build_object), so a hot
listing can send the database's text as its answer. Each matches what the Python builders
write for the same value: the same keys in the same order, times as datetime.isoformat()."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, String, case, func, literal_column


def sql_string(value: str) -> ColumnElement[str]:
    """A string constant written into the statement (json_build_object cannot type a parameter)."""
    return literal_column("'" + value.replace("'", "''") + "'", type_=String)


def json_object(fields: Mapping[str, Any]) -> ColumnElement[Any]:
    """A JSON object of these fields, in this order."""
    arguments: list[Any] = []
    for name, value in fields.items():
        arguments += [sql_string(name), value]
    return func.json_build_object(*arguments)


def json_list(aggregate: ColumnElement[Any]) -> ColumnElement[Any]:
    """A json_agg that gives an empty array, not NULL, when there is nothing to aggregate."""
    return func.coalesce(aggregate, literal_column("'[]'::json"))


def json_time(value: ColumnElement[Any]) -> ColumnElement[Any]:
    """A timestamp in UTC as Python's isoformat() writes an aware one: microseconds only when
    there are some, and "+00:00"."""
    utc = func.timezone(sql_string("UTC"), value)
    microseconds = func.to_char(utc, sql_string("US"), type_=String)
    fraction = case((microseconds == sql_string("000000"), sql_string("")),
                    else_=func.concat(sql_string("."), microseconds))
    return case((value.is_(None), None), else_=func.concat(
        func.to_char(utc, sql_string('YYYY-MM-DD"T"HH24:MI:SS')), fraction, sql_string("+00:00")))


def sql_lookup(value: ColumnElement[Any], mapping: Mapping[Any, str]) -> ColumnElement[Any]:
    """The mapping's string for the value (NULL for any other)."""
    return case(*((value == sql_string(str(key)), sql_string(text)) for key, text in mapping.items()), else_=None)
