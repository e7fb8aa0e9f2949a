"""The Stripe gateway is plugged into two ports, each declared by the package that uses it:
checkout's PaymentPort and payouts' ConnectGateway."""

from __future__ import annotations

from marketplace.checkout.port import PAYMENT_PORT, PaymentPort
from marketplace.payments.service import build_gateway
from marketplace.payouts.port import CONNECT_GATEWAY, ConnectGateway


def test_one_gateway_serves_checkouts_and_payouts_ports(app):
    assert isinstance(build_gateway(app.config), PaymentPort)
    assert isinstance(build_gateway(app.config), ConnectGateway)
    assert app.extensions[PAYMENT_PORT] is app.extensions[CONNECT_GATEWAY]

