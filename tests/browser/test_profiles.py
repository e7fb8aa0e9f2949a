"""Producer profiles in a real browser: a collaborator claims a handle and sets up their profile
on /account, then a visitor follows the credit line of a beat's page to their public page."""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import expect

from tests.browser.helpers import screenshot, sign_in


def avatar_png() -> bytes:
    image = Image.new("RGB", (600, 400), (91, 61, 245))
    for x in range(200, 400):
        for y in range(100, 300):
            image.putpixel((x, y), (255, 200, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_a_collaborator_claims_a_handle_and_a_visitor_reaches_it_from_a_credit_line(page, store):
    metro = store.user("beatmaker", "Metro")
    assert store.api("PUT", "/me/profile", token=metro.token,
                     json={"handle": "metro", "display_name": "Metro"}).status_code == 200
    beat = store.publish_beat(metro, title="Night Drive")
    kay = store.user("artist", "Kay Drums")
    answer = store.api("PUT", f"/beats/{beat['id']}/credits", token=metro.token, json=[
        {"name": "Metro", "role": "producer", "user_id": metro.id},
        {"name": "Kay Drums", "role": "co_producer", "invite": {"email": kay.email}}])
    assert answer.status_code == 200, answer.text
    # Kay is credited with her account once she accepts.
    [invitation] = store.api("GET", "/me/credit-invitations", token=kay.token).json()["items"]
    accepted = store.api("POST", f"/me/credit-invitations/{invitation['id']}/accept", token=kay.token)
    assert accepted.status_code == 200, accepted.text

    sign_in(page, kay)
    page.goto("/account")
    profile = page.get_by_role("region", name="Public profile")
    expect(profile.get_by_text("Claim a handle")).to_be_visible()
    profile.get_by_role("textbox", name="Handle").fill("admin")
    profile.get_by_role("button", name="Save profile").click()
    expect(profile.get_by_role("alert")).to_contain_text("reserved")
    profile.get_by_role("textbox", name="Handle").fill("@Kay.Drums")
    profile.get_by_label("Display name").fill("Kay Drums 🥁")
    profile.get_by_label("Bio").fill("Drums from Lagos · 東京.\nCo-producer for hire 🎛️")
    profile.get_by_label("Links").fill("https://soundcloud.com/kaydrums\nhttps://instagram.com/kay.drums")
    profile.get_by_role("button", name="Save profile").click()
    expect(profile.get_by_role("link", name="/p/Kay.Drums")).to_be_visible()
    profile.locator("input[type=file]").set_input_files(
        {"name": "me.png", "mimeType": "image/png", "buffer": avatar_png()})
    profile.get_by_role("button", name="Upload avatar").click()
    expect(profile.get_by_role("img", name="Your avatar")).to_be_visible()
    screenshot(page, "profile-account-section")

    page.goto(f"/beats/{beat['id']}")
    expect(page.get_by_role("link", name="Metro", exact=True).first).to_have_attribute("href", "/p/metro")
    credits = page.get_by_role("region", name="Credits")
    credits.get_by_role("link", name="Kay Drums").click()

    expect(page).to_have_url(f"{store.url}/p/Kay.Drums")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kay Drums 🥁")
    expect(page.get_by_text("@Kay.Drums")).to_be_visible()
    expect(page.get_by_text("Co-producer for hire 🎛️")).to_be_visible()
    expect(page.get_by_role("link", name="soundcloud.com/kaydrums")).to_have_attribute(
        "href", "https://soundcloud.com/kaydrums")
    expect(page.locator("img.avatar-large")).to_be_visible()
    assert page.locator("img.avatar-large").evaluate("img => img.naturalWidth") == 400
    credited = page.get_by_role("region", name="Credits on other beats")
    expect(credited.get_by_role("link", name="Night Drive")).to_be_visible()
    expect(credited.get_by_text("Co-produced by Kay Drums 🥁")).to_be_visible()
    own_beats = page.get_by_role("region", name="Beats", exact=True)
    expect(own_beats.get_by_text("No beats in the store yet.")).to_be_visible()
    screenshot(page, "profile-page")

    # Back to the beatmaker's own page through the credit.
    credited.get_by_role("link", name="Metro").click()
    expect(page).to_have_url(f"{store.url}/p/metro")
    expect(own_beats.get_by_role("link", name="Night Drive")).to_be_visible()


def test_an_unknown_handle_shows_a_clear_not_found(page, store, allow_browser_errors):
    page.goto("/p/nobody.here")
    expect(page.get_by_role("alert")).to_contain_text("Nobody has the handle @nobody.here")
