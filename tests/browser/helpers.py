"""Steps the browser tests share: signing in through the form, and screenshots."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def nav(page):
    """The main navigation bar."""
    return page.get_by_role("navigation", name="Main")


def sign_in(page, account) -> None:
    """Signs in through the /signin form; returns once the navigation offers "Sign out"."""
    page.goto("/signin")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    # Hidden elements count: on a phone the navigation is folded behind the menu button.
    folded_nav = page.get_by_role("navigation", name="Main", include_hidden=True)
    expect(folded_nav.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached()


def screenshot(page, name: str) -> Path:
    """A full-page PNG in test-artifacts/screenshots/<name>.png; returns its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def stored_token(page) -> str | None:
    """The access token the page keeps (None when signed out)."""
    return page.evaluate("() => localStorage.getItem('access_token')")
