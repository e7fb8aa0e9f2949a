"""Money: integer minor units and a currency, never floats."""

from __future__ import annotations

import dataclasses

# The store sells in one currency; prices in any other are refused.
MAX_PRICE_MINOR = 100_000_000  # 1,000,000.00 in the store currency


@dataclasses.dataclass(frozen=True)
class Money:
    amount: int
    currency: str

    def formatted(self) -> str:
        """"USD 29.99": for contracts and receipts (two-decimal currencies)."""
        return f"{self.currency.upper()} {self.amount // 100:,}.{self.amount % 100:02d}"
