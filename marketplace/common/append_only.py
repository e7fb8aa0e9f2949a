"""Tables whose rows are written once and never changed or removed (ledgers, logs).

`refuse_changes(Model, Error)` declares Model append-only: any flush that would update or
delete one of its rows, and any bulk UPDATE or DELETE of it through the ORM, raises Error. The
two session listeners below do the refusing; marketplace.listeners declares the models and
registers them when the app is created. On PostgreSQL, a trigger written by the table's
migration refuses the same whatever the client.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import ORMExecuteState, Session

_APPEND_ONLY: dict[type, type[Exception]] = {}


def refuse_changes(model: type, error: type[Exception]) -> None:
    _APPEND_ONLY[model] = error


def refuse_in_flush(session: Session, _context: Any, _instances: Any) -> None:
    """before_flush: refuse to update or delete a row of an append-only model."""
    for model, error in _APPEND_ONLY.items():
        if any(isinstance(obj, model) for obj in session.deleted):
            raise error(f"{model.__name__} rows cannot be deleted")
        if any(isinstance(obj, model) and session.is_modified(obj) for obj in session.dirty):
            raise error(f"{model.__name__} rows cannot be changed")


def refuse_in_bulk(state: ORMExecuteState) -> None:
    """do_orm_execute: refuse a bulk UPDATE or DELETE of an append-only model."""
    if not (state.is_update or state.is_delete):
        return
    for model, error in _APPEND_ONLY.items():
        if any(mapper.class_ is model for mapper in state.all_mappers):
            raise error(f"{model.__name__} rows cannot be changed or deleted")
