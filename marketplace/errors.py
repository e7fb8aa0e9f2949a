"""The one error envelope, and the one place that produces it.

Every error answer is ``{"error": {"code", "message", "details"}}``. Codes are stable
snake_case strings that clients may branch on; messages are for humans and may change.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify
from werkzeug.exceptions import HTTPException

from marketplace.common.errors import AppError

log = logging.getLogger("marketplace.errors")


# Stable codes for the HTTP errors raised by Flask, Werkzeug and webargs themselves.
HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "authentication_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}

HTTP_ERROR_MESSAGES = {
    404: "No such resource.",
    405: "This method is not allowed here.",
    413: "The request body is too large.",
    415: "Unsupported media type.",
    422: "Some fields are invalid.",
}


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _field_messages(messages: Any) -> dict[str, Any]:
    """webargs nests messages under the location (json, query, form); clients want fields."""
    if not isinstance(messages, dict):
        return {"_request": messages}
    fields: dict[str, Any] = {}
    for location, per_field in messages.items():
        if isinstance(per_field, dict):
            fields.update(per_field)
        else:
            fields[f"_{location}"] = per_field
    return fields


def handle_app_error(error: AppError) -> Response:
    # A refused request keeps nothing it did not commit, and its last steps (the request
    # log reads the signed-in user) must not trip over a session a failed flush broke.
    _roll_back_quietly()
    return error_response(error.status, error.code, error.message, error.details, error.headers)


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    if status == 500:
        return handle_unexpected(error)
    if status > 500:  # a deliberate 502/503/504 keeps its status
        return error_response(status, "service_unavailable", error.description or error.name)
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    code = HTTP_ERROR_CODES.get(status, "http_error")
    message = HTTP_ERROR_MESSAGES.get(status) or error.description or error.name
    details: dict[str, Any] = {}
    if messages is not None:
        details = _field_messages(messages)
        if status == 400 and "json" in messages:
            code, message = "malformed_json", "The request body is not valid JSON."
            details = {}
    headers = {name: value for name, value in error.get_headers()
               if name.lower() not in ("content-type", "content-length")}
    headers.update(data.get("headers") or {})
    return error_response(status, code, message, details, headers)


def handle_unexpected(error: BaseException) -> Response:
    original = getattr(error, "original_exception", None) or error
    _roll_back_quietly()
    log.error("unhandled_exception", exc_info=original,
              extra={"event": "unhandled_exception", "error_type": type(original).__name__})
    return error_response(500, "internal_error",
                          "Something went wrong on our side. It has been logged.",
                          {"request_id": g.get("request_id")})


def _roll_back_quietly() -> None:
    """A failed flush leaves the session unusable until rolled back; the request's last
    steps (logging) must not trip over it."""
    from marketplace.db import db  # noqa: PLC0415 - errors is imported by everything, db late

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection itself may be what failed
        log.warning("rollback_failed")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
