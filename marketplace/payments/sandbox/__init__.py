"""A Stripe-compatible sandbox: the parts of Stripe's API the marketplace uses (Checkout,
refunds, disputes, and Connect's accounts and transfers), hosted checkout and onboarding pages,
signed webhook deliveries, and controls to pay, refund, dispute, expire, onboard, restrict,
deauthorize and break things on demand. It serves as the offline default of `make run` and as the tests' Stripe.

Run it with ``flask payments sandbox`` or ``python -m marketplace.payments.sandbox``; in code,
``with SandboxServer() as server:`` and point the Stripe SDK at ``server.url``.
"""

from marketplace.payments.sandbox.app import create_sandbox_app
from marketplace.payments.sandbox.server import SandboxServer

__all__ = ["SandboxServer", "create_sandbox_app"]
