"""The development outbox: the .eml files the "log" backend writes, read back for people
(`flask mail list`, `flask mail show` and the development page at /_dev/mail)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import re
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path

from flask import current_app

# The transport names each file by the nanosecond it was written, so names sort by age.
_NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]*\.eml$")


class NoSuchMail(LookupError):
    """No mail in the outbox has this name."""


@dataclasses.dataclass(frozen=True)
class OutboxMail:
    name: str
    written_at: dt.datetime  # UTC
    to: str
    subject: str


def outbox_folder() -> Path:
    return Path(current_app.config["MAIL_OUTBOX_DIR"])


def list_mails(limit: int | None = None) -> list[OutboxMail]:
    """The newest mails first; only the headers of those listed are read."""
    folder = outbox_folder()
    if not folder.is_dir():
        return []
    paths = sorted((path for path in folder.glob("*.eml") if _NAME.match(path.name)),
                   key=lambda path: (_written_at(path), path.name), reverse=True)
    return [_summary(path) for path in paths[:limit]]


def read_mail(name: str) -> EmailMessage:
    """The whole message of the file `name` (a plain file name, never a path)."""
    path = outbox_folder() / name
    if not _NAME.match(name) or not path.is_file():
        raise NoSuchMail(f"There is no mail named {name!r} in the outbox ({outbox_folder()}).")
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def text_of(message: EmailMessage) -> str | None:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else None


def html_of(message: EmailMessage) -> str | None:
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else None


def _written_at(path: Path) -> dt.datetime:
    stem = path.stem
    if stem.isdigit() and len(stem) >= 18:  # nanoseconds since 1970
        return dt.datetime.fromtimestamp(int(stem) / 1e9, dt.timezone.utc)
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)


def _summary(path: Path) -> OutboxMail:
    with path.open("rb") as file:
        headers = BytesHeaderParser(policy=email.policy.default).parse(file)
    return OutboxMail(name=path.name, written_at=_written_at(path), to=str(headers["To"] or ""),
                      subject=str(headers["Subject"] or ""))
