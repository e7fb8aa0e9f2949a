"""The sandbox served over HTTP by a threaded server, with its clock for expiring sessions."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from marketplace.payments.sandbox.app import create_sandbox_app
from marketplace.payments.sandbox.service import EXTENSION, Sandbox

log = logging.getLogger("marketplace.payments.sandbox")


class SandboxServer:
    """``with SandboxServer() as server:`` serves on 127.0.0.1 at a free port (``server.url``)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, webhook_url: str | None = None,
                 webhook_secret: str | None = None, state_file: str | Path | None = None,
                 public_url: str | None = None, expiry_check_seconds: float = 1.0) -> None:
        self.host = host
        self.port = port
        self.app: Flask = create_sandbox_app(webhook_url, webhook_secret, state_file, public_url)
        self.expiry_check_seconds = expiry_check_seconds
        self._server: BaseWSGIServer | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def sandbox(self) -> Sandbox:
        return self.app.extensions[EXTENSION]

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("The sandbox server is not started.")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._server.server_port}"

    def start(self) -> Self:
        self._server = make_server(self.host, self.port, self.app, threaded=True)
        self._stopping.clear()
        self._threads = [
            # A short poll keeps stop() quick: tests start and stop servers often.
            threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                             name="sandbox-http", daemon=True),
            threading.Thread(target=self._expire_sessions, name="sandbox-expiry", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    def _expire_sessions(self) -> None:
        """Stripe's clock: open sessions past their `expires_at` expire within a second or two."""
        while not self._stopping.wait(self.expiry_check_seconds):
            try:
                self.sandbox.expire_due_sessions()
            except Exception:  # one bad pass must not stop the clock
                log.exception("expiring sessions failed")
