"""The error types every layer raises: an expected failure with a stable code, a status and
details. They know nothing of the app: the tools (rate limits) and the services raise them,
and the app's handlers (marketplace.errors) turn them into the error envelope.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """An expected failure with a stable code. Services raise these; the handler answers."""

    status = 400
    code = "bad_request"
    message = "The request cannot be processed."

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 status: int | None = None, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.code = code or self.code
        self.status = status or self.status
        self.details = details or {}
        self.headers = headers or {}


class ValidationFailed(AppError):
    status = 422
    code = "validation_failed"
    message = "Some fields are invalid."


class AuthenticationRequired(AppError):
    status = 401
    code = "authentication_required"
    message = "Sign in to do this."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="api"'})
        super().__init__(message, **kwargs)


class PermissionDenied(AppError):
    status = 403
    code = "forbidden"
    message = "You are not allowed to do this."


class NotFound(AppError):
    status = 404
    code = "not_found"
    message = "Not found."


class Conflict(AppError):
    status = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class RateLimited(AppError):
    status = 429
    code = "rate_limited"
    message = "Too many requests. Try again later."

    def __init__(self, retry_after_seconds: int, message: str | None = None) -> None:
        retry_after_seconds = max(1, int(retry_after_seconds))
        super().__init__(message, details={"retry_after_seconds": retry_after_seconds},
                         headers={"Retry-After": str(retry_after_seconds)})
