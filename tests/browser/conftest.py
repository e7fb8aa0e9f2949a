"""Browser tests: the web pages in a real Chromium, driven by Playwright, against a live store.

Fixtures:

* ``store``: the app served on 127.0.0.1 with payments going to the Stripe sandbox (whose
  webhooks come back to the app), and helpers to make accounts and published beats through
  the API.
* ``page`` (1280x800) and ``phone_page`` (390x844, touch): a Playwright ``Page`` in a fresh
  browser context whose ``base_url`` is the store, so ``page.goto("/signin")`` works.
* ``sign_in_as(user_id)``: the page signed in without the form (tests/browser/helpers.py has
  ``sign_in`` through the form, and ``screenshot``).

A page that throws, logs a console error, or sees a same-origin request fail (a server error,
a missing script or style) fails the test. Tests that provoke such errors on purpose mark
themselves ``@pytest.mark.allow_browser_errors`` or ask for the ``allow_browser_errors``
fixture, which returns the errors seen so far (to assert on).

Chromium is Debian's (``/usr/bin/chromium``, or ``CHROMIUM_PATH``), never a downloaded one.
Without it or the ``playwright`` package the tests skip, saying why; with
REQUIRE_TEST_SERVICES=1 (CI) they fail instead.
"""

from __future__ import annotations

import dataclasses
import email as email_parser
import email.policy as email_policy
import itertools
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from marketplace.accounts import services as accounts_services
from marketplace.db import db
from marketplace.checkout.port import PAYMENT_PORT, use_payment_port
from marketplace.payments.stripe_gateway import StripeGateway
from marketplace.payouts.port import CONNECT_GATEWAY, use_connect_gateway
from tests.conftest import DEFAULT_PASSWORD, require_service
from tests.media import make_beat

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
WEBHOOK_PATH = "/api/v1/payments/stripe/webhook"
# How long an uploaded beat may take to be processed and published.
PUBLISH_TIMEOUT_SECONDS = 60

ALLOW_ERRORS_MARKER = "allow_browser_errors"


def pytest_collection_modifyitems(items) -> None:
    """Every test in this folder carries the `browser` marker (`-m "not browser"` leaves them out)."""
    folder = Path(__file__).parent
    for item in items:
        if folder in item.path.parents:
            item.add_marker(pytest.mark.browser)


# -- the browser -------------------------------------------------------------------------

def _playwright_available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


def _chromium_available() -> bool:
    return os.access(CHROMIUM_PATH, os.X_OK) or shutil.which(CHROMIUM_PATH) is not None


PLAYWRIGHT = "Playwright (pip install -r requirements.txt)"


class _PlaywrightMissing(pytest.Item):
    """Stands in for a test module that cannot be imported without Playwright."""

    def runtest(self) -> None:
        require_service(PLAYWRIGHT, False)

    def reportinfo(self):
        return self.path, 0, f"{self.path.name}: needs Playwright"


class _ModuleNeedingPlaywright(pytest.File):
    def collect(self):
        yield _PlaywrightMissing.from_parent(self, name="playwright_missing")


def pytest_pycollect_makemodule(module_path, parent):
    """Test modules import playwright: without it, each reports one skip (or failure in CI)
    saying so, instead of an import error."""
    if not _playwright_available():
        return _ModuleNeedingPlaywright.from_parent(parent, path=module_path)
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole run."""
    require_service(PLAYWRIGHT, _playwright_available())
    require_service(f"Chromium at {CHROMIUM_PATH} (apt-get install chromium)", _chromium_available())
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM_PATH, headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# -- errors seen by the pages ------------------------------------------------------------

class BrowserErrors(list):
    """What went wrong in the pages of one test, in words, in the order it happened."""

    def __init__(self, origin: str) -> None:
        super().__init__()
        self.origin = origin
        self.pages: list[Any] = []

    def watch(self, page) -> None:
        self.pages.append(page)
        page.on("pageerror", lambda error: self.append(f"uncaught exception on {page.url}: {error}"))
        page.on("console", self._on_console)
        page.on("response", self._on_response)
        page.on("requestfailed", self._on_request_failed)

    def _same_origin(self, url: str) -> bool:
        return urlsplit(url)[:2] == urlsplit(self.origin)[:2]

    def _on_console(self, message) -> None:
        if message.type != "error":
            return
        # Chromium logs every 4xx/5xx answer as "Failed to load resource"; the response
        # handler below judges those (an API's 4xx is an answer the page handles).
        if message.text.startswith("Failed to load resource: the server responded with a status of"):
            return
        self.append(f"console error on {message.location.get('url', '?')}: {message.text}")

    def _on_response(self, response) -> None:
        if not self._same_origin(response.url):
            return
        path = urlsplit(response.url).path
        if response.status >= 500 or (response.status >= 400 and not path.startswith("/api/")):
            self.append(f"{response.request.method} {path} answered {response.status}")

    def _on_request_failed(self, request) -> None:
        # ERR_ABORTED: the page itself cancelled (navigated away, aborted a fetch, a media
        # element changed its mind); not an error of the store.
        failure = request.failure or ""
        if self._same_origin(request.url) and "ERR_ABORTED" not in failure:
            self.append(f"{request.method} {urlsplit(request.url).path} failed: {failure}")

    def settle(self) -> None:
        """Round-trip to every open page, so events already emitted are delivered."""
        from playwright.sync_api import Error as PlaywrightError  # noqa: PLC0415

        for page in self.pages:
            if page.is_closed():
                continue
            try:
                page.evaluate("0")
            except PlaywrightError:
                pass  # the page is between two documents; what the old one emitted has arrived


_errors_key = pytest.StashKey[BrowserErrors]()


def _errors_for(request, origin: str) -> BrowserErrors:
    stash = request.node.stash
    if _errors_key not in stash:
        stash[_errors_key] = BrowserErrors(origin)
    return stash[_errors_key]


@pytest.fixture
def allow_browser_errors(request, store) -> BrowserErrors:
    """Opts this test out of failing on browser errors; returns them, to assert on."""
    request.node.add_marker(ALLOW_ERRORS_MARKER)
    return _errors_for(request, store.url)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    errors = item.stash.get(_errors_key, None)
    if errors is not None and item.get_closest_marker(ALLOW_ERRORS_MARKER) is None:
        errors.settle()
        if errors:
            pytest.fail("The pages reported errors (mark the test allow_browser_errors if they are "
                        "provoked on purpose):\n  " + "\n  ".join(errors), pytrace=False)
    return result


def _open_page(browser, request, store, **context_options):
    context = browser.new_context(base_url=store.url, **context_options)
    page = context.new_page()
    _errors_for(request, store.url).watch(page)
    return context, page


@pytest.fixture
def page(browser, request, store) -> Iterator[Any]:
    """A desktop-sized page (1280x800) in a fresh browser context aimed at the store."""
    context, page = _open_page(browser, request, store, viewport=DESKTOP)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, request, store) -> Iterator[Any]:
    """A phone-sized touch page (390x844) in a fresh browser context aimed at the store."""
    context, page = _open_page(browser, request, store, viewport=PHONE, is_mobile=True, has_touch=True)
    yield page
    context.close()


@pytest.fixture
def sign_in_as(page, app, client):
    """Signs the page in as an existing user without the form: logs in through the API and
    hands the page the token before its next load. Returns the token."""

    def sign_in(user_id: str) -> str:
        with app.app_context():
            email = accounts_services.get_user(user_id).email
        answer = client.post("/api/v1/auth/login", json={"email": email, "password": DEFAULT_PASSWORD})
        assert answer.status_code == 200, answer.json
        token = answer.json["access_token"]
        # Once per tab (sessionStorage survives reloads), so signing out is not undone by a reload.
        page.context.add_init_script(f"""
            if (!sessionStorage.getItem("token-given:{token}")) {{
              localStorage.setItem("access_token", "{token}");
              sessionStorage.setItem("token-given:{token}", "1");
            }}""")
        return token

    return sign_in


# -- the store ---------------------------------------------------------------------------

def mailed_message(app, address: str, subject: str):
    """The newest mail with this subject to this address."""
    for path in sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"), reverse=True):
        message = email_parser.message_from_bytes(path.read_bytes(), policy=email_policy.default)
        if message["To"] == address and message["Subject"] == subject:
            return message
    raise AssertionError(f"no mail {subject!r} to {address}")


def mailed_link(app, address: str, subject: str) -> str:
    """The link (with a token) in the newest mail with this subject to this address."""
    text = mailed_message(app, address, subject).get_body(("plain",)).get_content()
    return re.search(r"http://\S+\?token=\S+", text).group(0)


@dataclasses.dataclass(frozen=True)
class Account:
    email: str
    password: str
    token: str
    id: str
    display_name: str


_account_numbers = itertools.count()


class Store:
    """The live store, and shortcuts to fill it through its API."""

    def __init__(self, app, url: str, sandbox, master: Path, stems_zip: Path) -> None:
        self.app = app
        self.url = url
        self.sandbox = sandbox
        self._master = master
        self._stems_zip = stems_zip
        self._http = requests.Session()
        self._http.trust_env = False  # never through a proxy: the store is on loopback

    def api(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        """An API call; `path` is under /api/v1 unless it starts with /api/."""
        if not path.startswith("/api/"):
            path = "/api/v1" + path
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self._http.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def user(self, role: str, name: str | None = None) -> Account:
        """A new signed-in account: "artist" or "beatmaker" signs up through the API; "admin"
        is made by the service, as the API never makes admins."""
        number = next(_account_numbers)
        email = f"{role}{number}@example.com"
        display_name = name or f"{role.title()} {number}"
        if role == "admin":
            with self.app.app_context():
                accounts_services.create_admin(email, DEFAULT_PASSWORD, display_name)
                db.session.commit()
        else:
            answer = self.api("POST", "/auth/register", json={
                "email": email, "password": DEFAULT_PASSWORD, "display_name": display_name,
                "account_type": role})
            assert answer.status_code == 201, answer.text
            self.verify_address(email)
        login = self.api("POST", "/auth/login", json={"email": email, "password": DEFAULT_PASSWORD})
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        me = self.api("GET", "/me", token=token).json()
        return Account(email, DEFAULT_PASSWORD, token, me["id"], display_name)

    def verify_address(self, email: str) -> None:
        """Follow the verification link mailed at sign-up, as its owner would."""
        token = mailed_link(self.app, email, "Verify your email address").partition("?token=")[2]
        assert self.api("POST", "/auth/verify-email", json={"token": token}).status_code == 204

    def publish_beat(self, account: Account, title: str = "Night Drive", genre: str = "trap",
                     mood: str = "dark", bpm: int = 140, key: str = "F#m",
                     tags: tuple[str, ...] | list[str] = ("808", "night"), with_stems: bool = False,
                     **fields: Any) -> dict[str, Any]:
        """Uploads a real beat (12 s of synthesized audio), offers it under the beatmaker's tiers
        at their default prices, waits until it is published; returns the beat as
        GET /beats/<id> answers. Extra keyword fields (description, samples...) are sent too."""
        data = {"title": title, "genre": genre, "mood": mood, "bpm": str(bpm), "key": key,
                "tags": ",".join(tags), **{name: str(value) for name, value in fields.items()}}
        with open(self._master, "rb") as master:
            files = {"file": ("master.wav", master, "audio/wav")}
            if with_stems:
                files["stems"] = ("stems.zip", self._stems_zip.read_bytes(), "application/zip")
            answer = self.api("POST", "/beats", token=account.token, data=data, files=files)
        assert answer.status_code == 202, answer.text
        beat_id = answer.json()["id"]
        self._offer_default_tiers(account, beat_id, with_stems)
        return self._wait_until_published(beat_id, account)

    def _offer_default_tiers(self, account: Account, beat_id: str, with_stems: bool) -> None:
        """Every tier the beat can deliver (those with stems only when it has stems)."""
        tiers = self.api("GET", "/license-tiers", token=account.token)
        assert tiers.status_code == 200, tiers.text
        offers = [{"tier_id": tier["id"], "price": tier["default_price"]} for tier in tiers.json()
                  if with_stems or "stems" not in tier["deliverables"]]
        answer = self.api("PUT", f"/beats/{beat_id}/offers", token=account.token, json=offers)
        assert answer.status_code == 200, answer.text

    def _wait_until_published(self, beat_id: str, account: Account) -> dict[str, Any]:
        deadline = time.monotonic() + PUBLISH_TIMEOUT_SECONDS
        while True:
            beat = self.api("GET", f"/beats/{beat_id}", token=account.token).json()
            if beat.get("status") == "published":
                return beat
            assert beat.get("status") == "processing", f"beat {beat_id} was not published: {beat}"
            assert time.monotonic() < deadline, f"beat {beat_id} still processing: {beat}"
            time.sleep(0.1)


@pytest.fixture(scope="session")
def browser_audio(tmp_path_factory) -> tuple[Path, Path]:
    """A master and a stems ZIP, made once for the run."""
    import zipfile  # noqa: PLC0415

    folder = tmp_path_factory.mktemp("browser-audio")
    master = make_beat(folder / "master.wav", seconds=12)
    stem = make_beat(folder / "drums.wav", seconds=3)
    stems_zip = folder / "stems.zip"
    with zipfile.ZipFile(stems_zip, "w") as archive:
        archive.write(stem, "drums.wav")
    return master, stems_zip


@pytest.fixture
def store(app, live_server, stripe_sandbox, browser_audio) -> Iterator[Store]:
    """The store served live, paying through the Stripe sandbox, its webhooks coming back."""
    original = app.extensions[PAYMENT_PORT], app.extensions[CONNECT_GATEWAY]
    gateway = StripeGateway(stripe_sandbox.api_key, stripe_sandbox.webhook_secret, api_base=stripe_sandbox.url,
                            timeout_seconds=2, max_network_retries=0)
    use_payment_port(app, gateway)
    use_connect_gateway(app, gateway)
    stripe_sandbox.configure(live_server + WEBHOOK_PATH, stripe_sandbox.webhook_secret)
    master, stems_zip = browser_audio
    yield Store(app, live_server, stripe_sandbox, master, stems_zip)
    app.extensions[PAYMENT_PORT], app.extensions[CONNECT_GATEWAY] = original
