"""The admin console in a real browser: a reported beat taken down from the reports queue and
restored from its admin page, the audit log showing it (and its CSV export); an account found
by search, struck and suspended; the review queue; refusals for other accounts; a phone."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.db import db
from marketplace.payouts.models import PayoutTransfer, TransferStatus
from tests.browser.helpers import screenshot, sign_in
from tests.conftest import DEFAULT_PASSWORD
from tests.media import make_beat

REVIEW_TIMEOUT_SECONDS = 60


def notice(page):
    return page.locator("#notice")


def admin_nav(page):
    return page.get_by_role("navigation", name="Admin sections")


def report(store, beat_id, reporter, reason="stolen_beat", details="This is my beat from 2021, re-uploaded."):
    answer = store.api("POST", f"/beats/{beat_id}/reports", token=reporter.token,
                       json={"reason": reason, "details": details})
    assert answer.status_code == 201, answer.text
    return answer.json()


def publicly_listed(store, beat_id) -> bool:
    listing = store.api("GET", "/beats", params={"limit": 100})
    assert listing.status_code == 200, listing.text
    return beat_id in [beat["id"] for beat in listing.json()["items"]]


def test_an_admin_takes_a_reported_beat_down_from_the_queue_and_restores_it(page, store, tmp_path):
    beatmaker = store.user("beatmaker", "Bea Maker")
    beat = store.publish_beat(beatmaker, title="Stolen Nights")
    report(store, beat["id"], store.user("artist", "Ann Artist"))
    admin = store.user("admin", "Ada Admin")

    sign_in(page, admin)
    page.goto("/admin")
    reports_tile = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Reports"))
    expect(reports_tile).to_contain_text("1 open")
    screenshot(page, "admin-overview")

    admin_nav(page).get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1, name="Reports")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Showing 1 report.")).to_be_visible()
    entry = page.get_by_role("listitem").filter(has_text="Stolen Nights")
    expect(entry).to_contain_text("Reported by")
    expect(entry).to_contain_text("Ann Artist")
    expect(entry).to_contain_text("This is my beat from 2021, re-uploaded.")
    expect(entry.get_by_role("link", name="public page")).to_have_attribute("href", f"/beats/{beat['id']}")
    screenshot(page, "admin-reports")

    entry.get_by_role("link", name="Stolen beat: Stolen Nights").click()
    expect(page.get_by_role("heading", level=1, name="Report: Stolen beat")).to_be_visible()
    page.get_by_label("Take the beat down").check()
    page.get_by_label("Note").fill("Re-upload of another producer's beat.")
    page.get_by_role("button", name="Resolve report").click()
    dialog = page.get_by_role("dialog", name='Take "Stolen Nights" down?')
    expect(dialog).to_contain_text("Licenses already sold stay valid.")
    dialog.get_by_role("button", name="Take it down").click()
    expect(notice(page)).to_have_text('"Stolen Nights" was taken down.')
    expect(page.get_by_text("This report is resolved.")).to_be_visible()

    # Out of the public store at once.
    assert store.api("GET", f"/beats/{beat['id']}").status_code == 404
    assert not publicly_listed(store, beat["id"])

    page.get_by_role("link", name="Beat's admin page").click()
    expect(page.get_by_role("heading", level=1, name="Stolen Nights")).to_be_visible()
    expect(page).to_have_title("Stolen Nights · Admin · Beat Market")
    state = page.get_by_role("region", name="State")
    expect(state).to_contain_text("Out of the store")
    expect(state).to_contain_text("Taken down")
    expect(state).to_contain_text("Re-upload of another producer's beat.")
    expect(state.get_by_role("link", name="owner's admin page")).to_have_attribute(
        "href", f"/admin/users/{beatmaker.id}")
    expect(page.get_by_role("region", name="Reports (1)")).to_contain_text("Beat taken down")
    screenshot(page, "admin-beat")

    admin_nav(page).get_by_role("link", name="Audit log").click()
    takedown = page.get_by_role("row").filter(has_text="Beat taken down")
    expect(takedown).to_contain_text("Re-upload of another producer's beat.")
    expect(takedown.get_by_role("link", name="Stolen Nights")).to_have_attribute(
        "href", f"/admin/beats/{beat['id']}")
    expect(takedown).to_contain_text(f"beat {beat['id']}")
    expect(takedown.get_by_role("link", name="Ada Admin")).to_have_attribute("href", f"/admin/users/{admin.id}")
    expect(page.get_by_role("row").filter(has_text="Report answered by a takedown")).to_have_count(1)
    screenshot(page, "admin-audit-log")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == "audit-log.csv"
    download.save_as(tmp_path / "audit.csv")
    csv_text = (tmp_path / "audit.csv").read_text()
    assert csv_text.startswith("id,created_at,actor_kind")
    assert f"beat.takedown,beat,{beat['id']}" in csv_text
    expect(notice(page)).to_have_text("The audit log was downloaded as CSV.")

    page.get_by_label("Action").select_option(label="Beat taken down")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/admin/audit-log\?action=beat\.takedown$"))
    expect(page.get_by_role("status").filter(has_text="Showing 1 entry.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Report answered by a takedown")).to_have_count(0)

    page.get_by_role("row").filter(has_text="Beat taken down").get_by_role("link", name="Stolen Nights").click()
    page.get_by_role("button", name="Restore").click()
    expect(notice(page)).to_have_text('"Stolen Nights" is back in the store.')
    expect(page.get_by_role("region", name="State")).to_contain_text("In the store")
    assert store.api("GET", f"/beats/{beat['id']}").json()["status"] == "published"
    assert publicly_listed(store, beat["id"])
    expect(page.get_by_role("region", name="History").get_by_role("row").filter(
        has_text="Beat restored")).to_have_count(1)


def test_a_report_is_dismissed_and_a_blank_note_is_refused_in_words(page, store):
    beat = store.publish_beat(store.user("beatmaker"), title="Fine Beat")
    filed = report(store, beat["id"], store.user("artist"), reason="spam", details="Looks like spam to me.")
    sign_in(page, store.user("admin"))
    page.goto(f"/admin/reports/{filed['id']}")

    page.get_by_label("Note").fill("   ")
    page.get_by_role("button", name="Resolve report").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Some fields are invalid.")
    expect(alert.get_by_role("listitem")).to_contain_text(re.compile(r"^Note: .*Must not be blank\.$"))

    page.get_by_label("Note").fill("An original beat; nothing wrong with it.")
    page.get_by_role("button", name="Resolve report").click()
    expect(notice(page)).to_have_text("The report was dismissed.")
    expect(page.get_by_role("region", name="The report")).to_contain_text("Dismissed")
    assert store.api("GET", f"/beats/{beat['id']}").status_code == 200

    page.goto("/admin/reports")
    expect(page.get_by_role("status").filter(has_text="No open reports")).to_be_visible()
    page.get_by_label("Status").select_option("dismissed")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/admin/reports\?status=dismissed"))
    expect(page.get_by_role("listitem").filter(has_text="Fine Beat")).to_contain_text("Dismissed")


def test_a_beat_found_by_title_warns_before_revoking_its_licenses(page, store):
    beat = store.publish_beat(store.user("beatmaker"), title="Keep Licenses")
    store.publish_beat(store.user("beatmaker"), title="Other Title")
    admin = store.user("admin")
    sign_in(page, admin)
    page.goto("/admin/beats")
    page.get_by_label("Title").fill("keep LIC")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status").filter(has_text="Showing 1 beat.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Other Title")).to_have_count(0)
    page.get_by_role("link", name="Keep Licenses").click()
    expect(page).to_have_url(re.compile(f"/admin/beats/{beat['id']}$"))

    revoke = page.get_by_role("group", name="Revoke licenses")
    revoke.get_by_label("Reason").fill("Checking the warning only.")
    revoke.get_by_role("button", name="Revoke licenses").click()
    dialog = page.get_by_role("dialog", name='Revoke every license of "Keep Licenses"?')
    expect(dialog).to_contain_text("refunded in full")
    expect(dialog).to_contain_text("This cannot be undone.")
    # The safe answer has the focus, and Escape gives it.
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    log = store.api("GET", "/admin/audit-log", token=admin.token, params={"action": "license.revoke"})
    assert log.json()["items"] == []
    assert revoke.get_by_label("Reason").input_value() == "Checking the warning only."


def test_an_admin_finds_an_account_strikes_and_suspends_it(page, store):
    beatmaker = store.user("beatmaker", "Sly Uploader")
    beat = store.publish_beat(beatmaker, title="Borrowed Loop")
    store.user("beatmaker", "Someone Else")
    sign_in(page, store.user("admin"))

    page.goto("/admin")
    admin_nav(page).get_by_role("link", name="Users").click()
    page.get_by_label("Email or name").fill("sly UPLOAD")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status").filter(has_text="Showing 1 account.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Someone Else")).to_have_count(0)
    page.get_by_role("link", name="Sly Uploader").click()

    expect(page.get_by_role("heading", level=1, name="Sly Uploader")).to_be_visible()
    strike = page.get_by_role("group", name="Add a strike")
    strike.get_by_label("Reason").fill("Uploaded a loop from a sample pack as a beat.")
    strike.get_by_role("button", name="Add strike").click()
    expect(notice(page)).to_have_text("The strike was recorded.")
    expect(page.get_by_role("region", name="Standing")).to_contain_text("1 of 3")
    expect(page.get_by_role("region", name="Strikes (1)")).to_contain_text(
        "Uploaded a loop from a sample pack as a beat.")

    suspend = page.get_by_role("group", name="Suspend the account")
    suspend.get_by_label("Reason").fill("Repeated uploads of other people's work.")
    suspend.get_by_role("button", name="Suspend").click()
    page.get_by_role("dialog", name="Suspend Sly Uploader?").get_by_role("button", name="Suspend the account").click()
    expect(notice(page)).to_have_text("Sly Uploader is suspended.")
    standing = page.get_by_role("region", name="Standing")
    expect(standing).to_contain_text("Suspended")
    expect(page.get_by_role("group", name="Lift the suspension")).to_be_visible()
    screenshot(page, "admin-user")

    # The suspension is real: the account's token is refused and its beat is out of the store.
    assert store.api("GET", "/me", token=beatmaker.token).status_code == 403
    assert store.api("GET", f"/beats/{beat['id']}").status_code == 404

    page.get_by_role("button", name="Unsuspend").click()
    expect(notice(page)).to_have_text("Sly Uploader is active again.")
    expect(standing).to_contain_text("Active")
    assert store.api("GET", f"/beats/{beat['id']}").status_code == 200

    page.get_by_role("region", name="Strikes (1)").get_by_text("Lift this strike").click()
    lift = page.get_by_role("group", name="Lift the strike")
    lift.get_by_label("Reason").fill("The sample pack allows it after all.")
    lift.get_by_role("button", name="Lift strike").click()
    expect(notice(page)).to_have_text("The strike was lifted.")
    expect(page.get_by_role("region", name="Standing")).to_contain_text("0 of 3")


def test_a_long_search_answer_is_shown_page_by_page(page, store):
    with store.app.app_context():
        for number in range(53):
            accounts.create_user(f"crowd{number:02d}@example.com", DEFAULT_PASSWORD, f"Crowd {number:02d}", Role.ARTIST)
        db.session.commit()
    sign_in(page, store.user("admin"))
    page.goto("/admin/users?q=crowd")
    status = page.get_by_role("status").filter(has_text="Showing")
    expect(status).to_have_text("Showing 50 accounts; more below.")
    rows = page.get_by_role("row").filter(has=page.get_by_role("link", name=re.compile(r"^Crowd \d\d$")))
    expect(rows).to_have_count(50)
    page.get_by_role("button", name="Show more").click()
    expect(status).to_have_text("Showing 53 accounts.")
    expect(rows).to_have_count(53)
    expect(page.get_by_role("button", name="Show more")).to_be_hidden()
    # The second page went on where the first stopped: every account once.
    names = rows.get_by_role("link").all_inner_texts()
    assert sorted(names) == [f"Crowd {number:02d}" for number in range(53)]


def test_the_strike_that_suspends_asks_first(page, store, monkeypatch):
    monkeypatch.setitem(store.app.config, "MODERATION_STRIKES_TO_SUSPEND", 1)
    beatmaker = store.user("beatmaker", "One Chance")
    sign_in(page, store.user("admin"))
    page.goto(f"/admin/users/{beatmaker.id}")
    strike = page.get_by_role("group", name="Add a strike")
    strike.get_by_label("Reason").fill("Sold a beat that was not theirs.")
    strike.get_by_role("button", name="Add strike").click()
    dialog = page.get_by_role("dialog", name="Strike One Chance and suspend the account?")
    expect(dialog).to_contain_text("This is strike 1 of 1: the account is suspended automatically.")
    dialog.get_by_role("button", name="Strike and suspend").click()
    expect(notice(page)).to_have_text("The strike was recorded and the account is now suspended.")
    expect(page.get_by_role("region", name="Standing")).to_contain_text("Suspended")
    assert store.api("GET", "/me", token=beatmaker.token).status_code == 403
    history = page.get_by_role("region", name="History")
    expect(history.get_by_role("row").filter(has_text="Strike recorded")).to_have_count(1)
    expect(history.get_by_role("link", name="Full history in the audit log")).to_have_attribute(
        "href", f"/admin/audit-log?target_type=user&target_id={beatmaker.id}")


def _upload_held_for_review(store, beatmaker, master, title) -> str:
    with open(master, "rb") as file:
        answer = store.api("POST", "/beats", token=beatmaker.token,
                           data={"title": title, "genre": "trap", "bpm": "120"},
                           files={"file": ("master.wav", file, "audio/wav")})
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def _wait_for_review(store, admin, beat_id) -> None:
    deadline = time.monotonic() + REVIEW_TIMEOUT_SECONDS
    while True:
        beat = store.api("GET", f"/admin/beats/{beat_id}", token=admin.token).json()
        if any(hold["cause"] == "review" for hold in beat["held_by"]):
            return
        assert beat["status"] == "processing", f"beat {beat_id} was not held for review: {beat}"
        assert time.monotonic() < deadline, f"beat {beat_id} still processing"
        time.sleep(0.1)


def test_uploads_held_for_review_are_approved_and_rejected_from_the_queue(page, store, tmp_path, monkeypatch):
    monkeypatch.setitem(store.app.config, "PREMODERATION_MIN_APPROVED_BEATS", 1)
    beatmaker = store.user("beatmaker", "New Producer")
    admin = store.user("admin")
    master = make_beat(tmp_path / "review.wav", seconds=12)
    approved = _upload_held_for_review(store, beatmaker, master, "Waiting Room")
    rejected = _upload_held_for_review(store, beatmaker, master, "Second Thoughts")
    _wait_for_review(store, admin, approved)
    _wait_for_review(store, admin, rejected)

    sign_in(page, admin)
    page.goto("/admin")
    expect(page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Review queue"))).to_contain_text(
        "2 waiting")
    admin_nav(page).get_by_role("link", name="Review queue").click()
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Waiting Room"))
    expect(card).to_contain_text("New Producer")
    card.get_by_role("button", name="Approve").click()
    expect(notice(page)).to_have_text('"Waiting Room" was approved and is in the store.')
    expect(page.get_by_role("status").filter(has_text="Showing 1 upload.")).to_be_visible()
    assert store.api("GET", f"/beats/{approved}").json()["status"] == "published"

    reject = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Second Thoughts")) \
        .get_by_role("group", name="Reject")
    reject.get_by_label("Reason").fill("The master is clipped throughout.")
    reject.get_by_role("button", name="Reject").click()
    page.get_by_role("dialog", name='Reject "Second Thoughts"?').get_by_role("button", name="Reject it").click()
    expect(notice(page)).to_have_text('"Second Thoughts" was rejected.')
    expect(page.get_by_role("status").filter(has_text="Nothing waits for review.")).to_be_visible()
    assert store.api("GET", f"/beats/{rejected}").status_code == 404

    page.get_by_role("link", name="Show rejected uploads").click()
    expect(page.get_by_role("heading", level=1, name="Rejected uploads")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Second Thoughts"))) \
        .to_contain_text("The master is clipped throughout.")


def _failed_transfer(store, payee) -> str:
    """A transfer Stripe refused: made directly, as the sandbox refuses none by itself."""
    with store.app.app_context():
        transfer = PayoutTransfer(payee_id=payee.id, order_id=None, destination="acct_refused", amount=2500,
                                  currency="usd", transfer_group=f"payee-{payee.id}", allocation=[],
                                  status=TransferStatus.FAILED, failure_code="account_invalid")
        db.session.add(transfer)
        db.session.commit()
        return transfer.id


def test_a_failed_transfer_that_cannot_be_retried_says_why_on_the_payouts_page(page, store):
    transfer_id = _failed_transfer(store, store.user("beatmaker", "Paid Late"))
    sign_in(page, store.user("admin"))
    page.goto("/admin/payouts")
    expect(page.get_by_role("region", name="Platform fees")).to_contain_text("Total, less refunded sales")
    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    row = page.get_by_role("row").filter(has_text="account_invalid")
    expect(row).to_contain_text("$25.00")
    expect(row).to_contain_text("Failed")
    expect(row.get_by_role("link", name="Paid Late")).to_be_visible()
    # The payee never connected a Stripe account: asking again could not succeed, and the page
    # says why in words instead of planning an attempt bound to fail.
    row.get_by_role("button", name=f"Retry transfer {transfer_id}").click()
    expect(page.get_by_role("alert")).to_contain_text("cannot receive transfers now")


def test_a_missing_beat_or_account_and_an_empty_search_are_said_in_words(page, store):
    sign_in(page, store.user("admin"))
    page.goto("/admin/beats/bt_00000000000000000000000000")
    expect(page.get_by_role("heading", level=1, name="Not found")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("No such beat.")
    admin_nav(page).get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", level=1, name="Users")).to_be_visible()
    page.get_by_label("Email or name").fill("nobody-by-this-name")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status").filter(has_text="No accounts match.")).to_be_visible()
    expect(page.get_by_role("table")).to_be_hidden()
    page.goto("/admin/users/usr_00000000000000000000000000")
    expect(page.get_by_role("alert")).to_have_text("No such user.")


def test_other_accounts_are_told_the_admin_area_is_not_for_them(page, store):
    page.goto("/admin/reports")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fadmin%2Freports$"))

    sign_in(page, store.user("artist"))
    page.goto("/admin")
    expect(page.get_by_role("heading", name="Not for this account")).to_be_visible()
    expect(page.get_by_text("This page is for admin accounts.")).to_be_visible()
    expect(admin_nav(page)).to_have_count(0)


def test_the_reports_queue_and_a_beat_work_on_a_phone(phone_page, store):
    beat = store.publish_beat(store.user("beatmaker"), title="Pocket Beat")
    report(store, beat["id"], store.user("artist"), reason="offensive", details="Offensive words in the title.")
    sign_in(phone_page, store.user("admin"))

    phone_page.goto("/admin/reports")
    entry = phone_page.get_by_role("listitem").filter(has_text="Pocket Beat")
    expect(entry).to_contain_text("Offensive content")
    # Nothing wider than the screen: no sideways scrolling of the page itself.
    assert phone_page.evaluate("() => document.documentElement.scrollWidth") <= 390
    screenshot(phone_page, "admin-phone")

    entry.get_by_role("link", name="Pocket Beat", exact=True).click()
    take_down = phone_page.get_by_role("group", name="Take down")
    take_down.get_by_label("Reason").fill("Offensive title.")
    take_down.get_by_role("button", name="Take down").click()
    phone_page.get_by_role("dialog").get_by_role("button", name="Take it down").click()
    expect(notice(phone_page)).to_have_text('"Pocket Beat" was taken down.')
    assert phone_page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert store.api("GET", f"/beats/{beat['id']}").status_code == 404


def test_a_contract_that_failed_every_retry_is_shown_with_its_error_and_retried(page, store):
    """The admin console lists a buyer's contract that could not be made, says why, and runs it
    again on request: nothing retries it silently."""
    from marketplace.jobs.failures import record_failure

    record_failure(store.app, "licensing.render_contract", ("lic_gone",),
                   "ContractIncomplete: no font has these characters: \U0001fae8", attempts=6)
    sign_in(page, store.user("admin"))
    page.goto("/admin")
    admin_nav(page).get_by_role("link", name="Failed jobs").click()
    expect(page.get_by_role("heading", name="Failed jobs")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Contract")
    expect(row).to_contain_text("no font has these characters")
    expect(row).to_contain_text("6")
    screenshot(page, "admin-failed-jobs")
    row.get_by_role("button", name=re.compile("^Retry: Contract")).click()
    expect(notice(page)).to_have_text("The job ran again.")
    expect(page.get_by_text("No failed jobs: every contract and file was made.")).to_be_visible()
