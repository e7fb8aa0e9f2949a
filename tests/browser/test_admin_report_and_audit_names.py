"""The admin console in a real browser: a reported beat's preview plays inside the report (in
the store and, with the admin's token, once taken down), and the audit log names the admin,
the beat, the account and the reported beat, on the page and in its CSV export."""

from __future__ import annotations

import csv
import io

from playwright.sync_api import expect

from tests.browser.helpers import screenshot, sign_in

PREVIEW_AUDIO = "document.querySelector('.admin-preview audio')"
SCROLL_WIDTH = "() => document.documentElement.scrollWidth"


def play_preview(page) -> None:
    """Starts the report's preview and waits until it has really played a little."""
    page.evaluate(f"() => {PREVIEW_AUDIO}.play()")
    page.wait_for_function(f"() => !{PREVIEW_AUDIO}.paused && {PREVIEW_AUDIO}.currentTime > 0.3")
    page.evaluate(f"() => {PREVIEW_AUDIO}.pause()")


def test_a_reports_preview_plays_and_the_audit_log_names_people_and_beats(page, store, tmp_path):
    beatmaker = store.user("beatmaker", "Bea Maker")
    beat = store.publish_beat(beatmaker, title="Stolen Nights 🌙")
    answer = store.api("POST", f"/beats/{beat['id']}/reports", token=store.user("artist").token,
                       json={"reason": "stolen_beat", "details": "My beat from 2021."})
    assert answer.status_code == 201, answer.text
    report_id = answer.json()["id"]
    admin = store.user("admin", "Zoë Ödegaard 🛡")
    sign_in(page, admin)

    # In the store: the preview streams in the report itself.
    page.goto(f"/admin/reports/{report_id}")
    beat_section = page.get_by_role("region", name="The beat")
    expect(beat_section.locator("audio")).to_have_attribute("aria-label", "Preview of Stolen Nights 🌙")
    expect(beat_section.locator("audio")).to_be_visible()
    play_preview(page)
    screenshot(page, "admin-report-preview")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(SCROLL_WIDTH) <= 390
    screenshot(page, "admin-report-preview-phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    # Taken down, the preview is for admins only: loaded with the token, still played here.
    page.get_by_label("Take the beat down").check()
    page.get_by_label("Note").fill("A re-upload.")
    page.get_by_role("button", name="Resolve report").click()
    page.get_by_role("dialog").get_by_role("button", name="Take it down").click()
    expect(page.get_by_text("This report is resolved.")).to_be_visible()
    assert store.api("GET", beat["preview_url"]).status_code == 404  # not for the public any more
    beat_section.get_by_role("button", name="Load the preview").click()
    expect(beat_section.locator("audio")).to_be_visible()
    play_preview(page)

    strike = store.api("POST", f"/admin/users/{beatmaker.id}/strike", token=admin.token,
                       json={"reason": "Re-uploads."})
    assert strike.status_code == 200, strike.text

    # The audit log names the admin, the beat, the account and the report's beat; ids stay.
    page.goto("/admin/audit-log")
    takedown = page.get_by_role("row").filter(has_text="Beat taken down")
    expect(takedown.get_by_role("link", name="Stolen Nights 🌙")).to_have_attribute(
        "href", f"/admin/beats/{beat['id']}")
    expect(takedown).to_contain_text(f"beat {beat['id']}")
    expect(takedown.get_by_role("link", name="Zoë Ödegaard 🛡")).to_have_attribute(
        "href", f"/admin/users/{admin.id}")
    expect(takedown).to_contain_text(admin.email)
    answered = page.get_by_role("row").filter(has_text="Report answered by a takedown")
    expect(answered.get_by_role("link", name="Report on “Stolen Nights 🌙”")).to_have_attribute(
        "href", f"/admin/reports/{report_id}")
    struck = page.get_by_role("row").filter(has_text="Strike recorded")
    expect(struck.get_by_role("link", name="Bea Maker")).to_have_attribute(
        "href", f"/admin/users/{beatmaker.id}")
    expect(struck).to_contain_text(beatmaker.email)
    screenshot(page, "admin-audit-log-names")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download_info.value.save_as(tmp_path / "audit.csv")
    rows = {row["action"]: row for row in csv.DictReader(io.StringIO((tmp_path / "audit.csv").read_text()))}
    assert (rows["beat.takedown"]["target_id"], rows["beat.takedown"]["target_name"]) == (
        beat["id"], "Stolen Nights 🌙")
    assert (rows["beat.takedown"]["actor_id"], rows["beat.takedown"]["actor_name"],
            rows["beat.takedown"]["actor_email"]) == (admin.id, "Zoë Ödegaard 🛡", admin.email)
    assert (rows["user.strike"]["target_name"], rows["user.strike"]["target_email"]) == (
        "Bea Maker", beatmaker.email)
    assert rows["report.takedown"]["target_name"] == "Stolen Nights 🌙"
