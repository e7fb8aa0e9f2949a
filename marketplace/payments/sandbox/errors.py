"""Errors in Stripe's wire format: ``{"error": {"type", "code"?, "message", "param"?}}``."""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    """An error the sandbox answers exactly as Stripe would, with Stripe's status code."""

    def __init__(self, message: str, *, status: int = 400, type: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type}
        if self.code:
            error["code"] = self.code
        error["message"] = self.message
        if self.param:
            error["param"] = self.param
        return {"error": error}


class ParamError(StripeError):
    """The request's parameters were refused before the endpoint did anything.

    Stripe does not save such answers under an idempotency key, so a corrected request may reuse it.
    """

    def __init__(self, message: str, param: str | None, code: str | None = None) -> None:
        super().__init__(message, code=code, param=param)


def unknown_param(param: str) -> ParamError:
    return ParamError(f"Received unknown parameter: {param}", param, "parameter_unknown")


def missing_param(param: str) -> ParamError:
    return ParamError(f"Missing required param: {param}.", param, "parameter_missing")


def no_such(kind: str, object_id: str, param: str | None = None) -> StripeError:
    return StripeError(f"No such {kind}: '{object_id}'", status=404, code="resource_missing", param=param)
