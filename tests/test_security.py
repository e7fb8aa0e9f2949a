"""Security review points, each checked against the real app:

a. no answer hands a master or stems (their storage key, file name, signed link or /files/
   path) to anyone without a license that includes them;
b. CORS for named origins only, and the security headers on every kind of answer;
c. secrets are compared in constant time (by reading the code, and by behaviour);
d. no secret reaches the logs, even at DEBUG and when a request fails.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import logging
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from config import PROJECT_ROOT
from marketplace.accounts.models import Role
from marketplace.catalog.models import Beat
from marketplace.db import db
from marketplace.licensing.models import LicenseFile
from marketplace.observability import JsonLogFormatter, RequestIdFilter
from tests.checkout.conftest import WEBHOOK_PATH, payments  # noqa: F401
from tests.conftest import bearer, login, make_test_app, register
from tests.support import parse_python
from tests.licensing.conftest import masters, offer_all, sell, tiers_of, upload_beat  # noqa: F401

API = "/api/v1"


# -- a. masters and stems ------------------------------------------------------------------------------------

def _spec_get_paths(client) -> list[str]:
    spec = client.get(f"{API}/openapi.json").json
    return [path for path, item in spec["paths"].items() if "get" in item]


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: ids[match.group(1)], path)


@pytest.fixture
def store(app, client, make_user, headers_for, upload_beat, offer_all, sell):  # noqa: F811
    """A beat with a master and stems; one buyer of a Basic lease (MP3 only), one of a
    Trackout lease (stems included), and users who bought nothing."""
    owner = make_user(Role.BEATMAKER, "Owner")
    owner_headers = headers_for(owner)
    beat_id = upload_beat(owner_headers, stems=True, title="Vault")
    tiers = offer_all(owner_headers, beat_id)
    basic_buyer = make_user(Role.ARTIST, "Basic Buyer")
    trackout_buyer = make_user(Role.ARTIST, "Trackout Buyer")
    basic_license = sell(beat_id, tiers["Basic lease"]["id"], basic_buyer)
    trackout_license = sell(beat_id, tiers["Trackout lease"]["id"], trackout_buyer)
    artist, other = make_user(Role.ARTIST, "No License"), make_user(Role.BEATMAKER, "Other")
    report = client.post(f"{API}/beats/{beat_id}/reports", json={"reason": "spam"},
                         headers=headers_for(artist))
    assert report.status_code == 201, report.json
    # The owner's public profile lists the beat: it must not lead to its files either.
    claimed = client.put(f"{API}/me/profile", json={"handle": "vault.owner", "display_name": "Owner"},
                         headers=owner_headers)
    assert claimed.status_code == 200, claimed.json
    with app.app_context():
        beat = db.session.get(Beat, beat_id)
        private_keys = [beat.master_key, beat.stems_key]
        stems_file = db.session.get(LicenseFile, (trackout_license, "stems"))
        wav_file = db.session.get(LicenseFile, (trackout_license, "wav"))
        private_names = [stems_file.key, stems_file.filename, wav_file.key, wav_file.filename]
    assert all(private_keys) and all(private_names), "the beat must have a master and stems, delivered"
    return {
        "beat_id": beat_id, "owner": owner, "private": [*private_keys, *private_names],
        "headers": {"anonymous": {}, "artist": headers_for(artist), "other": headers_for(other),
                    "basic_buyer": headers_for(basic_buyer), "trackout_buyer": headers_for(trackout_buyer)},
        "ids": {"beat_id": beat_id, "license_id": trackout_license, "license_number": "LIC-0000-0000-0000",
                "order_id": "ord_unknown", "report_id": report.json["id"], "user_id": owner,
                "basic_license": basic_license, "handle": "vault.owner", "number": "1",
                "invitation_id": "cinv_unknown"},
    }


def _secrets_of(store: dict) -> list[str]:
    """Storage keys and download names of the master and stems, and each key's file name."""
    return [*store["private"], *(Path(name).name for name in store["private"])]


def _walk(client, store, caller: str, forbidden: list[str]) -> tuple[int, list[tuple[str, str]]]:
    """GETs every path of the spec as `caller`, with each license; (paths walked, leaks found)."""
    headers, walked, leaks = store["headers"][caller], 0, []
    for template in _spec_get_paths(client):
        for license_key in ("license_id", "basic_license"):
            path = _fill(template, {**store["ids"], "license_id": store["ids"][license_key]})
            body = client.get(path, headers=headers).get_data()
            leaks += [(path, secret) for secret in forbidden if secret.encode() in body]
            walked += 1
    return walked, leaks


@pytest.mark.parametrize("caller", ["anonymous", "artist", "other", "basic_buyer"])
def test_no_get_endpoint_gives_masters_or_stems_to_someone_without_them(client, store, caller):
    # A Basic buyer has /files/ links of their own (the MP3), never to the master, WAV or stems.
    forbidden = _secrets_of(store) + (["/files/"] if caller != "basic_buyer" else [])
    walked, leaks = _walk(client, store, caller, forbidden)
    assert walked >= 2 * 30  # the whole spec was walked, not an empty one
    assert leaks == []


def test_the_walk_sees_files_where_they_are_due(client, store):
    """The Trackout buyer's walk finds their stems link: the check above can see a leak."""
    _walked, seen = _walk(client, store, "trackout_buyer", _secrets_of(store) + ["/files/"])
    assert {path.rsplit("/", 1)[1] for path, _ in seen} == {"downloads"}
    assert "/files/" in {secret for _, secret in seen}


def _links(client, store, buyer: str, license_id: str) -> dict[str, str]:
    response = client.get(f"{API}/licenses/{license_id}/downloads", headers=store["headers"][buyer])
    assert response.status_code == 200, response.json
    return {link["kind"]: link["url"] for link in response.json if link["ready"]}


def test_a_buyer_gets_links_to_the_files_of_their_tier_only(client, store):
    basic = _links(client, store, "basic_buyer", store["ids"]["basic_license"])
    assert set(basic) == {"mp3"}
    trackout = _links(client, store, "trackout_buyer", store["ids"]["license_id"])
    assert set(trackout) == {"mp3", "wav", "stems"}
    stems = client.get(urlsplit(trackout["stems"]).path)
    assert stems.status_code == 200 and stems.data[:2] == b"PK"  # the stems archive itself
    # The Basic buyer's license cannot be stretched to another license's files.
    refused = client.get(f"{API}/licenses/{store['ids']['license_id']}/downloads",
                         headers=store["headers"]["basic_buyer"])
    assert refused.status_code == 404


# -- b. CORS and headers -------------------------------------------------------------------------------------

PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
               "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
               "frame-ancestors 'none'; form-action 'self'")
ALLOWED_ORIGIN = "https://studio.partner.example"


def _assert_common_headers(response) -> None:
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "microphone=()" in headers["Permissions-Policy"] and "camera=()" in headers["Permissions-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in headers  # plain http in development


def _with_import_map(policy: str, html: bytes) -> str:
    """The page policy allowing the page's one inline script, its import map, by its hash."""
    import_map = re.search(rb'<script type="importmap">(.*?)</script>', html, re.DOTALL).group(1)
    digest = base64.b64encode(hashlib.sha256(import_map).digest()).decode()
    return policy.replace("script-src 'self'", f"script-src 'self' 'sha256-{digest}'")


@pytest.mark.parametrize("path", ["/", "/beats/bt_anything", "/studio", "/admin/reports", "/signin"])
def test_web_pages_carry_the_page_policy(client, path):
    response = client.get(path)
    assert response.status_code == 200 and b"<!doctype html>" in response.data
    _assert_common_headers(response)
    assert response.headers["Content-Security-Policy"] == _with_import_map(PAGE_POLICY, response.data)


def test_pages_may_load_files_from_s3_where_previews_redirect(database_factory):
    app = make_test_app(database_factory(), STORAGE_BACKEND="s3", STORAGE_S3_BUCKET="beats",
                        STORAGE_S3_ENDPOINT_URL="http://127.0.0.1:9000", STORAGE_S3_ACCESS_KEY="key",
                        STORAGE_S3_SECRET_KEY="secret")
    policy = dict(part.split(" ", 1) for part in app.test_client().get("/").headers["Content-Security-Policy"]
                  .split("; "))
    for directive in ("img-src", "media-src", "connect-src"):
        assert policy[directive].endswith(" http://127.0.0.1:9000"), directive
    assert re.fullmatch(r"'self' 'sha256-[A-Za-z0-9+/=]+'", policy["script-src"])  # the import map's hash


def test_static_files_carry_the_page_policy(client):
    response = client.get("/static/app/main.js")
    assert response.status_code == 200
    _assert_common_headers(response)
    assert response.headers["Content-Security-Policy"] == PAGE_POLICY


def test_api_answers_are_never_documents(client):
    response = client.get(f"{API}/beats")
    assert response.status_code == 200
    _assert_common_headers(response)
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_the_docs_page_runs_no_inline_script(client):
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    _assert_common_headers(response)
    policy = response.headers["Content-Security-Policy"]
    assert re.findall(rb"<script>(.*?)</script>", response.data, re.DOTALL) == []
    script_src = next(part for part in policy.split("; ") if part.startswith("script-src"))
    assert script_src == "script-src 'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    bundle = re.search(rb'"(/static/vendor/swagger-ui/swagger-ui-bundle\.[0-9a-f]{12}\.js)"', response.data)
    assert client.get(bundle.group(1).decode()).status_code == 200


def test_error_answers_carry_the_headers(client, signed_in):
    not_found = client.get(f"{API}/no-such-thing")
    page_not_found = client.get("/no-such-page")
    not_allowed = client.put(f"{API}/beats")
    too_large = client.post(f"{API}/auth/login", data=b'{"a": "' + b"x" * (2 * 1024 * 1024) + b'"}',
                            content_type="application/json")
    answers = (not_found, page_not_found, not_allowed, too_large)
    assert [answer.status_code for answer in answers] == [404, 404, 405, 413]
    for response in answers:
        _assert_common_headers(response)


def test_hsts_in_production_and_behind_https(database_factory, app):
    production = make_test_app(database_factory(), ENV_NAME="production")
    hsts = production.test_client().get("/healthz").headers["Strict-Transport-Security"]
    assert hsts.startswith("max-age=")
    secure = app.test_client().get("/healthz", base_url="https://localhost")
    assert "includeSubDomains" in secure.headers["Strict-Transport-Security"]


def test_other_origins_get_no_cors_by_default(client):
    origin = {"Origin": "https://evil.example"}
    answer = client.get(f"{API}/beats", headers=origin)
    assert answer.status_code == 200 and "Access-Control-Allow-Origin" not in answer.headers
    assert "Origin" in answer.headers["Vary"]
    preflight = client.options(f"{API}/auth/login", headers={
        **origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200  # a plain OPTIONS answer, not a preflight granted (204)
    assert not any(name.startswith("Access-Control-Allow") for name in preflight.headers.keys())


def test_a_named_origin_may_call_the_api_without_credentials(database_factory):
    app = make_test_app(database_factory(), CORS_ALLOWED_ORIGINS=(ALLOWED_ORIGIN,))
    client = app.test_client()
    preflight = client.options(f"{API}/beats", headers={
        "Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert preflight.status_code == 204 and preflight.data == b""
    assert preflight.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert set(preflight.headers["Access-Control-Allow-Methods"].split(", ")) == {"GET", "POST"}
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    answer = client.get(f"{API}/beats", headers={"Origin": ALLOWED_ORIGIN})
    assert answer.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "X-Request-ID" in answer.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in answer.headers
    # Named origins reach the API only, not the pages or files.
    assert "Access-Control-Allow-Origin" not in client.get("/", headers={"Origin": ALLOWED_ORIGIN}).headers
    elsewhere = client.get(f"{API}/beats", headers={"Origin": "https://studio.partner.example.evil"})
    assert "Access-Control-Allow-Origin" not in elsewhere.headers


def test_cors_origins_are_read_from_the_environment(monkeypatch):
    import importlib

    import config

    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", " https://a.example/, https://b.example ,,")
    try:
        origins = importlib.reload(config).Config.CORS_ALLOWED_ORIGINS
        assert origins == ("https://a.example", "https://b.example")
    finally:
        monkeypatch.delenv("CORS_ALLOWED_ORIGINS")
        importlib.reload(config)


# -- c. constant-time comparisons ----------------------------------------------------------------------------

SECRET_NAME = re.compile(r"token|signature|secret|digest|password", re.IGNORECASE)
# Comparisons that look like secret checks but are not timing oracles, each with its reason.
ALLOWED_COMPARISONS = {
    # A database lookup by the SHA-256 of the presented token: the secret itself is never
    # compared, and an attacker cannot steer the digest byte by byte.
    ("marketplace/accounts/services.py", "AccessToken.token_hash == hash_token(raw_token)"),
    ("marketplace/accounts/recovery.py", "PasswordResetLink.token_hash == hash_token(raw_token)"),
    ("marketplace/accounts/email_change.py", "EmailChangeRequest.token_hash == hash_token(raw_token)"),
    ("marketplace/collaborators/services.py", "CreditInvitation.token_hash == hash_token(raw_token)"),
}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        index = node.slice
        if isinstance(index, ast.Constant) and isinstance(index.value, str):
            return index.value
        return _name(node.value)
    if isinstance(node, ast.Call):
        return _name(node.func)
    return ""


def secret_comparisons(root: Path) -> set[tuple[str, str]]:
    """Every ==/!= in the package where one side is named like a secret."""
    found = set()
    for path in sorted((root / "marketplace").rglob("*.py")):
        for node in ast.walk(parse_python(path)):
            if not isinstance(node, ast.Compare):
                continue
            if not any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
                continue
            if any(SECRET_NAME.search(_name(side)) for side in (node.left, *node.comparators)):
                found.add((path.relative_to(root).as_posix(), ast.unparse(node)))
    return found


def test_no_secret_is_compared_with_equality():
    assert secret_comparisons(PROJECT_ROOT) - ALLOWED_COMPARISONS == set()


def test_the_scan_sees_a_plain_comparison(tmp_path):
    (tmp_path / "marketplace").mkdir()
    (tmp_path / "marketplace" / "bad.py").write_text(
        "def check(sent, stored):\n    return sent == stored.api_token\n")
    assert secret_comparisons(tmp_path) == {("marketplace/bad.py", "sent == stored.api_token")}


def _flip(text: str, index: int) -> str:
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1:]


def test_a_bearer_token_wrong_at_either_end_is_refused_alike(client, signed_in):
    token = signed_in()["Authorization"].removeprefix("Bearer ")
    wrong_tokens = (_flip(token, 4), _flip(token, -1))  # just after the mkt_ prefix, and the last
    answers = [client.get(f"{API}/me", headers=bearer(wrong)) for wrong in wrong_tokens]
    assert [a.status_code for a in answers] == [401, 401]
    assert answers[0].json == answers[1].json
    assert client.get(f"{API}/me", headers=bearer(token)).status_code == 200


def test_a_signed_link_wrong_at_either_end_is_refused_alike(client, store):
    url = _links(client, store, "basic_buyer", store["ids"]["basic_license"])["mp3"]
    path = urlsplit(url).path
    prefix, token = path.rsplit("/", 1)
    answers = [client.get(f"{prefix}/{wrong}") for wrong in (_flip(token, 0), _flip(token, -1))]
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].json == answers[1].json
    assert client.get(path).status_code == 200


def test_a_webhook_signature_wrong_at_either_end_is_refused_alike(live_server, payments):  # noqa: F811
    import hmac
    import time

    body = json.dumps({"id": "evt_test_timing", "object": "event", "type": "ping",
                       "data": {"object": {}}}).encode()
    stamp = int(time.time())
    signed = f"{stamp}.".encode() + body
    signature = hmac.new(payments.webhook_secret.encode(), signed, hashlib.sha256).hexdigest()

    def post(value: str):
        return requests.post(live_server + WEBHOOK_PATH, data=body, timeout=10, headers={
            "Content-Type": "application/json", "Stripe-Signature": f"t={stamp},v1={value}"})

    wrong = [post(signature[:-1] + ("0" if signature[-1] != "0" else "1")),
             post(("0" if signature[0] != "0" else "1") + signature[1:])]
    assert [answer.status_code for answer in wrong] == [400, 400]
    assert wrong[0].json() == wrong[1].json()
    assert post(signature).status_code == 200


# -- d. no secret in the logs --------------------------------------------------------------------------------

class Captured(logging.Handler):
    """Every record formatted as the app writes it (JSON lines, exceptions included)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonLogFormatter())
        self.addFilter(RequestIdFilter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured_logs():
    root = logging.getLogger()
    handler, level = Captured(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler.lines
    root.removeHandler(handler)
    root.setLevel(level)


def _basic_tier(client, store) -> str:
    offers = client.get(f"{API}/beats/{store['beat_id']}").json["offers"]
    return next(offer["tier_id"] for offer in offers if offer["name"] == "Basic lease")


def _checkout(client, store, headers):
    return client.post(f"{API}/checkout", headers=headers,
                       json={"items": [{"beat_id": store["beat_id"], "tier_id": _basic_tier(client, store)}]})


def _signed_webhook(url: str, secret: str) -> tuple[int, str]:
    """Posts a well-signed event of no interest; returns the status and the signature sent."""
    import hmac
    import time

    body = json.dumps({"id": "evt_test_logs", "object": "event", "type": "ping", "created": int(time.time()),
                       "livemode": False, "data": {"object": {}}}).encode()
    stamp = int(time.time())
    signature = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    answer = requests.post(url, data=body, timeout=10, headers={
        "Content-Type": "application/json", "Stripe-Signature": f"t={stamp},v1={signature}"})
    return answer.status_code, signature


def test_no_secret_reaches_the_logs(app, client, live_server, payments, store, captured_logs):  # noqa: F811
    password = "a very private passphrase 42"
    assert register(client, "logged@example.com", "artist", password=password).status_code == 201
    assert login(client, "logged@example.com", "wrong " + password).status_code == 401
    token = login(client, "logged@example.com", password).json["access_token"]
    headers = bearer(token)
    assert client.get(f"{API}/me", headers=headers).status_code == 200
    assert client.get(f"{API}/me", headers=bearer(token + "x")).status_code == 401

    # A checkout Stripe fails (an error answer, logged), then one it pays, fulfilled by the signed webhook.
    payments.fault("POST", "/v1/checkout/sessions", "error_500", times=10)
    assert _checkout(client, store, headers).status_code == 503
    payments.clear_faults()
    started = _checkout(client, store, headers).json
    completed = payments.complete(started["checkout_url"].rstrip("/").rsplit("/", 1)[1], deliver="sync")
    assert completed["delivery"]["status"] == 200, completed
    order = client.get(f"{API}/orders/{started['order_id']}", headers=headers).json
    assert order["status"] == "paid", order
    links = client.get(f"{API}/licenses/{order['licenses'][0]['id']}/downloads", headers=headers).json
    download = urlsplit(links[0]["url"]).path
    assert client.get(download).status_code == 200
    status, signature = _signed_webhook(live_server + WEBHOOK_PATH, payments.webhook_secret)
    assert status == 200
    forged = "ab" * 32
    assert requests.post(live_server + WEBHOOK_PATH, data=b"{}", timeout=10, headers={
        "Content-Type": "application/json", "Stripe-Signature": f"t=1,v1={forged}"}).status_code == 400

    secrets = {"password": password, "access token": token, "token body": token.removeprefix("mkt_"),
               "Stripe key": payments.api_key, "webhook secret": payments.webhook_secret,
               "download token": download.rsplit("/", 1)[1], "signature": signature,
               "forged signature": forged}
    log = "\n".join(captured_logs)
    assert '"status":502' in log or '"status":503' in log or '"status":500' in log  # the failure was logged
    assert len(captured_logs) > 20  # and the whole flow
    assert {name for name, value in secrets.items() if value in log} == set()
    # Nor any signature header of the sandbox's own deliveries, whose values the test never sees.
    assert not re.search(r"v1=[0-9a-f]{64}", log)
