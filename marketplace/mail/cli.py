"""``flask mail list`` and ``flask mail show``: the development outbox from a terminal."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from marketplace.mail import outbox

mail_cli = AppGroup("mail", help="The mails written to the outbox folder (MAIL_BACKEND=log).")


@mail_cli.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1),
              help="How many of the newest mails to list.")
def list_outbox(limit: int) -> None:
    """List the newest mails in the outbox: when, to whom, the subject and the file name."""
    mails = outbox.list_mails(limit)
    if not mails:
        click.echo(f"The outbox is empty ({outbox.outbox_folder()}).")
        return
    for mail in mails:
        click.echo(f"{mail.written_at:%Y-%m-%d %H:%M:%S}  {mail.to}  {mail.subject}  {mail.name}")
    if current_app.config["MAIL_BACKEND"] != "log":
        click.echo("MAIL_BACKEND is not log: new mails go to the mail server, not here.")


@mail_cli.command("show")
@click.argument("name")
@click.option("--html", is_flag=True, help="Print the HTML part instead of the text.")
def show(name: str, html: bool) -> None:
    """Print one mail of the outbox (NAME as `flask mail list` shows it): headers, then its text."""
    try:
        message = outbox.read_mail(name)
    except outbox.NoSuchMail as error:
        raise click.ClickException(str(error)) from None
    for header in ("Date", "From", "Reply-To", "To", "Subject", "Message-ID"):
        if header in message:
            click.echo(f"{header}: {message[header]}")
    body = outbox.html_of(message) if html else outbox.text_of(message)
    click.echo("")
    click.echo(body if body is not None else f"(this mail has no {'HTML' if html else 'text'} part)")
