"""The sandbox's payment page (the stand-in for Stripe's hosted checkout) on a phone and a
desktop: nothing sticks out sideways, and it stays a plain form that pays without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.helpers import screenshot

SCROLL_WIDTH = "() => document.documentElement.scrollWidth"


def open_checkout(store, artist, beats) -> dict:
    """An unpaid checkout of the Basic lease of each beat, with a coupon-free cart."""
    items = [{"beat_id": beat["id"], "tier_id": next(offer["tier_id"] for offer in beat["offers"]
                                                     if offer["name"] == "Basic lease")} for beat in beats]
    answer = store.api("POST", "/checkout", token=artist.token, json={"items": items})
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_payment_page_fits_the_screen_and_pays_without_javascript(browser, store, viewport):
    beatmaker = store.user("beatmaker", "Nova Beats")
    beats = [store.publish_beat(beatmaker, title="Midnight Drive Through the Rain (Extended Version) 🌧"),
             store.publish_beat(beatmaker, title="Überlänge_Ohne_Leerzeichen_Bis_Zum_Ende_Des_Titels")]
    artist = store.user("artist", "Ann Artist")
    checkout = open_checkout(store, artist, beats)

    context = browser.new_context(viewport=viewport, java_script_enabled=False,
                                  is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
    try:
        page = context.new_page()
        page.goto(checkout["checkout_url"])
        expect(page.get_by_role("heading", name="Pay USD 59.98")).to_be_visible()
        expect(page.get_by_label("Email")).to_have_value(artist.email)
        expect(page.locator("main")).to_contain_text("Überlänge_Ohne_Leerzeichen")
        assert page.evaluate(SCROLL_WIDTH) <= viewport["width"]
        pay = page.get_by_role("button", name="Pay USD 59.98")
        expect(pay).to_be_in_viewport()
        screenshot(page, f"sandbox-pay-{'phone' if viewport is PHONE else 'desktop'}")

        # A plain form post: the sandbox completes the session and sends the buyer back.
        pay.click()
        expect(page).to_have_url(re.compile(rf"/orders/{checkout['order_id']}\?session_id="))
    finally:
        context.close()
    order = store.api("GET", f"/orders/{checkout['order_id']}", token=artist.token).json()
    assert order["status"] == "paid" and len(order["licenses"]) == 2, order
