"""Request guards that run before any view: bodies of the wrong type or size, and path ids
that cannot name anything, are refused with the error envelope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request

from marketplace.api.paths import is_api_request
from marketplace.api.storable_text import unstorable
from marketplace.common.errors import AppError, NotFound

F = TypeVar("F", bound=Callable[..., Any])


def accepts_multipart(view: F) -> F:
    """Mark a view that takes multipart/form-data (uploads) instead of a JSON body."""
    view._accepts_multipart = True  # type: ignore[attr-defined]
    return view


def accepts_one_click_form(view: F) -> F:
    """Mark a view that mail programs post to from a List-Unsubscribe header: their body is the
    form `List-Unsubscribe=One-Click` (RFC 8058), which the view does not read."""
    view._accepts_one_click_form = True  # type: ignore[attr-defined]
    return view


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"


_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _view_is_marked(mark: str) -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, mark, False))


def _has_body() -> bool:
    if request.content_length is not None:
        return request.content_length > 0
    # Without Content-Length, only a chunked request carries a body (the header's case varies).
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def guard_request_body() -> None:
    """Refuse bodies of the wrong type or size before any view reads them."""
    if not is_api_request() or request.method not in _BODY_METHODS:
        return
    if request.endpoint is None:
        return  # unknown routes answer 404/405
    multipart = _view_is_marked("_accepts_multipart")
    if not multipart:
        # JSON bodies are small: a 10 MB JSON document is an attack or a bug.
        limit = current_app.config["MAX_JSON_BODY_BYTES"]
        request.max_content_length = limit
        if request.content_length and request.content_length > limit:
            raise PayloadTooLarge(f"JSON bodies are limited to {limit} bytes.")
    if not _has_body():
        return
    mimetype = request.mimetype
    if multipart and mimetype != "multipart/form-data":
        raise UnsupportedMediaType("Send this request as multipart/form-data.",
                                   details={"expected": "multipart/form-data", "got": mimetype})
    if _view_is_marked("_accepts_one_click_form") and mimetype == "application/x-www-form-urlencoded":
        return
    if not multipart and not request.is_json:
        raise UnsupportedMediaType("Send this request as application/json.",
                                   details={"expected": "application/json", "got": mimetype})
    if not multipart and request.content_length is None:
        limit = current_app.config["MAX_JSON_BODY_BYTES"]
        if len(request.get_data(cache=True)) >= limit:
            # A chunked body is cut at the limit when read; a cut body is a refused body.
            raise PayloadTooLarge(f"JSON bodies are limited to {limit} bytes.")


def refuse_impossible_ids(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Ids in paths are ours: short and plain. Anything else names nothing (and NUL or
    unpaired surrogates would upset the database), so it is a 404 before any query."""
    if not is_api_request():
        return  # e.g. signed file links, whose tokens are long by design
    for value in (values or {}).values():
        if isinstance(value, str) and (len(value) > 64 or unstorable(value)):
            raise NotFound("No such resource.", code="not_found")
