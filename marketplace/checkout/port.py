"""The payment port: what checkout needs from a payment provider, and nothing more.

Checkout owns this small interface; `payments` implements it with Stripe and `create_app`
plugs the implementation in, so checkout never imports the provider's SDK.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

from flask import Flask, current_app

from marketplace.common.errors import AppError


class PaymentProviderError(AppError):
    """The provider answered with an error we cannot fix by retrying."""

    status = 502
    code = "payment_provider_error"
    message = "The payment provider refused the request. Try again later."


class PaymentProviderUnavailable(AppError):
    """The provider could not be reached, timed out, or failed on its side."""

    status = 503
    code = "payment_provider_unavailable"
    message = "Payments are unavailable right now. Nothing was charged; try again in a moment."


@dataclasses.dataclass(frozen=True)
class SessionLine:
    name: str
    description: str
    amount: int


@dataclasses.dataclass(frozen=True)
class NewSession:
    order_id: str
    currency: str
    lines: list[SessionLine]
    expires_at: dt.datetime
    success_url: str
    cancel_url: str
    customer_email: str
    metadata: dict[str, str]
    idempotency_key: str


@dataclasses.dataclass(frozen=True)
class CreatedSession:
    id: str
    url: str


@dataclasses.dataclass(frozen=True)
class SessionState:
    """A Checkout Session as the provider sees it now."""

    id: str
    order_id: str | None  # our client_reference_id
    status: str  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    amount_total: int | None
    currency: str | None
    payment_intent_id: str | None


@dataclasses.dataclass(frozen=True)
class PaymentState:
    """A payment (PaymentIntent and its charge) as the provider sees it now."""

    payment_intent_id: str
    order_id: str | None  # from the metadata we set at checkout
    status: str  # succeeded | processing | requires_payment_method | canceled | ...
    amount: int
    amount_refunded: int
    currency: str
    disputed: bool
    charge_id: str | None = None


@dataclasses.dataclass(frozen=True)
class ChargeState:
    """A charge as the provider lists it, for reconciliation."""

    id: str
    payment_intent_id: str | None
    order_id: str | None  # from the metadata we set at checkout
    status: str  # succeeded | pending | failed
    amount: int
    amount_refunded: int
    currency: str
    disputed: bool


@dataclasses.dataclass(frozen=True)
class DisputeState:
    id: str
    payment_intent_id: str | None
    status: str  # needs_response | under_review | won | lost | warning_* ...


@dataclasses.dataclass(frozen=True)
class ProviderEvent:
    id: str
    type: str
    object: dict[str, Any]


@runtime_checkable
class PaymentPort(Protocol):
    def create_session(self, session: NewSession) -> CreatedSession: ...

    def retrieve_session(self, session_id: str) -> SessionState: ...

    def expire_session(self, session_id: str) -> None: ...

    def retrieve_payment(self, payment_intent_id: str) -> PaymentState: ...

    def retrieve_dispute(self, dispute_id: str) -> DisputeState: ...

    def list_charges(self) -> Iterator[ChargeState]: ...

    def refund(self, payment_intent_id: str, amount: int, *, currency: str, idempotency_key: str,
               metadata: dict[str, str]) -> str: ...

    def verify_event(self, payload: bytes, signature_header: str | None) -> ProviderEvent: ...


PAYMENT_PORT = "payment_port"


def use_payment_port(app: Flask, port: PaymentPort) -> None:
    app.extensions[PAYMENT_PORT] = port


def payment_port() -> PaymentPort:
    return current_app.extensions[PAYMENT_PORT]


class InvalidEvent(AppError):
    """A webhook whose signature is missing, wrong or stale, or whose body is not an event."""

    status = 400
    code = "invalid_signature"
    message = "The webhook signature is missing or does not verify."
