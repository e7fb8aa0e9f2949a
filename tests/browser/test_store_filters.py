"""The store's filters as chips of the words its beats carry, search by genre and mood words,
beats not on sale (out of the store, flagged in the studio), and the "page not found" page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.helpers import nav, screenshot, sign_in
from tests.browser.test_store import chip, result_titles


def chip_names(page, group: str) -> list[str]:
    """The accessible names of a chip group's buttons, once the store's words have arrived."""
    buttons = page.get_by_role("group", name=group, exact=True).get_by_role("button")
    expect(buttons.first).to_have_attribute("aria-label", re.compile(r"\d"))
    return buttons.evaluate_all("(buttons) => buttons.map((button) => button.getAttribute('aria-label'))")


def take_off_sale(store, account, beat) -> None:
    answer = store.api("PUT", f"/beats/{beat['id']}/offers", token=account.token, json=[])
    assert answer.status_code == 200, answer.text


def test_chips_filter_the_store_by_genre_mood_and_key(page, store):
    maker = store.user("beatmaker", "Nova Beats")
    store.publish_beat(maker, title="Night Drive", genre="trap", mood="dark", key="F#m")
    store.publish_beat(maker, title="Glass Skyline", genre="trap", mood="epic", key="Cm")
    store.publish_beat(maker, title="Southside Sirens", genre="drill", mood="dark", key="Gm")
    hidden = store.publish_beat(maker, title="Phonk Tape", genre="phonk", mood="dark", key="Am")
    take_off_sale(store, maker, hidden)

    page.goto("/")
    expect(result_titles(page)).to_have_text(["Southside Sirens", "Glass Skyline", "Night Drive"])
    # The genres of beats on sale, the most common first, with how many beats each.
    assert chip_names(page, "Genre") == ["trap, 2 beats", "drill, 1 beat"]
    expect(chip(page, "Genre", "trap")).to_have_accessible_name("trap, 2 beats")
    expect(chip(page, "Genre", "phonk")).to_have_count(0)  # only on a beat not on sale
    expect(chip(page, "Genre", "trap")).to_have_attribute("aria-pressed", "false")

    chip(page, "Genre", "trap").click()
    expect(page).to_have_url(re.compile(r"/\?genre=trap$"))
    expect(result_titles(page)).to_have_text(["Glass Skyline", "Night Drive"])
    expect(chip(page, "Genre", "trap")).to_have_attribute("aria-pressed", "true")
    expect(chip(page, "Genre", "drill")).to_have_attribute("aria-pressed", "false")

    page.get_by_text("Filters", exact=True).click()
    assert chip_names(page, "Mood") == ["dark, 2 beats", "epic, 1 beat"]
    chip(page, "Mood", "dark").click()
    expect(page).to_have_url(re.compile(r"/\?genre=trap&mood=dark$"))
    expect(result_titles(page)).to_have_text(["Night Drive"])
    screenshot(page, "store-chips")

    # From the keyboard: Space presses a chip; pressing the chosen one again drops it.
    chip(page, "Genre", "trap").focus()
    page.keyboard.press("Space")
    expect(page).to_have_url(re.compile(r"/\?mood=dark$"))
    expect(result_titles(page)).to_have_text(["Southside Sirens", "Night Drive"])
    expect(chip(page, "Genre", "trap")).to_be_focused()
    genres = page.get_by_role("group", name="Genre", exact=True)
    expect(genres.locator("[aria-pressed=true]")).to_have_count(0)

    # Keys are chips too, in the order of the keys, for the keys beats on sale are in.
    assert chip_names(page, "Key") == ["C minor, 1 beat", "F# minor, 1 beat", "G minor, 1 beat"]
    chip(page, "Key", "G minor").click()
    expect(page).to_have_url(re.compile(r"/\?mood=dark&key=G\+minor$"))
    expect(result_titles(page)).to_have_text(["Southside Sirens"])

    # Back goes through the searches, each with its chips as they were.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/\?mood=dark$"))
    expect(chip(page, "Key", "G minor")).to_have_attribute("aria-pressed", "false")
    expect(chip(page, "Mood", "dark")).to_have_attribute("aria-pressed", "true")


def test_search_words_find_genres_and_moods_but_never_a_beat_not_on_sale(page, store):
    maker = store.user("beatmaker", "Nova Beats")
    store.publish_beat(maker, title="Night Drive", genre="trap", mood="dark")
    store.publish_beat(maker, title="Velvet Hours", genre="r&b", mood="romantic", tags=["smooth"])
    hidden = store.publish_beat(maker, title="Trap Tape", genre="trap", mood="dark")
    take_off_sale(store, maker, hidden)

    page.goto("/?q=trap")
    expect(result_titles(page)).to_have_text(["Night Drive"])
    page.get_by_label("Search beats").fill("romantic")
    page.get_by_label("Search beats").press("Enter")
    expect(result_titles(page)).to_have_text(["Velvet Hours"])
    # The beat's own page still answers, with its preview, and says it is not for sale.
    page.goto(f"/beats/{hidden['id']}")
    expect(page.get_by_role("heading", name="Trap Tape", level=1)).to_be_visible()
    assert page.request.get(hidden["preview_url"]).status == 200


def test_the_studio_flags_a_published_beat_without_a_price(page, store):
    maker = store.user("beatmaker", "Nova Beats")
    store.publish_beat(maker, title="Night Drive")
    hidden = store.publish_beat(maker, title="Phonk Tape", genre="phonk")
    take_off_sale(store, maker, hidden)
    sign_in(page, maker)

    page.goto("/studio")
    row = page.get_by_role("row", name=re.compile("Phonk Tape"))
    expect(row.get_by_role("link", name="Not on sale: add a price")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Night Drive"))).not_to_contain_text("Not on sale")
    summary = page.get_by_role("status").filter(has_text="published")
    expect(summary).to_contain_text("1 not on sale (no price)")
    screenshot(page, "studio-not-on-sale")
    row.get_by_role("link", name="Not on sale: add a price").click()
    expect(page).to_have_url(re.compile(rf"/studio/beats/{hidden['id']}$"))
    expect(page.locator(".studio-price-from")).to_contain_text("Not on sale: add a price under Prices")
    # The beat's form suggests the store's words and still takes a genre of one's own.
    genre = page.get_by_role("form", name="Details").get_by_label("Genre")
    expect(page.locator(f"datalist#{genre.get_attribute('list')} option[value=trap]")).to_have_count(1)
    expect(page.locator(f"datalist#{genre.get_attribute('list')} option[value=afrobeats]")).to_have_count(1)
    key_list = page.get_by_role("form", name="Details").get_by_label("Key").get_attribute("list")
    expect(page.locator(f"datalist#{key_list} option")).to_have_count(24)
    genre.fill("Jersey Drill 🎺")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_role("form", name="Details").get_by_label("Genre")).to_have_value("jersey drill 🎺")


def test_an_unknown_address_shows_the_store_not_found_page(page, store, allow_browser_errors):
    response = page.goto("/no/such/page")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found", level=1)).to_be_visible()
    expect(page).to_have_title("Page not found · Beat Market")
    expect(nav(page).get_by_role("link", name="Store")).to_be_visible()
    screenshot(page, "store-not-found")
    page.get_by_role("link", name="Back to the store").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Find your next beat")).to_be_visible()

    # The API keeps its JSON, whatever the browser asks for.
    api = page.goto("/api/v1/no-such-thing")
    assert api.status == 404 and api.headers["content-type"].startswith("application/json")
    assert page.request.get("/favicon.ico").status == 200
    # The 404s asked for on purpose are the only errors the pages saw.
    allow_browser_errors.settle()
    assert "GET /no/such/page answered 404" in allow_browser_errors
    provoked = {"GET /no/such/page answered 404", "GET /api/v1/no-such-thing answered 404"}
    assert set(allow_browser_errors) <= provoked
