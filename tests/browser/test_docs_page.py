"""The API docs page under its own Content-Security-Policy, in a real browser."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.helpers import screenshot


def test_the_docs_page_renders_under_its_policy(page):
    """The list of operations, then Swagger UI drawing the spec in Chromium, with no
    Content-Security-Policy violation (the page fixture fails the test on any console error,
    which is where violations go)."""
    violations: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text
            and violations.append(message.text))
    bundles: list[str] = []
    page.on("request", lambda request: "swagger-ui-bundle" in request.url and bundles.append(request.url))
    page.goto("/api/v1/docs")
    # Every operation is listed at once; Swagger UI's script loads when the console is opened.
    expect(page.get_by_text("/api/v1/auth/register").first).to_be_visible()
    assert bundles == []
    page.get_by_role("button", name="Open the interactive console").click()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Beat marketplace API")
    assert len(bundles) == 1
    page.locator(".opblock-summary").first.click()  # an operation opens: scripts and styles at work
    expect(page.locator(".opblock-body").first).to_be_visible()
    screenshot(page, "api-docs")
    assert violations == []
