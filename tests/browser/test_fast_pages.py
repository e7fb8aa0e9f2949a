"""Each area's code loads when one of its pages is visited, in a real browser: a shopper's visit
downloads no studio or admin module, and every module arrives under its fingerprinted name. A
public page paints with the data it came with; a signed-in page asks for its data while the account
is checked, not after."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.browser.helpers import nav, screenshot

FINGERPRINTED = re.compile(r"^/static/app/.+\.[0-9a-f]{12}\.js$")


def watch_modules(page) -> list[str]:
    """The paths of the app's modules the page requests, in order."""
    modules: list[str] = []

    def seen(request) -> None:
        path = urlsplit(request.url).path
        if path.startswith("/static/app/") and path.endswith(".js"):
            modules.append(path)

    page.on("request", seen)
    return modules


def in_area(modules: list[str], area: str) -> list[str]:
    return [path for path in modules if path.startswith(f"/static/app/{area}")]


def test_a_shopper_downloads_no_studio_or_admin_code(page, store):
    beatmaker = store.user("beatmaker", "Metro")
    store.publish_beat(beatmaker, title="Night Drive")
    modules = watch_modules(page)
    page.goto("/")
    expect(page.get_by_role("heading", name="Find your next beat")).to_be_visible()
    page.get_by_role("link", name="Night Drive").first.click()
    expect(page.get_by_role("heading", name="Night Drive")).to_be_visible()
    screenshot(page, "fast-store-beat")
    assert in_area(modules, "store/index.") and in_area(modules, "store/beat.")
    assert in_area(modules, "studio/") == [] and in_area(modules, "admin/") == []
    assert in_area(modules, "account.") == []
    assert all(FINGERPRINTED.match(path) for path in modules), modules
    # The sign-in page's code comes when it is first visited.
    nav(page).get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert in_area(modules, "account.")
    assert in_area(modules, "studio/") == [] and in_area(modules, "admin/") == []


def test_the_studio_loads_its_own_code_and_not_the_admin_console(page, store, sign_in_as):
    beatmaker = store.user("beatmaker", "Kaya")
    sign_in_as(beatmaker.id)
    modules = watch_modules(page)
    page.goto("/studio")
    expect(page.get_by_role("heading", name="Your beats")).to_be_visible()
    assert in_area(modules, "studio/index.") and in_area(modules, "admin/") == []
    # Moving on to the store inside the page loads the store's code then.
    page.get_by_role("link", name="Store").first.click()
    expect(page.get_by_role("heading", name="Find your next beat")).to_be_visible()
    assert in_area(modules, "store/index.")
    assert all(FINGERPRINTED.match(path) for path in modules), modules


def watch_api(page) -> list[str]:
    """The API requests the page sends (path and query), in order."""
    requests: list[str] = []

    def seen(request) -> None:
        url = urlsplit(request.url)
        if url.path.startswith("/api/v1/"):
            requests.append(url.path + (f"?{url.query}" if url.query else ""))

    page.on("request", seen)
    return requests


def test_the_store_and_a_beat_page_paint_without_asking_the_api_again(page, store):
    beatmaker = store.user("beatmaker", "Metro")
    beat = store.publish_beat(beatmaker, title="Night Drive")
    asked = watch_api(page)
    page.goto("/")
    expect(page.get_by_role("link", name="Night Drive").first).to_be_visible()
    expect(page.get_by_role("button", name="trap, 1 beat")).to_be_visible()  # the words' chips, from the page too
    page.goto(f"/beats/{beat['id']}")
    expect(page.get_by_role("heading", name="Night Drive")).to_be_visible()
    expect(page.get_by_role("heading", name="Licenses")).to_be_visible()
    paths = list(asked)
    assert not [path for path in paths if path.startswith(("/api/v1/beats?", "/api/v1/catalog/vocabulary"))
                or path == f"/api/v1/beats/{beat['id']}"], paths
    # The next search asks the API, as before.
    page.goto("/")
    page.get_by_role("searchbox", name="Search beats").fill("night")
    page.get_by_role("searchbox", name="Search beats").press("Enter")
    expect(page.get_by_role("status").filter(has_text="1 beat shown")).to_be_visible()
    assert any(path.startswith("/api/v1/beats?") for path in asked)


def test_a_signed_in_page_asks_for_its_data_with_the_account_not_after(page, store, sign_in_as):
    beatmaker = store.user("beatmaker", "Kaya")
    sign_in_as(beatmaker.id)
    asked = watch_api(page)
    # The account's answer is held back: the page's own request goes out all the same.
    held = []

    def hold(route) -> None:
        held.append(route)

    page.route("**/api/v1/me", hold)
    with page.expect_request(lambda request: urlsplit(request.url).path == "/api/v1/me/beats"):
        page.goto("/studio", wait_until="commit")
    held[0].continue_()
    page.unroute("**/api/v1/me", hold)
    expect(page.get_by_role("heading", name="Your beats")).to_be_visible()
    assert asked.count("/api/v1/me/beats?limit=500") == 1, "the page used the early answer"
    # Moving to another studio page and back asks again.
    studio = page.get_by_role("navigation", name="Studio")
    studio.get_by_role("link", name="License tiers").click()
    expect(page.get_by_role("heading", name="License tiers")).to_be_visible()
    studio.get_by_role("link", name="Beats").click()
    expect(page.get_by_role("heading", name="Your beats")).to_be_visible()
    assert asked.count("/api/v1/me/beats?limit=500") == 2
