"""Each area's code loads when one of its pages is visited, in a real browser: a shopper's visit
downloads no studio or admin module, and every module arrives under its fingerprinted name."""

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
