"""Stripe behind checkout's payment port. The only module that imports the Stripe SDK.

Every call goes through one `StripeClient`; in development and tests its API base points
at the bundled Stripe sandbox, in production it is Stripe itself. Stripe's errors become
the port's two errors: unavailable (retry later) or refused (a bug or a config problem).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import stripe

from marketplace.checkout.port import (
    ChargeState,
    CreatedSession,
    DisputeState,
    InvalidEvent,
    NewSession,
    PaymentProviderError,
    PaymentProviderUnavailable,
    PaymentState,
    ProviderEvent,
    SessionState,
)
from marketplace.common.money import AmountNotAccepted, from_stripe_amount, to_stripe_amount

log = logging.getLogger("marketplace.payments")
T = TypeVar("T")

# Errors worth retrying: the network, Stripe's own failures, and its rate limit.
_TRANSIENT = (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError)
SIGNATURE_TOLERANCE_SECONDS = 300


class StripeGateway:
    def __init__(self, secret_key: str, webhook_secret: str, *, api_base: str | None = None,
                 timeout_seconds: float = 10, max_network_retries: int = 2) -> None:
        options: dict[str, Any] = {}
        if api_base:
            options["base_addresses"] = {"api": api_base}
        self.client = stripe.StripeClient(secret_key, max_network_retries=max_network_retries,
                                          http_client=stripe.RequestsClient(timeout=timeout_seconds),
                                          **options)
        self.webhook_secret = webhook_secret

    def create_session(self, session: NewSession) -> CreatedSession:
        try:
            amounts = [to_stripe_amount(line.amount, session.currency) for line in session.lines]
        except AmountNotAccepted as problem:
            # What Stripe itself would refuse (a price set before the currency's rules were checked).
            log.error("amount not accepted by stripe: %s", problem)
            raise PaymentProviderError(str(problem), details={"provider_code": "amount_not_accepted"}) from None
        params = {
            "mode": "payment",
            "client_reference_id": session.order_id,
            "customer_email": session.customer_email,
            "expires_at": int(session.expires_at.timestamp()),
            "success_url": session.success_url,
            "cancel_url": session.cancel_url,
            "metadata": session.metadata,
            "payment_intent_data": {"metadata": session.metadata},
            "line_items": [{"quantity": 1, "price_data": {
                "currency": session.currency, "unit_amount": amount,
                "product_data": {"name": line.name, "description": line.description}}}
                for line, amount in zip(session.lines, amounts)],
        }
        created = self._call(lambda: self.client.v1.checkout.sessions.create(
            params=params, options={"idempotency_key": session.idempotency_key}))
        return CreatedSession(id=created.id, url=created.url)

    def retrieve_session(self, session_id: str) -> SessionState:
        found = self._call(lambda: self.client.v1.checkout.sessions.retrieve(session_id))
        total = None if found.amount_total is None else from_stripe_amount(found.amount_total, found.currency)
        return SessionState(id=found.id, order_id=found.client_reference_id, status=found.status,
                            payment_status=found.payment_status, amount_total=total,
                            currency=found.currency, payment_intent_id=_id_of(found.payment_intent))

    def expire_session(self, session_id: str) -> None:
        self._call(lambda: self.client.v1.checkout.sessions.expire(session_id))

    def retrieve_payment(self, payment_intent_id: str) -> PaymentState:
        intent = self._call(lambda: self.client.v1.payment_intents.retrieve(payment_intent_id))
        charge_id = _id_of(intent.latest_charge)
        charge = self._call(lambda: self.client.v1.charges.retrieve(charge_id)) if charge_id else None
        return PaymentState(
            payment_intent_id=intent.id, order_id=(intent.metadata.to_dict() if intent.metadata else {}).get("order_id"),
            status=intent.status, amount=from_stripe_amount(intent.amount, intent.currency),
            currency=intent.currency,
            amount_refunded=from_stripe_amount(charge.amount_refunded, intent.currency) if charge else 0,
            disputed=bool(charge.disputed) if charge else False, charge_id=charge_id)

    def retrieve_dispute(self, dispute_id: str) -> DisputeState:
        dispute = self._call(lambda: self.client.v1.disputes.retrieve(dispute_id))
        return DisputeState(id=dispute.id, payment_intent_id=_id_of(dispute.payment_intent), status=dispute.status)

    def list_charges(self) -> Iterator[ChargeState]:
        """Every charge of the account, newest first, page after page."""
        page = self._call(lambda: self.client.v1.charges.list(params={"limit": 100}))
        while True:
            for charge in page.data:
                yield ChargeState(
                    id=charge.id, payment_intent_id=_id_of(charge.payment_intent),
                    order_id=(charge.metadata.to_dict() if charge.metadata else {}).get("order_id"),
                    status=charge.status, amount=from_stripe_amount(charge.amount, charge.currency),
                    amount_refunded=from_stripe_amount(charge.amount_refunded, charge.currency),
                    currency=charge.currency, disputed=bool(charge.disputed))
            if not page.has_more or not page.data:
                return
            last = page.data[-1].id
            page = self._call(lambda last=last: self.client.v1.charges.list(
                params={"limit": 100, "starting_after": last}))

    def refund(self, payment_intent_id: str, amount: int, *, currency: str, idempotency_key: str,
               metadata: dict[str, str]) -> str:
        refund = self._call(lambda: self.client.v1.refunds.create(
            params={"payment_intent": payment_intent_id, "amount": to_stripe_amount(amount, currency),
                    "metadata": metadata},
            options={"idempotency_key": idempotency_key}))
        return refund.id

    def verify_event(self, payload: bytes, signature_header: str | None) -> ProviderEvent:
        """Check the `Stripe-Signature` of the raw body (HMAC-SHA256, 300 s tolerance)."""
        if not signature_header:
            raise InvalidEvent("The Stripe-Signature header is missing.")
        try:
            event = stripe.Webhook.construct_event(payload, signature_header, self.webhook_secret,
                                                   tolerance=SIGNATURE_TOLERANCE_SECONDS)
        except stripe.SignatureVerificationError:
            raise InvalidEvent() from None
        except ValueError:
            raise InvalidEvent("The webhook body is not a Stripe event.", code="invalid_event") from None
        return ProviderEvent(id=event.id, type=event.type, object=event.data.object.to_dict())

    # -- Connect: what payouts need (answers plain values, so payments never import payouts) --

    def create_express_account(self, *, email: str, country: str, metadata: dict[str, str],
                               idempotency_key: str) -> dict[str, Any]:
        account = self._call(lambda: self.client.v1.accounts.create(
            params={"type": "express", "country": country, "email": email, "metadata": metadata,
                    "capabilities": {"transfers": {"requested": True}}},
            options={"idempotency_key": idempotency_key}))
        return _account_values(account)

    def create_onboarding_link(self, account_id: str, *, refresh_url: str, return_url: str) -> dict[str, Any]:
        link = self._call(lambda: self.client.v1.account_links.create(params={
            "account": account_id, "type": "account_onboarding", "refresh_url": refresh_url,
            "return_url": return_url}))
        return {"url": link.url, "expires_at": link.expires_at}

    def retrieve_account(self, account_id: str) -> dict[str, Any]:
        return _account_values(self._call(lambda: self.client.v1.accounts.retrieve(account_id)))

    def create_transfer(self, *, amount: int, currency: str, destination: str, transfer_group: str,
                        source_transaction: str | None, idempotency_key: str,
                        metadata: dict[str, str]) -> dict[str, Any]:
        params: dict[str, Any] = {"amount": amount, "currency": currency, "destination": destination,
                                  "transfer_group": transfer_group, "metadata": metadata}
        if source_transaction:
            params["source_transaction"] = source_transaction
        transfer = self._call(lambda: self.client.v1.transfers.create(
            params=params, options={"idempotency_key": idempotency_key}))
        return _transfer_values(transfer)

    def retrieve_transfer(self, transfer_id: str) -> dict[str, Any]:
        return _transfer_values(self._call(lambda: self.client.v1.transfers.retrieve(transfer_id)))

    def reverse_transfer(self, transfer_id: str, amount: int, *, idempotency_key: str,
                         metadata: dict[str, str]) -> str:
        reversal = self._call(lambda: self.client.v1.transfers.reversals.create(
            transfer_id, params={"amount": amount, "metadata": metadata},
            options={"idempotency_key": idempotency_key}))
        return reversal.id

    def _call(self, request: Callable[[], T]) -> T:
        try:
            return request()
        except _TRANSIENT as error:
            log.warning("stripe unavailable: %s", _describe(error))
            raise PaymentProviderUnavailable() from None
        except stripe.StripeError as error:
            log.error("stripe refused a request: %s", _describe(error))
            raise PaymentProviderError(details={"provider_code": error.code} if error.code else None) from None


def _id_of(value: Any) -> str | None:
    """An expandable field: an id, an expanded object, or nothing."""
    if value is None or isinstance(value, str):
        return value
    return value.id


def _describe(error: Exception) -> str:
    status = getattr(error, "http_status", None)
    return f"{type(error).__name__} status={status} message={getattr(error, 'user_message', None) or error}"


def _account_values(account: Any) -> dict[str, Any]:
    capabilities = account.capabilities.to_dict() if account.capabilities else {}
    requirements = account.requirements
    return {"id": account.id, "details_submitted": bool(account.details_submitted),
            "payouts_enabled": bool(account.payouts_enabled),
            "transfers_enabled": capabilities.get("transfers") == "active",
            "disabled_reason": requirements.disabled_reason if requirements else None}


def _transfer_values(transfer: Any) -> dict[str, Any]:
    return {"id": transfer.id, "amount": transfer.amount, "amount_reversed": transfer.amount_reversed,
            "currency": transfer.currency, "destination": _id_of(transfer.destination)}
