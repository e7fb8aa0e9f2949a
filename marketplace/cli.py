"""Operator commands: ``flask users ...`` and ``flask seed demo``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, UserStatus
from marketplace.db import db
from marketplace.errors import AppError

users_cli = AppGroup("users", help="Manage accounts.")
seed_cli = AppGroup("seed", help="Load demonstration data.")

# Demo accounts for a local store. Their passwords are public on purpose: `make run`
# serves on 127.0.0.1 only, and these accounts must never exist in production.
DEMO_ACCOUNTS = [
    ("admin@demo.test", "demo-admin-password", "Demo Admin", Role.ADMIN),
    ("beatmaker@demo.test", "demo-beatmaker-password", "Demo Beatmaker", Role.BEATMAKER),
    ("artist@demo.test", "demo-artist-password", "Demo Artist", Role.ARTIST),
]


@users_cli.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--display-name", default="Administrator", show_default=True)
@click.password_option(help="Prompted for (twice) when not given.")
def create_admin(email: str, display_name: str, password: str) -> None:
    """Create an administrator account (the only way admins are made)."""
    if len(password) < 10:
        raise click.UsageError("The password must be at least 10 characters long.")
    try:
        user = accounts.create_admin(email, password, display_name)
        db.session.commit()
    except AppError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"created admin {user.email} ({user.id})")


def _set_status(email: str, status: UserStatus) -> None:
    user = accounts.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"no account with email {email}")
    accounts.set_status(user, status)
    db.session.commit()
    click.echo(f"{user.email} is now {status}")


@users_cli.command("suspend")
@click.argument("email")
def suspend(email: str) -> None:
    """Suspend an account: its tokens stop working at once."""
    _set_status(email, UserStatus.SUSPENDED)


@users_cli.command("unsuspend")
@click.argument("email")
def unsuspend(email: str) -> None:
    """Lift a suspension."""
    _set_status(email, UserStatus.ACTIVE)


@seed_cli.command("demo")
def seed_demo() -> None:
    """Create the demo accounts once; print them with their passwords every time."""
    created = 0
    for email, password, name, role in DEMO_ACCOUNTS:
        if accounts.find_user_by_email(email) is None:
            accounts.create_user(email, password, name, role)
            created += 1
    db.session.commit()
    click.echo(f"demo accounts ({created} created now):")
    for email, password, _name, role in DEMO_ACCOUNTS:
        click.echo(f"  {role.value:<10} {email:<24} password: {password}")


def init_cli(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_cli)
