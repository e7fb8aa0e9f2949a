"""Prices: integer minor units of the store's one currency, within sane bounds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app

from marketplace.common.money import MAX_PRICE_MINOR, stripe_amount_problem
from marketplace.errors import ValidationFailed


def store_currency() -> str:
    return current_app.config["STORE_CURRENCY"]


def check_price(price: Mapping[str, Any], field: str) -> int:
    if price["currency"] != store_currency():
        raise ValidationFailed(details={field: [f"Prices are in {store_currency()}."]})
    if not 0 < price["amount"] <= MAX_PRICE_MINOR:
        raise ValidationFailed(details={field: [f"A price is more than 0 and at most {MAX_PRICE_MINOR} "
                                                "(minor units)."]})
    chargeable_problem = stripe_amount_problem(price["amount"], price["currency"])
    if chargeable_problem:
        raise ValidationFailed(details={field: [chargeable_problem]})
    return price["amount"]
