"""The platform fee of a sold line and the split of what is left among the beat's credits.

Pure functions on integers (minor units, basis points: 10000 = 100%).

The rounding rule, which never creates or loses a cent: each payee's exact share is
``net * bps / 10000``; everyone first gets that share rounded down, and the cents left over
(fewer than the number of payees) go one each to the payees with the largest remainders,
ties to the payee credited first. The parts add up to the net exactly, none is negative, and
each is within one cent of its exact share.

Who is paid: the credits of the license (frozen at sale) that carry a profit share. A credit
without an account (a name only) cannot be paid, so its share goes to the beat's owner; a
person credited twice is one payee with the sum of their shares. When no credit has a profit
share, the owner gets everything. A credit whose invitation is still pending has its share held
for the invitation: its payee is `held_payee(invitation id)`, which nobody is paid from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

FULL_SHARE_BPS = 10_000
HELD_PREFIX = "held:"


def held_payee(invitation_id: str) -> str:
    return HELD_PREFIX + invitation_id


def held_invitation(payee: str) -> str | None:
    """The invitation a payee stands for, when it is a held share."""
    return payee.removeprefix(HELD_PREFIX) if payee.startswith(HELD_PREFIX) else None


class SplitInvalid(ValueError):
    """The profit shares of a sale cannot be split: they do not add up to 100%."""


def platform_fee(price: int, fee_bps: int, fee_fixed: int) -> int:
    """The platform's fee on a line sold at `price`: the percentage rounded half up, plus the
    fixed part, never more than the price itself."""
    if price <= 0:
        return 0
    percent = (price * fee_bps + FULL_SHARE_BPS // 2) // FULL_SHARE_BPS
    return max(0, min(price, percent + fee_fixed))


def payee_shares(credits: Iterable[Mapping[str, Any]], owner_id: str,
                 resolve: Callable[[Mapping[str, Any]], str | None] | None = None) -> list[tuple[str, int]]:
    """(payee id, basis points) in credit order, from a license's frozen credits. `resolve`
    answers who a credit pays as things stand (an account, a held share, None: the owner)."""
    shares: dict[str, int] = {}
    counted = [c for c in credits if c.get("profit_share_bps") is not None]
    if not counted:
        return [(owner_id, FULL_SHARE_BPS)]
    total = sum(int(c["profit_share_bps"]) for c in counted)
    if total != FULL_SHARE_BPS or any(int(c["profit_share_bps"]) < 0 for c in counted):
        raise SplitInvalid(f"Profit shares must add up to {FULL_SHARE_BPS} (100%); they add up to {total}.")
    for credit in counted:
        payee = (resolve(credit) if resolve is not None else credit.get("user_id")) or owner_id
        shares[payee] = shares.get(payee, 0) + int(credit["profit_share_bps"])
    return [(payee, bps) for payee, bps in shares.items() if bps > 0]


def split(net: int, shares: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """`net` shared by basis points with the largest-remainder rule; (payee, amount) in the
    order of `shares`. The shares must add up to 100%."""
    if net < 0:
        raise ValueError("nothing negative is split")
    if sum(bps for _, bps in shares) != FULL_SHARE_BPS:
        raise SplitInvalid("Profit shares must add up to 10000 (100%).")
    floors = [net * bps // FULL_SHARE_BPS for _, bps in shares]
    remainders = [net * bps % FULL_SHARE_BPS for _, bps in shares]
    left = net - sum(floors)
    # Largest remainder first; on a tie, the payee credited first.
    for index in sorted(range(len(shares)), key=lambda i: (-remainders[i], i))[:left]:
        floors[index] += 1
    return [(payee, amount) for (payee, _), amount in zip(shares, floors)]
