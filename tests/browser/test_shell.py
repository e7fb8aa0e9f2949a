"""The page shell in a real browser: the home page, the navigation bar (also folded on a
phone), sign up, sign in with a safe return address, sign out, refusals in words, stale tokens;
and the error watch of the browser fixtures."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from playwright.sync_api import expect

from marketplace.accounts.models import Role
from tests.browser.helpers import nav, screenshot, sign_in, stored_token
from tests.conftest import DEFAULT_PASSWORD, bearer


def fill_sign_in(page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_the_home_page_loads_without_errors(page):
    page.goto("/")
    expect(page.get_by_role("link", name="Beat Market")).to_be_visible()
    expect(nav(page).get_by_role("link", name="Sign in")).to_be_visible()
    expect(nav(page).get_by_role("link", name="Sign up")).to_be_visible()
    # The router replaced the placeholder with a page (errors would fail the test on their own).
    expect(page.locator("main")).not_to_contain_text("Loading…")


def test_an_artist_signs_in_and_out_through_the_form(page, store):
    account = store.user("artist", "Ann Artist")
    page.goto("/signin")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "sign-in")

    sign_in(page, account)
    expect(nav(page).get_by_text("Ann Artist")).to_be_visible()
    expect(nav(page).get_by_role("link", name="My licenses")).to_be_visible()
    token = stored_token(page)
    assert store.api("GET", "/me", token=token).json()["email"] == account.email

    nav(page).get_by_role("button", name="Sign out").click()
    expect(page.locator("#notice")).to_have_text("Signed out.")
    expect(nav(page).get_by_role("link", name="Sign in")).to_be_visible()
    expect(nav(page).get_by_role("link", name="My licenses")).to_have_count(0)
    assert stored_token(page) is None
    # Signing out revoked the token on the server, not only in the page.
    assert store.api("GET", "/me", token=token).status_code == 401


def test_signing_up_as_an_artist_signs_in(page, store):
    page.goto("/signup")
    page.get_by_label("Display name").fill("Rhyme Writer")
    page.get_by_label("Email").fill("rhymes@example.com")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    expect(page.get_by_label("an artist buying beats")).to_be_checked()
    screenshot(page, "sign-up")
    page.get_by_role("button", name="Create account").click()

    expect(nav(page).get_by_text("Rhyme Writer")).to_be_visible()
    expect(nav(page).get_by_role("link", name="Studio")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/$"))
    me = store.api("GET", "/me", token=stored_token(page)).json()
    assert me["email"] == "rhymes@example.com"
    assert me["roles"] == ["artist"]


def test_sign_up_shows_the_api_validation_errors_in_words(page, store):
    page.goto("/signup")
    page.get_by_label("Display name").fill("Shorty")
    # The browser accepts this address; the API wants a full domain name.
    page.get_by_label("Email").fill("shorty@localhost")
    password = page.get_by_label("Password")
    # Drop the browser's own length check, so the API's refusal is what the page shows.
    password.evaluate("input => input.removeAttribute('minlength')")
    password.fill("short")
    page.get_by_role("button", name="Create account").click()

    alert = page.get_by_role("alert")
    # Sentences in words: a field's name only where the sentence does not already say it.
    expect(alert).to_contain_text("Use an email address with a full domain name.")
    expect(alert).to_contain_text("Password: Length must be between 10 and 256.")
    expect(alert).not_to_contain_text("email:")
    expect(page).to_have_url(re.compile(r"/signup$"))
    assert stored_token(page) is None
    screenshot(page, "sign-up-refused")
    # No account was made.
    assert store.api("POST", "/auth/login", json={"email": "shorty@localhost", "password": "short"}
                     ).status_code == 401


def test_a_phone_signs_in_through_the_folded_menu(phone_page, store):
    page = phone_page
    account = store.user("beatmaker", "Pocket Producer")
    page.goto("/")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    expect(nav(page)).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav(page).get_by_role("link", name="Sign in")).to_be_visible()
    screenshot(page, "phone-menu")

    sign_in(page, account)
    expect(nav(page)).to_be_hidden()
    menu.click()
    expect(nav(page).get_by_role("link", name="Studio")).to_be_visible()
    expect(nav(page).get_by_role("button", name="Sign out")).to_be_visible()
    # Nothing is wider than the phone's screen.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390


def test_a_published_beat_plays_its_preview_in_the_browser(page, store):
    beatmaker = store.user("beatmaker", "Metro")
    beat = store.publish_beat(beatmaker, title="Night Drive", with_stems=True)
    assert beat["status"] == "published"
    offered = {offer["name"] for offer in beat["offers"]}
    assert offered >= {"Basic lease", "Trackout lease", "Exclusive rights"}
    page.goto("/")
    seconds = page.evaluate("""async (url) => {
        const audio = new Audio(url);
        await new Promise((resolve, reject) => { audio.onloadedmetadata = resolve; audio.onerror = reject; });
        return audio.duration;
    }""", f"/api/v1/beats/{beat['id']}/preview")
    assert seconds > 5

    without_stems = store.publish_beat(beatmaker, title="Plain Lease", genre="lo-fi", bpm=82)
    assert without_stems["offers"]
    assert all("stems" not in offer["deliverables"] for offer in without_stems["offers"])


def test_an_admin_signs_in_and_finds_the_admin_area(page, store):
    sign_in(page, store.user("admin", "Ada Admin"))
    expect(nav(page).get_by_text("Ada Admin")).to_be_visible()
    expect(nav(page).get_by_role("link", name="Admin")).to_be_visible()


def test_the_error_watch_sees_exceptions_and_missing_files(page, allow_browser_errors):
    page.goto("/")
    expect(nav(page).get_by_role("link", name="Sign in")).to_be_visible()
    assert list(allow_browser_errors) == []

    page.evaluate("() => { setTimeout(() => { throw new Error('thrown on purpose'); }); }")
    page.evaluate("() => fetch('/static/app/no-such-module.js')")
    allow_browser_errors.settle()
    assert any("thrown on purpose" in error for error in allow_browser_errors), allow_browser_errors
    assert any("/static/app/no-such-module.js answered 404" in error for error in allow_browser_errors)


def test_a_page_address_loads_the_shell_and_an_unknown_page_says_so(page):
    page.goto("/signup")
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    expect(page).to_have_title("Sign up · Beat Market")

    page.goto("/licenses/no/such/page/here")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(nav(page).get_by_role("link", name="Sign in")).to_be_visible()


def test_signing_up_as_a_beatmaker_signs_in_and_opens_the_studio(page, client):
    page.goto("/signup")
    page.get_by_label("Display name").fill("Nova Beats")
    page.get_by_label("Email").fill("nova@example.com")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_label("a beatmaker selling beats").check()
    page.get_by_role("button", name="Create account").click()

    expect(page).to_have_url(re.compile(r"/studio$"))
    expect(nav(page).get_by_text("Nova Beats")).to_be_visible()
    expect(nav(page).get_by_role("link", name="Studio")).to_be_visible()
    # The account exists on the server with the chosen role, and the page holds a working token.
    me = client.get("/api/v1/me", headers=bearer(stored_token(page)))
    assert me.status_code == 200
    assert me.json["email"] == "nova@example.com"
    assert "beatmaker" in me.json["roles"]


def register_ann(client) -> None:
    response = client.post("/api/v1/auth/register", json={
        "email": "ann@example.com", "password": DEFAULT_PASSWORD, "display_name": "Ann",
        "account_type": "artist"})
    assert response.status_code == 201, response.json


def test_sign_up_shows_the_api_refusal_and_stays_on_the_form(page, client):
    register_ann(client)
    page.goto("/signup")
    page.get_by_label("Display name").fill("Ann again")
    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("An account with this email already exists.")
    expect(page).to_have_url(re.compile(r"/signup$"))
    assert stored_token(page) is None


def test_a_wrong_password_is_refused_in_words(page, client):
    register_ann(client)
    page.goto("/signin")
    fill_sign_in(page, "ann@example.com", "not the password")
    expect(page.get_by_role("alert")).to_contain_text("The email or password is incorrect.")
    expect(page).to_have_url(re.compile(r"/signin$"))
    assert stored_token(page) is None


def test_sign_in_returns_to_the_page_asked_for(page, client):
    register_ann(client)
    page.goto("/signin?next=/signup%3Fref%3Dnav")
    fill_sign_in(page, "ann@example.com", DEFAULT_PASSWORD)
    expect(page).to_have_url(re.compile(r"/signup\?ref=nav$"))
    expect(nav(page).get_by_text("Ann")).to_be_visible()


@pytest.mark.parametrize("elsewhere", ["//elsewhere.example/steal", "/\\elsewhere.example/steal",
                                       "https://elsewhere.example/steal"])
def test_sign_in_never_leaves_the_site(page, client, store, elsewhere):
    register_ann(client)
    page.goto(f"/signin?next={quote(elsewhere)}")
    fill_sign_in(page, "ann@example.com", DEFAULT_PASSWORD)
    expect(nav(page).get_by_text("Ann")).to_be_visible()
    expect(page).to_have_url(store.url + "/")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Sign in")


def test_a_page_that_loads_late_never_draws_over_the_next_one(page, store):
    """A visitor who leaves a page before it has loaded sees the page they went to, not the
    late one drawn over it."""
    beat = store.publish_beat(store.user("beatmaker", "Bea"), title="Slow Loader")
    held = []
    page.route(f"**/api/v1/beats/{beat['id']}", lambda route: held.append(route))  # the beat's answer waits
    # Reached from another page, so the beat is asked of the API (a beat's page opened first
    # comes with its first data and asks nothing).
    page.goto("/signin")
    page.evaluate("""(href) => {
      const link = Object.assign(document.createElement("a"), {href, id: "to-slow-beat", textContent: "Slow"});
      document.querySelector("main").append(link);
    }""", f"/beats/{beat['id']}")
    with page.expect_request(f"**/api/v1/beats/{beat['id']}"):
        page.click("#to-slow-beat")
    for _ in range(100):  # the interception reaches the test just after the request
        if held:
            break
        page.wait_for_timeout(50)
    expect(page.locator("main")).to_contain_text("Loading")
    nav(page).get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    with page.expect_response(f"**/api/v1/beats/{beat['id']}"):
        held[0].continue_()
    # Let the late page run to its end (its writes would be synchronous after the answer).
    page.evaluate("() => new Promise((done) => setTimeout(done, 250))")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Slow Loader")
    expect(page).to_have_url(re.compile(r"/signin$"))


def test_a_revoked_token_leaves_the_visitor_signed_out(page, sign_in_as, make_user, client):
    token = sign_in_as(make_user(Role.BEATMAKER, "Bea"))
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code in (200, 204)

    page.goto("/signin")
    expect(nav(page).get_by_role("link", name="Sign in")).to_be_visible()
    expect(nav(page).get_by_role("link", name="Studio")).to_have_count(0)
    assert stored_token(page) is None


def test_each_role_sees_its_own_areas_in_the_navigation(page, sign_in_as, make_user):
    sign_in_as(make_user(Role.ADMIN, "Ada"))
    page.goto("/signin")
    expect(nav(page).get_by_role("link", name="Admin")).to_be_visible()
    expect(nav(page).get_by_role("link", name="Studio")).to_have_count(0)

    sign_in_as(make_user(Role.ARTIST, "Art"))
    page.goto("/signin")
    expect(nav(page).get_by_text("Art", exact=True)).to_be_visible()
    expect(nav(page).get_by_role("link", name="Admin")).to_have_count(0)
    expect(nav(page).get_by_role("link", name="Studio")).to_have_count(0)


def test_following_a_link_in_the_phone_menu_closes_it(phone_page):
    page = phone_page
    page.goto("/signin")
    menu = page.get_by_role("button", name="Menu")
    expect(nav(page)).to_be_hidden()
    menu.click()
    expect(nav(page).get_by_role("link", name="Sign up")).to_be_visible()
    nav(page).get_by_role("link", name="Sign up").click()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    expect(nav(page)).to_be_hidden()
