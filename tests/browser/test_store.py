"""The storefront in a real browser: a visitor searches, filters and plays a preview, reads a
beat's credits and license terms, signs in to buy a lease, pays on the payment page, and
downloads the license's files and contract; also paging, empty results and history, phone
width, an exclusive someone else is paying for, reports, and a cancelled payment."""

from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.helpers import screenshot, sign_in

ACCENT = (91, 61, 245)  # the played part of the waveform (--wave-played)

PLAYER_AUDIO = "document.querySelector('.player audio')"


# -- helpers -----------------------------------------------------------------------------

def credit_co_producer(store, beatmaker, beat) -> str:
    """Adds a second credit ("Beat by") to the beat; returns its credit line."""
    answer = store.api("PUT", f"/beats/{beat['id']}/credits", token=beatmaker.token, json=[
        {"name": beatmaker.display_name, "role": "producer", "user_id": beatmaker.id},
        {"name": "Kay Drums", "role": "beatmaker"}])
    assert answer.status_code == 200, answer.text
    return answer.json()["credit_line"]


def result_titles(page):
    return page.locator(".beat-card-title")


def chip(page, group: str, value: str):
    """A filter chip of the store: the toggle button for `value` in the group named `group`
    (its name is the value, then how many beats carry it)."""
    return page.get_by_role("group", name=group, exact=True).get_by_role(
        "button", name=re.compile(rf"^{re.escape(value)}(,|$)"))


def audio_state(page) -> dict:
    return page.evaluate(f"() => {{ const a = {PLAYER_AUDIO}; "
                         "return {paused: a.paused, time: a.currentTime, duration: a.duration}; }")


def wait_until_audio_passes(page, seconds: float) -> None:
    page.wait_for_function(f"() => {{ const a = {PLAYER_AUDIO}; "
                           f"return a && !a.paused && a.currentTime > {seconds}; }}")


def waveform_pixels(page) -> dict:
    """How many pixels of the player's waveform are painted, and how many in the accent colour."""
    return page.locator(".player canvas.waveform").evaluate("""(canvas) => {
        const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0, played = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3] === 0) continue;
          painted += 1;
          if (data[i] === %d && data[i + 1] === %d && data[i + 2] === %d) played += 1;
        }
        return {painted, played};
    }""" % ACCENT)


def downloaded_bytes(page, link) -> tuple[str, bytes]:
    with page.expect_download() as info:
        link.click()
    download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


# -- the whole journey -------------------------------------------------------------------

def test_a_visitor_finds_a_beat_plays_it_and_buys_a_lease(page, store):
    beatmaker = store.user("beatmaker", "Nova Beats")
    night_drive = store.publish_beat(beatmaker, title="Night Drive", genre="trap", mood="dark", bpm=140,
                                     key="F#m", tags=["808", "night"], with_stems=True)
    store.publish_beat(beatmaker, title="Night Bloom", genre="lofi", mood="chill", bpm=85, key="C", tags=["piano"])
    store.publish_beat(beatmaker, title="Sunny Keys", genre="lofi", mood="happy", bpm=90, key="G", tags=["piano"])
    credit_line = credit_co_producer(store, beatmaker, night_drive)
    artist = store.user("artist", "Ann Artist")

    # Text search, then a filter: both end up in the address and survive a reload.
    page.goto("/")
    expect(result_titles(page)).to_have_count(3)
    page.get_by_label("Search beats").fill("night")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(result_titles(page)).to_have_text(["Night Bloom", "Night Drive"], ignore_case=True)
    chip(page, "Genre", "trap").click()
    expect(result_titles(page)).to_have_text(["Night Drive"])
    expect(page).to_have_url(re.compile(r"/\?q=night&genre=trap$"))
    page.reload()
    expect(page.get_by_label("Search beats")).to_have_value("night")
    expect(chip(page, "Genre", "trap")).to_have_attribute("aria-pressed", "true")
    expect(result_titles(page)).to_have_text(["Night Drive"])
    card = page.locator(".beat-card").filter(has_text="Night Drive")
    expect(card).to_contain_text("by Nova Beats")
    expect(card).to_contain_text("140 BPM · F# minor · trap · dark")
    expect(card).to_contain_text("#808")
    expect(card).to_contain_text("From $29.99")

    # The preview plays in the player, the waveform is drawn and the heard part highlighted.
    card.get_by_role("button", name="Play Night Drive").click()
    wait_until_audio_passes(page, 0.5)
    started_at = audio_state(page)["time"]
    wait_until_audio_passes(page, started_at + 0.5)
    expect(card.get_by_role("button", name="Pause Night Drive")).to_be_visible()
    player = page.get_by_role("region", name="Player")
    expect(player).to_contain_text("Night Drive")
    expect(player.get_by_role("slider", name="Seek in Night Drive")).to_have_attribute("data-drawn", "true")
    pixels = waveform_pixels(page)
    assert pixels["painted"] > 500 and pixels["played"] > 0, pixels
    screenshot(page, "store-home")

    # Seeking: a click three quarters along the waveform, then Home from the keyboard.
    waveform = player.get_by_role("slider", name="Seek in Night Drive")
    box = waveform.bounding_box()
    waveform.click(position={"x": box["width"] * 0.75, "y": box["height"] / 2})
    page.wait_for_function(f"() => {PLAYER_AUDIO}.currentTime > 0.6 * {PLAYER_AUDIO}.duration")
    waveform.press("Home")
    page.wait_for_function(f"() => {PLAYER_AUDIO}.currentTime < 3")
    player.get_by_role("button", name="Pause Night Drive").click()
    expect(card.get_by_role("button", name="Play Night Drive")).to_be_visible()
    assert audio_state(page)["paused"] is True
    player.get_by_role("button", name="Close the player").click()
    expect(player).to_be_hidden()

    # The beat page: credits with the credit line, and the licenses compared in words
    # (test_beat_page.py reads the comparison row by row).
    card.get_by_role("link", name="Night Drive").click()
    expect(page.get_by_role("heading", name="Night Drive", level=1)).to_be_visible()
    credits = page.get_by_role("region", name="Credits")
    expect(credits).to_contain_text("Produced by Nova Beats")
    expect(credits).to_contain_text("Beat by Kay Drums")
    expect(credits).to_contain_text(credit_line)
    licenses = page.locator(".license-table")
    expect(licenses.locator("th.offer-head").first).to_contain_text("Basic lease")
    expect(licenses.locator("th.offer-head").first).to_contain_text("$29.99")
    expect(licenses).to_contain_text("50,000 streams")
    expect(licenses).to_contain_text(f"Required: {credit_line}")
    expect(page.get_by_role("region", name="Licenses", exact=True)).to_contain_text(
        "Exclusive rights are sold once: the beat then leaves the store.")
    exclusive = page.locator('td.offer[data-tier-name="Exclusive rights"]')
    expect(exclusive.get_by_role("button", name="Buy Exclusive rights for $499.99")).to_be_enabled()
    screenshot(page, "store-beat")

    # Buying signed out goes to sign in and comes back to the chosen offer.
    page.get_by_role("button", name="Buy Basic lease for $29.99").click()
    expect(page).to_have_url(re.compile(r"/signin\?next="))
    page.get_by_label("Email").fill(artist.email)
    page.get_by_label("Password").fill(artist.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"/beats/{night_drive['id']}\?offer="))
    buy_basic = page.get_by_role("button", name="Buy Basic lease for $29.99")
    expect(buy_basic).to_be_focused()

    # The payment page, then back to the order page, which waits for the payment.
    buy_basic.click()
    page.wait_for_url(store.sandbox.url + "/**")
    page.get_by_role("button", name="Pay USD 29.99").click()
    expect(page).to_have_url(re.compile(r"/orders/[^/?]+\?session_id="))
    expect(page.get_by_role("status")).to_contain_text("Paid: your licenses are ready.")
    expect(page.locator("main table")).to_contain_text("Night Drive")
    expect(page.locator("main table")).to_contain_text("Basic lease")
    expect(page.locator(".order-total")).to_have_text("$29.99")
    screenshot(page, "store-order")

    # The license: terms frozen at sale, the contract and the files.
    page.get_by_role("link", name=re.compile(r"^License LIC-")).click()
    expect(page.get_by_role("heading", name="Night Drive: Basic lease")).to_be_visible()
    license_ = store.api("GET", "/licenses", token=artist.token).json()[0]
    expect(page.locator("main")).to_contain_text(license_["license_number"])
    terms = page.get_by_role("region", name="Terms")
    expect(terms).to_contain_text("Up to 2,500 copies sold or downloaded.")
    expect(terms).to_contain_text("You may not register the beat with Content ID.")
    expect(page.get_by_role("region", name="Credits")).to_contain_text("Beat by Kay Drums")

    name, mp3 = downloaded_bytes(page, page.get_by_role("link", name="Download MP3"))
    assert name.endswith(".mp3") and len(mp3) > 10_000
    name, contract = downloaded_bytes(page, page.get_by_role("link", name="Save the contract (PDF)"))
    assert name == f"{license_['license_number']}.pdf"
    assert contract.startswith(b"%PDF")
    screenshot(page, "store-license")

    page.get_by_role("link", name="← My licenses").click()
    expect(page.locator(".library-item")).to_have_count(1)
    expect(page.locator(".library-item")).to_contain_text("Night Drive")


# -- browsing ----------------------------------------------------------------------------

def test_load_more_empty_results_and_back(page, store):
    beatmaker = store.user("beatmaker")
    for title in ("First Light", "Second Wind", "Third Eye"):
        store.publish_beat(beatmaker, title=title)

    page.goto("/?limit=2")
    expect(result_titles(page)).to_have_text(["Third Eye", "Second Wind"])
    page.get_by_role("button", name="Load more").click()
    expect(result_titles(page)).to_have_text(["Third Eye", "Second Wind", "First Light"])
    expect(page.get_by_role("status").filter(has_text="shown")).to_have_text("3 beats shown")
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    # Keyboard users continue at the first new card.
    expect(page.get_by_role("link", name="First Light")).to_be_focused()

    page.get_by_label("Search beats").fill("no such beat anywhere")
    page.get_by_label("Search beats").press("Enter")
    expect(page.get_by_role("status").filter(has_text="No beats")).to_have_text(
        "No beats match this search. Try fewer filters.")
    expect(result_titles(page)).to_have_count(0)

    page.go_back()
    expect(page).to_have_url(re.compile(r"/\?limit=2$"))
    expect(result_titles(page)).to_have_text(["Third Eye", "Second Wind"])
    expect(page.get_by_label("Search beats")).to_have_value("")


def test_sort_key_filter_and_an_invalid_range_in_words(page, store):
    beatmaker = store.user("beatmaker")
    store.publish_beat(beatmaker, title="Slow Song", bpm=70, key="Am")
    store.publish_beat(beatmaker, title="Fast Song", bpm=170, key="F#m")

    page.goto("/")
    expect(result_titles(page)).to_have_text(["Fast Song", "Slow Song"])
    # Choosing an option changes nothing by itself: the search runs when Search is pressed.
    page.get_by_label("Sort by").select_option(label="BPM: slow to fast")
    expect(page).to_have_url(re.compile(r"/$"))
    page.get_by_role("button", name="Search", exact=True).click()
    expect(result_titles(page)).to_have_text(["Slow Song", "Fast Song"])
    expect(page).to_have_url(re.compile(r"/\?sort=bpm$"))

    page.get_by_text("Filters", exact=True).click()
    chip(page, "Key", "F# minor").click()
    expect(result_titles(page)).to_have_text(["Fast Song"])
    expect(page).to_have_url(re.compile(r"/\?key=F%23\+minor&sort=bpm$"))

    chip(page, "Key", "F# minor").click()  # pressed again: any key
    expect(page).to_have_url(re.compile(r"/\?sort=bpm$"))
    expect(result_titles(page)).to_have_text(["Slow Song", "Fast Song"])
    page.get_by_label("BPM from").fill("150")
    page.get_by_label("BPM to").fill("100")
    page.get_by_role("button", name="Apply filters").click()
    # A sentence in words: neither the API's field key nor a "field: ..." prefix.
    expect(page.get_by_role("alert")).to_contain_text("Minimum BPM must not be above the maximum.")
    expect(page.get_by_role("alert")).not_to_contain_text("bpm_min")
    screenshot(page, "store-filter-sentence-error")


def test_the_price_filter_is_typed_in_the_store_currency(page, store):
    beatmaker = store.user("beatmaker")
    store.publish_beat(beatmaker, title="Cheap Lease")  # from $29.99

    page.goto("/")
    expect(result_titles(page)).to_have_text(["Cheap Lease"])
    page.get_by_text("Filters", exact=True).click()
    price_to = page.get_by_label("Price to (USD)")
    expect(price_to).to_have_attribute("step", "0.01")
    price_to.fill("29.98")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"/\?price_max=2998$"))
    expect(page.get_by_role("status")).to_have_text("No beats match this search. Try fewer filters.")
    price_to.fill("29.99")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"/\?price_max=2999$"))
    expect(result_titles(page)).to_have_text(["Cheap Lease"])
    page.reload()
    expect(page.get_by_label("Price to (USD)")).to_have_value("29.99")


def test_tag_and_beatmaker_links_filter_the_store(page, store):
    nova, rex = store.user("beatmaker", "Nova Beats"), store.user("beatmaker", "Rex Loops")
    beat = store.publish_beat(nova, title="Cold Night", tags=["808", "winter"])
    store.publish_beat(nova, title="Warm Day", tags=["summer"])
    store.publish_beat(rex, title="Rex Winter", tags=["winter"])

    page.goto(f"/beats/{beat['id']}")
    page.locator("main").get_by_role("link", name="Nova Beats").click()
    expect(result_titles(page)).to_have_text(["Warm Day", "Cold Night"])
    expect(page.get_by_role("list", name="Also filtered by")).to_contain_text("Beatmaker: Nova Beats")

    page.get_by_role("link", name="Remove Beatmaker: Nova Beats").click()
    expect(result_titles(page)).to_have_count(3)
    page.locator(".beat-card").filter(has_text="Rex Winter").get_by_role("link", name="#winter").click()
    expect(page).to_have_url(re.compile(r"/\?tag=winter$"))
    expect(result_titles(page)).to_have_text(["Rex Winter", "Cold Night"])
    expect(page.get_by_role("list", name="Also filtered by")).to_contain_text("Tag: #winter")


def test_the_store_works_at_phone_width(phone_page, store):
    page = phone_page
    beatmaker = store.user("beatmaker")
    store.publish_beat(beatmaker, title="Pocket Beat", genre="drill")
    store.publish_beat(beatmaker, title="Other Beat", genre="pop")

    page.goto("/")
    expect(result_titles(page)).to_have_count(2)
    chip(page, "Genre", "drill").click()
    expect(result_titles(page)).to_have_text(["Pocket Beat"])
    page.get_by_role("button", name="Play Pocket Beat").tap()
    wait_until_audio_passes(page, 0.3)
    expect(page.get_by_role("region", name="Player")).to_be_in_viewport()
    # Nothing sticks out sideways.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    screenshot(page, "store-phone")

    page.locator("main").get_by_role("link", name="Pocket Beat").tap()
    expect(page.get_by_role("button", name="Buy Basic lease for $29.99")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390


# -- buying edge cases -------------------------------------------------------------------

def test_an_exclusive_someone_else_is_paying_for(page, store):
    beatmaker = store.user("beatmaker")
    beat = store.publish_beat(beatmaker, title="Only Once", with_stems=True)
    exclusive_tier = next(offer["tier_id"] for offer in beat["offers"] if offer["kind"] == "exclusive")
    artist, rival = store.user("artist"), store.user("artist")
    sign_in(page, artist)
    page.goto(f"/beats/{beat['id']}")
    buy_exclusive = page.get_by_role("button", name="Buy Exclusive rights for $499.99")
    expect(buy_exclusive).to_be_enabled()

    # The rival opens a payment page for the exclusive while this page is open.
    answer = store.api("POST", "/checkout", token=rival.token,
                       json={"items": [{"beat_id": beat["id"], "tier_id": exclusive_tier}]})
    assert answer.status_code == 201, answer.text
    buy_exclusive.click()
    exclusive = page.locator('td.offer[data-tier-name="Exclusive rights"]')
    expect(exclusive.get_by_role("alert")).to_contain_text("Another buyer is checking out the exclusive rights")
    expect(page).to_have_url(re.compile(rf"/beats/{beat['id']}$"))

    page.reload()
    expect(exclusive.get_by_role("button", name="Exclusive rights unavailable")).to_be_disabled()
    expect(exclusive).to_contain_text("On hold: another buyer is paying for the exclusive right now.")
    expect(page.get_by_role("button", name="Buy Basic lease for $29.99")).to_be_enabled()


def test_a_double_click_on_buy_opens_one_order(page, store):
    beatmaker = store.user("beatmaker")
    beat = store.publish_beat(beatmaker, title="Click Twice")
    artist = store.user("artist")
    sign_in(page, artist)
    page.goto(f"/beats/{beat['id']}")
    page.get_by_role("button", name="Buy Basic lease for $29.99").dblclick()
    page.wait_for_url(store.sandbox.url + "/**")
    orders = store.api("GET", "/orders", token=artist.token)
    assert orders.status_code == 200, orders.text
    assert len(orders.json()) == 1, orders.json()


def test_a_payment_link_that_is_not_a_web_address_is_not_followed(page, store):
    beatmaker = store.user("beatmaker")
    beat = store.publish_beat(beatmaker, title="Odd Link")
    sign_in(page, store.user("artist"))
    page.route("**/api/v1/checkout", lambda route: route.fulfill(
        status=201, json={"order_id": "x", "checkout_url": "javascript:alert(1)"}))
    page.goto(f"/beats/{beat['id']}")
    page.get_by_role("button", name="Buy Basic lease for $29.99").click()
    basic = page.locator('td.offer[data-tier-name="Basic lease"]')
    expect(basic.get_by_role("alert")).to_contain_text("not a web address, so it was not opened")
    expect(page).to_have_url(re.compile(rf"/beats/{beat['id']}$"))
    expect(page.get_by_role("button", name="Buy Basic lease for $29.99")).to_be_enabled()


def test_a_cancelled_payment_leads_back_to_the_payment_page(page, store):
    beatmaker = store.user("beatmaker")
    beat = store.publish_beat(beatmaker, title="Maybe Later")
    sign_in(page, store.user("artist"))
    page.goto(f"/beats/{beat['id']}")
    page.get_by_role("button", name="Buy Basic lease for $29.99").click()
    page.wait_for_url(store.sandbox.url + "/**")
    payment_page = page.url
    page.get_by_role("button", name="Cancel").click()

    expect(page).to_have_url(re.compile(r"/orders/[^/?]+\?cancelled=1$"))
    expect(page.get_by_role("status")).to_contain_text("You cancelled the payment.")
    expect(page.locator("main table")).to_contain_text("Maybe Later")
    page.get_by_role("link", name="Back to the payment page").click()
    expect(page).to_have_url(payment_page)
    expect(page.get_by_role("button", name="Pay USD 29.99")).to_be_visible()


def test_orders_and_licenses_ask_visitors_to_sign_in(page, store):
    page.goto("/library")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Flibrary$"))
    page.goto("/orders/ord_missing")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Forders%2Ford_missing$"))


def test_reporting_a_beat(page, store):
    beatmaker = store.user("beatmaker")
    beat = store.publish_beat(beatmaker, title="Borrowed Loop")
    page.goto(f"/beats/{beat['id']}")
    expect(page.get_by_role("heading", name="Borrowed Loop")).to_be_visible()
    # Only signed-in visitors can report.
    expect(page.get_by_text("Report this beat")).to_have_count(0)

    sign_in(page, store.user("artist"))
    page.goto(f"/beats/{beat['id']}")
    page.get_by_text("Report this beat").click()
    page.get_by_label("Reason").select_option(label="Something else (say what below)")
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("alert")).to_contain_text("Say what is wrong when the reason is other.")

    page.get_by_label("Reason").select_option(label="It uses a sample that is not cleared")
    page.get_by_label("Details").fill("The loop is from a 1972 record.")
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("status").filter(has_text="report")).to_have_text(
        "Thank you: the report was sent to the moderators.")
    reports = store.api("GET", f"/beats/{beat['id']}/reports", token=beatmaker.token).json()
    assert [(r["reason"], r["details"]) for r in reports] == [("uncleared_sample", "The loop is from a 1972 record.")]


def test_a_missing_beat_says_so(page, store):
    page.goto("/beats/bt_missing")
    expect(page.get_by_role("alert")).to_have_text("No such beat.")


def open_pending_order(page, store, title: str) -> dict:
    """An artist's unpaid checkout of a new beat's first offer, open on its order page."""
    beat = store.publish_beat(store.user("beatmaker"), title=title)
    artist = store.user("artist")
    answer = store.api("POST", "/checkout", token=artist.token,
                       json={"items": [{"beat_id": beat["id"], "tier_id": beat["offers"][0]["tier_id"]}]})
    assert answer.status_code == 201, answer.text
    sign_in(page, artist)
    page.goto(f"/orders/{answer.json()['order_id']}")
    expect(page.get_by_role("status")).to_contain_text("Waiting for the payment to be confirmed…")
    return answer.json()


def test_the_order_page_follows_a_payment_confirmed_later(page, store):
    order = open_pending_order(page, store, "Slow Bank")
    expect(page.get_by_role("link", name=re.compile(r"^License LIC-"))).to_have_count(0)

    # The payment completes elsewhere; the open page picks it up without a reload.
    session_id = order["checkout_url"].rstrip("/").rsplit("/", 1)[-1]
    store.sandbox.complete(session_id)
    expect(page.get_by_role("status")).to_contain_text("Paid: your licenses are ready.", timeout=15_000)
    expect(page.get_by_role("link", name=re.compile(r"^License LIC-"))).to_have_count(1)


def test_the_order_page_offers_to_check_again_after_a_failed_check(page, store, allow_browser_errors):
    order = open_pending_order(page, store, "Shaky Line")
    # The next check finds the connection down.
    page.route(f"**/api/v1/orders/{order['order_id']}", lambda route: route.abort())
    check_again = page.get_by_role("button", name="Check again")
    expect(check_again).to_be_visible(timeout=15_000)
    expect(page.locator("main table")).to_contain_text("Shaky Line")

    page.unroute(f"**/api/v1/orders/{order['order_id']}")
    store.sandbox.complete(order["checkout_url"].rstrip("/").rsplit("/", 1)[-1])
    check_again.click()
    expect(page.get_by_role("status").first).to_contain_text("Paid: your licenses are ready.")
    expect(check_again).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile(r"^License LIC-"))).to_have_count(1)
    allow_browser_errors.settle()
    # Only the dropped check failed: nothing was left unhandled.
    assert list(allow_browser_errors) and all(
        f"/api/v1/orders/{order['order_id']}" in error and "ERR_FAILED" in error
        for error in allow_browser_errors), list(allow_browser_errors)


def test_a_contract_that_could_not_be_fetched_is_explained_then_opened_as_a_pdf(
        page, store, allow_browser_errors):
    beatmaker = store.user("beatmaker")
    beat = store.publish_beat(beatmaker, title="Paper Trail")
    artist = store.user("artist")
    order = bought_and_paid(store, artist, beat)
    calls = []

    def contract(route):
        calls.append(route.request.url)
        if len(calls) == 1:
            route.abort()  # the connection drops once
            return
        response = route.fetch()  # then the server's answer claims to be a web page
        route.fulfill(response=response, headers={**response.headers, "content-type": "text/html"})

    page.route("**/contract.pdf", contract)
    page.add_init_script("""window.blobTypes = [];
        const made = URL.createObjectURL;
        URL.createObjectURL = (blob) => {
          window.blobTypes.push(blob.type);
          return made.call(URL, blob);
        };""")
    sign_in(page, artist)
    page.goto(f"/licenses/{order['licenses'][0]['id']}")
    section = page.get_by_role("region", name="Contract")
    expect(section.get_by_role("alert")).to_contain_text("The contract could not be fetched")
    section.get_by_role("button", name="Try again").click()
    opened = section.get_by_role("link", name="Open the contract (PDF)")
    expect(opened).to_be_visible()
    assert page.evaluate("() => window.blobTypes") == ["application/pdf"]
    allow_browser_errors.settle()
    assert all("contract.pdf" in error for error in allow_browser_errors), list(allow_browser_errors)


def test_a_coupon_lowers_the_price_and_a_wrong_one_is_explained(page, store):
    beatmaker = store.user("beatmaker")
    beat = store.publish_beat(beatmaker, title="Discount Day")
    answer = store.api("POST", "/coupons", token=beatmaker.token,
                       json={"code": "HALF", "kind": "percent", "percent_off": 50})
    assert answer.status_code == 201, answer.text
    sign_in(page, store.user("artist"))
    page.goto(f"/beats/{beat['id']}")

    page.get_by_label("Coupon code (optional)").fill("NOPE")
    page.get_by_role("button", name="Buy Basic lease for $29.99").click()
    basic = page.locator('td.offer[data-tier-name="Basic lease"]')
    expect(basic.get_by_role("alert")).to_contain_text("No coupon with this code for the beats in your cart.")
    expect(basic.get_by_role("alert")).not_to_contain_text("coupon_code")

    page.get_by_label("Coupon code (optional)").fill("HALF")
    page.get_by_role("button", name="Buy Basic lease for $29.99").click()
    page.wait_for_url(store.sandbox.url + "/**")
    expect(page.get_by_role("button", name="Pay USD 15.00")).to_be_visible()


def bought_and_paid(store, artist, beat, kind: str = "lease") -> dict:
    """An order for the beat's first offer of this kind, paid on the sandbox; returns it as
    the API answers."""
    tier_id = next(offer["tier_id"] for offer in beat["offers"] if offer["kind"] == kind)
    answer = store.api("POST", "/checkout", token=artist.token,
                       json={"items": [{"beat_id": beat["id"], "tier_id": tier_id}]})
    assert answer.status_code == 201, answer.text
    checkout = answer.json()
    store.sandbox.complete(checkout["checkout_url"].rstrip("/").rsplit("/", 1)[-1])
    order = store.api("GET", f"/orders/{checkout['order_id']}", token=artist.token).json()
    assert order["status"] == "paid", order
    return order


def wait_for_license_status(store, artist, license_id: str, status: str) -> None:
    deadline = time.monotonic() + 15
    while store.api("GET", f"/licenses/{license_id}", token=artist.token).json()["status"] != status:
        assert time.monotonic() < deadline, f"license {license_id} never became {status}"
        time.sleep(0.1)


def test_a_refunded_license_says_why_its_files_are_gone(page, store):
    beatmaker = store.user("beatmaker")
    beat = store.publish_beat(beatmaker, title="Gone Soon")
    artist = store.user("artist")
    order = bought_and_paid(store, artist, beat)
    license_id = order["licenses"][0]["id"]
    refund = store.api("POST", f"/orders/{order['id']}/refund", token=store.user("admin").token)
    assert refund.status_code == 202, refund.text
    wait_for_license_status(store, artist, license_id, "revoked")

    sign_in(page, artist)
    page.goto(f"/licenses/{license_id}")
    expect(page.locator("dl.terms")).to_contain_text("Revoked")
    expect(page.get_by_role("region", name="Files").get_by_role("alert")).to_have_text(
        "This license was revoked (refund or chargeback): its files cannot be downloaded.")
    expect(page.get_by_role("link", name=re.compile(r"^Download"))).to_have_count(0)
    expect(page.get_by_role("button", name="Get fresh links")).to_be_hidden()


def test_a_beat_sold_exclusively_says_so(page, store):
    beatmaker = store.user("beatmaker")
    beat = store.publish_beat(beatmaker, title="Sold Out", with_stems=True)
    bought_and_paid(store, store.user("artist"), beat, kind="exclusive")

    page.goto(f"/beats/{beat['id']}")
    expect(page.get_by_role("heading", name="Sold Out", level=1)).to_be_visible()
    licenses = page.get_by_role("region", name="Licenses")
    expect(licenses).to_contain_text(re.compile(r"Sold exclusively on .+: this beat is no longer licensed\."))
    expect(licenses.get_by_role("button")).to_have_count(0)


UNNAMED_CONTROLS = """() => [...document.querySelectorAll(
    "main input, main select, main textarea, main button, .player button, .player canvas")]
  .filter((control) => !(control.labels && control.labels.length) && !control.getAttribute("aria-label")
    && !(control.tagName === "BUTTON" && control.textContent.trim()))
  .map((control) => control.outerHTML)"""

SKIPPED_HEADING_LEVELS = """() => {
  const levels = [...document.querySelectorAll("main h1, main h2, main h3, main h4")].map((h) => Number(h.tagName[1]));
  return levels.filter((level, index) => level > (index ? levels[index - 1] : 0) + 1);
}"""


def test_every_store_control_has_a_name_and_headings_keep_their_order(page, store):
    beatmaker = store.user("beatmaker")
    beat = store.publish_beat(beatmaker, title="Named Things")
    artist = store.user("artist")
    order = bought_and_paid(store, artist, beat)
    sign_in(page, artist)
    pages = ("/", f"/beats/{beat['id']}", f"/orders/{order['id']}", "/library",
             f"/licenses/{order['licenses'][0]['id']}")
    page.goto("/")
    page.get_by_role("button", name="Play Named Things").click()
    expect(page.get_by_role("region", name="Player")).to_be_visible()
    assert page.evaluate(UNNAMED_CONTROLS) == [], "the player"
    for path in pages:
        page.goto(path)
        expect(page.locator("main")).not_to_contain_text("Loading…")
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        for details in page.locator("main details").all():
            details.locator("summary").click()  # filters and the report form are folded away
        assert page.evaluate(UNNAMED_CONTROLS) == [], path
        assert page.evaluate(SKIPPED_HEADING_LEVELS) == [], path
