"""Alembic, driven from the app: ``flask db upgrade``, ``revision``, ``downgrade``, ``check``."""

from __future__ import annotations

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy.engine import Engine

from config import PROJECT_ROOT
from marketplace.db import db

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def alembic_config(engine: Engine) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


db_cli = AppGroup("db", help="Database migrations (Alembic).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade_command(revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    upgrade(db.engine, revision)
    click.echo(f"database at {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
def downgrade_command(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. -1, or base)."""
    downgrade(db.engine, revision)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate/--empty", default=True,
              help="Compare the models with the database and write the difference.")
def revision_command(message: str, autogenerate: bool) -> None:
    """Write a new migration; review it before committing."""
    command.revision(alembic_config(db.engine), message=message, autogenerate=autogenerate)


@db_cli.command("current")
def current_command() -> None:
    """Show the revision the database is at."""
    command.current(alembic_config(db.engine), verbose=True)


@db_cli.command("check")
def check_command() -> None:
    """Fail if the models have changes no migration covers."""
    command.check(alembic_config(db.engine))
    click.echo("models and migrations agree")


def init_migrations(app: Flask) -> None:
    app.cli.add_command(db_cli)
