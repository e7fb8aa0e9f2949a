"""The REST API's shared conventions: the flask-smorest Api, the documented error envelope,
bearer security, and the request guards (body size, media type) every endpoint relies on."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any, TypeVar

import marshmallow as ma
from flask import Flask, Request, Response, current_app, jsonify, request
from flask_smorest import Api, Blueprint

from marketplace.errors import AppError

API_PREFIX = "/api/v1"
BEARER_SECURITY = [{"bearerAuth": []}]

F = TypeVar("F", bound=Callable[..., Any])


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "stable snake_case code"})
    message = ma.fields.String(required=True, metadata={"description": "for humans"})
    details = ma.fields.Dict(required=True, metadata={"description": "per-field messages or context"})


class ErrorEnvelopeSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBodySchema, required=True)


class MarketplaceApi(Api):
    """flask-smorest's Api, documenting our envelope and leaving error handling to errors.py."""

    ERROR_SCHEMA = ErrorEnvelopeSchema

    def _register_error_handlers(self) -> None:
        """Errors are answered by marketplace.errors, for API and non-API paths alike."""


def document(payload: Any, status: int = 200) -> Response:
    """Answer with an already-built JSON document; the view's @blp.response still documents it."""
    response = jsonify(payload)
    response.status_code = status
    return response


def accepts_multipart(view: F) -> F:
    """Mark a view that takes multipart/form-data (uploads) instead of a JSON body."""
    view._accepts_multipart = True  # type: ignore[attr-defined]
    return view


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"


_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _view_accepts_multipart() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "_accepts_multipart", False))


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "")


def guard_request_body() -> None:
    """Refuse bodies of the wrong type or size before any view reads them."""
    if not request.path.startswith(API_PREFIX) or request.method not in _BODY_METHODS:
        return
    if request.endpoint is None or not _has_body():
        return  # unknown routes answer 404/405; bodiless calls need no check
    multipart = _view_accepts_multipart()
    if not multipart:
        # JSON bodies are small: a 10 MB JSON document is an attack or a bug.
        limit = current_app.config["MAX_JSON_BODY_BYTES"]
        request.max_content_length = limit
        if request.content_length and request.content_length > limit:
            raise PayloadTooLarge(f"JSON bodies are limited to {limit} bytes.")
        if request.content_length is None and len(request.get_data(cache=True)) >= limit:
            # A chunked body is cut at the limit when read; a cut body is a refused body.
            raise PayloadTooLarge(f"JSON bodies are limited to {limit} bytes.")
    mimetype = request.mimetype
    if multipart and mimetype != "multipart/form-data":
        raise UnsupportedMediaType("Send this request as multipart/form-data.",
                                   details={"expected": "multipart/form-data", "got": mimetype})
    if not multipart and not request.is_json:
        raise UnsupportedMediaType("Send this request as application/json.",
                                   details={"expected": "application/json", "got": mimetype})


class MarketplaceRequest(Request):
    """Spools uploaded files to named temporary files (never to memory), so they can be
    checked with ffprobe by path and then streamed to storage. They vanish when closed."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        folder = current_app.config.get("UPLOAD_TMP_DIR")
        return tempfile.NamedTemporaryFile(prefix="upload-", dir=folder)  # noqa: SIM115


def init_api(app: Flask, blueprints: list[Blueprint]) -> MarketplaceApi:
    api = MarketplaceApi(app, spec_kwargs={"info": {"description": (
        "Beat licensing marketplace. Every error is "
        '{"error": {"code", "message", "details"}}; money is integer minor units.')}})
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer",
                       "description": "An access token from POST /api/v1/auth/login"})
    for blueprint in blueprints:
        api.register_blueprint(blueprint, url_prefix=API_PREFIX + (blueprint.url_prefix or ""))
    app.before_request(guard_request_body)
    app.request_class = MarketplaceRequest
    return api
