"""Signing events and delivering them to the configured webhook endpoint, as Stripe does.

The body is the event's JSON; the ``Stripe-Signature`` header carries ``t=<unix time>`` and
``v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the endpoint's secret>``. Deliveries are recorded
on the event. Stripe treats any answer but a 2xx (redirects included) as a failure and retries.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from marketplace.payments.sandbox.state import Store, StripeObject

DELIVERY_MODES = ("async", "sync", "none")
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
TIMEOUT_SECONDS = 10
# Stripe retries for days; the sandbox retries briefly so a developer sees the outcome at once.
RETRY_DELAYS_SECONDS = (0.5, 1.0, 2.0)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx answer itself is the outcome


# Webhooks go straight to the endpoint: a proxy configured for the outside world has no business here.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


@dataclasses.dataclass
class WebhookEndpoint:
    url: str | None
    secret: str


@dataclasses.dataclass(frozen=True)
class Signing:
    """How to sign one delivery; anything but the default makes a signature the receiver must refuse."""

    timestamp_offset: int = 0
    secret: str | None = None  # another endpoint's secret
    tamper: bool = False  # change the body after signing it
    omit_signature: bool = False


@dataclasses.dataclass(frozen=True)
class Delivery:
    event: str
    type: str
    status: int | None  # None when nothing answered
    body: str
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + payload
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


def event_payload(event: StripeObject) -> bytes:
    return json.dumps(event, indent=2).encode()


class WebhookSender:
    def __init__(self, store: Store, endpoint: WebhookEndpoint) -> None:
        self.store = store
        self.endpoint = endpoint

    def dispatch(self, events: Sequence[StripeObject], mode: str) -> list[Delivery]:
        """Deliver new events: now ("sync", one attempt each), later with retries ("async"), or not."""
        endpoint = dataclasses.replace(self.endpoint)  # as configured now, whatever happens next
        if mode == "none" or endpoint.url is None or not events:
            return []
        event_ids = [event["id"] for event in events]
        if mode == "sync":
            return [delivery for event_id in event_ids if (delivery := self.deliver(event_id, endpoint))]
        threading.Thread(target=self._deliver_with_retries, args=(event_ids, endpoint),
                         name="sandbox-webhooks", daemon=True).start()
        return []

    def deliver(self, event_id: str, endpoint: WebhookEndpoint,
                signing: Signing = Signing()) -> Delivery | None:
        """One attempt, recorded on the event; None when the event is gone (a reset came first)."""
        event = self.store.event(event_id)
        if event is None or endpoint.url is None:
            return None
        payload = event_payload(event)
        timestamp = int(time.time()) + signing.timestamp_offset
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
        if not signing.omit_signature:
            secret = signing.secret or endpoint.secret
            headers["Stripe-Signature"] = signature_header(payload, secret, timestamp)
        if signing.tamper:
            payload = payload.replace(b'"livemode": false', b'"livemode": true', 1)
        delivery = _post(endpoint.url, payload, headers, event)
        self.store.record_attempt(event_id, {"created": int(time.time()), "url": endpoint.url,
                                             "status": delivery.status, "error": delivery.error})
        return delivery

    def _deliver_with_retries(self, event_ids: list[str], endpoint: WebhookEndpoint) -> None:
        for event_id in event_ids:
            for delay in (*RETRY_DELAYS_SECONDS, None):
                delivery = self.deliver(event_id, endpoint)
                if delivery is None or delivery.status is not None and 200 <= delivery.status < 300:
                    break
                if delay is not None:
                    time.sleep(delay)


def _post(url: str, payload: bytes, headers: dict[str, str], event: StripeObject) -> Delivery:
    request = urllib.request.Request(url, data=payload, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
            return Delivery(event["id"], event["type"], response.status, _text(response.read()))
    except urllib.error.HTTPError as error:
        return Delivery(event["id"], event["type"], error.code, _text(error.read()))
    except (OSError, http.client.HTTPException) as error:  # refused, reset, timed out, garbled
        return Delivery(event["id"], event["type"], None, "", str(error))


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")
