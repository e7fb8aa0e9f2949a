"""The platform fee and the split of a line among its credits: exact to the cent."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.payouts.splits import SplitInvalid, payee_shares, platform_fee, split


@st.composite
def shares(draw):
    """Up to 8 payees whose basis points add up to 10000 (some of them zero)."""
    count = draw(st.integers(min_value=1, max_value=8))
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=10_000), min_size=count - 1,
                                max_size=count - 1)))
    bounds = [0, *cuts, 10_000]
    return [(f"usr_{index}", bounds[index + 1] - bounds[index]) for index in range(count)]


@settings(max_examples=500, deadline=None)
@given(net=st.integers(min_value=0, max_value=100_000_000), parts=shares())
def test_the_parts_always_add_up_to_the_net_each_within_a_cent_of_its_share(net, parts):
    paid = split(net, parts)
    assert sum(amount for _, amount in paid) == net
    assert [payee for payee, _ in paid] == [payee for payee, _ in parts]
    for (_, amount), (_, bps) in zip(paid, parts):
        assert amount >= 0
        assert abs(amount - Fraction(net * bps, 10_000)) < 1


def test_leftover_cents_go_to_the_largest_remainders_then_to_the_first_credited():
    assert split(100, [("a", 3333), ("b", 3333), ("c", 3334)]) == [("a", 33), ("b", 33), ("c", 34)]
    assert split(1, [("a", 5000), ("b", 5000)]) == [("a", 1), ("b", 0)]
    assert split(2, [("a", 3333), ("b", 3334), ("c", 3333)]) == [("a", 1), ("b", 1), ("c", 0)]
    assert split(2699, [("owner", 6000), ("co", 4000)]) == [("owner", 1619), ("co", 1080)]


def test_payees_come_from_the_frozen_credits():
    owner = "usr_owner"
    assert payee_shares([{"user_id": owner, "profit_share_bps": None}], owner) == [(owner, 10_000)]
    credits = [{"user_id": owner, "profit_share_bps": 5000}, {"user_id": None, "profit_share_bps": 2000},
               {"user_id": "usr_co", "profit_share_bps": 3000}, {"user_id": "usr_eng", "profit_share_bps": None}]
    # A name without an account cannot be paid: its share goes to the owner.
    assert payee_shares(credits, owner) == [(owner, 7000), ("usr_co", 3000)]
    assert payee_shares([{"user_id": "usr_co", "profit_share_bps": 10_000},
                         {"user_id": owner, "profit_share_bps": 0}], owner) == [("usr_co", 10_000)]


def test_splits_that_do_not_add_up_are_refused():
    with pytest.raises(SplitInvalid, match="add up to 9000"):
        payee_shares([{"user_id": "a", "profit_share_bps": 6000}, {"user_id": "b", "profit_share_bps": 3000}], "a")
    with pytest.raises(SplitInvalid):
        split(100, [("a", 5000)])


@pytest.mark.parametrize("price, bps, fixed, fee", [
    (2999, 1000, 0, 300),  # 299.9 rounds half up to 300
    (2995, 1000, 0, 300),  # 299.5 rounds up
    (2994, 1000, 0, 299),  # 299.4 rounds down
    (5, 1000, 0, 1),  # 0.5 rounds up
    (4, 1000, 0, 0),
    (2999, 500, 30, 180),  # 149.95 -> 150, plus 30
    (20, 1000, 30, 20),  # never more than the price
    (2999, 0, 0, 0),
    (0, 1000, 30, 0),  # a free line (a bulk deal) pays no fee
    (99_999_999, 10_000, 0, 99_999_999),
])
def test_the_fee_rounds_half_up_and_never_exceeds_the_price(price, bps, fixed, fee):
    assert platform_fee(price, bps, fixed) == fee


@given(price=st.integers(min_value=0, max_value=100_000_000), bps=st.integers(min_value=0, max_value=10_000),
       fixed=st.integers(min_value=0, max_value=10_000))
def test_the_fee_is_between_nothing_and_the_price(price, bps, fixed):
    fee = platform_fee(price, bps, fixed)
    assert 0 <= fee <= price
    assert abs(fee - min(price, Fraction(price * bps, 10_000) + fixed)) <= Fraction(1, 2)
