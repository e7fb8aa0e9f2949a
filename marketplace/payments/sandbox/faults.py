"""Faults on demand: the next matching API calls fail, hang or drop the connection.

This is how tests see what the app does when Stripe is down, slow, or cuts a request off
half-way (when the app cannot know whether its request took effect).
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from typing import Any

from flask import Response, request

from marketplace.payments.sandbox.errors import StripeError

FAULT_MODES = ("error_500", "timeout", "close")
DEFAULT_TIMEOUT_SECONDS = 30.0


@dataclasses.dataclass
class Fault:
    method: str
    path_prefix: str
    mode: str
    times: int = 1
    seconds: float = DEFAULT_TIMEOUT_SECONDS  # how long "timeout" holds the answer back

    def matches(self, method: str, path: str) -> bool:
        return self.method.upper() == method and path.startswith(self.path_prefix)


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._pending.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dataclasses.asdict(fault) for fault in self._pending]

    def take(self, method: str, path: str) -> Fault | None:
        """Use up one turn of the first fault matching this call."""
        with self._lock:
            fault = next((fault for fault in self._pending if fault.matches(method, path)), None)
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._pending.remove(fault)
            return fault


def misbehave(fault: Fault) -> Response | None:
    """Act out a fault within the current request; None lets the request go on (late)."""
    if fault.mode == "timeout":
        time.sleep(fault.seconds)
        return None
    if fault.mode == "close":
        # Shut the socket so the client reads no answer at all; the server's attempt to write
        # the empty response below then fails quietly, as a dropped connection does.
        request.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
        return Response(status=500)
    raise StripeError("The sandbox was told to fail this request.", status=500, type="api_error")
