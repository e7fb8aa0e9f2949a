"""Operator commands: ``flask users ...`` and ``flask seed demo``."""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from marketplace.accounts import services as accounts
from marketplace.accounts.models import EmailCollision, User
from marketplace.db import db
from marketplace.common.errors import AppError
from marketplace.moderation import users as moderation
from marketplace.moderation.audit import CLI

users_cli = AppGroup("users", help="Manage accounts.")
audio_cli = AppGroup("audio", help="Previews and waveforms.")
jobs_cli = AppGroup("jobs", help="Background jobs.")
seed_cli = AppGroup("seed", help="Load demonstration data.")
keys_cli = AppGroup("keys", help="The keys that sign license certificates.")
licenses_cli = AppGroup("licenses", help="Licenses: tracing a leaked recording to its license.")

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


@users_cli.command("collisions")
def collisions() -> None:
    """List accounts whose addresses are the same mailbox once normalised, for an admin to merge."""
    rows = list(db.session.scalars(select(EmailCollision)
                                   .order_by(EmailCollision.email_key, EmailCollision.found_at)))
    if not rows:
        click.echo("No accounts share a mailbox.")
        return
    by_kept: dict[str, list[EmailCollision]] = {}
    for row in rows:
        by_kept.setdefault(row.kept_user_id, []).append(row)
    for kept_id, group in by_kept.items():
        kept = db.session.get(User, kept_id)
        click.echo(f"{group[0].email_key}: keeps {_account_line(kept)}")
        for row in group:
            click.echo(f"  also {_account_line(db.session.get(User, row.user_id))}")
    click.echo(f"{len(rows)} account(s) to merge into the account that keeps the address.")


def _account_line(user: User) -> str:
    return f"{user.email} ({user.id}, {user.display_name}, created {user.created_at:%Y-%m-%d}, {user.status})"


def _moderate(email: str, change: Callable[[User], list[str]]) -> tuple[User, int]:
    """Apply a moderation change to the account with this email, as the operator (audited)."""
    user = accounts.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"no account with email {email}")
    try:
        beats_moved = change(user)
        db.session.commit()
    except AppError as error:
        raise click.ClickException(error.message) from None
    return user, len(beats_moved)


@users_cli.command("suspend")
@click.argument("email")
@click.option("--reason", default="Suspended by an operator.", show_default=True)
def suspend(email: str, reason: str) -> None:
    """Suspend an account: its tokens stop working at once, its beats leave the store."""
    user, hidden = _moderate(email, lambda user: moderation.suspend(user, CLI, reason))
    click.echo(f"{user.email} is now suspended; {hidden} beats left the store")


@users_cli.command("unsuspend")
@click.argument("email")
@click.option("--reason", default=None, help="Why, for the audit log.")
def unsuspend(email: str, reason: str | None) -> None:
    """Lift a suspension: the beats it hid come back."""
    user, restored = _moderate(email, lambda user: moderation.unsuspend(user, CLI, reason))
    click.echo(f"{user.email} is now active; {restored} beats are back in the store")


@seed_cli.command("demo")
@click.option("--reset", is_flag=True,
              help="Start over: remove every account, beat, order and stored file first.")
def seed_demo(reset: bool) -> None:
    """Fill a local store: demo accounts, beatmakers with their tags, published beats with
    credits, covers and offers, a coupon, reports for the admin queue. Run again, it makes only
    what is missing, whatever happened in the store since. Prints the accounts with their
    passwords every time."""
    from marketplace.demo import catalogue, reset as demo_reset, seed  # noqa: PLC0415

    if current_app.config["ENV_NAME"] not in ("development", "testing"):
        raise click.ClickException("Demo accounts have public passwords: they are for development only.")
    if reset:
        click.echo(f"Starting over: {demo_reset.start_over()}")
    app = current_app._get_current_object()
    with _jobs_run_here(app), tempfile.TemporaryDirectory(prefix="demo-") as folder:
        made, failed = _run_steps(seed.steps(), Path(folder))
    click.echo(f"demo store ready: {len(catalogue.DEMO_BEATS)} beats; "
               f"made now: {', '.join(made) or 'nothing'}")
    for label, reason in failed:
        click.echo(f"  could not make {label}: {reason}")
    for note in seed.beats_out_of_the_store():
        click.echo(f"  not in the store: {note}")
    if failed or seed.beats_out_of_the_store():
        click.echo("  (the store is used as it is; `make reset` starts the demo store over)")
    click.echo("demo accounts:")
    for account in catalogue.DEMO_ACCOUNTS:
        click.echo(f"  {account.role.value:<10} {account.email:<22} password: {account.password}")


def _run_steps(steps, folder: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """Run the steps under a progress bar, committing each. Returns the labels of those that
    made something, and those that could not, with why: one step that fails (a demo account
    an admin suspended, say) leaves the others to run, and the store is served as it is."""
    made, failed = [], []
    with click.progressbar(steps, label="Building the demo store", show_pos=True,
                           item_show_func=lambda step: step.label if step else "") as progress:
        for step in progress:
            try:
                if step.run(folder):
                    made.append(step.label)
                db.session.commit()  # for a beat, this is when its preview is rendered
            except (AppError, LookupError) as error:
                db.session.rollback()
                failed.append((step.label, str(getattr(error, "message", error))))
            # The render ran in a session of its own: start afresh rather than read stale rows.
            db.session.remove()
    return made, failed


@contextlib.contextmanager
def _jobs_run_here(app: Flask) -> Iterator[None]:
    """Background jobs run at each commit, in this process, so the progress bar follows the
    real work and the command ends with every preview rendered. Their routine log lines are
    kept off the terminal, where they would break the progress bar."""
    from marketplace.jobs.queue import InProcessRunner  # noqa: PLC0415

    runner, jobs_log = app.extensions["job_runner"], logging.getLogger("marketplace.jobs")
    level = jobs_log.level
    app.extensions["job_runner"] = InProcessRunner(app, threads=0, max_retries=0, backoff_seconds=0)
    jobs_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        app.extensions["job_runner"] = runner
        jobs_log.setLevel(level)


@audio_cli.command("reprocess")
@click.argument("beat_id", required=False)
@click.option("--all", "every_beat", is_flag=True, help="Every beat that has a master.")
def reprocess(beat_id: str | None, every_beat: bool) -> None:
    """Render previews and waveforms again, here and now, with a progress bar."""
    from marketplace.catalog import tasks  # noqa: PLC0415

    if bool(beat_id) == every_beat:
        raise click.UsageError("Give one BEAT_ID or --all.")
    try:
        beat_ids = tasks.beats_to_reprocess(None if every_beat else beat_id)
    except LookupError as missing:
        raise click.ClickException(str(missing)) from None
    db.session.commit()
    failures = 0
    with click.progressbar(beat_ids, label="Rendering previews", show_pos=True,
                           item_show_func=lambda item: item or "") as progress:
        for item in progress:
            tasks.render_preview_job(item)
            db.session.remove()
            failures += tasks.is_failed(item)
    click.echo(f"rendered {len(beat_ids) - failures} of {len(beat_ids)} beats"
               + (f"; {failures} failed (see failure_reason)" if failures else ""))


@jobs_cli.command("sweep")
def sweep() -> None:
    """Run every periodic job now: re-queue work a crash left unfinished (previews stuck in
    processing, contracts and files of licenses). They also run every few minutes."""
    from marketplace.jobs.queue import JOBS, PERIODIC  # noqa: PLC0415

    from marketplace.jobs.queue import RetryLater  # noqa: PLC0415

    for name in sorted(PERIODIC):
        try:
            click.echo(f"{name}: {JOBS[name]()} handled")
        except RetryLater as reason:
            click.echo(f"{name}: postponed ({reason})")


@keys_cli.command("rotate")
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Use this Ed25519 private key (PEM or JWK) instead of making a new one.")
def rotate_keys(key_file: Path | None) -> None:
    """Sign new certificates with a new key. The key before is retired: it signs no more and
    stays published, so every certificate it signed still verifies. The new key's file is
    written to the keys folder (mode 600); every server that signs needs a copy."""
    from marketplace.licensing import keys  # noqa: PLC0415

    try:
        new, retired = keys.rotate(key_file)
        db.session.commit()
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:  # a read-only or missing keys folder: nothing changed
        raise click.ClickException(f"cannot save the new key in {keys.keys_folder()}: {error.strerror}; "
                                   "nothing was changed") from None
    except AppError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"signing with {new.kid} (saved in {keys.keys_folder()})")
    if retired is not None:
        click.echo(f"retired {retired.kid}: still published, its certificates still verify")


@keys_cli.command("list")
def list_keys() -> None:
    """The published keys: the active one first, then the retired ones."""
    from marketplace.licensing import keys  # noqa: PLC0415

    rows = keys.published_keys()
    db.session.commit()
    for row in rows:
        since = f", retired {row.retired_at:%Y-%m-%d %H:%M} UTC" if row.retired_at else ""
        click.echo(f"{row.kid}  {row.state}  (made {row.created_at:%Y-%m-%d %H:%M} UTC{since})")


@licenses_cli.command("trace")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def trace_recording(path: Path) -> None:
    """Name the license a leaked recording was delivered under (number, buyer, date, confidence),
    or say that no mark was found."""
    from marketplace.licensing import tracing  # noqa: PLC0415

    try:
        trace = tracing.trace_file(path)
    except AppError as error:
        raise click.ClickException(error.message) from None
    finally:
        db.session.rollback()
    if not trace.found:
        recognised = f" (the beat \"{trace.beat_title}\" is recognised, z = {trace.z_score})" if trace.beat_title else ""
        click.echo(f"no mark found{recognised}")
        return
    lic = trace.license
    click.echo(f"license {lic.license_number}\nbuyer {lic.buyer_name} ({lic.buyer_id})\n"
               f"issued {lic.issued_at:%Y-%m-%d %H:%M} UTC\nbeat {trace.beat_title}\n"
               f"confidence {_confidence_text(trace.chance)} (z = {trace.z_score}, "
               f"starts {trace.offset_seconds} s into the master)")


def _confidence_text(chance: float) -> str:
    """"99.9999%" down to a chance of one in a million, then the chance itself."""
    if chance >= 1e-6:
        return f"{100 * (1 - chance):.4f}%"
    return f"over 99.9999% (chance of a false match {chance:.1e})" if chance > 1e-300 else \
        "over 99.9999% (chance of a false match below 1e-300)"


def init_cli(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(audio_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(seed_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(licenses_cli)
    from marketplace.payments.sandbox.cli import sandbox_cli  # noqa: PLC0415

    app.cli.add_command(sandbox_cli)
    from marketplace.payouts.cli import payouts_cli  # noqa: PLC0415

    app.cli.add_command(payouts_cli)
    from marketplace.mail.cli import mail_cli  # noqa: PLC0415

    app.cli.add_command(mail_cli)
