"""A beat's files in the studio, in a real browser: the beatmaker replaces the master (the new
preview is rendered and takes over), a refused file is explained beside its field with the old
one kept, an upload is cancelled while it is being sent, a failed beat is tried again, the
stems and cover are replaced; and every field of the details form is saved."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from marketplace.catalog.models import Beat
from marketplace.db import db
from tests.browser.helpers import screenshot, sign_in
from tests.media import make_beat


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("studio-files")
    not_audio = folder / "notes.wav"
    not_audio.write_text("These are words, not a recording.\n")
    cover = folder / "cover.png"
    Image.new("RGB", (600, 600), "teal").save(cover)
    return {"master": make_beat(folder / "take-2.wav", seconds=20), "not_audio": not_audio, "cover": cover}


def files_card(page):
    return page.get_by_role("region", name="Files")


def test_a_beatmaker_replaces_the_master_and_the_new_preview_takes_over(page, store, files):
    maker = store.user("beatmaker", "Replacing Maker")
    beat = store.publish_beat(maker, title="Take One")  # 12 s
    sign_in(page, maker)
    page.goto(f"/studio/beats/{beat['id']}")
    card = files_card(page)
    expect(card).to_contain_text("Master: WAV, lossless · 0:12")

    card.get_by_label("New master audio file").set_input_files(str(files["master"]))
    card.get_by_role("button", name="Replace master").click()
    expect(page.locator("#notice")).to_have_text("The new master and its preview are in place.")
    expect(files_card(page)).to_contain_text("Master: WAV, lossless · 0:20")
    screenshot(page, "studio-replace-master")

    fresh = store.api("GET", f"/beats/{beat['id']}").json()
    assert fresh["id"] == beat["id"] and fresh["status"] == "published"
    assert fresh["duration_ms"] == pytest.approx(20_000, abs=50)
    assert fresh["preview_url"] != beat["preview_url"]
    summary = page.get_by_role("region", name="Summary")
    expect(summary.locator("audio")).to_have_attribute("src", fresh["preview_url"])


def test_a_refused_master_is_explained_and_the_old_one_kept(page, store, files):
    maker = store.user("beatmaker")
    beat = store.publish_beat(maker, title="Kept Master")
    sign_in(page, maker)
    page.goto(f"/studio/beats/{beat['id']}")
    card = files_card(page)
    card.get_by_label("New master audio file").set_input_files(str(files["not_audio"]))
    card.get_by_role("button", name="Replace master").click()
    expect(card.get_by_label("New master audio file")).to_have_accessible_description(re.compile(r"\w"))
    expect(card).to_contain_text("Master: WAV, lossless · 0:12")
    assert store.api("GET", f"/beats/{beat['id']}").json()["preview_url"] == beat["preview_url"]


def test_an_upload_is_cancelled_while_it_is_sent(page, store, files):
    maker = store.user("beatmaker")
    beat = store.publish_beat(maker, title="Not Replaced")
    sign_in(page, maker)
    page.goto(f"/studio/beats/{beat['id']}")
    held = []
    # The network holds the file on its way (a slow connection): it never reaches the server.
    page.route(re.compile(r"/api/v1/beats/[^/]+/master$"), lambda route: held.append(route))
    card = files_card(page)
    card.get_by_label("New master audio file").set_input_files(str(files["master"]))
    card.get_by_role("button", name="Replace master").click()
    cancel = card.get_by_role("button", name="Cancel upload")
    expect(cancel).to_be_visible()
    cancel.click()
    expect(card.get_by_role("status")).to_have_text("Upload cancelled: nothing was changed.")
    expect(cancel).to_be_hidden()
    expect(card.get_by_role("button", name="Replace master")).to_be_enabled()
    page.unroute(re.compile(r"/api/v1/beats/[^/]+/master$"))
    files_now = store.api("GET", f"/beats/{beat['id']}/files", token=maker.token).json()
    assert files_now["replacement"] is None
    assert files_now["master"]["duration_ms"] == pytest.approx(12_000, abs=50)


def test_a_failed_beat_is_tried_again_from_its_page(page, store):
    maker = store.user("beatmaker")
    beat = store.publish_beat(maker, title="Failed Once")
    with store.app.app_context():
        row = db.session.get(Beat, beat["id"])
        row.status, row.failure_reason, row.preview_key = "failed", "The storage was away.", None
        db.session.commit()
    sign_in(page, maker)
    page.goto(f"/studio/beats/{beat['id']}")
    card = files_card(page)
    expect(card).to_contain_text("Processing failed: The storage was away.")
    screenshot(page, "studio-beat-failed")
    card.get_by_role("button", name="Try again").click()
    expect(page.locator(".studio-title .status-badge")).to_have_text("Published")
    expect(files_card(page).get_by_role("button", name="Try again")).to_have_count(0)


def test_stems_and_a_cover_are_added(page, store, files, browser_audio):
    maker = store.user("beatmaker")
    beat = store.publish_beat(maker, title="Dressed Up")
    sign_in(page, maker)
    page.goto(f"/studio/beats/{beat['id']}")
    card = files_card(page)
    expect(card).to_contain_text("Stems: none")
    card.get_by_label("New stems (ZIP)").set_input_files(str(browser_audio[1]))
    card.get_by_role("button", name="Add stems").click()
    expect(page.locator("#notice")).to_have_text("Stems saved.")
    expect(files_card(page)).to_contain_text(re.compile(r"Stems: ZIP, \d+ KB"))
    files_card(page).get_by_label("New cover image").set_input_files(str(files["cover"]))
    files_card(page).get_by_role("button", name="Add cover").click()
    expect(page.locator("#notice")).to_have_text("Cover saved.")
    expect(page.get_by_role("img", name="Cover of Dressed Up")).to_be_visible()
    fresh = store.api("GET", f"/beats/{beat['id']}").json()
    assert fresh["has_stems"] is True and fresh["cover_url"]
    screenshot(page, "studio-beat-files")


def test_every_field_of_the_details_is_saved(page, store):
    maker = store.user("beatmaker")
    original = store.publish_beat(maker, title="The Original")
    beat = store.publish_beat(maker, title="Plain", description="", tags=("one",))
    sign_in(page, maker)
    page.goto(f"/studio/beats/{beat['id']}")
    details = page.get_by_role("form", name="Details")
    details.get_by_label("Title").fill("Nuit blanche 🌙 夜")
    details.get_by_label("BPM").fill("92")
    details.get_by_label("Key").fill("C# minor")
    details.get_by_label("Genre").fill("Lo-fi")
    details.get_by_label("Mood").fill("Dreamy")
    details.get_by_label("Tags").fill("rain, night drive, 🌧")
    details.get_by_label("Description").fill("Two lines:\nrecorded at night.")
    details.get_by_label("Samples").select_option(label="Samples, all cleared")
    details.get_by_label("Version of").select_option(label="The Original")
    details.get_by_role("button", name="Save details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nuit blanche 🌙 夜")
    saved = store.api("GET", f"/beats/{beat['id']}").json()
    assert {name: saved[name] for name in ("title", "bpm", "key", "genre", "mood", "tags", "description",
                                           "samples", "version_of")} == {
        "title": "Nuit blanche 🌙 夜", "bpm": 92, "key": "C# minor", "genre": "lo-fi", "mood": "dreamy",
        "tags": ["rain", "night drive", "🌧"], "description": "Two lines:\nrecorded at night.",
        "samples": "cleared", "version_of": original["id"]}

    # And each emptied again: no key, genre, mood, tags or description, not a version.
    details = page.get_by_role("form", name="Details")
    for label in ("Key", "Genre", "Mood", "Tags", "Description"):
        details.get_by_label(label).fill("")
    details.get_by_label("Version of").select_option(label="Not a version of another beat")
    details.get_by_role("button", name="Save details").click()
    # The summary line shows the key, BPM and genre of the beat as saved.
    expect(page.get_by_role("region", name="Summary")).not_to_contain_text("C# minor")
    cleared = store.api("GET", f"/beats/{beat['id']}").json()
    assert (cleared["key"], cleared["genre"], cleared["mood"], cleared["tags"], cleared["description"],
            cleared["version_of"]) == (None, None, None, [], "", None)


def test_a_new_upload_is_cancelled_while_it_is_sent_and_nothing_typed_is_lost(page, store, files):
    maker = store.user("beatmaker")
    sign_in(page, maker)
    page.goto("/studio/upload")
    page.get_by_label("Master audio file").set_input_files(str(files["master"]))
    page.get_by_label("Title").fill("Half Sent")
    page.get_by_label("BPM").fill("128")
    held = []
    # The network holds the upload on its way (a slow connection): it never reaches the server.
    page.route(re.compile(r"/api/v1/beats$"), lambda route: held.append(route))
    page.get_by_role("button", name="Upload beat").click()
    panel = page.get_by_role("region", name="Upload")
    panel.get_by_role("button", name="Cancel upload").click()
    expect(panel.get_by_role("status")).to_have_text(
        "Upload cancelled: nothing was stored. The form keeps what you typed.")
    expect(panel.get_by_role("button", name="Cancel upload")).to_be_hidden()
    expect(page.get_by_label("Title")).to_have_value("Half Sent")
    expect(page.get_by_role("button", name="Upload beat")).to_be_enabled()
    screenshot(page, "studio-upload-cancelled")
    page.unroute(re.compile(r"/api/v1/beats$"))
    assert store.api("GET", "/me/beats", token=maker.token).json() == []
