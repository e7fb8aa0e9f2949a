"""What the OpenAPI spec says of every endpoint: the error envelope each error answer
carries, the errors a view declares, and bearer security."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from typing import Any, TypeVar

import marshmallow as ma
from flask_smorest import Api

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


ERROR_DESCRIPTIONS = {
    400: "The body is not valid JSON (malformed_json)",
    401: "No valid bearer token (authentication_required, invalid_token)",
    403: "Not allowed (forbidden, role_required, account_suspended, ...)",
    404: "Not found",
    409: "Conflicts with the current state",
    410: "Gone",
    413: "The body is too large (payload_too_large)",
    415: "Wrong media type (unsupported_media_type)",
    422: "Invalid fields (validation_failed), details per field",
    429: "Too many requests (rate_limited); retry after the Retry-After seconds",
    502: "The payment provider refused the request (payment_provider_error)",
    503: "A service the request needs is unavailable",
}
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}


def document_errors(*statuses: int) -> Callable[[F], F]:
    """Document error answers of a view, each with the error envelope (once per status)."""

    def decorator(view: F) -> F:
        apidoc = deepcopy(getattr(view, "_apidoc", {}))
        responses = apidoc.setdefault("response", {}).setdefault("responses", {})
        for status in statuses:
            if status in responses:
                continue
            doc = {"schema": ErrorEnvelopeSchema(), "description": ERROR_DESCRIPTIONS[status],
                   "content_type": None}
            if status == 429:
                doc["headers"] = _RETRY_AFTER
            responses[status] = [doc]
        view._apidoc = apidoc  # type: ignore[attr-defined]
        return view

    return decorator
