"""Alembic environment: runs against the app's engine, handed over by marketplace.migrate."""

from __future__ import annotations

import warnings

from alembic import context

from marketplace.models import include_in_schema_comparison, metadata


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
    # SQLite cannot reflect expression indexes; comparisons skip them there (PostgreSQL
    # compares them), so the warning is noise.
    warnings.filterwarnings("ignore", message=".*expression-based index")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            # SQLite cannot ALTER most things; batch mode copies the table instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_in_schema_comparison,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported; run them against a database.")
run_migrations()
