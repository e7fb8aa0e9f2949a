"""Email, sent from background jobs. In development the "log" backend writes each message
to the log and to an outbox folder; production uses SMTP."""

from __future__ import annotations

import logging
import smtplib
import time
from email.message import EmailMessage
from pathlib import Path

from flask import current_app

from marketplace.common.text import one_line

log = logging.getLogger("marketplace.mail")


def send_email(to: str, subject: str, body: str) -> None:
    config = current_app.config
    # Subjects are built from titles and names people typed: a line break there would end
    # the header (or make the message unsendable), so every header value is one line.
    subject = one_line(subject)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = config["MAIL_FROM"], one_line(to), subject
    message.set_content(body)
    if config["MAIL_BACKEND"] == "smtp":
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30) as smtp:
            smtp.starttls()
            if config.get("SMTP_USERNAME"):
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
            smtp.send_message(message)
    else:
        outbox = Path(config["MAIL_OUTBOX_DIR"])
        outbox.mkdir(parents=True, exist_ok=True)
        (outbox / f"{time.time_ns()}.eml").write_bytes(bytes(message))
    log.info("email_sent", extra={"to_domain": to.rpartition("@")[2], "subject": subject,
                                  "backend": config["MAIL_BACKEND"]})
