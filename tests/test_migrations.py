"""The migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from marketplace.db import db
from marketplace.migrate import downgrade, upgrade
from marketplace.models import include_in_schema_comparison, metadata
from tests.conftest import make_test_app


def schema_differences(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": include_in_schema_comparison})
        return compare_metadata(context, metadata)


def test_migrated_database_matches_the_models(app):
    with app.app_context():
        assert schema_differences(db.engine) == []


def test_migrations_downgrade_to_nothing_and_upgrade_again(database_factory):
    app = make_test_app(database_factory())
    with app.app_context():
        engine = db.engine
        upgrade(engine)
        tables = set(inspect(engine).get_table_names())
        assert {"users", "user_roles", "access_tokens", "alembic_version"} <= tables
        downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert schema_differences(engine) == []
        engine.dispose()


def test_flask_db_commands(database_factory):
    app = make_test_app(database_factory())
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "database at head" in result.output
    check = runner.invoke(args=["db", "check"])
    assert check.exit_code == 0, check.output
    assert "models and migrations agree" in check.output
