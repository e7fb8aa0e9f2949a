"""Where payouts hear about accounts: Stripe's `account.updated`. (Checkout's signals about
orders reach payouts' services through marketplace.listeners.)"""

from __future__ import annotations

from typing import Any

from marketplace.payments.webhooks import handles
from marketplace.payouts import services


@handles("account.updated")
def _account_updated(account: dict[str, Any]) -> None:
    services.refresh_account(account["id"])
