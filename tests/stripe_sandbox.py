"""Pytest plugin: a Stripe sandbox server for the whole run, reset before each test that asks.

``stripe_sandbox`` gives a `SandboxControl`: the API base and key to point the Stripe SDK at,
the webhook secret the deliveries are signed with, and the controls (pay, refund, dispute,
expire, onboard or restrict or deauthorize connected accounts, deliver events, inject faults) as
methods answering the sandbox's JSON. ``webhook_receiver`` is a webhook endpoint the sandbox
delivers to, recording what it receives.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from marketplace.payments.sandbox import SandboxServer

SANDBOX_API_KEY = "sk_test_sandbox"
SANDBOX_WEBHOOK_SECRET = "whsec_test_sandbox_secret"


class SandboxControl:
    def __init__(self, url: str) -> None:
        self.url = url
        self.api_key = SANDBOX_API_KEY
        self._http = requests.Session()
        self._http.trust_env = False  # never through a proxy: the sandbox is on loopback

    @property
    def webhook_secret(self) -> str:
        return self._call("GET", "/config")["webhook_secret"]

    def reset(self) -> dict[str, Any]:
        return self._call("POST", "/reset")

    def configure(self, webhook_url: str | None, webhook_secret: str | None = None) -> dict[str, Any]:
        """Where events go (None: nowhere) and, when given, the secret that signs them."""
        return self._call("POST", "/config", {"webhook_url": webhook_url, "webhook_secret": webhook_secret})

    def complete(self, session_id: str, async_payment: bool = False, deliver: str = "sync",
                 email: str | None = None) -> dict[str, Any]:
        return self._call("POST", f"/checkout/sessions/{session_id}/complete",
                          {"async_payment": async_payment, "deliver": deliver, "email": email})

    def async_succeed(self, session_id: str, deliver: str = "sync") -> dict[str, Any]:
        return self._call("POST", f"/checkout/sessions/{session_id}/async_succeed", {"deliver": deliver})

    def async_fail(self, session_id: str, deliver: str = "sync") -> dict[str, Any]:
        return self._call("POST", f"/checkout/sessions/{session_id}/async_fail", {"deliver": deliver})

    def expire(self, session_id: str, deliver: str = "sync") -> dict[str, Any]:
        return self._call("POST", f"/checkout/sessions/{session_id}/expire", {"deliver": deliver})

    def refund(self, payment_intent_id: str, amount: int | None = None,
               deliver: str = "sync") -> dict[str, Any]:
        return self._call("POST", f"/payment_intents/{payment_intent_id}/refund",
                          {"amount": amount, "deliver": deliver})

    def dispute(self, payment_intent_id: str, deliver: str = "sync") -> dict[str, Any]:
        return self._call("POST", f"/payment_intents/{payment_intent_id}/dispute", {"deliver": deliver})

    def close_dispute(self, dispute_id: str, outcome: str, deliver: str = "sync") -> dict[str, Any]:
        return self._call("POST", f"/disputes/{dispute_id}/close", {"outcome": outcome, "deliver": deliver})

    def onboard(self, account_id: str, deliver: str = "sync") -> dict[str, Any]:
        """Complete the connected account's onboarding, as its owner would on the onboarding page."""
        return self._call("POST", f"/accounts/{account_id}/onboard", {"deliver": deliver})

    def restrict(self, account_id: str, deliver: str = "sync") -> dict[str, Any]:
        """Stripe wants more of the account: requirements past due, payouts disabled."""
        return self._call("POST", f"/accounts/{account_id}/restrict", {"deliver": deliver})

    def deauthorize(self, account_id: str, deliver: str = "sync") -> dict[str, Any]:
        """The account disconnects from the platform: no more charges, transfers or payouts."""
        return self._call("POST", f"/accounts/{account_id}/deauthorize", {"deliver": deliver})

    def events(self, type: str | None = None) -> list[dict[str, Any]]:
        """Recorded events, oldest first, each with its `delivery_attempts`."""
        return self._call("GET", "/events", params={"type": type} if type else None)["data"]

    def deliver(self, event_id: str, timestamp_offset: int = 0, secret: str | None = None,
                tamper: bool = False, omit_signature: bool = False) -> dict[str, Any]:
        """Deliver an event now; answers ``{"status", "body", "error"}`` from the webhook endpoint."""
        return self._call("POST", f"/events/{event_id}/deliver", {
            "timestamp_offset": timestamp_offset, "secret": secret, "tamper": tamper,
            "omit_signature": omit_signature})

    def fault(self, method: str, path_prefix: str, mode: str, times: int = 1,
              seconds: float | None = None) -> dict[str, Any]:
        """The next `times` API calls matching make trouble: "error_500", "timeout" or "close"."""
        return self._call("POST", "/faults", {"method": method, "path_prefix": path_prefix, "mode": mode,
                                              "times": times, "seconds": seconds})

    def clear_faults(self) -> dict[str, Any]:
        return self._call("DELETE", "/faults")

    def faults(self) -> list[dict[str, Any]]:
        """The faults still to happen."""
        return self._call("GET", "/faults")["faults"]

    def charges(self) -> list[dict[str, Any]]:
        """Every charge, as Stripe lists them (newest first)."""
        found, after = [], None
        while True:
            params = {"limit": 100, **({"starting_after": after} if after else {})}
            response = self._http.get(f"{self.url}/v1/charges", params=params,
                                      headers={"Authorization": f"Bearer {self.api_key}"}, timeout=10)
            page = response.json()
            found += page["data"]
            if not page["has_more"]:
                return found
            after = page["data"][-1]["id"]

    def session(self, session_id: str) -> dict[str, Any]:
        """The Checkout Session as the API returns it."""
        return self._retrieve(f"/checkout/sessions/{session_id}")

    def account(self, account_id: str) -> dict[str, Any]:
        """The connected account as the API returns it."""
        return self._retrieve(f"/accounts/{account_id}")

    def _retrieve(self, path: str) -> dict[str, Any]:
        response = self._http.get(f"{self.url}/v1{path}", headers={"Authorization": f"Bearer {self.api_key}"},
                                  timeout=10)
        return response.json()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None,
              params: dict[str, str] | None = None) -> dict[str, Any]:
        response = self._http.request(method, f"{self.url}/_sandbox{path}", json=body or {}, params=params,
                                      timeout=30)
        assert response.status_code < 500, f"sandbox {method} {path}: {response.status_code} {response.text}"
        return response.json()


@pytest.fixture(scope="session")
def stripe_sandbox_server() -> Iterator[SandboxServer]:
    with SandboxServer("127.0.0.1", 0, webhook_secret=SANDBOX_WEBHOOK_SECRET) as server:
        yield server


@pytest.fixture
def stripe_sandbox(stripe_sandbox_server: SandboxServer) -> SandboxControl:
    """The sandbox emptied, with no webhook URL and the default secret."""
    control = SandboxControl(stripe_sandbox_server.url)
    control.reset()
    control.configure(None, SANDBOX_WEBHOOK_SECRET)
    return control


@dataclasses.dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


class WebhookReceiver:
    """Records every POST; answers the queued statuses first, then 200."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: list[int] = []
        self._arrived = threading.Condition()
        self.url = ""

    @Request.application
    def __call__(self, request: Request) -> Response:
        with self._arrived:
            self.received.append(Received(dict(request.headers), request.get_data()))
            status = self.answers.pop(0) if self.answers else 200
            self._arrived.notify_all()
        return Response(f"answered {status}", status)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        with self._arrived:
            assert self._arrived.wait_for(lambda: len(self.received) >= count, timeout), self.received
            return list(self.received)


@pytest.fixture
def webhook_receiver(stripe_sandbox: SandboxControl) -> Iterator[WebhookReceiver]:
    """A webhook endpoint the sandbox delivers to."""
    receiver = WebhookReceiver()
    server = make_server("127.0.0.1", 0, receiver, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_port}/webhook"
    stripe_sandbox.configure(receiver.url)
    yield receiver
    server.shutdown()
    thread.join(timeout=5)
