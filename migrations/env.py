"""Alembic environment: runs against the app's engine, handed over by marketplace.migrate."""

from __future__ import annotations

from alembic import context

from marketplace.models import metadata


def run_migrations() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:
        from marketplace import create_app  # noqa: PLC0415 - only for a bare `alembic` call
        from marketplace.db import db  # noqa: PLC0415

        with create_app().app_context():
            engine = db.engine
            _run(engine)
        return
    _run(engine)


def _run(engine) -> None:
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            # SQLite cannot ALTER most things; batch mode copies the table instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported; run them against a database.")
run_migrations()
