"""The sandbox's parts, shared by the API, the hosted page, the controls and the expiry timer."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Generic, TypeVar

from flask import current_app

from marketplace.payments.sandbox import lifecycle
from marketplace.payments.sandbox.faults import Faults
from marketplace.payments.sandbox.state import Change, Store, StripeObject
from marketplace.payments.sandbox.webhooks import Delivery, WebhookEndpoint, WebhookSender

EXTENSION = "stripe_sandbox"
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Outcome(Generic[T]):
    result: T
    events: list[StripeObject]
    deliveries: list[Delivery]  # only for "sync" delivery


class Sandbox:
    def __init__(self, store: Store, endpoint: WebhookEndpoint, public_url: str | None) -> None:
        self.store = store
        self.webhooks = WebhookSender(store, endpoint)
        self.faults = Faults()
        self.public_url = public_url  # where browsers reach the hosted page; None: as the API was reached

    @property
    def endpoint(self) -> WebhookEndpoint:
        return self.webhooks.endpoint

    def run(self, operation: Callable[[Change], T], deliver: str = "async") -> Outcome[T]:
        """Apply one change; once it is saved, deliver the events it emitted."""
        with self.store.change() as change:
            result = copy.deepcopy(operation(change))  # a snapshot: the state moves on once unlocked
        return Outcome(result, change.events, self.webhooks.dispatch(change.events, deliver))

    def expire_due_sessions(self) -> None:
        self.run(lifecycle.expire_due_sessions)

    def reset(self) -> None:
        """Forget every object, event and fault; the webhook endpoint stays configured."""
        self.store.reset()
        self.faults.clear()


def current_sandbox() -> Sandbox:
    return current_app.extensions[EXTENSION]
