"""A price proposal in a real browser: the artist makes an offer on the beat's page, the seller
accepts it in the studio, and the artist pays the agreed price on the payment page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.helpers import screenshot


def test_an_offer_made_accepted_and_paid(page, store, sign_in_as):
    beatmaker = store.user("beatmaker")
    beat = store.publish_beat(beatmaker, title="Night Drive 🌙", with_stems=True)
    artist = store.user("artist")

    sign_in_as(artist.id)
    page.goto(f"/beats/{beat['id']}")
    page.get_by_text("Make an offer", exact=True).click()
    form = page.locator(".propose-form")
    form.get_by_label("License").select_option(label="Exclusive rights")
    form.get_by_label("Your price (USD)").fill("300")
    form.get_by_label("Message to the seller (optional)").fill("Love it 🔥 — ¿hablamos? 很好")
    screenshot(page, "beat-make-an-offer")
    form.get_by_role("button", name="Send offer").click()
    expect(page.get_by_role("status")).to_contain_text("Your offer was sent")

    sign_in_as(beatmaker.id)
    page.goto("/studio/offers")
    offer = page.locator(".proposal").filter(has_text="Night Drive")
    expect(offer).to_contain_text("offers $300.00 for Exclusive rights")
    expect(offer).to_contain_text("Love it 🔥 — ¿hablamos? 很好")
    screenshot(page, "studio-offers")
    offer.get_by_role("button", name="Accept $300.00").click()
    expect(offer.locator(".proposal-status")).to_have_text("Accepted: the artist may pay it")

    sign_in_as(artist.id)
    page.goto("/library/offers")
    mine = page.locator(".proposal").filter(has_text="Night Drive")
    expect(mine.locator(".proposal-status")).to_have_text("Accepted")
    screenshot(page, "library-offers-accepted")
    mine.get_by_role("button", name="Pay $300.00").click()
    page.wait_for_url(store.sandbox.url + "/**")
    page.get_by_role("button", name="Pay USD 300.00").click()
    expect(page).to_have_url(re.compile(r"/orders/[^/?]+\?session_id="))
    expect(page.get_by_role("status")).to_contain_text("Paid: your licenses are ready.")
    expect(page.locator(".order-total")).to_have_text("$300.00")

    page.goto("/library/offers")
    paid = page.locator(".proposal").filter(has_text="Night Drive")
    expect(paid.locator(".proposal-status")).to_have_text("Paid")
