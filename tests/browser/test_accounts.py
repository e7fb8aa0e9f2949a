"""Getting back into an account in a real browser: the forgotten-password link from the sign-in
form, the mailed link, a new password, signing in with it."""

from __future__ import annotations

import dataclasses
import json
import re

from playwright.sync_api import expect

from marketplace.catalog import services as catalog
from marketplace.db import db

from tests.browser.conftest import mailed_link, mailed_message
from tests.browser.helpers import nav, screenshot, sign_in

NEW_PASSWORD = "a brand new passphrase"


def test_a_forgotten_password_is_reset_through_the_mailed_link(page, store, app):
    account = store.user("artist", "Forgetful Fan")
    page.goto("/signin")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    page.get_by_label("Email").fill(account.email)
    page.get_by_role("button", name="Mail me a link").click()
    expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("works once, for 30 minutes")

    link = mailed_link(app, account.email, "Reset your password")
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.get_by_role("textbox", name="New password").fill(NEW_PASSWORD)
    page.get_by_label("Repeat it").fill("a different passphrase")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("alert")).to_have_text("The two passwords differ.")
    page.get_by_label("Repeat it").fill(NEW_PASSWORD)
    screenshot(page, "reset-password")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#notice")).to_have_text("Your password is set. Sign in with it.")
    expect(page).to_have_url(re.compile(r"/signin$"))

    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(nav(page).get_by_text("Forgetful Fan")).to_be_visible()

    # The link worked once: opened again, it says so in words.
    page.goto(link)
    page.get_by_role("textbox", name="New password").fill("yet another passphrase")
    page.get_by_label("Repeat it").fill("yet another passphrase")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("alert")).to_contain_text("expired or was already used")


def test_the_reset_page_fits_a_phone(phone_page, store):
    phone_page.goto("/reset-password?token=rst_from-a-mail")
    expect(phone_page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    width = phone_page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390
    screenshot(phone_page, "reset-password-phone")


def test_the_account_page_changes_the_password_and_ends_other_sessions(page, store):
    account = store.user("artist", "Careful Fan")
    other_device = store.api("POST", "/auth/login", json={"email": account.email, "password": account.password},
                             headers={"User-Agent": "Old phone"}).json()["access_token"]
    sign_in(page, account)
    nav(page).get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    sessions = page.get_by_role("region", name="Where you are signed in")
    expect(sessions.get_by_role("row", name=re.compile("Old phone"))).to_be_visible()
    expect(sessions.get_by_text("This device")).to_be_visible()
    screenshot(page, "account")

    page.get_by_label("Current password").fill("not my password")
    page.get_by_role("textbox", name="New password").fill("velvet hours at dawn")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_contain_text("The current password is not right.")
    page.get_by_label("Current password").fill(account.password)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#notice")).to_have_text("Password changed. Your other devices are signed out.")
    expect(sessions.get_by_role("row", name=re.compile("Old phone"))).to_have_count(0)
    assert store.api("GET", "/me", token=other_device).status_code == 401

    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.locator("#notice")).to_have_text("Signed out everywhere, this device too.")
    expect(nav(page).get_by_role("link", name="Sign in")).to_be_visible()


def test_the_address_changes_through_the_link_mailed_to_the_new_one(page, phone_page, store, app):
    account = store.user("artist", "Moving Fan")
    sign_in(page, account)
    page.goto("/account")
    section = page.get_by_role("region", name="Email address")
    expect(section).to_contain_text(f"You sign in with {account.email}.")
    section.get_by_label("New email address").fill("moved.fan@example.org")
    section.get_by_label("Your password").fill("not my password")
    section.get_by_role("button", name="Change email").click()
    expect(section.get_by_role("alert")).to_contain_text("The current password is not right.")
    section.get_by_label("Your password").fill(account.password)
    section.get_by_role("button", name="Change email").click()
    expect(page.locator("#notice")).to_have_text(
        "A link to confirm moved.fan@example.org is on its way there.")
    expect(section.get_by_role("status")).to_contain_text("Waiting for confirmation: moved.fan@example.org")
    screenshot(page, "account-email-pending")

    # Opened on a phone that is not signed in: the link alone confirms, and every session ends.
    phone_page.goto(mailed_link(app, "moved.fan@example.org", "Confirm your new email address"))
    expect(phone_page.get_by_role("heading", name="Your new address is confirmed")).to_be_visible()
    expect(phone_page.get_by_role("status")).to_contain_text(
        "Sign in with moved.fan@example.org from now on.")
    screenshot(phone_page, "confirm-email-phone")
    phone_page.get_by_role("link", name="Sign in").click()
    sign_in(phone_page, dataclasses.replace(account, email="moved.fan@example.org"))

    page.reload()
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Faccount$"))
    sign_in(page, dataclasses.replace(account, email="moved.fan@example.org"))
    page.goto("/account")
    expect(page.get_by_role("region", name="Email address")).to_contain_text(
        "You sign in with moved.fan@example.org.")
    expect(page.get_by_role("region", name="Email address").get_by_role("status")).to_have_count(0)


def test_the_data_downloads_and_the_account_closes_after_a_confirmation(page, store, tmp_path):
    account = store.user("beatmaker", "Leaving Maker")
    sign_in(page, account)
    page.goto("/account")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download my data").click()
    download = download_info.value
    assert re.fullmatch(r"my-data-\d{4}-\d{2}-\d{2}\.json", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert json.loads(saved.read_text())["profile"]["email"] == account.email

    section = page.get_by_role("region", name="Close account")
    section.get_by_role("button", name="Close my account…").click()
    confirm = section.get_by_role("form", name="Confirm closing your account")
    expect(confirm).to_contain_text("Closing is final.")
    confirm.get_by_role("button", name="Keep my account").click()
    expect(confirm).to_be_hidden()
    section.get_by_role("button", name="Close my account…").click()
    confirm.get_by_label("Your password").fill("not my password")
    confirm.get_by_role("button", name="Close my account for good").click()
    expect(confirm.get_by_role("alert")).to_contain_text("The current password is not right.")
    confirm.get_by_label("Your password").fill(account.password)
    screenshot(page, "account-close-confirm")
    confirm.get_by_role("button", name="Close my account for good").click()
    expect(page.locator("#notice")).to_have_text("Your account is closed. Thank you for having been here.")
    expect(nav(page).get_by_role("link", name="Sign in")).to_be_visible()
    assert store.api("POST", "/auth/login", json={"email": account.email, "password": account.password}) \
        .status_code == 401

def test_the_account_page_turns_sale_notices_off_and_on(page, store):
    account = store.user("beatmaker", "Busy Producer")
    sign_in(page, account)
    page.goto("/account#mail-settings")
    settings = page.get_by_role("form", name="Mail settings")
    sales, news = settings.get_by_label("Sale notices"), settings.get_by_label("News and offers")
    expect(sales).to_be_checked()
    expect(news).not_to_be_checked()
    expect(settings).to_contain_text("Always sent")

    sales.uncheck()
    expect(page.locator("#notice")).to_have_text("Sale notices: off.")
    assert store.api("GET", "/me/mail-preferences", token=account.token).json() == {
        "sale_notices": False, "marketing": False}
    screenshot(page, "account-mail-settings")
    page.reload()
    expect(page.get_by_role("form", name="Mail settings").get_by_label("Sale notices")).not_to_be_checked()

    page.get_by_role("form", name="Mail settings").get_by_label("News and offers").check()
    expect(page.locator("#notice")).to_have_text("News and offers: on.")
    assert store.api("GET", "/me/mail-preferences", token=account.token).json()["marketing"] is True


def test_a_mailed_message_reads_well_in_a_browser_and_a_hostile_name_stays_text(page, store, app):
    hostile = "<script>alert('x')</script> Zoë 🎧 李"
    account = store.user("artist", hostile)
    message = mailed_message(app, account.email, "Verify your email address")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.set_content(message.get_body(("html",)).get_content())
    expect(page.get_by_text(f"Hello {hostile},")).to_be_visible()
    button = page.get_by_role("link", name="Verify my address")
    expect(button).to_have_attribute("href", re.compile(r"^http://127\.0\.0\.1:\d+/verify-email\?token="))
    expect(page.get_by_text("You get this mail because")).to_be_visible()
    screenshot(page, "mail-verify-email")
    assert dialogs == [] and page.locator("body script").count() == 0


def test_the_unsubscribe_link_of_a_mail_turns_sale_notices_off_without_signing_in(page, store, app):
    from marketplace.accounts import services as accounts
    from marketplace.mail import unsubscribe

    account = store.user("beatmaker", "Quiet Producer")
    with app.app_context():
        token = unsubscribe.token_for(accounts.get_user(account.id), "sale_notices")
    page.goto(f"/unsubscribe?token={token}")
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("no more sale notices")
    screenshot(page, "unsubscribed")
    assert store.api("GET", "/me/mail-preferences", token=account.token).json()["sale_notices"] is False

    page.goto(f"/unsubscribe?token={token[:-3]}abc")
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Mail settings on your account page")


def test_an_artist_starts_selling_from_the_account_page_and_reaches_the_studio(page, store, app):
    artist = store.user("artist", "Rising Rapper")
    sign_in(page, artist)
    expect(nav(page).get_by_role("link", name="Studio")).to_have_count(0)

    # The payouts page says how to become a payee instead of offering a form that is then refused.
    page.goto("/payouts")
    expect(page.get_by_text("Payouts are for people who sell beats or are credited on one.")).to_be_visible()
    expect(page.get_by_role("button", name="Set up payouts with Stripe")).to_have_count(0)
    screenshot(page, "payouts-for-an-artist")
    page.get_by_role("link", name="Start selling beats").click()

    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    selling = page.get_by_role("region", name="Start selling beats")
    expect(selling).to_have_text(re.compile(
        r"^Start selling beatsUpload your beats and sell licenses from this same account\. "
        r"Your orders and licenses stay here, and you can still buy\.Start selling beats$"))
    screenshot(page, "account-start-selling")
    selling.get_by_role("button", name="Start selling beats").click()

    expect(page.locator("#notice")).to_have_text(
        "You can sell beats now: upload your first one in your studio.")
    selling = page.get_by_role("region", name="Selling beats")
    expect(selling).to_contain_text("you can still buy licenses")
    expect(nav(page).get_by_role("link", name="Studio")).to_be_visible()
    screenshot(page, "account-selling")
    selling.get_by_role("link", name="Open your studio").click()
    expect(page).to_have_url(re.compile(r"/studio$"))
    expect(page.get_by_role("heading", name="Not for this account")).to_have_count(0)
    expect(page.get_by_role("link", name="Upload a beat").first).to_be_visible()

    # The same account uploads at once, and its studio counts plays in words.
    beat = store.publish_beat(artist, title="First Steps")
    with app.app_context():
        catalog.get_beat(beat["id"]).play_count = 1
        db.session.commit()
    page.goto(f"/studio/beats/{beat['id']}")
    expect(page.get_by_text("F# minor · 140 BPM · trap · 1 play", exact=True)).to_be_visible()
    screenshot(page, "studio-first-beat-of-a-former-artist")
    # Still a buyer: the library is there as before.
    page.goto("/library")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
