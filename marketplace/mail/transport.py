"""Delivery of a composed message: over SMTP, or into the outbox folder as an .eml file.

Called from background jobs only, so that a slow or absent mail server never holds up a
request. Headers every message shares (From, Reply-To) come from the settings here.
"""

from __future__ import annotations

import logging
import smtplib
import time
from email.message import EmailMessage
from pathlib import Path

from flask import current_app

log = logging.getLogger("marketplace.mail")


def deliver(message: EmailMessage) -> None:
    """Send `message` (To and Subject set) with the configured backend."""
    config = current_app.config
    if "From" not in message:
        message["From"] = config["MAIL_FROM"]
    if config["MAIL_BACKEND"] == "smtp":
        _send_over_smtp(message)
    else:
        _write_to_outbox(message)
    to = str(message["To"])
    log.info("email_sent", extra={"to_domain": to.rpartition("@")[2], "subject": str(message["Subject"]),
                                  "backend": config["MAIL_BACKEND"]})


def _send_over_smtp(message: EmailMessage) -> None:
    config = current_app.config
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30) as smtp:
        smtp.starttls()
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        smtp.send_message(message)


def _write_to_outbox(message: EmailMessage) -> None:
    outbox = Path(current_app.config["MAIL_OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    (outbox / f"{time.time_ns()}.eml").write_bytes(bytes(message))
