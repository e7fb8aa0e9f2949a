"""Money: integer minor units and a currency, never floats."""

from __future__ import annotations

import dataclasses

# The largest amount Stripe charges in one payment (eight digits of minor units): the most a
# price, a cart or a discount may be, so that whatever the store accepts can be charged.
MAX_PRICE_MINOR = 99_999_999
MAX_CHARGE_MINOR = MAX_PRICE_MINOR

# Stripe's smallest charge per currency, in minor units (its documented minimum amounts).
# A price below it could never be paid alone; a cart whose total falls below it (but is not
# free) cannot be charged.
MINIMUM_CHARGE_MINOR = {
    "usd": 50, "aud": 50, "brl": 50, "cad": 50, "chf": 50, "eur": 50, "inr": 50, "nzd": 50, "sgd": 50,
    "gbp": 30, "jpy": 50, "bgn": 100, "aed": 200, "myr": 200, "pln": 200, "ron": 200, "dkk": 250,
    "nok": 300, "sek": 300, "hkd": 400, "mxn": 1000, "thb": 1000, "czk": 1500, "huf": 17500,
}


def minimum_charge(currency: str) -> int:
    """Stripe's smallest charge in `currency`; the store refuses to start in a currency not listed."""
    return MINIMUM_CHARGE_MINOR[currency.lower()]


@dataclasses.dataclass(frozen=True)
class Money:
    amount: int
    currency: str

    def formatted(self) -> str:
        """"USD 29.99": for contracts and receipts (two-decimal currencies)."""
        return f"{self.currency.upper()} {self.amount // 100:,}.{self.amount % 100:02d}"
