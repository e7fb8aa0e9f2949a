"""Plain-text email from background jobs (being replaced by the templated messages of
marketplace.mail)."""

from __future__ import annotations

from email.message import EmailMessage

from marketplace.common.text import one_line
from marketplace.mail.transport import deliver


def send_email(to: str, subject: str, body: str) -> None:
    # Subjects are built from titles and names people typed: a line break there would end
    # the header (or make the message unsendable), so every header value is one line.
    message = EmailMessage()
    message["To"], message["Subject"] = one_line(to), one_line(subject)
    message.set_content(body)
    deliver(message)
