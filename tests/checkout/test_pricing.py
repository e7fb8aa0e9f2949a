"""Discounts computed on the server: deals, coupons, and exact cent allocation."""

from __future__ import annotations

import datetime as dt

import pytest

from marketplace.checkout.models import BulkDeal, Coupon
from marketplace.checkout.pricing import PricedLine, apply_coupon, apply_deal, coupon_problem, split_fixed

NOW = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


def lease(price: int, beat: str = "bt_1", seller: str = "usr_a") -> PricedLine:
    return PricedLine(seller_id=seller, beat_id=beat, kind="lease", list_price=price)


def test_buy_two_get_one_free_makes_the_cheapest_lease_free():
    lines = [lease(3000, "b1"), lease(2000, "b2"), lease(5000, "b3")]
    apply_deal(lines, BulkDeal(id="deal_1", buy_count=2, free_count=1))
    assert [line.price for line in lines] == [3000, 0, 5000]
    assert lines[1].discounts == [{"type": "deal", "deal_id": "deal_1", "label": "Buy 2 get 1 free",
                                   "amount": 2000}]


def test_a_deal_needs_a_full_group_and_skips_exclusives():
    lines = [lease(3000, "b1"), lease(2000, "b2"),
             PricedLine(seller_id="usr_a", beat_id="b3", kind="exclusive", list_price=100)]
    apply_deal(lines, BulkDeal(id="deal_1", buy_count=2, free_count=1))
    assert [line.price for line in lines] == [3000, 2000, 100]


def test_two_full_groups_get_two_free_leases():
    lines = [lease(p, f"b{p}") for p in (100, 200, 300, 400, 500, 600)]
    apply_deal(lines, BulkDeal(id="d", buy_count=2, free_count=1))
    # Dearest first, in groups of three: 600 500 [400] | 300 200 [100].
    assert sorted(line.price for line in lines) == [0, 0, 200, 300, 500, 600]


def test_percent_coupon_rounds_each_lines_discount_down():
    lines = [lease(2999, "b1"), lease(1999, "b2")]
    assert apply_coupon(lines, Coupon(id="c", currency="usd", code="TEN", kind="percent", percent_off=10,
                                      beat_id=None))
    assert [line.discount for line in lines] == [299, 199]
    assert all(line.coupon_id == "c" for line in lines)


def test_coupon_for_one_beat_touches_only_that_beat():
    lines = [lease(2000, "b1"), lease(2000, "b2")]
    apply_coupon(lines, Coupon(id="c", currency="usd", code="X", kind="fixed", amount_off=500, beat_id="b2"))
    assert [line.price for line in lines] == [2000, 1500]


def test_coupon_that_covers_nothing_says_so():
    assert not apply_coupon([lease(2000, "b1")], Coupon(id="c", currency="usd", code="X", kind="percent",
                                                        percent_off=5, beat_id="b9"))


@pytest.mark.parametrize("amount,prices", [(1000, [3333, 3333, 3334]), (7, [1, 1, 1]), (101, [50, 25, 25]),
                                           (999999, [100, 200]), (1, [5000, 1])])
def test_fixed_discount_is_split_to_the_cent(amount, prices):
    shares = split_fixed(amount, prices)
    assert sum(shares) == min(amount, sum(prices))
    assert all(0 <= share <= price for share, price in zip(shares, prices))


@pytest.mark.parametrize("amount,prices,shares", [
    (1000, [3333, 3333, 3334], [333, 333, 334]),  # 333.3 333.3 333.4: the cent left goes to .4
    (11, [10, 20, 30], [2, 4, 5]),  # 1.83 3.67 5.5: the two cents go to .83 and .67, not to .5
    (1, [5000, 1], [1, 0]),  # 0.9998 and 0.0002
    (2, [1, 1, 1], [1, 1, 0]),  # equal remainders: the cart's order decides
])
def test_the_cents_left_over_go_to_the_largest_remainders(amount, prices, shares):
    assert split_fixed(amount, prices) == shares


def test_a_fixed_coupon_in_kwd_is_shared_in_steps_by_the_largest_remainders():
    """3.330 KWD over 12.340, 4.990 and 2.990, in steps of 0.010: 202.2, 81.8 and 49.0 steps."""
    lines = [lease(12340, "b1"), lease(4990, "b2"), lease(2990, "b3")]
    apply_coupon(lines, Coupon(id="c", currency="kwd", code="OFF", kind="fixed", amount_off=3330,
                               beat_id=None))
    assert [line.discount for line in lines] == [2020, 820, 490]


def test_fixed_coupon_never_takes_a_line_below_zero():
    lines = [lease(300, "b1"), lease(200, "b2")]
    apply_coupon(lines, Coupon(id="c", currency="usd", code="X", kind="fixed", amount_off=10_000,
                               beat_id=None))
    assert [line.price for line in lines] == [0, 0]


def test_coupon_problems():
    coupon = Coupon(id="c", code="X", kind="percent", percent_off=5, active=True, currency="usd",
                    expires_at=None, max_redemptions=2)
    assert coupon_problem(coupon, NOW, "usd", 1) is None
    assert "as many times" in coupon_problem(coupon, NOW, "usd", 2)
    coupon.expires_at = NOW
    assert "expired" in coupon_problem(coupon, NOW, "usd", 0)
    coupon.expires_at, coupon.active = None, False
    assert "no longer active" in coupon_problem(coupon, NOW, "usd", 0)


def test_coupons_in_kwd_leave_prices_stripe_can_charge():
    """KWD has three decimals and Stripe charges it in steps of 0.010: discounts keep the step."""
    lines = [lease(12340, "b1"), lease(4990, "b2")]
    apply_coupon(lines, Coupon(id="c", currency="kwd", code="TEN", kind="percent", percent_off=15,
                               beat_id=None))
    assert [line.discount for line in lines] == [1850, 740]  # 1851 and 748.5 rounded down to a step
    lines = [lease(12340, "b1"), lease(4990, "b2"), lease(2990, "b3")]
    apply_coupon(lines, Coupon(id="c", currency="kwd", code="OFF", kind="fixed", amount_off=3330,
                               beat_id=None))
    assert sum(line.discount for line in lines) == 3330
    assert all(line.price % 10 == 0 for line in lines), [line.price for line in lines]
