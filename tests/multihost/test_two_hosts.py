"""Two app hosts, one set of services: the store keeps nothing a host could lose or disagree on.

The cluster (tests/multihost/cluster.py) runs two gunicorn hosts in network namespaces of their
own behind HAProxy, sharing PostgreSQL, Redis, an S3 server, one Celery worker and beat, and
the Stripe sandbox. Requests go through the balancer (which alternates between the hosts) or
straight to one host. Requests sent straight to a host carry the X-Forwarded-For the balancer
would add, so every request comes from the same client address, as one person's would.

Needs root and `ip netns`, PostgreSQL and Redis: it runs in the PostgreSQL pass. Where
namespaces cannot be made it skips with the reason, except in CI, where it fails.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from PIL import Image
from sqlalchemy import create_engine, text

from marketplace.accounts import services as accounts_services
from marketplace.accounts.models import Role
from marketplace.db import db
from tests.conftest import DEFAULT_PASSWORD, ON_POSTGRES, TEST_DATABASE_URL, make_test_app
from tests.licensing.conftest import stems_zip
from tests.media import make_beat
from tests.multihost.cluster import WEBHOOK_SECRET, Cluster, netns_available, unique
from tests.stripe_sandbox import SandboxControl

pytestmark = pytest.mark.multihost

IN_CI = bool(os.environ.get("CI")) or os.environ.get("REQUIRE_TEST_SERVICES") == "1"
CLIENT_ADDRESS = "127.0.0.1"  # what the balancer reports for the tests' requests
WEBHOOK_PATH = "/api/v1/payments/stripe/webhook"


def unavailable() -> str | None:
    if not ON_POSTGRES:
        return "the multi-host harness runs in the PostgreSQL pass (TEST_DATABASE_URL)"
    if not os.environ.get("TEST_REDIS_URL"):
        return "the multi-host harness needs Redis (TEST_REDIS_URL)"
    return netns_available()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    reason = unavailable()
    if reason:
        if IN_CI and ON_POSTGRES:
            pytest.fail(f"{reason}; CI must run it")
        pytest.skip(reason)
    # A Redis database of its own: other tests empty theirs.
    redis_url = os.environ["TEST_REDIS_URL"].rsplit("/", 1)[0] + "/12"
    made = Cluster(TEST_DATABASE_URL, redis_url)
    try:
        made.start()
        yield made
    except BaseException:
        for name in ("host1", "host2", "worker", "haproxy"):
            print(f"--- {name} log ---\n{made.log(name)}")
        raise
    finally:
        made.stop()


@pytest.fixture(scope="module")
def stripe(cluster) -> SandboxControl:
    return SandboxControl(cluster.sandbox_url)


@pytest.fixture(scope="module")
def store(cluster):
    """An app in this process on the cluster's database, to make accounts and read rows."""
    app = make_test_app(cluster.database_url)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def sql(cluster):
    engine = create_engine(cluster.database_url.replace("postgresql://", "postgresql+psycopg://"))

    def scalar(query: str, **params):
        with engine.connect() as connection:
            return connection.execute(text(query), params).scalar()
    yield scalar
    engine.dispose()


def call(base: str, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
    headers = {"X-Forwarded-For": kwargs.pop("client", CLIENT_ADDRESS), **kwargs.pop("headers", {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, base + "/api/v1" + path, headers=headers, timeout=60, **kwargs)


@pytest.fixture(scope="module")
def account(store, cluster):
    """Makes a verified account; returns (email, token), signed in through the balancer."""

    def make(role: Role = Role.ARTIST) -> tuple[str, str]:
        email = f"{unique('person')}@example.com"
        with store.app_context():
            accounts_services.create_user(email, DEFAULT_PASSWORD, "Person", role, verified=True)
            db.session.commit()
        signed = requests.post(cluster.balancer_url + "/api/v1/auth/login", timeout=30,
                               json={"email": email, "password": DEFAULT_PASSWORD})
        assert signed.status_code == 200, signed.text
        return email, signed.json()["access_token"]

    return make


def wait_for(predicate, seconds: float = 90, interval: float = 0.3):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met in {seconds} s")


@pytest.fixture(scope="module")
def shop(cluster, account, tmp_path_factory):
    """A beat uploaded through host 1, processed by the worker, offered under every tier
    through host 2."""
    host1, host2 = (host.url for host in cluster.hosts)
    _email, token = account(Role.BEATMAKER)
    folder = tmp_path_factory.mktemp("masters")
    master, stem = make_beat(folder / "master.wav"), make_beat(folder / "stem.wav", seconds=3)
    cover = io.BytesIO()
    Image.new("RGB", (900, 700), (30, 120, 200)).save(cover, "PNG")
    uploaded = call(host1, "POST", "/beats", token, data={"title": "Two Rooms", "bpm": "120", "key": "Am"},
                    files={"file": ("master.wav", master.read_bytes(), "audio/wav"),
                           "stems": ("stems.zip", stems_zip({"short": stem}), "application/zip"),
                           "cover": ("cover.png", cover.getvalue(), "image/png")})
    assert uploaded.status_code == 202, uploaded.text
    beat_id = uploaded.json()["id"]
    beat = wait_for(lambda: (lambda b: b if b["preview_url"] else None)(
        call(host2, "GET", f"/beats/{beat_id}", token).json()))
    tiers = {tier["name"].split()[0]: tier for tier in call(host2, "GET", "/license-tiers", token).json()}
    offered = call(host2, "PUT", f"/beats/{beat_id}/offers", token,
                   json=[{"tier_id": tier["id"], "price": tier["default_price"]} for tier in tiers.values()])
    assert offered.status_code == 200, offered.text
    return {"token": token, "beat_id": beat_id, "tiers": tiers, "beat": beat}


def test_sign_in_limits_hold_across_hosts(cluster, account):
    email, _token = account()
    hosts = [host.url for host in cluster.hosts]
    wrong = {"email": email, "password": "not the password at all"}
    for attempt in range(5):  # LOGIN_FAILURE_LIMIT_PER_EMAIL: 5 per 5 minutes, per address
        refused = call(hosts[attempt % 2], "POST", "/auth/login", json=wrong)
        assert refused.status_code == 401, refused.text
    for base in [*hosts, cluster.balancer_url]:
        limited = call(base, "POST", "/auth/login", json=wrong)
        assert limited.status_code == 429, limited.text
        assert limited.json()["error"]["code"] == "rate_limited"


def test_rate_limits_hold_across_hosts(cluster):
    hosts = [host.url for host in cluster.hosts]
    # REGISTRATION_LIMIT_PER_ADDRESS is 4 per hour on the cluster; an address no run used before.
    client = f"198.51.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"

    def register(base):
        return call(base, "POST", "/auth/register", client=client,
                    json={"email": f"{unique('new')}@example.com", "password": DEFAULT_PASSWORD,
                          "display_name": "Новый 🎧", "account_type": "artist"})

    statuses = [register(hosts[attempt % 2]).status_code for attempt in range(4)]
    assert statuses == [201] * 4
    for base in hosts:
        limited = register(base)
        assert limited.status_code == 429, limited.text


def test_a_file_uploaded_through_one_host_is_served_by_the_other(cluster, shop):
    host2 = cluster.hosts[1].url
    preview = requests.get(host2 + shop["beat"]["preview_url"], headers={"X-Forwarded-For": CLIENT_ADDRESS},
                           timeout=30)
    assert preview.status_code == 200, preview.text[:500]
    assert preview.content[:3] == b"ID3" or preview.content[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")
    # The cover sent with the upload to host 1, as host 2 answers it (a redirect into the bucket).
    cover = requests.get(f"{host2}/api/v1/beats/{shop['beat_id']}/cover?size=600", timeout=30,
                         headers={"X-Forwarded-For": CLIENT_ADDRESS})
    assert cover.status_code == 200 and cover.history and cover.history[0].status_code == 302
    image = Image.open(io.BytesIO(cover.content))
    assert image.format == "WEBP" and image.size[0] == 600 and image.size[0] > image.size[1]


def listed_price(base: str, beat_id: str, tier_id: str) -> int:
    page = call(base, "GET", "/beats").json()
    beat = next(item for item in page["items"] if item["id"] == beat_id)
    return next(offer["price"]["amount"] for offer in beat["offers"] if offer["tier_id"] == tier_id)


def test_a_price_changed_through_one_host_is_what_the_other_lists_next(cluster, shop):
    host1, host2 = (host.url for host in cluster.hosts)
    basic = shop["tiers"]["Basic"]
    old = basic["default_price"]["amount"]
    # Every worker of host 2 lists the beat, so each keeps its document in its listing cache.
    assert {listed_price(host2, shop["beat_id"], basic["id"]) for _ in range(6)} == {old}
    offers = [{"tier_id": tier["id"], "price": {**tier["default_price"],
                                                "amount": old + 500 if tier is basic else
                                                tier["default_price"]["amount"]}}
              for tier in shop["tiers"].values()]
    changed = call(host1, "PUT", f"/beats/{shop['beat_id']}/offers", shop["token"], json=offers)
    assert changed.status_code == 200, changed.text
    assert {listed_price(host2, shop["beat_id"], basic["id"]) for _ in range(6)} == {old + 500}


def test_eight_concurrent_exclusive_checkouts_over_both_hosts_hold_it_once(cluster, shop, account, sql):
    hosts = [host.url for host in cluster.hosts]
    buyers = [account()[1] for _ in range(8)]
    barrier = threading.Barrier(len(buyers))
    answers: list[requests.Response] = []

    def attempt(index, token):
        barrier.wait()
        answers.append(call(hosts[index % 2], "POST", "/checkout", token, json={
            "items": [{"beat_id": shop["beat_id"], "tier_id": shop["tiers"]["Exclusive"]["id"]}]}))

    threads = [threading.Thread(target=attempt, args=pair) for pair in enumerate(buyers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_code for answer in answers) == [201] + [409] * 7, [a.text for a in answers]
    assert all(a.json()["error"]["code"] == "exclusive_unavailable" for a in answers if a.status_code == 409)
    assert sql("SELECT count(*) FROM exclusive_holds WHERE beat_id = :beat AND released_at IS NULL",
               beat=shop["beat_id"]) == 1


def signed(body: bytes) -> dict[str, str]:
    stamp = int(time.time())
    signature = hmac.new(WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={stamp},v1={signature}", "Content-Type": "application/json; charset=utf-8"}


def test_one_event_delivered_to_both_hosts_at_once_is_fulfilled_once(cluster, stripe, shop, account, sql):
    _email, token = account()
    started = call(cluster.balancer_url, "POST", "/checkout", token, json={
        "items": [{"beat_id": shop["beat_id"], "tier_id": shop["tiers"]["Basic"]["id"]}]})
    assert started.status_code == 201, started.text
    order_id = started.json()["order_id"]
    session_id = sql("SELECT payment_session_id FROM orders WHERE id = :order", order=order_id)
    stripe.complete(session_id, deliver="none")
    event = next(e for e in reversed(stripe.events(type="checkout.session.completed"))
                 if e["data"]["object"]["id"] == session_id)
    body = json.dumps({key: value for key, value in event.items() if key != "delivery_attempts"}).encode()
    barrier = threading.Barrier(2)
    answers: list[requests.Response] = []

    def deliver(base):
        barrier.wait()
        answers.append(requests.post(base + WEBHOOK_PATH, data=body, headers=signed(body), timeout=60))

    threads = [threading.Thread(target=deliver, args=(host.url,)) for host in cluster.hosts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers]
    assert sorted(answer.json()["outcome"] for answer in answers) == ["duplicate", "handled"]
    assert sql("SELECT count(*) FROM licenses WHERE buyer_id = (SELECT buyer_id FROM orders WHERE id = :order)",
               order=order_id) == 1
    assert sql("SELECT status FROM orders WHERE id = :order", order=order_id) == "paid"


def test_a_host_killed_mid_request_loses_nothing_committed_and_the_other_carries_on(cluster, shop, sql):
    host1 = cluster.hosts[0]
    token = shop["token"]
    acknowledged: list[str] = []
    stop = threading.Event()
    writing = threading.Event()

    def write_coupons():
        """One write after another through the balancer, recording each one acknowledged."""
        number = 0
        while not stop.is_set():
            number += 1
            code = f"KEEP{number}X{os.getpid()}"
            try:
                made = call(cluster.balancer_url, "POST", "/coupons", token,
                            json={"code": code, "kind": "percent", "percent_off": 5})
            except requests.RequestException:
                continue
            if made.status_code == 201:
                acknowledged.append(code)
                writing.set()

    sent_first_part = threading.Event()
    upload_outcome: list[object] = []

    def slow_upload():
        """An upload straight to host 1 that is still being sent when the host dies."""
        def body():
            yield b"--cut\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nCut Short\r\n"
            yield b"--cut\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.wav\"\r\n\r\n"
            sent_first_part.set()
            for _ in range(200):
                time.sleep(0.05)
                yield b"\0" * 65536
            yield b"\r\n--cut--\r\n"
        try:
            upload_outcome.append(call(host1.url, "POST", "/beats", token, data=body(),
                                       headers={"Content-Type": "multipart/form-data; boundary=cut"}))
        except requests.RequestException as error:
            upload_outcome.append(error)

    writer = threading.Thread(target=write_coupons)
    uploader = threading.Thread(target=slow_upload)
    writer.start()
    uploader.start()
    try:
        assert writing.wait(60) and sent_first_part.wait(60)
        host1.kill()
        uploader.join(timeout=60)
        assert isinstance(upload_outcome[0], requests.RequestException), upload_outcome
        # The other host carries on: writes through the balancer go on being acknowledged.
        before = len(acknowledged)
        wait_for(lambda: len(acknowledged) >= before + 10, seconds=60)
    finally:
        stop.set()
        writer.join(timeout=60)
    stored = sql("SELECT count(*) FROM coupons WHERE code = ANY(:codes)", codes=acknowledged)
    assert stored == len(acknowledged)
    assert sql("SELECT count(*) FROM beats WHERE title = 'Cut Short'") == 0
    assert requests.get(cluster.balancer_url + "/readyz", timeout=10).status_code == 200
