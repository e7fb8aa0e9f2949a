"""A beat's page in a real browser: its waveform shows how far the player is and plays from
where it is clicked; its licenses are compared in a table in words, with Buy and Add to
cart under each, on a desktop and on a 390-pixel phone without the page getting wider."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.helpers import screenshot

ACCENT = (91, 61, 245)  # the played part of a waveform (--wave-played)
PLAYER_AUDIO = "document.querySelector('.player audio')"
SCROLL_WIDTH = "() => document.documentElement.scrollWidth"
TIERS = ["Basic lease", "Premium lease", "Trackout lease", "Unlimited lease", "Exclusive rights"]


def customise_basic_lease(store, beatmaker) -> None:
    """A Basic lease with a short term, fewer streams, no video and its own credit line."""
    tiers = {tier["name"]: tier for tier in store.api("GET", "/license-tiers", token=beatmaker.token).json()}
    answer = store.api("PATCH", f"/license-tiers/{tiers['Basic lease']['id']}", token=beatmaker.token, json={
        "limits": {"audio_streams": 10_000, "music_videos": 0}, "term_years": 2,
        "credit_line_template": "Prod. by {producers} — {beat_title}"})
    assert answer.status_code == 200, answer.text


def published_beat(store):
    beatmaker = store.user("beatmaker", "Nova Beats")
    customise_basic_lease(store, beatmaker)
    beat = store.publish_beat(beatmaker, title="Night Drive", with_stems=True)
    return beatmaker, beat


def row(page, name: str):
    """The cells of one row of the license table (one per tier, in column order)."""
    return (page.locator(".license-table tbody tr")
            .filter(has=page.get_by_role("rowheader", name=name, exact=True)).locator("td"))


def played_fraction(page) -> float:
    """How far along the beat page's waveform the accent colour reaches (0..1)."""
    return page.locator(".beat-wave canvas").evaluate("""(canvas) => {
        const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        let last = -1;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3] && data[i] === %d && data[i + 1] === %d && data[i + 2] === %d) {
            last = Math.max(last, (i / 4) %% canvas.width);
          }
        }
        return (last + 1) / canvas.width;
    }""" % ACCENT)


def audio_fraction(page) -> float:
    return page.evaluate(f"() => {PLAYER_AUDIO}.currentTime / {PLAYER_AUDIO}.duration")


def test_the_licenses_are_compared_in_words_and_the_waveform_plays_from_a_click(page, store):
    _beatmaker, beat = published_beat(store)
    page.goto(f"/beats/{beat['id']}")
    expect(page.get_by_role("heading", name="Night Drive", level=1)).to_be_visible()

    # One column per tier, its price at the head, and every right in words.
    heads = page.locator(".license-table thead th.offer-head")
    expect(heads).to_have_count(5)
    for head, name in zip(heads.all(), TIERS):
        expect(head.locator(".offer-name")).to_have_text(name)
    expect(heads.nth(0)).to_contain_text("Lease$29.99")
    expect(heads.nth(4)).to_contain_text("Exclusive$499.99")
    expect(row(page, "Files")).to_have_text(["MP3", "MP3 and WAV"] + ["MP3, WAV and Stems (track-outs)"] * 3)
    expect(row(page, "Copies")).to_have_text(["2,500 copies", "5,000 copies", "10,000 copies"]
                                             + ["Unlimited"] * 2)
    expect(row(page, "Streams")).to_have_text(["10,000 streams", "150,000 streams", "500,000 streams"]
                                              + ["Unlimited"] * 2)
    expect(row(page, "Music videos")).to_have_text(["Not allowed", "1 video", "3 videos"] + ["Unlimited"] * 2)
    expect(row(page, "Radio")).to_have_text(["2 stations", "2 stations"] + ["Unlimited"] * 3)
    expect(row(page, "Paid performances")).to_have_text(["Unlimited"] * 5)
    expect(row(page, "Term")).to_have_text(["2 years", "10 years", "10 years", "Perpetual", "Perpetual"])
    expect(row(page, "Credit line")).to_have_text(["Required: Prod. by Nova Beats — Night Drive"]
                                                  + [f"Required: {beat['credit_line']}"] * 4)
    expect(row(page, "Content ID")).to_have_text(["Not allowed"] * 4 + ["Allowed"])
    for name in TIERS:
        price = next(offer["price"]["amount"] for offer in beat["offers"] if offer["name"] == name)
        expect(page.get_by_role("button", name=f"Buy {name} for ${price / 100:,.2f}")).to_be_enabled()
        expect(page.get_by_role("button", name=f"Add {name} to cart")).to_be_enabled()
    # On a desktop the whole table fits: nothing to scroll, inside it or on the page.
    assert page.locator(".license-table-scroll").evaluate("(box) => box.scrollWidth <= box.clientWidth")
    assert page.evaluate(SCROLL_WIDTH) <= 1280

    # The waveform is drawn; a click halfway along plays from there, and the heard
    # part is coloured as far as the player has got.
    waveform = page.get_by_role("slider", name="Play Night Drive from a point")
    expect(waveform).to_have_attribute("data-drawn", "true")
    assert played_fraction(page) == 0
    box = waveform.bounding_box()
    waveform.click(position={"x": box["width"] * 0.5, "y": box["height"] / 2})
    player = page.get_by_role("region", name="Player")
    page.wait_for_function(
        f"() => !{PLAYER_AUDIO}.paused && {PLAYER_AUDIO}.currentTime > 0.45 * {PLAYER_AUDIO}.duration")
    expect(player.get_by_role("slider", name="Seek in Night Drive")).to_be_visible()
    expect(page.locator(".beat-hero").get_by_role("button", name="Pause Night Drive")).to_be_visible()
    player.get_by_role("button", name="Pause Night Drive").click()
    page.wait_for_function(f"() => {PLAYER_AUDIO}.paused")
    drawn, heard = played_fraction(page), audio_fraction(page)
    assert abs(drawn - heard) < 0.05, (drawn, heard)
    screenshot(page, "store-beat")

    # The keyboard moves the same way: Home plays from the start.
    waveform.press("Home")
    page.wait_for_function(f"() => {PLAYER_AUDIO}.currentTime < 0.4 * {PLAYER_AUDIO}.duration")
    expect(waveform).to_have_attribute("aria-valuetext", re.compile(r"^0:0\d of 0:1\d$"))


def test_the_beat_page_on_a_phone_scrolls_the_table_not_the_page(phone_page, store):
    page = phone_page
    _beatmaker, beat = published_beat(store)
    page.goto(f"/beats/{beat['id']}")
    expect(page.get_by_role("heading", name="Night Drive", level=1)).to_be_visible()
    waveform = page.get_by_role("slider", name="Play Night Drive from a point")
    expect(waveform).to_have_attribute("data-drawn", "true")
    assert page.evaluate(SCROLL_WIDTH) <= 390

    # Five tiers do not fit 390 pixels: the table scrolls inside its own box, and the
    # names of the rows stay in view while it does.
    table_box = page.get_by_role("region", name="The licenses of Night Drive, side by side")
    assert table_box.evaluate("(box) => box.scrollWidth > box.clientWidth")
    expect(page.get_by_text("Swipe the table sideways")).to_be_visible()
    screenshot(page, "store-beat-phone")
    buy_exclusive = page.get_by_role("button", name="Buy Exclusive rights for $499.99")
    buy_exclusive.scroll_into_view_if_needed()
    expect(buy_exclusive).to_be_in_viewport()
    row_name = page.get_by_role("rowheader", name="Content ID", exact=True)
    name_box, scroller = row_name.bounding_box(), table_box.bounding_box()
    assert scroller["x"] - 1 <= name_box["x"] <= scroller["x"] + 1, (name_box, scroller)
    assert table_box.evaluate("(box) => box.scrollLeft") > 0
    assert page.evaluate(SCROLL_WIDTH) <= 390

    # A tap on the waveform plays the beat in the player.
    waveform.scroll_into_view_if_needed()
    waveform.tap()
    page.wait_for_function(f"() => !{PLAYER_AUDIO}.paused && {PLAYER_AUDIO}.currentTime > 0")
    expect(page.get_by_role("region", name="Player")).to_be_in_viewport()
    assert page.evaluate(SCROLL_WIDTH) <= 390
    page.get_by_role("region", name="Player").get_by_role("button", name="Pause Night Drive").tap()
    screenshot(page, "store-beat-phone-playing")
