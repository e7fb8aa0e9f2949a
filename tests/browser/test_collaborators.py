"""Collaborators in the browser: the owner invites from the beat's credits in the studio, the
invitee answers from their account or from the mailed link, and both download the split sheet."""

from __future__ import annotations

import subprocess
from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.browser.conftest import mailed_link
from tests.browser.helpers import nav, screenshot, sign_in

COLLABORATOR = "佐藤 健"


def invite(page, name: str, who: str, profit: str, publishing: str = "") -> None:
    form = page.get_by_role("form", name="Invite a collaborator")
    form.get_by_label("Name to credit").fill(name)
    form.get_by_label("Email or @handle").fill(who)
    form.get_by_label("Role").select_option("co_producer")
    form.get_by_label("Profit share %").fill(profit)
    if publishing:
        form.get_by_label("Publishing share %").fill(publishing)
    form.get_by_role("button", name="Send the invitation").click()


def sign_out(page) -> None:
    nav(page).get_by_role("button", name="Sign out").click()
    expect(nav(page).get_by_role("link", name="Sign in")).to_be_visible()


def pdf_text(download, tmp_path) -> str:
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_owner_invites_by_handle_and_the_collaborator_accepts_from_their_account(page, store, tmp_path):
    owner = store.user("beatmaker", "Metro")
    beat = store.publish_beat(owner)
    collaborator = store.user("beatmaker", COLLABORATOR)
    assert store.api("PUT", "/me/profile", token=collaborator.token,
                     json={"handle": "sato.ken", "display_name": COLLABORATOR}).status_code == 200

    sign_in(page, owner)
    page.goto(f"/studio/beats/{beat['id']}")
    invite(page, COLLABORATOR, "@sato.ken", "25", "50")
    invitations = page.locator(".invitation-list")
    expect(invitations.locator(".invitation", has_text=COLLABORATOR)).to_contain_text("to @sato.ken")
    expect(invitations.locator(".invitation[data-status=pending]")).to_have_count(1)
    # The credits now hold the invitee, pending, and the owner's share went down by theirs.
    pending_row = page.locator(".credit-row", has=page.locator("[data-credit-status=pending]"))
    expect(pending_row.get_by_label("Name")).to_have_value(COLLABORATOR)
    expect(page.locator(".credit-row").first.get_by_label("Profit share %")).to_have_value("75")
    expect(page.get_by_text("Split sheet", exact=True)).to_be_visible()
    screenshot(page, "studio-collaborators-invited")

    sign_out(page)
    sign_in(page, collaborator)
    page.goto("/account")
    section = page.get_by_role("region", name="Invitations to be credited")
    expect(section).to_contain_text(
        'Metro invites you to be credited on "Night Drive" as: Co-produced by 佐藤 健.')
    expect(section).to_contain_text("25%")
    screenshot(page, "account-invitation-pending")
    section.get_by_role("button", name='Accept the invitation to "Night Drive"').click()
    expect(section.locator("[data-status=accepted]")).to_be_visible()
    with page.expect_download() as download:
        section.get_by_role("button", name="Download the split sheet (PDF)").click()
    text = pdf_text(download.value, tmp_path)
    assert "SPLIT SHEET" in text and COLLABORATOR in text and "25%" in text
    screenshot(page, "account-invitation-accepted")

    sign_out(page)
    sign_in(page, owner)
    page.goto(f"/studio/beats/{beat['id']}")
    accepted_row = page.locator(".credit-row", has=page.locator("[data-credit-status=accepted]")).nth(1)
    expect(accepted_row.get_by_label("Name")).to_have_value(COLLABORATOR)
    # Every version of the split sheet, each as a PDF: the first had the owner alone.
    versions = page.locator(".split-versions li")
    expect(versions).to_have_count(2)
    with page.expect_download() as download:
        versions.get_by_role("button", name="Download the split sheet version 1 (PDF)").click()
    first = pdf_text(download.value, tmp_path)
    assert "SPLIT SHEET" in first and COLLABORATOR not in first.split("ACCEPTANCES")[0]
    screenshot(page, "studio-collaborators-accepted")


def test_an_invitation_by_email_is_accepted_from_the_mailed_link(page, store, app):
    owner = store.user("beatmaker", "Metro")
    beat = store.publish_beat(owner)
    artist = store.user("artist", "Zoë Łódź")
    assert store.api("PUT", f"/beats/{beat['id']}/credits", token=owner.token, json=[
        {"name": "Metro", "user_id": owner.id, "role": "producer", "profit_share_bps": 9000},
        {"name": "Old Friend", "role": "mix_engineer", "profit_share_bps": 1000}]).status_code == 200

    sign_in(page, owner)
    page.goto(f"/studio/beats/{beat['id']}")
    # A name-only credit says that its share is the owner's to answer for.
    name_only = page.locator(".credit-row", has=page.locator("[data-credit-status=name_only]"))
    expect(name_only).to_contain_text("Paid to you, you answer for it.")
    invite(page, "Zoë Łódź", artist.email, "10")
    expect(page.locator(".invitation-list .invitation[data-status=pending]")).to_have_count(1)
    expect(page.locator(".credit-row").first.get_by_label("Profit share %")).to_have_value("80")
    # Changing the split keeps the invitation waiting, with the share it now proposes.
    page.locator(".credit-row").first.get_by_label("Profit share %").fill("85")
    name_only.get_by_label("Profit share %").fill("5")
    page.get_by_role("button", name="Save credits").click()
    expect(page.get_by_text("Credits saved.")).to_be_visible()
    expect(page.locator(".split-versions li")).to_have_count(4)
    expect(page.locator(".invitation-list .invitation[data-status=pending]")).to_have_count(1)
    sign_out(page)

    mailed = urlsplit(mailed_link(app, artist.email, 'Metro invites you to be credited on "Night Drive"'))
    link = f"{mailed.path}?{mailed.query}"  # the mail names the public address; the test store is elsewhere
    page.goto(link)
    card = page.get_by_role("region", name="An invitation to be credited")
    expect(card).to_contain_text(
        'Metro invites you to be credited on "Night Drive" as: Co-produced by Zoë Łódź.')
    expect(card.get_by_role("button", name="Accept")).to_have_count(0)  # signed out: sign in first
    screenshot(page, "invitation-link-signed-out")
    card.get_by_role("link", name="sign in").click()
    page.get_by_label("Email").fill(artist.email)
    page.get_by_label("Password").fill(artist.password)
    page.get_by_role("button", name="Sign in").click()
    card = page.get_by_role("region", name="An invitation to be credited")
    expect(card).to_contain_text(f"You accept as Zoë Łódź ({artist.email}).")
    card.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("heading", name="You are credited")).to_be_visible()
    screenshot(page, "invitation-link-accepted")

    credits = store.api("GET", f"/beats/{beat['id']}/credits").json()["credits"]
    zoe = next(credit for credit in credits if credit["name"] == "Zoë Łódź")
    assert zoe["status"] == "accepted" and zoe["user_id"] == artist.id
    # The link worked once.
    page.goto(link)
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
