"""The payouts port: what payouts need from the payment provider's Connect API.

Payouts own this interface (`ConnectGateway`), as checkout owns its payment port; `create_app`
plugs an implementation in (`payments.stripe_gateway.StripeGateway`, which is checkout's
payment port as well). The gateway answers plain dictionaries; `PayoutPort` turns them into
the small types payouts work with, so payouts never import the provider's SDK and the gateway
never imports payouts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Protocol, runtime_checkable

from flask import Flask, current_app


@dataclasses.dataclass(frozen=True)
class AccountState:
    """A connected account as the provider sees it now."""

    id: str
    details_submitted: bool
    payouts_enabled: bool
    transfers_enabled: bool  # its `transfers` capability is active: it can be paid
    disabled_reason: str | None


@dataclasses.dataclass(frozen=True)
class OnboardingLink:
    url: str
    expires_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class TransferState:
    id: str
    amount: int
    amount_reversed: int
    currency: str
    destination: str


@runtime_checkable
class ConnectGateway(Protocol):
    def create_express_account(self, *, email: str, country: str, metadata: dict[str, str],
                               idempotency_key: str) -> dict[str, Any]: ...

    def create_onboarding_link(self, account_id: str, *, refresh_url: str, return_url: str) -> dict[str, Any]: ...

    def retrieve_account(self, account_id: str) -> dict[str, Any]: ...

    def create_transfer(self, *, amount: int, currency: str, destination: str, transfer_group: str,
                        source_transaction: str | None, idempotency_key: str,
                        metadata: dict[str, str]) -> dict[str, Any]: ...

    def retrieve_transfer(self, transfer_id: str) -> dict[str, Any]: ...

    def reverse_transfer(self, transfer_id: str, amount: int, *, idempotency_key: str,
                         metadata: dict[str, str]) -> str: ...


class PayoutPort:
    """The gateway's Connect calls, answering payouts' own types."""

    def __init__(self, gateway: ConnectGateway) -> None:
        self.gateway = gateway

    def create_express_account(self, email: str, user_id: str, country: str) -> AccountState:
        return _account(self.gateway.create_express_account(
            email=email, country=country, metadata={"user_id": user_id},
            idempotency_key=f"connect-account-{user_id}-{country}"))

    def create_onboarding_link(self, account_id: str, refresh_url: str, return_url: str) -> OnboardingLink:
        link = self.gateway.create_onboarding_link(account_id, refresh_url=refresh_url, return_url=return_url)
        return OnboardingLink(url=link["url"], expires_at=dt.datetime.fromtimestamp(link["expires_at"], dt.UTC))

    def retrieve_account(self, account_id: str) -> AccountState:
        return _account(self.gateway.retrieve_account(account_id))

    def create_transfer(self, amount: int, currency: str, destination: str, transfer_group: str,
                        source_transaction: str | None, idempotency_key: str,
                        metadata: dict[str, str]) -> TransferState:
        return _transfer(self.gateway.create_transfer(
            amount=amount, currency=currency, destination=destination, transfer_group=transfer_group,
            source_transaction=source_transaction, idempotency_key=idempotency_key, metadata=metadata))

    def retrieve_transfer(self, transfer_id: str) -> TransferState:
        return _transfer(self.gateway.retrieve_transfer(transfer_id))

    def reverse_transfer(self, transfer_id: str, amount: int, idempotency_key: str,
                         metadata: dict[str, str]) -> str:
        return self.gateway.reverse_transfer(transfer_id, amount, idempotency_key=idempotency_key, metadata=metadata)


def _account(found: dict[str, Any]) -> AccountState:
    return AccountState(id=found["id"], details_submitted=bool(found["details_submitted"]),
                        payouts_enabled=bool(found["payouts_enabled"]),
                        transfers_enabled=bool(found["transfers_enabled"]),
                        disabled_reason=found.get("disabled_reason"))


def _transfer(found: dict[str, Any]) -> TransferState:
    return TransferState(id=found["id"], amount=found["amount"], amount_reversed=found["amount_reversed"],
                         currency=found["currency"], destination=found["destination"])


CONNECT_GATEWAY = "connect_gateway"


def use_connect_gateway(app: Flask, gateway: ConnectGateway) -> None:
    app.extensions[CONNECT_GATEWAY] = gateway


def payout_port() -> PayoutPort:
    """Payouts' types over the app's Connect gateway."""
    return PayoutPort(current_app.extensions[CONNECT_GATEWAY])
