"""Delivery of a composed message: over SMTP, or into the outbox folder as an .eml file.

Called from background jobs only, so that a slow or absent mail server never holds up a
request. Headers every message shares (From, Reply-To, Message-ID, Date) come from here.

A failed delivery says whether trying again can help. A server that cannot be reached, times
out, breaks the TLS handshake or answers 4xx ("try later") raises TransientMailFailure: the
job runner retries it with backoff, and after the last retry it waits for an admin. A 5xx
answer about the recipient or the message (550 no such user, 554 rejected) raises
PermanentMailFailure: the job is recorded as failed at once, with the server's words. Settings
the server refuses (credentials, 535; a certificate not trusted; no STARTTLS offered) fail
every message until someone fixes them: those are transient, so the mails go out once the
settings are right, and logged as errors, so the operator hears of it.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app

from config import mail_address
from marketplace.common.clock import utcnow
from marketplace.jobs.queue import GiveUp, RetryLater

log = logging.getLogger("marketplace.mail")


class TransientMailFailure(RetryLater):
    """The message was not sent, and may be if tried again later."""


class PermanentMailFailure(GiveUp):
    """The mail server refused the message for good; trying again cannot help."""


def deliver(message: EmailMessage) -> None:
    """Send `message` (To and Subject set) with the configured backend."""
    config = current_app.config
    complete_headers(message)
    if config["MAIL_BACKEND"] == "smtp":
        _send_over_smtp(message)
    else:
        _write_to_outbox(message)
    to = str(message["To"])
    log.info("email_sent", extra={"to_domain": to.rpartition("@")[2], "subject": str(message["Subject"]),
                                  "backend": config["MAIL_BACKEND"]})


def complete_headers(message: EmailMessage) -> None:
    """Add what the message does not set itself: From and Reply-To from the settings, and
    the Message-ID (on the sender's domain) and Date every mail must carry."""
    config = current_app.config
    if "From" not in message:
        message["From"] = config["MAIL_FROM"]
    if "Reply-To" not in message and config.get("MAIL_REPLY_TO"):
        message["Reply-To"] = config["MAIL_REPLY_TO"]
    if "Message-ID" not in message:
        sender = mail_address(str(message["From"])) or mail_address(config["MAIL_FROM"])
        message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    if "Date" not in message:
        message["Date"] = format_datetime(utcnow())


def _send_over_smtp(message: EmailMessage) -> None:
    config = current_app.config
    server = f"{config['SMTP_HOST']}:{config['SMTP_PORT']}"
    try:
        smtp = _connect(config)
        try:
            if config.get("SMTP_USERNAME"):
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
            refused = smtp.send_message(message)
        finally:
            _hang_up(smtp)
    except smtplib.SMTPRecipientsRefused as error:
        raise _refusal(server, message, min(error.recipients.values())) from error
    except smtplib.SMTPAuthenticationError as error:
        raise _misconfigured(server, "did not accept SMTP_USERNAME and SMTP_PASSWORD", error) from error
    except smtplib.SMTPSenderRefused as error:
        if error.smtp_code < 500:  # "not now": the server's trouble, not ours
            raise _refusal(server, message, (error.smtp_code, error.smtp_error)) from error
        # Refusing the sender for good refuses every message: the settings (MAIL_FROM) are at fault.
        raise _misconfigured(server, f"refused the sender {error.sender}", error) from error
    except smtplib.SMTPNotSupportedError as error:
        if "SMTPUTF8" in str(error):  # this address has letters beyond ASCII; the server takes none
            raise PermanentMailFailure(f"The message to {message['To']} was refused for good: the mail server "
                                       f"at {server} does not take addresses written beyond ASCII "
                                       "(no SMTPUTF8)") from error
        raise _misconfigured(server, str(error).rstrip("."), error) from error  # no STARTTLS or no AUTH
    except ssl.SSLCertVerificationError as error:
        raise _misconfigured(server, f"has a certificate that is not trusted ({error.verify_message})",
                             error) from error
    except (smtplib.SMTPConnectError, smtplib.SMTPHeloError) as error:  # the server turns everyone away
        raise TransientMailFailure(f"The mail server at {server} is not taking mail: {_words(error)}") from error
    except smtplib.SMTPResponseException as error:  # a reply to MAIL, DATA or the end of the data
        raise _refusal(server, message, (error.smtp_code, error.smtp_error)) from error
    except (OSError, smtplib.SMTPException) as error:  # refused, timed out, TLS broke, hung up
        raise TransientMailFailure(f"Could not reach the mail server at {server}: {_words(error)}") from error
    if refused:  # only some of several recipients: the others have it, so do not send again
        log.warning("email_recipients_refused", extra={"refused": {to: _reply(*reply) for to, reply in
                                                                   refused.items()}})


def _connect(config) -> smtplib.SMTP:
    host, port, timeout = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TIMEOUT_SECONDS"]
    security = config["SMTP_SECURITY"]
    if security == "tls":
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=_tls_context(config))
    smtp = smtplib.SMTP(host, port, timeout=timeout)
    if security == "starttls":
        try:
            smtp.starttls(context=_tls_context(config))
        except BaseException:
            smtp.close()
            raise
    return smtp


def _hang_up(smtp: smtplib.SMTP) -> None:
    """Say goodbye, ignoring the answer: once the message is accepted, nothing said after
    may make it look unsent (and sent twice)."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _tls_context(config) -> ssl.SSLContext:
    """Verifies the server's certificate and name, against SMTP_CA_FILE when set (a private
    CA), else the system's authorities."""
    return ssl.create_default_context(cafile=config.get("SMTP_CA_FILE"))


def _refusal(server: str, message: EmailMessage, reply: tuple[int, bytes | str]) -> Exception:
    """5xx: refused for good; 4xx (or anything else): try again later."""
    code = reply[0]
    words = f"the mail server at {server} answered {_reply(*reply)}"
    if 500 <= code < 600:
        return PermanentMailFailure(f"The message to {message['To']} was refused for good: {words}")
    return TransientMailFailure(f"The message to {message['To']} was not accepted yet: {words}")


def _misconfigured(server: str, problem: str, error: Exception) -> TransientMailFailure:
    # Every mail fails until the settings are fixed: say so loudly, and keep the mails to retry.
    log.error("email_settings_refused", extra={"server": server, "problem": problem, "reply": _words(error)})
    return TransientMailFailure(f"The mail server at {server} {problem}: {_words(error)}. "
                                "Check the SMTP_ settings; the mail is sent once they are right")


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}"


def _words(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return _reply(error.smtp_code, error.smtp_error)
    return str(error) or type(error).__name__


def _write_to_outbox(message: EmailMessage) -> None:
    outbox = Path(current_app.config["MAIL_OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    data = bytes(message)
    while True:  # two jobs writing in the same nanosecond never overwrite each other's mail
        try:
            with open(outbox / f"{time.time_ns()}.eml", "xb") as file:
                file.write(data)
            return
        except FileExistsError:
            continue
