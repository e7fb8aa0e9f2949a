"""Request ids and structured logs: one JSON line per event, each with the request id."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
# A client's request id is honoured only when it is short and plain, so it cannot forge
# log lines or smuggle markup into them.
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")

# Attributes every LogRecord has; anything else on a record was passed through `extra`.
_STANDARD_RECORD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

log = logging.getLogger("marketplace.requests")

# Endpoints whose address is itself a secret (signed file links): logged as their rule.
SECRET_PATH_ENDPOINTS = frozenset({"files.download"})


class RequestIdFilter(logging.Filter):
    """Stamps every record with the id of the request being served, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


class JsonLogFormatter(logging.Formatter):
    """Formats a record as a single JSON object on a single line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.timezone.utc)
            .isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_RECORD_ATTRIBUTES and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, separators=(",", ":"))


def configure_logging(level: str = "INFO") -> None:
    """Send every log record to stderr as JSON lines. Safe to call more than once."""
    root = logging.getLogger()
    if not any(getattr(handler, "_marketplace", False) for handler in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLogFormatter())
        handler.addFilter(RequestIdFilter())
        handler._marketplace = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level.upper())
    # The development server would log every request a second time, unstructured.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def _loggable_path() -> str:
    if request.endpoint in SECRET_PATH_ENDPOINTS and request.url_rule is not None:
        return request.url_rule.rule
    return request.path


def init_request_logging(app: Flask) -> None:
    @app.before_request
    def assign_request_id() -> None:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = offered if _ACCEPTABLE_REQUEST_ID.match(offered) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers[REQUEST_ID_HEADER] = request_id
        started = g.get("request_started")
        duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
        user = g.get("current_user")
        log.info("request", extra={
            "request_id": request_id,
            "method": request.method,
            "path": _loggable_path(),
            "status": response.status_code,
            "duration_ms": duration_ms,
            "user_id": getattr(user, "id", None),
            "remote_addr": request.remote_addr,
        })
        return response
