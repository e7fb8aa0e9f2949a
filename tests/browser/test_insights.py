"""Promotions and charts in a real browser: a bulk deal and a coupon made in the studio (their
rules in words, mistakes refused in sentences) that a buyer's cart then prices; the studio's
statistics and the admin overview drawn as charts with the data of real plays and sales."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from marketplace.checkout.models import Order
from marketplace.db import db
from tests.browser.helpers import nav, screenshot, sign_in
from tests.browser.test_studio import UNNAMED_CONTROLS
from tests.checkout.conftest import wait_for

# The first series' colour (static/app/charts.js): a chart that drew its series has such pixels.
SERIES_RGB = (91, 61, 245)


def dollars(amount: int) -> str:
    return f"${amount / 100:,.2f}"


def offer_of(beat: dict, tier_name: str) -> dict:
    return next(offer for offer in beat["offers"] if offer["name"] == tier_name)


def sell(store, beat: dict, tier_name: str = "Basic lease") -> dict:
    """An artist buys one license of `beat` and pays at once in the Stripe sandbox."""
    buyer = store.user("artist")
    answer = store.api("POST", "/checkout", token=buyer.token,
                       json={"items": [{"beat_id": beat["id"],
                                        "tier_id": offer_of(beat, tier_name)["tier_id"]}]})
    assert answer.status_code == 201, answer.text
    order_id = answer.json()["order_id"]
    with store.app.app_context():
        session_id = db.session.get(Order, order_id).payment_session_id
    store.sandbox.complete(session_id, deliver="sync")
    order = store.api("GET", f"/orders/{order_id}", token=buyer.token).json()
    assert order["status"] == "paid"
    return order


def play(store, beat: dict, times: int) -> None:
    for _ in range(times):
        assert store.api("GET", f"/beats/{beat['id']}/preview").status_code == 200


def series_pixels(page, chart) -> int:
    """How many pixels of the chart's canvas are painted in the first series' colour."""
    return chart.locator("canvas").evaluate("""(canvas, rgb) => {
        const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        let found = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3] > 200 && Math.abs(data[i] - rgb[0]) < 40 && Math.abs(data[i + 1] - rgb[1]) < 40
              && Math.abs(data[i + 2] - rgb[2]) < 40) found += 1;
        }
        return found;
    }""", list(SERIES_RGB))


def expect_drawn(page, title: str) -> None:
    chart = page.locator("figure.chart").filter(has=page.get_by_role("heading", name=title, exact=True))
    expect(chart.locator("canvas")).to_have_count(1)
    assert int(chart.get_attribute("data-total")) > 0, f"{title}: the series is empty"
    page.wait_for_function("(figure) => figure.querySelector('canvas').width > 0", arg=chart.element_handle())
    assert series_pixels(page, chart) > 0, f"{title}: nothing of the series was drawn"


def test_a_deal_and_a_coupon_made_in_the_studio_price_the_cart(page, store):
    maker = store.user("beatmaker", "Nova Beats")
    titles = ("Night Drive", "Night Bloom", "Night Shift")
    beats = [store.publish_beat(maker, title=title) for title in titles]
    sign_in(page, maker)
    page.goto("/studio")
    page.get_by_role("navigation", name="Studio").get_by_role("link", name="Deals").click()
    expect(page.get_by_role("heading", name="Deals and coupons", level=1)).to_be_visible()
    expect(page.locator(".deal-rule")).to_have_text("No deal running.")

    # The bulk deal: a count out of range is refused in a sentence, then the deal starts.
    page.get_by_label("Get free").fill("0")
    page.get_by_role("button", name="Start deal").click()
    expect(page.locator(".deal-card")).to_contain_text(
        "How many are free must be a whole number from 1 to 20.")
    page.get_by_label("Buy", exact=True).fill("2")
    page.get_by_label("Get free").fill("1")
    page.get_by_role("button", name="Start deal").click()
    expect(page.locator(".deal-rule")).to_have_text("Buy 2 get 1 free on your leases.")

    # A coupon: mistakes are said in sentences, beside their fields, and nothing is created.
    new_coupon = page.locator(".coupon-create")
    new_coupon.get_by_label("Code").fill("two words")
    new_coupon.get_by_label("Percent off").fill("150")
    new_coupon.get_by_role("button", name="Create coupon").click()
    expect(new_coupon).to_contain_text("Use 3 to 40 letters, digits, - or _ (no spaces).")
    expect(new_coupon).to_contain_text("Enter a percentage from 1 to 100.")
    assert store.api("GET", "/coupons", token=maker.token).json() == []
    new_coupon.get_by_label("Code").fill("save20")
    new_coupon.get_by_label("Percent off").fill("20")
    new_coupon.get_by_label("Uses at most").fill("50")
    new_coupon.get_by_label("Ends on (UTC)").fill("2099-12-31")
    new_coupon.get_by_role("button", name="Create coupon").click()
    coupon = page.locator(".coupon", has=page.locator("code", has_text="SAVE20"))
    expect(coupon.locator(".coupon-rule")).to_have_text(
        "20% off every beat of yours until Dec 31, 2099 (UTC), 0 of 50 used.")
    expect(coupon.locator(".badge")).to_have_text("Running")
    # The same code again is refused by the server, in its words.
    new_coupon.get_by_label("Code").fill("SAVE20")
    new_coupon.get_by_label("Percent off").fill("10")
    new_coupon.get_by_role("button", name="Create coupon").click()
    expect(new_coupon.get_by_role("alert")).to_contain_text("You already have a coupon with this code.")

    # Edited: a limit is only raised; a lower one is refused in words, a higher one saved.
    coupon.get_by_text("Edit").click()
    coupon.get_by_label("Uses at most").fill("40")
    coupon.get_by_role("button", name="Save changes").click()
    expect(coupon.get_by_role("alert")).to_contain_text("A coupon's limit can only be raised.")
    expect(coupon).to_contain_text("The limit can only be raised (it is 50)")
    coupon.get_by_label("Uses at most").fill("60")
    coupon.get_by_role("button", name="Save changes").click()
    expect(coupon.locator(".coupon-rule")).to_have_text(
        "20% off every beat of yours until Dec 31, 2099 (UTC), 0 of 60 used.")
    # Ended, and started again.
    coupon.get_by_role("button", name="End coupon").click()
    expect(coupon.locator(".badge")).to_have_text("Ended")
    coupon.get_by_role("button", name="Start again").click()
    expect(coupon.locator(".badge")).to_have_text("Running")
    screenshot(page, "studio-deals")

    # A buyer's cart prices both: one lease of three free, then 20% off the two left to pay.
    artist = store.user("artist", "Ann Artist")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, artist)
    for beat in beats:
        page.goto(f"/beats/{beat['id']}")
        page.get_by_role("button", name="Add Basic lease to cart").click()
        expect(page.locator('td.offer[data-tier-name="Basic lease"]').get_by_role("status")) \
            .to_contain_text("to your cart")
    nav(page).get_by_role("link", name="Cart (3)").click()
    prices = [offer_of(beat, "Basic lease")["price"]["amount"] for beat in beats]
    expect(page.locator(".cart-line").filter(has_text="Buy 2 get 1 free")).to_have_count(1)
    expect(page.locator(".cart-total")).to_have_text(dollars(sum(prices) - min(prices)))
    page.get_by_label("Coupon code").fill("save20")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".coupon-result").get_by_role("status")).to_have_text("Code SAVE20 applied.")
    paying = sorted(prices)[1:]
    discounted = sum(price - price * 20 // 100 for price in paying)
    expect(page.locator(".cart-total")).to_have_text(dollars(discounted))


def test_the_studio_statistics_chart_real_plays_and_sales(page, store):
    maker = store.user("beatmaker", "Chart Maker")
    beat = store.publish_beat(maker, title="Charted Beat")
    quiet = store.publish_beat(maker, title="Quiet Beat")
    play(store, beat, 8)
    play(store, quiet, 2)
    sell(store, beat)
    sell(store, beat, "Premium lease")
    stats = store.api("GET", "/me/stats", token=maker.token).json()
    assert stats["totals"]["plays"] == 10 and stats["totals"]["sales"] == 2

    # The charts draw under the pages' policy (no inline styles or scripts allowed): any
    # refusal of the browser's would be recorded here.
    page.add_init_script("""window.policyViolations = [];
        document.addEventListener("securitypolicyviolation",
            (event) => window.policyViolations.push(`${event.violatedDirective} ${event.blockedURI}`));""")
    sign_in(page, maker)
    shell = page.goto("/studio")
    assert "unsafe-inline" not in shell.headers["content-security-policy"]
    page.get_by_role("navigation", name="Studio").get_by_role("link", name="Statistics").click()
    expect(page.get_by_role("heading", name="Statistics", level=1)).to_be_visible()
    expect(page.get_by_text(re.compile("midnight to midnight UTC"))).to_be_visible()
    for title in ("Plays", "Sales", "Earnings"):
        expect_drawn(page, title)
    tiles = page.get_by_role("region", name="Totals for the period")
    expect(tiles).to_contain_text("10")
    expect(tiles).to_contain_text(dollars(stats["totals"]["earnings"]))
    expect(tiles).to_contain_text("20%")  # 2 sales of 10 plays
    top = page.get_by_role("table").filter(has_text="Sales per play").last
    expect(top.get_by_role("row").nth(1)).to_contain_text("Charted Beat")
    expect(top.get_by_role("row").nth(1)).to_contain_text("25%")  # 2 of its 8 plays
    # Every day of the range is in the numbers, quiet days at zero.
    plays_chart = page.locator("figure.chart").filter(
        has=page.get_by_role("heading", name="Plays", exact=True))
    plays_chart.get_by_text("Numbers").click()
    expect(plays_chart.locator(".chart-numbers tbody tr")).to_have_count(30)
    screenshot(page, "studio-stats")

    # Per week, kept in the address: the weeks' numbers still add up to the plays.
    page.get_by_label("Per week").check()
    expect(page).to_have_url(re.compile(r"/studio/stats\?interval=week&days=30$"))
    first_period = page.locator("figure.chart").first.locator(".chart-numbers th[scope=row]").first
    expect(first_period).to_contain_text("Week of")
    expect_drawn(page, "Plays")
    assert page.locator("figure.chart").first.get_attribute("data-total") == "10"
    page.get_by_label("Range").select_option("90")
    expect(page).to_have_url(re.compile(r"interval=week&days=90$"))
    expect_drawn(page, "Sales")
    screenshot(page, "studio-stats-weeks")
    assert page.evaluate("window.policyViolations") == []


def test_the_admin_overview_charts_the_stores_sales_fees_and_refunds(page, store):
    maker = store.user("beatmaker", "Sold Maker")
    beat = store.publish_beat(maker, title="Sold Beat")
    sell(store, beat)
    refunded = sell(store, beat, "Premium lease")
    admin = store.user("admin", "Ada Admin")
    answer = store.api("POST", f"/orders/{refunded['id']}/refund", token=admin.token)
    assert answer.status_code == 202, answer.text
    # The refund reaches the ledger when Stripe confirms it.
    def refunds() -> int:
        return store.api("GET", "/admin/stats", token=admin.token).json()["totals"]["refunds"]

    assert wait_for(lambda: refunds() > 0, seconds=30)
    stats = store.api("GET", "/admin/stats", token=admin.token).json()
    assert stats["totals"]["refunds"] == refunded["total"]["amount"]

    sign_in(page, admin)
    page.goto("/admin")
    expect(page.get_by_role("heading", name="The store over time")).to_be_visible()
    expect(page.get_by_text(re.compile("midnight to midnight UTC"))).to_be_visible()
    for title in ("Licenses sold", "Sales and fees"):
        expect_drawn(page, title)
    expect(page.locator(".store-totals")).to_contain_text(
        f"2 licenses sold for {dollars(stats['totals']['gross'])}, "
        f"{dollars(stats['totals']['fees'])} in fees")
    expect_drawn(page, "Refunds and disputes")
    expect(page.locator(".store-totals")).to_contain_text(f"{dollars(stats['totals']['refunds'])} refunded")
    screenshot(page, "admin-overview")


def test_the_charts_fit_a_phone(phone_page, store):
    page = phone_page
    maker = store.user("beatmaker", "Phone Maker")
    beat = store.publish_beat(maker, title="Pocket Beat")
    play(store, beat, 3)
    sell(store, beat)
    sign_in(page, maker)
    page.goto("/studio/stats")
    expect_drawn(page, "Plays")
    expect_drawn(page, "Sales")
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for canvas in page.locator("figure.chart canvas").all():
        assert canvas.bounding_box()["width"] <= width
    screenshot(page, "studio-stats-phone")
    page.goto("/studio/deals")
    expect(page.get_by_role("heading", name="Deals and coupons", level=1)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, "studio-deals-phone")


def test_every_control_of_the_new_pages_has_a_name_and_one_main_heading(page, store):
    maker = store.user("beatmaker")
    beat = store.publish_beat(maker, title="Labelled")
    answer = store.api("POST", "/coupons", token=maker.token,
                       json={"code": "NAMED", "kind": "percent", "percent_off": 5})
    assert answer.status_code == 201, answer.text
    play(store, beat, 1)
    sign_in(page, maker)
    for path in ("/studio/deals", "/studio/stats"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        for details in page.locator("main details").all():
            details.locator("summary").click()  # the coupon's edit form, the charts' numbers
        assert page.evaluate(UNNAMED_CONTROLS) == [], path
    admin = store.user("admin")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, admin)
    page.goto("/admin")
    expect(page.get_by_role("heading", name="The store over time")).to_be_visible()
    expect(page.locator("figure.chart canvas")).to_have_count(4)
    assert page.evaluate(UNNAMED_CONTROLS) == []
