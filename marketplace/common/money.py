"""Money: integer minor units and a currency, never floats.

Amounts are stored in the currency's ISO 4217 minor units: cents for USD, yen for JPY (no
decimals), fils for KWD (three decimals). Every amount shown to a person goes through
`format_money` (or `decimal_amount` for a spreadsheet), so a yen price never grows two decimals.

Stripe counts some currencies differently from ISO 4217; `to_stripe_amount` and
`from_stripe_amount` convert at the payment provider's edge, and `stripe_amount_problem` says,
when a price is set, whether Stripe can charge it at all.
"""

from __future__ import annotations

import dataclasses
from typing import Any

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
    # Currencies Stripe lists no minimum for take the equivalent of USD 0.50 at the day's rate:
    # these are set above it, on the step Stripe charges in (ISK in whole krónur, KWD in 10 fils).
    "isk": 100, "kwd": 250,
}


def minimum_charge(currency: str) -> int:
    """Stripe's smallest charge in `currency`; the store refuses to start in a currency not listed."""
    return MINIMUM_CHARGE_MINOR[currency.lower()]


# ISO 4217 minor units of the currencies that do not have two decimals (every other has two).
ISO_EXPONENTS = {
    **dict.fromkeys(("bif", "clp", "djf", "gnf", "isk", "jpy", "kmf", "krw", "pyg", "rwf", "ugx", "uyi",
                     "vnd", "vuv", "xaf", "xof", "xpf"), 0),
    **dict.fromkeys(("bhd", "iqd", "jod", "kwd", "lyd", "omr", "tnd"), 3),
    **dict.fromkeys(("clf", "uyw"), 4),
}

# What Stripe accepts, where it differs from two decimals with any last digit:
# - its zero-decimal currencies take whole units (MGA has two decimals in ISO 4217);
# - ISK and UGX became zero-decimal, but Stripe still takes them with two decimals that must be 00;
# - its three-decimal currencies take three decimals whose last digit must be 0;
# - HUF and TWD are charged with two decimals but paid out in whole units only, and sellers are
#   paid out, so their prices are whole units too.
STRIPE_EXPONENTS = {
    **dict.fromkeys(("bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "vnd", "vuv",
                     "xaf", "xof", "xpf"), 0),
    **dict.fromkeys(("isk", "ugx"), 2),
    **dict.fromkeys(("bhd", "jod", "kwd", "omr", "tnd"), 3),
}
# The step (in Stripe's minor units) that every amount sent to Stripe must be a multiple of.
STRIPE_STEPS = {
    **dict.fromkeys(("isk", "ugx", "huf", "twd"), 100),
    **dict.fromkeys(("bhd", "jod", "kwd", "omr", "tnd"), 10),
}


class AmountNotAccepted(ValueError):
    """Stripe cannot charge this amount in this currency (see `stripe_amount_problem`)."""


def currency_exponent(currency: str) -> int:
    """How many decimals the currency has (ISO 4217)."""
    return ISO_EXPONENTS.get(currency.lower(), 2)


def decimal_amount(amount: int, currency: str, *, grouped: bool = False) -> str:
    """"29.99", "3000", "12.340": the amount in major units with the currency's decimals."""
    exponent = currency_exponent(currency)
    sign, units = ("-" if amount < 0 else ""), abs(int(amount))
    whole, fraction = divmod(units, 10 ** exponent)
    text = f"{whole:,}" if grouped else str(whole)
    return f"{sign}{text}.{fraction:0{exponent}d}" if exponent else f"{sign}{text}"


def format_money(amount: int, currency: str) -> str:
    """"USD 29.99", "JPY 3,000", "KWD 12.340": for contracts, receipts and mails."""
    return f"{currency.upper()} {decimal_amount(amount, currency, grouped=True)}"


def _stripe_scale(currency: str) -> int:
    """Stripe's exponent minus ISO's: Stripe amount = ISO amount * 10 ** scale."""
    currency = currency.lower()
    return STRIPE_EXPONENTS.get(currency, 2) - currency_exponent(currency)


def charge_step(currency: str) -> int:
    """The smallest amount Stripe charges in steps of, in the store's (ISO 4217) minor units:
    1 for most currencies, 10 for KWD (its last digit must be 0), 100 for MGA or HUF."""
    scale = _stripe_scale(currency)
    return max(STRIPE_STEPS.get(currency.lower(), 1) // 10 ** max(scale, 0), 10 ** max(-scale, 0), 1)


def stripe_amount_problem(amount: int, currency: str) -> str | None:
    """Why Stripe cannot charge `amount` (ISO minor units) of `currency`, in words; or None."""
    step = charge_step(currency)
    if amount % step == 0:
        return None
    lower = amount - amount % step
    return (f"{currency.upper()} amounts are charged in steps of {format_money(step, currency)}: "
            f"{decimal_amount(amount, currency)} cannot be charged, {decimal_amount(lower, currency)} or "
            f"{decimal_amount(lower + step, currency)} can.")


def to_stripe_amount(amount: int, currency: str) -> int:
    """The amount as Stripe expects it, in its own minor units of the currency."""
    problem = stripe_amount_problem(amount, currency)
    if problem:
        raise AmountNotAccepted(problem)
    scale = _stripe_scale(currency)
    return amount * 10 ** scale if scale >= 0 else amount // 10 ** -scale


def from_stripe_amount(amount: int, currency: str) -> int:
    """An amount Stripe reports, in the store's (ISO 4217) minor units."""
    scale = _stripe_scale(currency)
    return amount // 10 ** scale if scale >= 0 else amount * 10 ** -scale


@dataclasses.dataclass(frozen=True)
class Money:
    amount: int
    currency: str

    def formatted(self) -> str:
        """"USD 29.99", "JPY 3,000": for contracts and receipts."""
        return format_money(self.amount, self.currency)


def money_document(amount: int, currency: str) -> dict[str, Any]:
    """An amount as answers carry it (MoneySchema): integer minor units and the currency."""
    return {"amount": int(amount), "currency": currency}
