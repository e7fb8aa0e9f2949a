"""Buying several licenses at once in a real browser: the cart across two beatmakers with a bulk
deal and a coupon priced before paying, one payment on the payment page, the buyer's orders with
their receipts and licenses, a way back to an unpaid or settling payment, lines that can no
longer be bought, and the public license check."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.helpers import nav, screenshot, sign_in

PHONE_WIDTH = 390


def money(amount: int) -> str:
    return f"${amount / 100:,.2f}"


def basic_price(beat) -> int:
    return next(offer["price"]["amount"] for offer in beat["offers"] if offer["name"] == "Basic lease")


def add_basic_lease(page, beat) -> None:
    page.goto(f"/beats/{beat['id']}")
    page.get_by_role("button", name="Add Basic lease to cart").click()
    basic = page.locator('td.offer[data-tier-name="Basic lease"]')
    expect(basic.get_by_role("status")).to_contain_text(f"Added “{beat['title']}” (Basic lease) to your cart.")


def cart_line(page, title: str):
    return page.locator(".cart-line").filter(has=page.get_by_role("link", name=title))


def promote(store, beatmaker, *, code: str, deal: tuple[int, int] | None = None) -> None:
    answer = store.api("POST", "/coupons", token=beatmaker.token,
                       json={"code": code, "kind": "percent", "percent_off": 10})
    assert answer.status_code == 201, answer.text
    if deal:
        answer = store.api("PUT", "/deal", token=beatmaker.token, json={"buy_count": deal[0], "free_count": deal[1]})
        assert answer.status_code == 200, answer.text


def test_a_cart_of_two_beatmakers_with_a_deal_and_a_coupon_is_paid_at_once(page, store):
    nova, kaya = store.user("beatmaker", "Nova Beats"), store.user("beatmaker", "Kaya Keys")
    novas = [store.publish_beat(nova, title=title) for title in ("Night Drive", "Night Bloom", "Night Shift")]
    keys = store.publish_beat(kaya, title="Glass Keys", genre="lofi")
    promote(store, nova, code="SAVE10", deal=(2, 1))
    promote(store, kaya, code="SAVE10")
    artist = store.user("artist", "Ann Artist")
    sign_in(page, artist)

    for beat in [*novas, keys]:
        add_basic_lease(page, beat)
    expect(nav(page).get_by_role("link", name="Cart (4)")).to_be_visible()
    nav(page).get_by_role("link", name="Cart (4)").click()
    expect(page.get_by_role("heading", name="Your cart", level=1)).to_be_visible()
    expect(page.locator(".cart-line")).to_have_count(4)
    expect(cart_line(page, "Glass Keys")).to_contain_text("Kaya Keys")
    expect(cart_line(page, "Night Drive")).to_contain_text("Nova Beats")
    expect(cart_line(page, "Night Drive")).to_contain_text("Basic lease")

    # Before any code: Nova's deal makes one of their three leases free.
    prices = [basic_price(beat) for beat in [*novas, keys]]
    free = prices[2]
    expect(cart_line(page, "Night Shift")).to_contain_text("Buy 2 get 1 free")
    expect(page.locator(".cart-total")).to_have_text(money(sum(prices) - free))

    # A code no beatmaker in the cart has is refused in words; the cart stays priced.
    page.get_by_label("Coupon code").fill("NOPE")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".coupon-result").get_by_role("alert")).to_have_text(
        "No coupon with this code for the beats in your cart.")
    expect(page.locator(".cart-total")).to_have_text(money(sum(prices) - free))

    # Both beatmakers' code: 10% off every line left to pay, after the deal.
    page.get_by_label("Coupon code").fill("save10")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".coupon-result").get_by_role("status")).to_have_text("Code SAVE10 applied.")
    paid_lines = [price - price // 10 for price in (prices[0], prices[1], prices[3])]
    total = sum(paid_lines)
    expect(page.locator(".cart-total")).to_have_text(money(total))
    expect(cart_line(page, "Glass Keys")).to_contain_text(f"Code SAVE10: −{money(prices[3] // 10)}")
    screenshot(page, "store-cart")

    # One payment for everything, on the payment page.
    page.get_by_role("button", name=f"Pay {money(total)}").click()
    page.wait_for_url(store.sandbox.url + "/**")
    expect(page.locator("tbody tr")).to_have_count(4)
    page.get_by_role("button", name=f"Pay USD {total / 100:.2f}").click()
    expect(page).to_have_url(re.compile(r"/orders/[^/?]+\?session_id="))
    expect(page.get_by_role("status")).to_contain_text("Paid: your licenses are ready.")
    expect(page.get_by_role("link", name=re.compile(r"^License LIC-"))).to_have_count(4)
    expect(page.locator(".order-total")).to_have_text(money(total))
    expect(nav(page).get_by_role("link", name="Cart", exact=True)).to_be_visible()  # emptied
    orders = store.api("GET", "/orders", token=artist.token).json()
    assert len(orders) == 1 and orders[0]["total"]["amount"] == total
    assert [item["price"]["amount"] for item in orders[0]["items"]] == [
        paid_lines[0], paid_lines[1], 0, paid_lines[2]]


def pending_orders(store, artist, beat) -> tuple[dict, dict]:
    """Two checkouts of the artist: one left unpaid, one paid by a bank transfer still settling."""
    tier = {offer["name"]: offer["tier_id"] for offer in beat["offers"]}
    unpaid = store.api("POST", "/checkout", token=artist.token,
                       json={"items": [{"beat_id": beat["id"], "tier_id": tier["Basic lease"]}]}).json()
    settling = store.api("POST", "/checkout", token=artist.token,
                         json={"items": [{"beat_id": beat["id"], "tier_id": tier["Premium lease"]}]}).json()
    store.sandbox.complete(settling["checkout_url"].rstrip("/").rsplit("/", 1)[-1], async_payment=True)
    return unpaid, settling


def test_orders_show_their_number_receipt_licenses_and_a_way_back_to_paying(page, store):
    beatmaker = store.user("beatmaker", "Nova Beats")
    bought = store.publish_beat(beatmaker, title="Paid Beat")
    waiting = store.publish_beat(beatmaker, title="Waiting Beat")
    artist = store.user("artist", "Ann Artist")
    tier = next(offer["tier_id"] for offer in bought["offers"] if offer["name"] == "Basic lease")
    paid = store.api("POST", "/checkout", token=artist.token,
                     json={"items": [{"beat_id": bought["id"], "tier_id": tier}]}).json()
    store.sandbox.complete(paid["checkout_url"].rstrip("/").rsplit("/", 1)[-1])
    assert store.api("GET", f"/orders/{paid['order_id']}", token=artist.token).json()["status"] == "paid"
    unpaid, settling = pending_orders(store, artist, waiting)

    sign_in(page, artist)
    nav(page).get_by_role("link", name="Orders").click()
    expect(page.get_by_role("heading", name="My orders", level=1)).to_be_visible()
    cards = page.locator(".order-card")
    expect(cards).to_have_count(3)
    paid_card = cards.filter(has_text=paid["order_id"])
    expect(paid_card).to_contain_text("Paid")
    expect(paid_card).to_contain_text("Paid Beat — Basic lease")
    expect(paid_card).to_contain_text("1 license")
    expect(paid_card).to_contain_text(money(basic_price(bought)))
    expect(cards.filter(has_text=settling["order_id"])).to_contain_text("Bank transfer under way")
    unpaid_card = cards.filter(has_text=unpaid["order_id"])
    expect(unpaid_card).to_contain_text("Waiting for payment")
    screenshot(page, "store-orders")

    # The paid order: its number, receipt and licenses with their files and contract.
    paid_card.get_by_role("link", name=f"Order {paid['order_id']}").click()
    receipt = page.get_by_role("region", name="Receipt")
    expect(receipt).to_contain_text(f"Order number{paid['order_id']}")
    expect(receipt.locator(".order-total")).to_have_text(money(basic_price(bought)))
    expect(receipt.get_by_role("button", name="Print the receipt")).to_be_visible()
    licenses = page.get_by_role("region", name="Your licenses")
    expect(licenses.get_by_role("link", name=re.compile(r"^License LIC-"))).to_have_count(1)
    screenshot(page, "store-order-receipt")
    licenses.get_by_role("link", name="Files and contract of Paid Beat").click()
    expect(page.get_by_role("heading", name="Paid Beat: Basic lease")).to_be_visible()
    expect(page.get_by_role("link", name="Download MP3")).to_be_visible()
    expect(page.get_by_role("link", name="Open the contract (PDF)")).to_be_visible()

    # The settling bank transfer says there is nothing to do; the unpaid one leads back to paying.
    page.goto(f"/orders/{settling['order_id']}")
    expect(page.get_by_role("status")).to_contain_text("Bank transfer under way.")
    expect(page.get_by_role("link", name="Back to the payment page")).to_have_count(0)
    page.goto("/orders")
    page.locator(".order-card").filter(has_text=unpaid["order_id"]).get_by_role("link", name="Continue to pay").click()
    expect(page.get_by_role("status")).to_contain_text("Not paid yet? The payment page is open until")
    page.get_by_role("link", name="Back to the payment page").click()
    page.wait_for_url(store.sandbox.url + "/**")
    expect(page.get_by_role("button", name=re.compile(r"^Pay USD"))).to_be_visible()


def test_a_line_that_cannot_be_bought_is_marked_in_words_and_removed(page, store):
    beatmaker = store.user("beatmaker", "Nova Beats")
    staying = store.publish_beat(beatmaker, title="Staying Beat")
    leaving = store.publish_beat(beatmaker, title="Leaving Beat")
    artist = store.user("artist")
    sign_in(page, artist)
    add_basic_lease(page, staying)
    add_basic_lease(page, leaving)
    # Another license of a beat already in the cart takes the place of the first.
    page.get_by_role("button", name="Add Premium lease to cart").click()
    expect(page.locator('td.offer[data-tier-name="Premium lease"]')
           .get_by_role("status")).to_contain_text("now has “Leaving Beat” as Premium lease instead of Basic lease")
    assert store.api("DELETE", f"/beats/{leaving['id']}", token=beatmaker.token).status_code == 200

    page.goto("/cart")
    expect(cart_line(page, "Leaving Beat").get_by_role("alert")).to_have_text("This beat is not for sale.")
    expect(cart_line(page, "Leaving Beat")).to_contain_text("Premium lease")
    expect(page.locator("main").get_by_role("alert").first).to_contain_text(
        "One license in your cart cannot be bought: remove it to pay for the others.")
    expect(page.locator(".cart-total")).to_have_text(money(basic_price(staying)))
    expect(page.get_by_role("button", name="Pay", exact=True)).to_be_disabled()
    page.get_by_role("button", name="Remove Leaving Beat from the cart").click()
    expect(page.locator(".cart-line")).to_have_count(1)
    expect(page.get_by_role("button", name=f"Pay {money(basic_price(staying))}")).to_be_enabled()
    expect(nav(page).get_by_role("link", name="Cart (1)")).to_be_visible()


def test_anyone_checks_a_license_number(page, phone_page, store):
    beatmaker = store.user("beatmaker", "Nova Beats")
    beat = store.publish_beat(beatmaker, title="Proof Beat")
    artist = store.user("artist", "Ann Artist")
    tier = next(offer["tier_id"] for offer in beat["offers"] if offer["name"] == "Basic lease")
    checkout = store.api("POST", "/checkout", token=artist.token,
                         json={"items": [{"beat_id": beat["id"], "tier_id": tier}]}).json()
    store.sandbox.complete(checkout["checkout_url"].rstrip("/").rsplit("/", 1)[-1])
    order = store.api("GET", f"/orders/{checkout['order_id']}", token=artist.token).json()
    number = order["licenses"][0]["license_number"]

    # A visitor, signed out, finds the check in the navigation.
    page.goto("/")
    nav(page).get_by_role("link", name="Check a license").click()
    expect(page.get_by_role("heading", name="Check a license", level=1)).to_be_visible()
    page.get_by_label("License number").fill(number.lower())
    page.get_by_role("button", name="Check").click()
    answer = page.get_by_role("region", name=f"License {number}")
    expect(answer).to_contain_text("This license is valid.")
    expect(answer).to_contain_text("Proof Beat")
    expect(answer).to_contain_text("Nova Beats")
    expect(answer).to_contain_text("Basic lease (Non-exclusive lease)")
    expect(answer).to_contain_text("Ann Artist")
    expect(answer).to_contain_text("Signed by the store.")
    with page.expect_download() as download:
        answer.get_by_role("link", name="Download the certificate").click()
    assert download.value.suggested_filename == f"{number}.jwt"
    certificate = Path(download.value.path()).read_text()
    assert certificate == store.api("GET", f"/licenses/verify/{number}").json()["certificate"]["token"]
    expect(page).to_have_url(re.compile(r"/licenses/verify/"))
    screenshot(page, "store-license-check")

    page.get_by_label("License number").fill("LIC-0000-0000-0000-0000")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("alert")).to_contain_text("No license with the number “LIC-0000-0000-0000-0000”.")

    # The address can be shared: it checks at once, at phone width too.
    phone_page.goto(f"/licenses/verify/{number}")
    expect(phone_page.get_by_role("region", name=f"License {number}")).to_contain_text("This license is valid.")
    assert phone_page.evaluate("() => document.documentElement.scrollWidth") <= PHONE_WIDTH
    screenshot(phone_page, "store-license-check-phone")


def test_cart_and_orders_fit_a_phone(phone_page, store):
    page = phone_page
    beatmaker = store.user("beatmaker", "Nova Beats")
    beats = [store.publish_beat(beatmaker, title=title) for title in ("Pocket One", "Pocket Two")]
    artist = store.user("artist")
    sign_in(page, artist)
    for beat in beats:
        add_basic_lease(page, beat)
    page.goto("/cart")
    expect(page.locator(".cart-line")).to_have_count(2)
    expect(page.locator(".cart-total")).to_have_text(money(sum(basic_price(beat) for beat in beats)))
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE_WIDTH
    screenshot(page, "store-cart-phone")
    page.get_by_role("button", name=re.compile(r"^Pay \$")).tap()
    page.wait_for_url(store.sandbox.url + "/**")
    page.get_by_role("button", name=re.compile(r"^Pay USD")).tap()
    expect(page.get_by_role("status")).to_contain_text("Paid: your licenses are ready.")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE_WIDTH
    screenshot(page, "store-order-phone")
    page.goto("/orders")
    expect(page.locator(".order-card")).to_have_count(1)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE_WIDTH
    screenshot(page, "store-orders-phone")
