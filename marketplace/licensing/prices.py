"""Prices: integer minor units of the store's one currency, within what Stripe can charge."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app

from marketplace.common.money import MAX_PRICE_MINOR, Money, minimum_charge, stripe_amount_problem
from marketplace.common.errors import ValidationFailed


def store_currency() -> str:
    return current_app.config["STORE_CURRENCY"]


def check_price(price: Mapping[str, Any], field: str) -> int:
    """A price a buyer can pay alone: at least Stripe's smallest charge in the store's currency,
    at most its largest, and an amount Stripe can charge in that currency."""
    currency = store_currency()
    if price["currency"] != currency:
        raise ValidationFailed(details={field: [f"Prices are in {currency}."]})
    smallest = minimum_charge(currency)
    if not smallest <= price["amount"] <= MAX_PRICE_MINOR:
        raise ValidationFailed(details={field: [
            f"A price is at least {Money(smallest, currency).formatted()} (the smallest payment the payment "
            f"provider takes) and at most {Money(MAX_PRICE_MINOR, currency).formatted()}: "
            f"{smallest} to {MAX_PRICE_MINOR} minor units."]})
    chargeable_problem = stripe_amount_problem(price["amount"], currency)
    if chargeable_problem:
        raise ValidationFailed(details={field: [chargeable_problem]})
    return price["amount"]
