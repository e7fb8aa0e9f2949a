"""The sandbox's state: Stripe objects by type and id, in memory behind one lock.

With a state file, the whole state is written after every change that altered it (to a
temporary file, then renamed over the old one, so a crash never leaves half a file) and read
back at start.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from marketplace.payments.sandbox import objects
from marketplace.payments.sandbox.errors import no_such

StripeObject = dict[str, Any]
NO_REQUEST: dict[str, str | None] = {"id": None, "idempotency_key": None}


@dataclasses.dataclass
class State:
    objects: dict[str, dict[str, StripeObject]] = dataclasses.field(default_factory=dict)
    # What Stripe keeps beside its objects: what a session was created with that its object does
    # not show ("line_items", "payment_intent_data"), the delivery attempts of each event,
    # idempotent answers, and account links (which have no id) by the token in their URL.
    session_inputs: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    delivery_attempts: dict[str, list[dict[str, Any]]] = dataclasses.field(default_factory=dict)
    idempotency: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    account_links: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    def find(self, kind: str, object_id: str) -> StripeObject | None:
        return self.objects.get(kind, {}).get(object_id)

    def get(self, kind: str, object_id: str, param: str | None = None) -> StripeObject:
        found = self.find(kind, object_id)
        if found is None:
            raise no_such(kind, object_id, param)
        return found

    def put(self, stripe_object: StripeObject) -> StripeObject:
        self.objects.setdefault(stripe_object["object"], {})[stripe_object["id"]] = stripe_object
        return stripe_object

    def remove(self, kind: str, object_id: str) -> StripeObject:
        removed = self.get(kind, object_id)
        del self.objects[kind][object_id]
        return removed

    def all(self, kind: str) -> list[StripeObject]:
        """Objects of a type, oldest first."""
        return list(self.objects.get(kind, {}).values())


@dataclasses.dataclass
class Change:
    """One unit of work on the state, made while holding the lock.

    Events it emits are recorded at once; the caller delivers them after the change is saved.
    """

    state: State
    now: int
    request: dict[str, str | None]  # the API request behind the change, as events report it
    events: list[StripeObject] = dataclasses.field(default_factory=list)

    def emit(self, event_type: str, stripe_object: StripeObject, account: str | None = None) -> None:
        """Record an event; `account` names the connected account a Connect event is about."""
        event = objects.event(event_type, copy.deepcopy(stripe_object), dict(self.request), self.now, account)
        self.state.put(event)
        self.events.append(event)


class Store:
    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.RLock()
        self._path = path
        self._state = self._load()
        self._saved = self._serialised()

    @contextmanager
    def change(self, request: dict[str, str | None] | None = None) -> Iterator[Change]:
        """Hold the lock for one unit of work (or a consistent read); save when it ends without an error."""
        with self._lock:
            change = Change(self._state, int(time.time()), request or NO_REQUEST)
            yield change
            self._save()

    def reset(self) -> None:
        with self._lock:
            self._state = State()
            self._save()

    def event(self, event_id: str) -> StripeObject | None:
        with self._lock:
            return copy.deepcopy(self._state.find("event", event_id))

    def record_attempt(self, event_id: str, attempt: dict[str, Any]) -> None:
        """Note a delivery attempt on the event, unless a reset removed the event meanwhile."""
        with self._lock:
            if self._state.find("event", event_id) is not None:
                self._state.delivery_attempts.setdefault(event_id, []).append(attempt)
                self._save()

    def _load(self) -> State:
        if self._path is None or not self._path.exists():
            return State()
        return State(**json.loads(self._path.read_text(encoding="utf-8")))

    def _serialised(self) -> str:
        return json.dumps(dataclasses.asdict(self._state)) if self._path else ""

    def _save(self) -> None:
        """Write the state file, unless nothing changed since it was last written."""
        serialised = self._serialised()
        if self._path is None or serialised == self._saved:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self._path.parent, prefix=f".{self._path.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(serialised)
            os.replace(temporary, self._path)
        except BaseException:
            os.unlink(temporary)
            raise
        self._saved = serialised
