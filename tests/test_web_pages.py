"""Addresses outside the API: a browser asking for one no page serves gets the store's "page
not found" (the shell, with a 404 status); the API, static files and downloads keep the JSON
envelope. /favicon.ico and /robots.txt exist."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.test_errors import assert_envelope

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize("path", ["/no-such-page", "/wp-login.php", "/beats-and-more", "/Studio",
                                  "/%F0%9F%8E%B5/ünïcode?x=1", "/store/beats/1/2/3"])
def test_an_unknown_address_is_the_store_not_found_page(client, path):
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert b"<!doctype html>" in response.data and b"/static/app/main.js" in response.data
    assert "no-cache" in response.headers["Cache-Control"]  # never kept as if it were a page
    head = client.head(path, headers=BROWSER)
    assert head.status_code == 404 and head.mimetype == "text/html"


def test_the_not_found_page_is_never_a_304(client):
    """A browser holding the shell's ETag from another page still hears the 404."""
    etag = client.get("/", headers=BROWSER).headers["ETag"]
    response = client.get("/no-such-page", headers={**BROWSER, "If-None-Match": etag})
    assert response.status_code == 404 and b"<!doctype html>" in response.data


@pytest.mark.parametrize("path, code", [
    ("/api/v1/no-such-thing", "not_found"), ("/api/v1/beats/bt_x/nothing", "not_found"),
    ("/api/v2/beats", "not_found"), ("/api", "not_found"), ("/static/app/missing.js", "not_found"),
    ("/files/not-a-token", "file_not_found"), ("/files/not/a/token", "not_found")])
def test_api_static_and_file_addresses_keep_the_envelope_even_for_browsers(client, path, code):
    assert_envelope(client.get(path, headers=BROWSER), 404, code)


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "application/json, text/html;q=0.5"])
def test_clients_not_asking_for_html_get_the_envelope(client, accept):
    headers = {"Accept": accept} if accept else {}
    assert_envelope(client.get("/no-such-page", headers=headers), 404, "not_found")


def test_other_methods_on_unknown_addresses_get_the_envelope(client):
    assert_envelope(client.post("/no-such-page", headers=BROWSER, json={}), 404, "not_found")


def test_pages_still_answer_200(client):
    for path in ("/", "/beats/bt_anything", "/studio", "/signin"):
        assert client.get(path, headers=BROWSER).status_code == 200, path


def test_favicon_ico_is_an_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert "max-age=86400" in response.headers["Cache-Control"]
    icon = Image.open(io.BytesIO(response.data))
    assert icon.format == "ICO"
    assert {(16, 16), (32, 32)} <= set(icon.info["sizes"])


def test_robots_txt_allows_the_store_and_keeps_private_areas_out(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    rules = [line.split(":", 1) for line in response.text.splitlines() if line and not line.startswith("#")]
    rules = [(name.strip().lower(), value.strip()) for name, value in rules]
    assert ("user-agent", "*") in rules and ("allow", "/") in rules
    disallowed = {value for name, value in rules if name == "disallow"}
    assert {"/studio", "/admin", "/account", "/library", "/orders", "/cart", "/api"} <= disallowed
    assert "/licenses/verify" not in disallowed and ("allow", "/licenses/verify") in rules
    # It names nothing that does not answer: no sitemap, and only known directives.
    assert {name for name, _ in rules} <= {"user-agent", "allow", "disallow"}
    assert client.get("/", headers=BROWSER).status_code == 200
