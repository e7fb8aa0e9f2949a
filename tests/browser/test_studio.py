"""The studio in a real browser: a beatmaker uploads a beat through the form (progress bar,
then the beat published), credits a co-producer, prices it, and the store sells it at that
price; bad uploads explained in words with nothing typed lost; the dashboard's badges for every
status; the voice tag timeline following its inputs; license tiers; sales, the CSV and the
round trip through Stripe's onboarding; a phone; refusals for other accounts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from marketplace.accounts import services as accounts
from marketplace.catalog import lifecycle
from marketplace.catalog import services as catalog
from marketplace.catalog.lifecycle import BeatStatus
from marketplace.checkout.models import Order
from marketplace.db import db
from tests.browser.conftest import PUBLISH_TIMEOUT_SECONDS
from tests.browser.helpers import nav, screenshot, sign_in
from tests.media import ffmpeg, make_beat, make_tag

PUBLISHED_WITHIN_MS = PUBLISH_TIMEOUT_SECONDS * 1000
# The dashboard and a beat's page look again while a beat is processing: after 3 s, the
# dashboard then less often, at least every 30 s.
REFRESHED_WITHIN_MS = 40_000


@pytest.fixture(scope="module")
def audio(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("studio-audio")
    not_audio = folder / "not-audio.wav"
    not_audio.write_text("These are words, not a recording.\n")
    return {"beat": make_beat(folder / "night-drive.wav", seconds=12), "tag": make_tag(folder / "my-tag.wav"),
            "not_audio": not_audio}


def notice(page):
    return page.locator("#notice")


def studio_nav(page):
    return page.get_by_role("navigation", name="Studio")


def beat_id_from(url: str) -> str:
    return re.search(r"/studio/beats/([^/?#]+)", url).group(1)


def dollars(money: dict) -> str:
    return f"${money['amount'] / 100:,.2f}"


# -- the flow ----------------------------------------------------------------------

def test_a_beatmaker_uploads_credits_and_prices_a_beat_that_the_store_then_sells(page, store, audio):
    maker = store.user("beatmaker", "Metro Maker")
    sign_in(page, maker)
    page.goto("/studio")
    expect(page.get_by_text("No beats yet.")).to_be_visible()
    page.get_by_role("link", name="Upload a beat", exact=True).click()

    page.get_by_label("Master audio file").set_input_files(audio["beat"])
    page.get_by_label("Title").fill("Night Drive")
    page.get_by_label("BPM").fill("142")
    page.get_by_label("Key").fill("F#m")
    page.get_by_label("Genre").fill("Trap")
    page.get_by_label("Tags").fill("808, night")
    page.get_by_role("button", name="Upload beat").click()

    progress = page.get_by_role("progressbar", name="Upload progress")
    expect(progress).to_be_visible()
    expect(progress).to_have_js_property("value", 1)
    expect(page.locator(".progress-percent")).to_have_text("100% sent")
    upload_panel = page.get_by_role("region", name="Upload")
    expect(upload_panel.locator(".status-badge")).to_have_text("Published", timeout=PUBLISHED_WITHIN_MS)
    expect(upload_panel.get_by_role("status")).to_contain_text("“Night Drive” is published")
    screenshot(page, "studio-upload")

    upload_panel.get_by_role("link", name="Edit credits and prices").click()
    expect(page.get_by_role("heading", level=1, name="Night Drive")).to_be_visible()
    beat_id = beat_id_from(page.url)

    credits = page.get_by_role("form", name="Credits")
    credits.get_by_role("button", name="Add a credit").click()
    co_producer = credits.get_by_role("group", name="Credit 2")
    co_producer.get_by_label("Name").fill("Kid Hum")
    expect(co_producer.get_by_label("Role")).to_have_value("co_producer")
    credits.get_by_role("group", name="Credit 1").get_by_label("Profit share %").fill("70")
    co_producer.get_by_label("Profit share %").fill("20")
    expect(credits.locator(".credit-total")).to_have_text("Profit shares add up to 90% – they must add up to 100%.")
    credits.get_by_role("button", name="Save credits").click()
    expect(credits.get_by_role("alert")).to_have_text(
        "Profit shares must add up to 100%; they add up to 90%.")

    co_producer.get_by_label("Profit share %").fill("30")
    credits.get_by_role("button", name="Save credits").click()
    expect(credits.locator(".credit-line")).to_contain_text("Prod. by Metro Maker, co-prod. by Kid Hum")
    expect(credits.get_by_role("alert")).to_have_count(0)
    saved = store.api("GET", f"/beats/{beat_id}/credits").json()
    assert [(c["name"], c["role"], c["profit_share_bps"]) for c in saved["credits"]] == [
        ("Metro Maker", "producer", 7000), ("Kid Hum", "co_producer", 3000)]

    prices = page.get_by_role("form", name="Prices")
    # The beat has no stems: tiers that deliver stems cannot be ticked, and say why.
    expect(prices.get_by_label("Sell as Trackout lease")).to_be_disabled()
    expect(prices.get_by_role("group", name="Trackout lease")).to_contain_text("Delivers stems, and this beat has none.")
    prices.get_by_label("Sell as Basic lease").check()
    prices.get_by_label("Basic lease price (USD)").fill("35")
    prices.get_by_role("button", name="Save prices").click()
    expect(page.locator(".studio-price-from")).to_have_text("In the store from $35.00.")
    expect(prices.get_by_role("status")).to_have_text("On sale under 1 tier, from $35.00.")
    screenshot(page, "studio-beat")

    listing = store.api("GET", "/beats", params={"beatmaker": maker.id}).json()["items"]
    assert [(beat["id"], beat["price_from"]) for beat in listing] == [(beat_id, {"amount": 3500, "currency": "usd"})]
    assert [(offer["name"], offer["price"]["amount"], offer["available"]) for offer in listing[0]["offers"]] == [
        ("Basic lease", 3500, True)]
    assert listing[0]["credit_line"] == "Prod. by Metro Maker, co-prod. by Kid Hum"

    studio_nav(page).get_by_role("link", name="Beats").click()
    row = page.get_by_role("row", name=re.compile("Night Drive"))
    expect(row.locator(".status-badge")).to_have_text("Published")
    expect(row).to_contain_text("$35.00")
    expect(row).to_contain_text("F# minor")


def test_a_bad_upload_is_explained_in_words_and_nothing_typed_is_lost(page, store, audio):
    maker = store.user("beatmaker")
    sign_in(page, maker)
    page.goto("/studio/upload")
    master, bpm = page.get_by_label("Master audio file"), page.get_by_label("BPM")
    master.set_input_files(audio["not_audio"])
    page.get_by_label("Title").fill("Not a beat")
    bpm.fill("500")
    page.get_by_label("Description").fill("Typed with care.")
    upload = page.get_by_role("button", name="Upload beat")

    upload.click()
    expect(bpm).to_have_attribute("aria-invalid", "true")
    expect(bpm).to_have_accessible_description("BPM must be a whole number from 40 to 300.")
    expect(page.get_by_role("progressbar", name="Upload progress")).to_be_hidden()  # nothing was sent

    bpm.fill("90")
    upload.click()
    expect(master).to_have_accessible_description("This file is not audio we can read.")
    expect(page.get_by_role("alert")).to_contain_text("This file is not audio we can read.")
    expect(bpm).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("region", name="Upload").get_by_role("status")).to_contain_text("The upload was refused")

    # The server's field messages land next to their field too.
    master.set_input_files(audio["beat"])
    page.get_by_label("Key").fill("H minor")
    upload.click()
    expect(page.get_by_label("Key")).to_have_accessible_description(re.compile("'H minor' is not a musical key"))

    expect(page.get_by_label("Title")).to_have_value("Not a beat")
    expect(page.get_by_label("Description")).to_have_value("Typed with care.")
    expect(bpm).to_have_value("90")
    assert master.evaluate("input => input.files[0].name") == "night-drive.wav"
    assert store.api("GET", "/me/beats", token=maker.token).json() == []


def test_an_upload_with_stems_and_a_cover_can_be_sold_under_every_tier(page, store, browser_audio, tmp_path):
    master, stems_zip = browser_audio
    cover = tmp_path / "cover.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=purple:s=320x320", "-frames:v", "1", str(cover))
    maker = store.user("beatmaker")
    sign_in(page, maker)
    page.goto("/studio/upload")
    page.get_by_label("Master audio file").set_input_files(master)
    page.get_by_label("Title").fill("Full Package")
    page.get_by_label("BPM").fill("128")
    page.get_by_label("Stems (ZIP)").set_input_files(stems_zip)
    page.get_by_label("Cover image").set_input_files(cover)
    expect(page.get_by_role("img", name="Cover preview")).to_have_attribute("src", re.compile("^blob:"))
    page.get_by_role("button", name="Upload beat").click()
    upload_panel = page.get_by_role("region", name="Upload")
    expect(upload_panel.locator(".status-badge")).to_have_text("Published", timeout=PUBLISHED_WITHIN_MS)
    upload_panel.get_by_role("link", name="Edit credits and prices").click()

    cover_image = page.get_by_role("img", name="Cover of Full Package")
    expect(cover_image).to_be_visible()
    # Visible is not loaded: wait until the browser has decoded it (a broken image never is).
    page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=cover_image.element_handle())
    assert cover_image.evaluate("image => image.naturalWidth") == 320
    prices = page.get_by_role("form", name="Prices")
    for tier in ("Basic lease", "Premium lease", "Trackout lease", "Unlimited lease", "Exclusive rights"):
        prices.get_by_label(f"Sell as {tier}").check()
    prices.get_by_role("button", name="Save prices").click()
    expect(prices.get_by_role("status")).to_have_text("On sale under 5 tiers, from $29.99.")
    beat = store.api("GET", f"/beats/{beat_id_from(page.url)}").json()
    assert beat["has_stems"] is True
    assert [offer["name"] for offer in beat["offers"]] == [
        "Basic lease", "Premium lease", "Trackout lease", "Unlimited lease", "Exclusive rights"]


def test_an_upload_held_for_review_says_so(page, store, audio, monkeypatch):
    monkeypatch.setitem(store.app.config, "PREMODERATION_MIN_APPROVED_BEATS", 1)
    maker = store.user("beatmaker", "New Producer")
    sign_in(page, maker)
    page.goto("/studio/upload")
    page.get_by_label("Master audio file").set_input_files(audio["beat"])
    page.get_by_label("Title").fill("First Upload")
    page.get_by_label("BPM").fill("120")
    page.get_by_role("button", name="Upload beat").click()
    upload_panel = page.get_by_role("region", name="Upload")
    expect(upload_panel.locator(".status-badge")).to_have_text("Taken down", timeout=PUBLISHED_WITHIN_MS)
    expect(upload_panel.get_by_role("status")).to_have_text(
        "“First Upload” is uploaded. Waiting for a moderator's review before it goes into the store.")
    upload_panel.get_by_role("button", name="Upload another beat").click()
    expect(upload_panel).to_be_hidden()
    expect(page.get_by_label("Title")).to_have_value("")
    expect(page.get_by_label("Master audio file")).to_be_focused()

    studio_nav(page).get_by_role("link", name="Beats").click()
    expect(page.get_by_role("row", name=re.compile("First Upload"))).to_contain_text("Waiting for a moderator's review")


# -- the dashboard ---------------------------------------------------------------------------

def _beat_in_status(store, maker, title: str, status: BeatStatus, reason: str | None = None) -> str:
    """A beat of `maker` put straight into `status`, as processing, moderation or a sale would."""
    with store.app.app_context():
        beat = catalog.create_beat(accounts.get_user(maker.id), title=title, bpm=100)
        if status != BeatStatus.PROCESSING:
            beat.status, beat.failure_reason = status, reason
        db.session.commit()
        return beat.id


def test_the_dashboard_shows_every_status_and_follows_a_beat_until_it_is_published(page, store):
    maker = store.user("beatmaker")
    published = store.publish_beat(maker, title="Out Now")
    archived = store.publish_beat(maker, title="Old One")
    assert store.api("DELETE", f"/beats/{archived['id']}", token=maker.token).status_code == 200
    _beat_in_status(store, maker, "Broken", BeatStatus.FAILED, "The master could not be decoded.")
    _beat_in_status(store, maker, "Sold Once", BeatStatus.SOLD_EXCLUSIVE)
    rendering = _beat_in_status(store, maker, "Rendering", BeatStatus.PROCESSING)

    sign_in(page, maker)
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/api/v1/" in request.url else None)
    page.goto("/studio")
    expected = {"Out Now": "Published", "Old One": "Archived", "Broken": "Failed", "Sold Once": "Sold exclusive",
                "Rendering": "Processing"}
    for title, badge in expected.items():
        expect(page.get_by_role("row", name=re.compile(title)).locator(".status-badge")).to_have_text(badge)
    expect(page.get_by_role("row", name=re.compile("Broken"))).to_contain_text(
        "Processing failed: The master could not be decoded.")
    expect(page.get_by_role("row", name=re.compile("Out Now"))).to_contain_text(dollars(published["price_from"]))
    expect(page.get_by_role("row", name=re.compile("Old One"))).to_contain_text("not in the store")
    expect(page.get_by_role("status").filter(has_text="beats")).to_have_text("5 beats, 1 published, 1 processing.")
    screenshot(page, "studio-dashboard")

    with store.app.app_context():
        lifecycle.move(catalog.get_beat(rendering), BeatStatus.PUBLISHED)
        db.session.commit()
    expect(page.get_by_role("row", name=re.compile("Rendering")).locator(".status-badge")).to_have_text(
        "Published", timeout=REFRESHED_WITHIN_MS)
    # Only the processing beat was asked for again, not the whole list.
    assert sum("/api/v1/me/beats" in url for url in asked) == 1, asked
    assert any(url.endswith(f"/api/v1/beats/{rendering}") for url in asked), asked

    page.get_by_role("link", name="Old One").click()
    expect(page.get_by_role("heading", level=1, name="Old One")).to_be_visible()
    page.get_by_role("button", name="Publish again").click()
    expect(page.locator(".studio-title .status-badge")).to_have_text("Published")
    page.get_by_role("button", name="Archive beat").click()
    expect(page.get_by_role("group", name="Confirm archiving")).to_contain_text("Archive “Old One”?")
    page.get_by_role("button", name="Keep it").click()
    expect(page.locator(".studio-title .status-badge")).to_have_text("Published")
    page.get_by_role("button", name="Archive beat").click()
    page.get_by_role("button", name="Yes, archive it").click()
    expect(page.locator(".studio-title .status-badge")).to_have_text("Archived")
    assert store.api("GET", f"/beats/{archived['id']}", token=maker.token).json()["status"] == "archived"


def test_a_beat_page_follows_its_processing_until_it_is_published(page, store):
    maker = store.user("beatmaker")
    rendering = _beat_in_status(store, maker, "Still Rendering", BeatStatus.PROCESSING)
    sign_in(page, maker)
    page.goto(f"/studio/beats/{rendering}")
    expect(page.locator(".studio-title .status-badge")).to_have_text("Processing")
    expect(page.get_by_role("region", name="Summary")).to_contain_text("The preview is being rendered")
    page.get_by_role("form", name="Details").get_by_label("Mood").fill("Typed while waiting")

    with store.app.app_context():
        lifecycle.move(catalog.get_beat(rendering), BeatStatus.PUBLISHED)
        db.session.commit()
    expect(page.locator(".studio-title .status-badge")).to_have_text("Published", timeout=REFRESHED_WITHIN_MS)
    expect(page.get_by_role("region", name="Summary")).not_to_contain_text("The preview is being rendered")
    expect(page.get_by_role("form", name="Details").get_by_label("Mood")).to_have_value("Typed while waiting")


def test_beat_details_are_saved_and_field_errors_shown_beside_them(page, store):
    maker = store.user("beatmaker")
    beat = store.publish_beat(maker, title="First Title")
    sign_in(page, maker)
    page.goto(f"/studio/beats/{beat['id']}")
    details = page.get_by_role("form", name="Details")
    details.get_by_label("Key").fill("Q major")
    details.get_by_role("button", name="Save details").click()
    expect(details.get_by_label("Key")).to_have_accessible_description(re.compile("'Q major' is not a musical key"))

    details.get_by_label("Key").fill("Bbm")
    details.get_by_label("Title").fill("Second Title")
    details.get_by_label("Samples").select_option(label="Samples, all cleared")
    details.get_by_role("button", name="Save details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Second Title")
    saved = store.api("GET", f"/beats/{beat['id']}").json()
    assert (saved["title"], saved["key"], saved["samples"]) == ("Second Title", "Bb minor", "cleared")


# -- the voice tag ---------------------------------------------------------------------------

def test_the_voice_tag_timeline_follows_the_placement_as_it_is_typed(page, store, audio):
    maker = store.user("beatmaker")
    store.publish_beat(maker, title="Short One")  # 12 s long
    sign_in(page, maker)
    page.goto("/studio/voice-tag")
    marks = page.get_by_role("list", name="Where the tag lands").get_by_role("listitem")
    # The defaults: a tag every 30 s from the start, drawn over a 3:00 beat.
    expect(marks).to_have_text(["Tag at 0:00", "Tag at 0:30", "Tag at 1:00", "Tag at 1:30", "Tag at 2:00", "Tag at 2:30"])
    second_at_30 = marks.nth(1).bounding_box()["x"]

    page.get_by_label("Interval (seconds)").fill("20")
    expect(marks).to_have_count(9)
    expect(marks.nth(1)).to_have_text("Tag at 0:20")
    assert marks.nth(1).bounding_box()["x"] < second_at_30  # the mark moved towards the start

    page.get_by_label("First tag at (seconds)").fill("10")
    expect(marks.first).to_have_text("Tag at 0:10")
    expect(page.locator(".timeline-summary")).to_have_text(
        "9 tags in a 3:00 beat, at 0:10, 0:30, 0:50, 1:10, 1:30, 1:50 … 2:50.")
    page.get_by_label("Sample beat length").select_option(label="1:00")
    expect(marks).to_have_text(["Tag at 0:10", "Tag at 0:30", "Tag at 0:50"])

    page.get_by_label("Interval (seconds)").fill("3")
    expect(marks).to_have_count(0)
    page.get_by_role("button", name="Save placement").click()
    expect(page.get_by_label("Interval (seconds)")).to_have_accessible_description(
        re.compile("The interval is from 5 to 120 seconds."))

    page.get_by_label("Interval (seconds)").fill("20")
    page.get_by_role("button", name="Save placement").click()
    expect(notice(page)).to_contain_text("Placement saved")
    placement = store.api("GET", "/me/voice-tag", token=maker.token).json()
    assert (placement["interval_seconds"], placement["first_at_seconds"]) == (20, 10)
    # Over one of the beatmaker's own beats: a first tag asked for after the beat's last
    # moments comes early enough to be heard whole (0:12 less the default tag's 2.8 s).
    page.get_by_label("Sample beat length").select_option(label="Short One (0:12)")
    expect(marks).to_have_text(["Tag at 0:09"])
    expect(page.get_by_role("region", name="Hear it").get_by_label("Preview of Short One")).to_be_attached()

    page.get_by_label("Tag audio file").set_input_files(audio["tag"])
    expect(page.get_by_label("Listen to my-tag.wav")).to_have_attribute("src", re.compile("^blob:"))
    page.get_by_role("button", name="Upload tag").click()
    expect(page.get_by_text("Your own tag, 1.0 seconds long, is mixed over your previews.")).to_be_visible()
    expect(page.get_by_role("progressbar", name="Tag upload progress")).to_have_js_property("value", 1)
    assert store.api("GET", "/me/voice-tag", token=maker.token).json()["custom"] is True
    screenshot(page, "studio-voice-tag")

    page.get_by_role("button", name="Use the default tag instead").click()
    expect(page.get_by_text("The platform's default tag is mixed over your previews")).to_be_visible()
    assert store.api("GET", "/me/voice-tag", token=maker.token).json()["custom"] is False


# -- license tiers ---------------------------------------------------------------------------

def test_license_tiers_are_added_edited_and_removed(page, store):
    maker = store.user("beatmaker")
    sign_in(page, maker)
    page.goto("/studio/tiers")
    cards = page.locator(".tier-card")
    expect(cards).to_have_count(5)  # the default templates

    new = page.get_by_role("region", name="New tier")
    new.get_by_role("button", name="Add tier").click()
    expect(new.get_by_label("Name")).to_have_accessible_description("A name is needed.")
    new.get_by_label("Name").fill("Radio lease")
    new.get_by_label("Default price (USD)").fill("75")
    new.get_by_label("WAV").check()
    new.get_by_label("Audio streams").fill("250000")
    new.get_by_label("Radio stations").fill("")
    new.get_by_label("Term (years)").fill("5")
    new.get_by_label("Credit line template").fill("{oops}")
    new.get_by_role("button", name="Add tier").click()
    expect(new.get_by_label("Credit line template")).to_have_accessible_description(
        re.compile(r"Only \{beat_title\}, \{credit_line\}, \{producers\} may be used"))

    new.get_by_label("Credit line template").fill("{credit_line} ({beat_title})")
    new.get_by_role("button", name="Add tier").click()
    expect(cards).to_have_count(6)
    card = cards.filter(has_text="Radio lease")
    expect(card.locator("summary")).to_contain_text("$75.00 · Lease · MP3 + WAV · 250,000 streams · 5 years")
    [tier] = [t for t in store.api("GET", "/license-tiers", token=maker.token).json() if t["name"] == "Radio lease"]
    assert tier["default_price"]["amount"] == 7500 and tier["deliverables"] == ["mp3", "wav"]
    assert tier["limits"]["audio_streams"] == 250000 and tier["limits"]["radio_stations"] is None
    assert (tier["term_years"], tier["credit_line_template"]) == (5, "{credit_line} ({beat_title})")

    card.locator("summary").click()
    card.get_by_label("Default price (USD)").fill("80")
    card.get_by_role("button", name="Save tier").click()
    expect(cards.filter(has_text="Radio lease").locator("summary")).to_contain_text("$80.00")
    screenshot(page, "studio-tiers")

    card = cards.filter(has_text="Radio lease")
    card.locator("summary").click()
    card.get_by_role("button", name="Remove tier").click()
    card.get_by_role("button", name="Yes, remove Radio lease").click()
    expect(cards).to_have_count(5)
    assert "Radio lease" not in [t["name"] for t in store.api("GET", "/license-tiers", token=maker.token).json()]


# -- sales and payouts -----------------------------------------------------------------------

def _sell(store, beat: dict, tier_name: str) -> None:
    """An artist buys one license of `beat` and pays at once in the Stripe sandbox."""
    buyer = store.user("artist")
    offer = next(offer for offer in beat["offers"] if offer["name"] == tier_name)
    answer = store.api("POST", "/checkout", token=buyer.token,
                       json={"items": [{"beat_id": beat["id"], "tier_id": offer["tier_id"]}]})
    assert answer.status_code == 201, answer.text
    order_id = answer.json()["order_id"]
    with store.app.app_context():
        session_id = db.session.get(Order, order_id).payment_session_id
    store.sandbox.complete(session_id, deliver="sync")
    assert store.api("GET", f"/orders/{order_id}", token=buyer.token).json()["status"] == "paid"


def test_sales_earnings_the_csv_and_the_way_through_stripe_onboarding(page, store):
    maker = store.user("beatmaker", "Sold Maker")
    beat = store.publish_beat(maker, title="Sold Beat")
    _sell(store, beat, "Basic lease")
    [sales] = store.api("GET", "/payouts/sales", token=maker.token).json()
    balance = store.api("GET", "/payouts/balance", token=maker.token).json()
    assert balance["pending"]["amount"] == sales["earnings"]["amount"] > 0

    sign_in(page, maker)
    page.goto("/studio/sales")
    row = page.get_by_role("row", name=re.compile("Sold Beat"))
    for text in ("Basic lease", dollars(sales["gross"]), dollars(sales["fees"]), dollars(sales["earnings"])):
        expect(row).to_contain_text(text)
    expect(page.locator(".studio-balance .pending")).to_have_text(dollars(balance["pending"]))
    expect(page.get_by_role("row", name=re.compile("Your share of a sale"))).to_contain_text(dollars(sales["earnings"]))
    expect(page.locator(".account-status")).to_contain_text("Not set up")

    page.get_by_label("Try a price (USD)").fill("50")
    example = store.api("GET", "/payouts/fee", params={"price": 5000}).json()["example"]
    expect(page.locator(".fee-example")).to_have_text(
        f"Of $50.00, the fee is {dollars(example['fee'])} and {dollars(example['net'])} is shared among the beat's credits.")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    assert download.value.suggested_filename == "sales.csv"
    csv = Path(download.value.path()).read_bytes()
    assert b"Sold Beat,Basic lease" in csv
    assert csv == store.api("GET", "/payouts/sales.csv", token=maker.token).content
    screenshot(page, "studio-sales")

    # An onboarding link that is not a web address is not followed.
    def odd_link(route):
        if route.request.method != "POST":
            return route.fallback()
        return route.fulfill(status=201, json={"url": "javascript:alert(1)"})

    page.route("**/api/v1/payouts/account", odd_link)
    page.get_by_role("button", name="Set up payouts with Stripe").click()
    expect(page.locator(".payout-account").get_by_role("alert")).to_contain_text("not a web address")
    expect(page).to_have_url(re.compile(r"/studio/sales$"))
    page.unroute("**/api/v1/payouts/account")

    page.get_by_label("Country of the account holder").select_option("GB")
    page.get_by_role("button", name="Set up payouts with Stripe").click()
    expect(page.get_by_role("heading", name="Set up your account")).to_be_visible()
    page.get_by_role("button", name="Complete onboarding").click()
    expect(page).to_have_url(re.compile(r"/payouts\?onboarding=done$"))
    expect(page.locator(".account-status")).to_contain_text("Ready: earnings are sent")
    account = store.api("GET", "/payouts/account", token=maker.token).json()
    assert account["status"] == "enabled"


# -- a phone, and other accounts -------------------------------------------------------------

def test_the_studio_fits_a_phone(phone_page, store):
    maker = store.user("beatmaker", "Pocket Maker")
    beat = store.publish_beat(maker, title="Pocket Beat")
    sign_in(phone_page, maker)
    for path in ("/studio", f"/studio/beats/{beat['id']}", "/studio/voice-tag", "/studio/tiers", "/studio/sales"):
        phone_page.goto(path)
        expect(studio_nav(phone_page)).to_be_visible()
        expect(phone_page.locator("main")).not_to_contain_text("Loading…")
        width = phone_page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide on a 390 px screen"
    phone_page.goto("/studio")
    expect(phone_page.get_by_role("row", name=re.compile("Pocket Beat")).locator(".status-badge")).to_have_text("Published")
    screenshot(phone_page, "studio-phone")


UNNAMED_CONTROLS = """() => [...document.querySelectorAll("main input, main select, main textarea, main button")]
  .filter((control) => !(control.labels && control.labels.length) && !control.getAttribute("aria-label")
    && !(control.tagName === "BUTTON" && control.textContent.trim()))
  .map((control) => control.outerHTML)"""


def test_every_studio_control_has_a_name_and_every_page_one_main_heading(page, store):
    maker = store.user("beatmaker")
    beat = store.publish_beat(maker, title="Labelled")
    sign_in(page, maker)
    for path in ("/studio", "/studio/upload", f"/studio/beats/{beat['id']}", "/studio/voice-tag", "/studio/tiers",
                 "/studio/sales"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        for details in page.locator("main details").all():
            details.locator("summary").click()  # tier forms are folded away
        assert page.evaluate(UNNAMED_CONTROLS) == [], path


def test_the_studio_is_for_beatmakers(page, store):
    page.goto("/studio/upload")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fstudio%2Fupload$"))

    artist = store.user("artist")
    sign_in(page, artist)
    expect(nav(page).get_by_role("link", name="Studio")).to_have_count(0)
    page.goto("/studio")
    expect(page.get_by_role("heading", name="Not for this account")).to_be_visible()


def test_another_beatmakers_beat_is_not_editable(page, store):
    owner, other = store.user("beatmaker"), store.user("beatmaker")
    beat = store.publish_beat(owner, title="Not Yours")
    sign_in(page, other)
    page.goto(f"/studio/beats/{beat['id']}")
    expect(page.get_by_text("This beat belongs to another beatmaker")).to_be_visible()
    expect(page.get_by_role("form", name="Credits")).to_have_count(0)
