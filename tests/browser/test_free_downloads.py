"""A free download in a real browser: the beatmaker switches it on in the studio's beat editor,
a listener presses "Free download" on the beat page, gets the tagged preview and finds the free
license, with its document, in the library."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.helpers import screenshot, sign_in


def test_a_listener_downloads_a_beat_free_from_its_page(page, store):
    beatmaker = store.user("beatmaker", "Nova Beats")
    beat = store.publish_beat(beatmaker, title="Night Drive")

    sign_in(page, beatmaker)
    page.goto(f"/studio/beats/{beat['id']}")
    switch = page.get_by_label("Offer a free download")
    expect(switch).not_to_be_checked()
    switch.check()
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_text("Details saved.")).to_be_visible()
    screenshot(page, "studio-free-download-switch")
    assert store.api("GET", f"/beats/{beat['id']}").json()["free_download"] is True

    listener = store.user("artist", "Ann Artist")
    page.evaluate("(token) => localStorage.setItem('access_token', token)", listener.token)
    page.goto(f"/beats/{beat['id']}")
    section = page.get_by_role("region", name="Free download")
    expect(section).to_contain_text("Any commercial release needs a paid license.")
    section.get_by_role("button", name="Free download").click()
    expect(section.get_by_role("status")).to_contain_text(
        re.compile(r"Your free license LIC-[0-9A-Z-]+ is ready"))
    number = re.search(r"LIC-[0-9A-Z-]+", section.get_by_role("status").inner_text()).group(0)
    screenshot(page, "beat-page-free-download")

    with page.expect_download() as downloading:
        section.get_by_role("link", name="Download the MP3").click()
    downloaded = open(downloading.value.path(), "rb").read()
    preview = store.api("GET", store.api("GET", f"/beats/{beat['id']}").json()["preview_url"])
    assert preview.status_code == 200
    assert downloaded == preview.content  # the tagged preview, bit for bit

    section.get_by_role("link", name="See the license and its document").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Night Drive: Free download (non-profit use)")
    expect(page.get_by_text("Any commercial release needs a paid license.")).to_be_visible()
    expect(page.get_by_role("link", name="Open the contract (PDF)")).to_be_visible()
    expect(page.get_by_role("link", name="Download MP3")).to_be_visible()
    screenshot(page, "library-free-license")

    # Anyone checks it on the public license check page, with its non-profit terms.
    page.goto(f"/licenses/verify/{number}")
    answer = page.locator(".license-check-answer")
    expect(answer).to_contain_text("Free download (non-profit use)")
    expect(answer).to_contain_text("Non-profit use only. Any commercial release needs a paid license.")
    expect(answer).to_contain_text("Valid")
    screenshot(page, "license-check-free-license")

    page.goto("/library")
    expect(page.get_by_role("listitem").filter(has_text="Night Drive")).to_contain_text(
        "Free download (non-profit use)")
