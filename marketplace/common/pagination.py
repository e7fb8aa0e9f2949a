"""Keyset (cursor) pagination: a listing is in a total order (its sort key, then the id as a
tiebreak) and each page starts strictly after the last row of the page before, so rows added
meanwhile never make a page repeat or skip a row. A page is fetched with one row more than it
shows: that row only tells that another page follows."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, tuple_
from sqlalchemy.orm import Session

Row = TypeVar("Row")


@dataclasses.dataclass(frozen=True)
class Page(Generic[Row]):
    items: list[Row]
    next_cursor: str | None

    def as_document(self, documents: Callable[[list[Row]], list[Any]] = list) -> dict[str, Any]:
        """The page as answers carry it (api.schemas.page_of), `documents` making its rows documents."""
        return {"items": documents(self.items), "next_cursor": self.next_cursor}


def after(keys: Sequence[ColumnElement[Any]], boundary: Sequence[Any],
          descending: bool) -> ColumnElement[bool]:
    """Rows strictly after `boundary` (the values of `keys` in the last row shown), in the order
    `in_order` gives."""
    position = tuple_(*keys) if len(keys) > 1 else keys[0]
    last = tuple_(*boundary) if len(boundary) > 1 else boundary[0]
    return position < last if descending else position > last


def in_order(keys: Sequence[ColumnElement[Any]], descending: bool) -> list[ColumnElement[Any]]:
    return [key.desc() if descending else key.asc() for key in keys]


def cut(rows: Sequence[Row], limit: int, cursor_of: Callable[[Row], str]) -> Page[Row]:
    """The page among `rows` (fetched with a limit of `limit` + 1), with the cursor of its last
    row when another page follows."""
    shown = list(rows[:limit])
    return Page(shown, cursor_of(shown[-1]) if len(rows) > limit else None)


def page_by_id(session: Session, statement: Select[Any], id_column: ColumnElement[str], cursor: str | None,
               limit: int, newest_first: bool) -> Page[Any]:
    """One page of the ORM rows of `statement` ordered by their (time-ordered) id; the cursor is
    the last id shown."""
    if cursor:
        statement = statement.where(after([id_column], [cursor], newest_first))
    rows = list(session.scalars(statement.order_by(*in_order([id_column], newest_first)).limit(limit + 1)))
    return cut(rows, limit, lambda row: row.id)
