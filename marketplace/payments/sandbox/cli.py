"""``flask payments sandbox`` (and ``python -m marketplace.payments.sandbox``): serve the
Stripe sandbox until Ctrl-C."""

from __future__ import annotations

import threading
from pathlib import Path

import click
from flask.cli import AppGroup

from marketplace.payments.sandbox.server import SandboxServer

sandbox_cli = AppGroup("payments", help="Payments tools.")


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; the controls answer loopback callers only.")
@click.option("--port", default=12111, show_default=True, type=int)
@click.option("--webhook-url", default=None,
              help="Where events are delivered; without it they are only recorded.")
@click.option("--webhook-secret", default=None,
              help="whsec_... secret that signs deliveries (made up when omitted).")
@click.option("--state-file", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Keep objects and events in this JSON file across restarts.")
@click.option("--public-url", default=None,
              help="Base URL browsers use to reach the hosted checkout and onboarding pages "
                   "(default: the server's own).")
def serve_sandbox(host: str, port: int, webhook_url: str | None, webhook_secret: str | None,
                  state_file: Path | None, public_url: str | None) -> None:
    """Serve a Stripe-compatible sandbox: the API, hosted checkout and onboarding pages and webhooks."""
    server = SandboxServer(host, port, webhook_url, webhook_secret, state_file, public_url).start()
    delivery = f"events go to {webhook_url}" if webhook_url else "events are only recorded (no --webhook-url)"
    click.echo(f"Stripe sandbox on {server.url} - {delivery}, signed with {server.sandbox.endpoint.secret}. "
               "Ctrl-C stops it.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


sandbox_cli.add_command(serve_sandbox)
