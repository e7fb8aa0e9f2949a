"""Upgrading a license from the library in a real browser: the artist opens Upgrade on a lease,
sees the higher licenses priced at the difference, pays on the payment page, and finds the old
license marked as upgraded beside the new one."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.helpers import screenshot


def bought_basic(store, artist, beat) -> dict:
    tier_id = next(offer["tier_id"] for offer in beat["offers"] if offer["name"] == "Basic lease")
    answer = store.api("POST", "/checkout", token=artist.token,
                       json={"items": [{"beat_id": beat["id"], "tier_id": tier_id}]})
    assert answer.status_code == 201, answer.text
    store.sandbox.complete(answer.json()["checkout_url"].rstrip("/").rsplit("/", 1)[-1])
    order = store.api("GET", f"/orders/{answer.json()['order_id']}", token=artist.token).json()
    assert order["status"] == "paid", order
    return order


def test_an_artist_upgrades_a_lease_from_the_library(page, store, sign_in_as):
    beatmaker = store.user("beatmaker")
    beat = store.publish_beat(beatmaker, title="Night Drive 🌙")
    artist = store.user("artist")
    order = bought_basic(store, artist, beat)
    old_number = order["licenses"][0]["license_number"]

    sign_in_as(artist.id)
    page.goto("/library")
    page.get_by_role("button", name="Upgrade", exact=True).click()
    options = page.locator(".upgrade-list")
    expect(options).to_contain_text("Premium lease")
    expect(options).to_contain_text("$49.99 less the $29.99 you paid")
    expect(options).not_to_contain_text("Basic lease")
    screenshot(page, "library-upgrade-options")

    options.get_by_role("button", name="Upgrade for $20.00").click()
    page.wait_for_url(store.sandbox.url + "/**")
    page.get_by_role("button", name="Pay USD 20.00").click()
    expect(page).to_have_url(re.compile(r"/orders/[^/?]+\?session_id="))
    expect(page.get_by_role("status")).to_contain_text("Paid: your licenses are ready.")
    expect(page.locator(".order-total")).to_have_text("$20.00")

    page.goto("/library")
    items = page.locator(".library-item")
    expect(items).to_have_count(2)
    upgraded = items.filter(has_text=old_number)
    expect(upgraded).to_contain_text("Upgraded")
    expect(upgraded.get_by_role("button", name="Upgrade", exact=True)).to_have_count(0)
    expect(items.filter(has_text="Premium lease")).to_contain_text("Active")
    screenshot(page, "library-upgraded")

    upgraded.get_by_role("link").click()
    expect(page.locator("dl.terms")).to_contain_text("Upgraded to")
