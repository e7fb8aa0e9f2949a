"""Tables whose rows are written once and never changed or removed (ledgers, logs).

`refuse_changes(Model, Error)` makes any flush that would update or delete a row of Model,
and any bulk UPDATE or DELETE through the ORM, raise Error. On PostgreSQL, a trigger written
by the table's migration refuses the same whatever the client.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session


def refuse_changes(model: type, error: type[Exception]) -> None:
    name = model.__name__

    def refuse_in_flush(session: Session, _context: Any, _instances: Any) -> None:
        if any(isinstance(obj, model) for obj in session.deleted):
            raise error(f"{name} rows cannot be deleted")
        if any(isinstance(obj, model) and session.is_modified(obj) for obj in session.dirty):
            raise error(f"{name} rows cannot be changed")

    def refuse_in_bulk(state: ORMExecuteState) -> None:
        if (state.is_update or state.is_delete) and any(mapper.class_ is model for mapper in state.all_mappers):
            raise error(f"{name} rows cannot be changed or deleted")

    event.listen(Session, "before_flush", refuse_in_flush)
    event.listen(Session, "do_orm_execute", refuse_in_bulk)
