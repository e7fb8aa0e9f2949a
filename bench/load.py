"""Load: simulated users browsing, listening and buying, against two app hosts behind a balancer.

Starts the two-host cluster of tests/multihost/cluster.py (its own network namespaces, so it
needs root, `ip netns` and HAProxy): two gunicorn hosts (--workers sync workers each) sharing
one PostgreSQL database of the benchmark's own, Redis (rate limits, Celery), a moto S3 server,
one Celery worker and beat, the Stripe sandbox, with HAProxy in front. Before the hosts start,
the store is loaded: a few hundred published beats copied in by bench/catalog.py's loader, each
pointing at one real 30 s master and its preview and waveform, rendered once through the
preview pipeline and put in S3. The hosts hash passwords at production's cost.

Then three parts, one after the other, on the same cluster:

1. Users. For each count in --users (200, then 500), that many simulated users run for
   --seconds (60), each waiting a random think time (exponential, mean --think seconds: 5)
   between actions. Most browse: listing pages and their cursors, text search, filters, beat
   pages, previews (the app answers with a redirect to S3, where the player reads the first
   bytes, then a seek) and waveforms. One user in ten buys: registers and signs in, checks out a
   Basic lease, pays through the sandbox (which delivers the signed webhook that fulfils the
   order), reads the order until it is paid, then asks for the downloads until the Celery worker
   has built the licensed MP3, and fetches it. Some users ask GET /healthz: the baseline every
   kind's p95 is compared with. Target, for the first count: zero errors, API p95 under 100 ms.
2. Saturation. No think time: --clients threads ask one endpoint as fast as it answers for
   --saturate-seconds, for the bare endpoint (/healthz), the catalogue (/api/v1/beats), a beat
   page and a preview (the app's answer, which counts the play), in shuffled order, --rounds
   times. Reported: requests per second per core of the hosts (answers divided by the CPU
   seconds both hosts' gunicorn processes used), each as a ratio to the bare endpoint's, with
   the wall-clock rate and how busy the whole machine was.
3. Profile. --profile-requests requests to the endpoint with the fewest requests per core,
   marked so the hosts' gunicorn hooks (bench/gunicorn_profile.py) run them under cProfile;
   prints the functions they spent their time in.

Every user comes from 127.0.0.1, so the sign-in and sign-up limits are raised for the run (the
output says so); any 429 still counts as an error, as does every other 4xx/5xx or failed
connection. The load generator, both hosts and every service share this machine with any other
work running on it: the load average before each part is printed.

    BENCH_DATABASE_URL=postgresql://marketplace:marketplace@127.0.0.1:5432/marketplace_test \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/10 \\
        sudo -E .venv/bin/python bench/load.py [--seconds 60] [--users 200,500] [--json FILE]

The Redis database is emptied before and after (the benchmark's own); the PostgreSQL database
named in the URL is only used to create (and at the end drop) one of the benchmark's own.
Everything it starts and the namespaces it makes are removed when it ends, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import hashlib
import json
import os
import pstats
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import boto3
import requests
from sqlalchemy import create_engine, text

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from catalog import (  # noqa: E402  (bench/catalog.py: the same loader)
    DEFAULT_SERVER,
    GENRES,
    MOODS,
    WORDS,
    load_catalogue,
    percentile,
)

from config import normalise_database_url  # noqa: E402
from marketplace.audio import DEFAULT_TAG_PATH  # noqa: E402
from marketplace.audio.preview import TagPlacement, render_preview  # noqa: E402
from marketplace.catalog.keys import CANONICAL_KEYS  # noqa: E402
from tests.multihost.cluster import BUCKET, Cluster, netns_available  # noqa: E402

DEFAULT_REDIS = "redis://127.0.0.1:6379/10"
TRACK_SECONDS = 30
PREVIEW_CHUNK = 64 * 1024
# All users share 127.0.0.1, so the per-address limits would refuse most of them.
RAISED_LIMITS = {"LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
                 "REGISTRATION_LIMIT_PER_ADDRESS": "100000 per hour"}
# The cluster's tests hash passwords cheaply and cache no vocabulary; the benchmark runs as
# production does (None: the setting's default).
PRODUCTION_COSTS = {"ARGON2_TIME_COST": None, "ARGON2_MEMORY_COST_KIB": None, "ARGON2_PARALLELISM": None,
                    "VOCABULARY_CACHE_SECONDS": None}
TARGET_P95_MS = 100
PASSWORD = "load test password 1"
BASELINE = "baseline GET /healthz"
PROFILE_HEADER = "X-Bench-Profile"
PROFILE_SECONDS = 120  # at most, however many requests were asked for: the profiler slows them down


# -- The store -----------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class SharedFiles:
    """Storage keys of the one master, preview and waveform every beat points at."""

    master_key: str = "masters/load/master.wav"
    preview_key: str = "previews/load/preview.mp3"
    waveform_key: str = "waveforms/load/waveform.json"


def render_shared_files(folder: Path) -> tuple[SharedFiles, str, int]:
    """A real stereo master and its watermarked preview and waveform, made by the app's pipeline."""
    files = SharedFiles()
    master = folder / files.master_key
    for key in (files.master_key, files.preview_key, files.waveform_key):
        (folder / key).parent.mkdir(parents=True, exist_ok=True)
    sources = [f"sine=frequency=220:sample_rate=44100:duration={TRACK_SECONDS}",
               f"anoisesrc=color=pink:amplitude=0.1:sample_rate=44100:duration={TRACK_SECONDS}"]
    inputs = [argument for source in sources for argument in ("-f", "lavfi", "-i", source)]
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *inputs, "-filter_complex",
                    "[0:a][1:a]amerge=inputs=2", "-c:a", "pcm_s16le", str(master)], check=True)
    waveform = render_preview(master, DEFAULT_TAG_PATH, TagPlacement(), TRACK_SECONDS * 1000,
                              folder / files.preview_key, title="Load", artist="Load")
    (folder / files.waveform_key).write_text(json.dumps(waveform, separators=(",", ":")))
    content = master.read_bytes()
    return files, hashlib.sha256(content).hexdigest(), len(content)


def upload_shared_files(folder: Path, files: SharedFiles, s3_port: int) -> None:
    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{s3_port}", region_name="us-east-1",
                          aws_access_key_id="load", aws_secret_access_key="load")
    for key in (files.master_key, files.preview_key, files.waveform_key):
        client.upload_file(str(folder / key), BUCKET, key)


def attach_files(url: str, files: SharedFiles, master_sha256: str, master_size: int) -> list[str]:
    """Points every published beat at the shared files; returns the ids of those on sale."""
    engine = create_engine(normalise_database_url(url))
    with engine.begin() as connection:
        connection.execute(text(
            "UPDATE beats SET master_key = :master, master_format = 'wav', master_lossless = true, "
            "master_sha256 = :sha, master_size = :size, preview_key = :preview, waveform_key = :waveform, "
            "duration_ms = :duration"),
            {"master": files.master_key, "sha": master_sha256, "size": master_size,
             "preview": files.preview_key, "waveform": files.waveform_key, "duration": TRACK_SECONDS * 1000})
        on_sale = connection.execute(text("SELECT id FROM beats WHERE status = 'published' "
                                          "AND price_from_amount IS NOT NULL")).scalars().all()
    engine.dispose()
    return list(on_sale)


def start_cluster(server_url: str, redis_url: str, args: argparse.Namespace,
                  profile_dir: Path) -> tuple[Cluster, list[str]]:
    """The cluster with the store loaded before its hosts start (so no listing cache holds an
    empty store); stopped again if any of it fails."""
    gunicorn_args = ["--workers", str(args.workers), "--threads", str(args.threads),
                     "-c", str(BENCH / "gunicorn_profile.py")]
    cluster = Cluster(server_url, redis_url, gunicorn_args=gunicorn_args,
                      settings={**PRODUCTION_COSTS, **RAISED_LIMITS, "BENCH_PROFILE_DIR": str(profile_dir)})
    try:
        sys.stderr.write("starting PostgreSQL's database, the Stripe sandbox and S3; migrating\n")
        cluster.start_services()
        load_catalogue(cluster.database_url, args.beats)
        sys.stderr.write("rendering the shared master, preview and waveform\n")
        rendered = render_shared_files(profile_dir.parent)
        upload_shared_files(profile_dir.parent, rendered[0], cluster.s3_port)
        beat_ids = attach_files(cluster.database_url, *rendered)
        sys.stderr.write("starting two hosts, the relay, Celery worker and beat, the balancer\n")
        cluster.start_hosts()
    except BaseException:
        for name in ("host1", "host2", "worker", "relay", "haproxy", "sandbox"):
            sys.stderr.write(f"--- {name} log ---\n{cluster.log(name)}\n")
        cluster.stop()
        raise
    return cluster, beat_ids


# -- Simulated users -----------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Sample:
    kind: str
    status: int  # 0: no answer (connection failed or timed out)
    ms: float
    api: bool
    at: float


class Recorder:
    def __init__(self) -> None:
        self.samples: list[Sample] = []  # list.append is atomic: threads share it without a lock
        self.purchases: list[dict] = []
        self.started = time.monotonic()
        self.load_average = os.getloadavg()[0]  # how busy the machine was before the users came

    def request(self, session: requests.Session, kind: str, method: str, url: str, *,
                ok: tuple[int, ...] = (200,), **kwargs) -> requests.Response | None:
        began = time.perf_counter()
        try:
            response = session.request(method, url, timeout=30, **kwargs)
            response.content  # the whole body is part of the request's time
        except requests.RequestException:
            response = None
        ms = (time.perf_counter() - began) * 1000
        status = response.status_code if response is not None else 0
        self.samples.append(Sample(kind, status, ms, "/api/v1/" in url, time.monotonic()))
        return response if response is not None and status in ok else None


@dataclasses.dataclass
class World:
    base: str
    sandbox: str
    beat_ids: list[str]
    recorder: Recorder
    stop_at: float
    think: float

    def running(self) -> bool:
        return time.monotonic() < self.stop_at

    def pause(self, rng: random.Random) -> None:
        time.sleep(min(rng.expovariate(1 / self.think), max(0.0, self.stop_at - time.monotonic())))


def new_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # the cluster's own addresses, never through a proxy
    return session


def browse(world: World, session: requests.Session, rng: random.Random) -> None:
    sort = rng.choice(("newest", "newest", "popular", "price_asc", "price_desc", "bpm"))
    response = world.recorder.request(session, "browse page", "GET", f"{world.base}/api/v1/beats?sort={sort}")
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        cursor = response.json().get("next_cursor") if response is not None else None
        if not cursor:
            return
        response = world.recorder.request(session, "browse cursor", "GET",
                                          f"{world.base}/api/v1/beats?sort={sort}&cursor={cursor}")


def search(world: World, session: requests.Session, rng: random.Random) -> None:
    words = " ".join(rng.sample(WORDS, rng.choice((1, 1, 2))))
    if rng.random() < 0.3:
        words = words[: max(2, len(words) - rng.randint(1, 3))]  # typing: a prefix
    world.recorder.request(session, "text search", "GET", f"{world.base}/api/v1/beats", params={"q": words})


def filter_beats(world: World, session: requests.Session, rng: random.Random) -> None:
    low = rng.randrange(70, 160, 5)
    choices = [{"genre": rng.choice(GENRES)}, {"mood": rng.choice(MOODS)},
               {"key": rng.choice(CANONICAL_KEYS)},
               {"bpm_min": low, "bpm_max": low + 20}, {"price_min": 2000, "price_max": 3500},
               {"tag": rng.choice(WORDS)}, {"genre": rng.choice(GENRES), "sort": "popular"}]
    params = rng.choice(choices)
    if rng.random() < 0.3:
        params = {**params, **rng.choice(choices)}
    world.recorder.request(session, "filters", "GET", f"{world.base}/api/v1/beats", params=params)


def beat_page(world: World, session: requests.Session, rng: random.Random) -> dict | None:
    beat_id = rng.choice(world.beat_ids)
    response = world.recorder.request(session, "beat page", "GET", f"{world.base}/api/v1/beats/{beat_id}")
    return response.json() if response is not None else None


def listen(world: World, session: requests.Session, rng: random.Random) -> None:
    """What an audio element does: asks the app for the preview, which answers with a redirect to
    the file in S3 (a CDN in production), reads the first bytes there, then a seek; the app's
    answer for the waveform beside it is a redirect too."""
    beat_id = rng.choice(world.beat_ids)
    answer = world.recorder.request(session, "preview", "GET", f"{world.base}/api/v1/beats/{beat_id}/preview",
                                    ok=(302,), allow_redirects=False,
                                    headers={"Range": f"bytes=0-{PREVIEW_CHUNK - 1}"})
    world.recorder.request(session, "waveform", "GET", f"{world.base}/api/v1/beats/{beat_id}/waveform",
                           ok=(302,), allow_redirects=False)
    if answer is None:
        return
    stored = answer.headers["Location"]
    world.recorder.request(session, "preview bytes from S3", "GET", stored, ok=(206,),
                           headers={"Range": f"bytes=0-{PREVIEW_CHUNK - 1}"})
    start = rng.randrange(PREVIEW_CHUNK, 300 * 1024, 1024)
    world.recorder.request(session, "preview bytes from S3", "GET", stored, ok=(206,),
                           headers={"Range": f"bytes={start}-{start + PREVIEW_CHUNK - 1}"})


def baseline(world: World, session: requests.Session, rng: random.Random) -> None:
    world.recorder.request(session, BASELINE, "GET", f"{world.base}/healthz")


BROWSING = [(browse, 25), (search, 15), (filter_beats, 15), (beat_page, 20), (listen, 17), (baseline, 8)]


def browser(world: World, seed: int) -> None:
    rng = random.Random(seed)
    session = new_session()
    actions, weights = zip(*BROWSING)
    while world.running():
        rng.choices(actions, weights)[0](world, session, rng)
        world.pause(rng)


def buyer(world: World, seed: int) -> None:
    """Signs up and in, then buys Basic leases one after another, browsing between them."""
    rng = random.Random(seed)
    session = new_session()
    email = f"buyer-{seed}-{secrets.token_hex(3)}@load.test"
    account = {"email": email, "password": PASSWORD, "display_name": f"Buyer {seed}",
               "account_type": "artist"}
    auth = f"{world.base}/api/v1/auth"
    registered = world.recorder.request(session, "register", "POST", f"{auth}/register", ok=(201,),
                                        json=account)
    world.pause(rng)
    signed_in = registered and world.recorder.request(session, "login", "POST", f"{auth}/login",
                                                      json={"email": email, "password": PASSWORD})
    if not signed_in:
        return
    session.headers["Authorization"] = f"Bearer {signed_in.json()['access_token']}"
    while world.running():
        buy_one(world, session, rng)
        for _ in range(rng.randint(1, 4)):
            world.pause(rng)
            if world.running():
                rng.choices([browse, search, listen], [2, 1, 2])[0](world, session, rng)


def buy_one(world: World, session: requests.Session, rng: random.Random) -> None:
    beat = beat_page(world, session, rng)
    offers = (beat or {}).get("offers", [])
    offer = next((o for o in offers if o["name"] == "Basic lease" and o["available"]), None)
    if offer is None:
        return
    world.pause(rng)
    began = time.monotonic()
    started = world.recorder.request(session, "checkout", "POST", f"{world.base}/api/v1/checkout", ok=(201,),
                                     json={"items": [{"beat_id": beat["id"], "tier_id": offer["tier_id"]}]})
    if started is None:
        return
    order_id = started.json()["order_id"]
    session_id = started.json()["checkout_url"].rstrip("/").rsplit("/", 1)[1]
    world.pause(rng)  # the buyer fills in the payment page
    paid = world.recorder.request(session, "sandbox: pay", "POST",
                                  f"{world.sandbox}/_sandbox/checkout/sessions/{session_id}/complete",
                                  json={"deliver": "sync"})
    if paid is None:
        return
    purchase = {"paid_s": None, "files_s": None}
    world.recorder.purchases.append(purchase)
    order = poll(world, session, "order", f"{world.base}/api/v1/orders/{order_id}",
                 lambda body: body["status"] == "paid" and body["licenses"])
    if order is None:
        return
    purchase["paid_s"] = time.monotonic() - began
    downloads = f"{world.base}/api/v1/licenses/{order['licenses'][0]['id']}/downloads"
    links = poll(world, session, "downloads", downloads, lambda body: any(link["ready"] for link in body),
                 interval=0.5)
    ready = [link for link in links or [] if link["ready"]]
    link = ready and world.recorder.request(session, "file download", "GET", world.base + ready[0]["url"],
                                            ok=(302,), allow_redirects=False)
    if link and world.recorder.request(session, "file bytes from S3", "GET", link.headers["Location"]):
        purchase["files_s"] = time.monotonic() - began


def poll(world: World, session: requests.Session, kind: str, url: str, done, interval: float = 0.25,
         seconds: float = 30.0):
    """GETs url until done(body); the body, or None if it never was (or the request failed, or the
    run ended: nothing new starts after it, so the last figures are not of a store gone quiet)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and world.running():
        response = world.recorder.request(session, kind, "GET", url)
        if response is None:
            return None
        if done(response.json()):
            return response.json()
        time.sleep(interval)
    return None


def drive(world: World, users: int, buyers: int, ramp_seconds: float) -> None:
    # Buyers spread evenly among the users, so they arrive throughout the ramp.
    threads = [threading.Thread(target=buyer if index * buyers // users != (index + 1) * buyers // users
                                else browser, args=(world, index), daemon=True) for index in range(users)]
    for thread in threads:
        thread.start()
        time.sleep(ramp_seconds / len(threads))  # users arrive over the ramp, not all at once
    while any(thread.is_alive() for thread in threads):
        report_progress(world)
        time.sleep(1)
        if time.monotonic() > world.stop_at + 60:
            break  # a purchase still polling after the run: its late answers are not waited for
    report_progress(world, final=True)


def run_users(cluster: Cluster, beat_ids: list[str], users: int, args: argparse.Namespace) -> dict:
    buyers = max(1, round(users * args.buyers)) if args.buyers > 0 else 0
    sys.stderr.write(f"running {users} users ({buyers} buying) for {args.seconds} s\n")
    recorder = Recorder()
    world = World(cluster.balancer_url, cluster.sandbox_url, beat_ids, recorder,
                  stop_at=time.monotonic() + args.seconds, think=args.think)
    drive(world, users, buyers, ramp_seconds=min(10.0, args.seconds / 6))
    summary = summarise(recorder.samples, time.monotonic() - recorder.started)
    return {**summary, "users": users, "buyers": buyers, "load_average": recorder.load_average,
            "purchases": recorder.purchases}


_last_report = [0.0]


def report_progress(world: World, final: bool = False) -> None:
    now = time.monotonic()
    if not final and now - _last_report[0] < 5:
        return
    _last_report[0] = now
    samples = world.recorder.samples
    elapsed = max(0.001, now - world.recorder.started)
    errors = sum(1 for sample in samples if is_error(sample))
    sys.stderr.write(f"\r  {elapsed:5.0f} s  {len(samples):>7} requests  {len(samples) / elapsed:7.1f} req/s"
                     "  "
                     f"{errors} errors  {len(world.recorder.purchases)} purchases paid  ")
    if final:
        sys.stderr.write("\n")
    sys.stderr.flush()


def is_error(sample: Sample) -> bool:
    return sample.status == 0 or sample.status >= 400


# -- Report --------------------------------------------------------------------------------------------------

def summarise(samples: list[Sample], seconds: float) -> dict:
    by_kind = collections.defaultdict(list)
    for sample in samples:
        by_kind[sample.kind].append(sample)
    api = [sample for sample in samples if sample.api]
    kinds = {kind: figures(group) for kind, group in sorted(by_kind.items(), key=lambda item: -len(item[1]))}
    errors = collections.Counter("no answer" if sample.status == 0 else str(sample.status)
                                 for sample in samples if is_error(sample))
    return {"seconds": seconds, "requests": len(samples), "throughput": len(samples) / seconds,
            "api_throughput": len(api) / seconds, "kinds": kinds, "api": figures(api), "errors": dict(errors),
            "timeline": timeline(api)}


def timeline(api: list[Sample], window: float = 10.0) -> list[dict]:
    """API p95 and sign-ups/sign-ins per window of the run (by when each answer came), to tell
    a steady state from a burst: password hashing holds a sync worker for its whole cost."""
    if not api:
        return []
    first = min(sample.at - sample.ms / 1000 for sample in api)
    windows = collections.defaultdict(list)
    for sample in api:
        windows[int((sample.at - first) // window)].append(sample)
    return [{"from_s": index * window, "count": len(group), "p95": percentile([s.ms for s in group], 0.95),
             "auth": sum(1 for s in group if s.kind in ("register", "login"))}
            for index, group in sorted(windows.items())]


def figures(group: list[Sample]) -> dict:
    timings = [sample.ms for sample in group] or [0.0]
    return {"count": len(group), "p50": percentile(timings, 0.5), "p95": percentile(timings, 0.95),
            "p99": percentile(timings, 0.99), "errors": sum(1 for sample in group if is_error(sample))}


def print_report(summary: dict, args: argparse.Namespace) -> bool:
    base_p95 = summary["kinds"].get(BASELINE, {}).get("p95") or None
    print(f"\nload: {summary['users']} users ({summary['buyers']} buying), {args.seconds} s, "
          f"think time {args.think:g} s mean; load average {summary['load_average']:.1f} before the users came")
    print(f"\n{'kind':<22} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} "
          f"{'p95 x base':>11}")
    for kind, row in summary["kinds"].items():
        ratio = f"{row['p95'] / base_p95:>11.2f}" if base_p95 else f"{'-':>11}"
        print(f"{kind:<22} {row['count']:>7} {row['p50']:>8.1f} {row['p95']:>8.1f} {row['p99']:>8.1f} "
              f"{row['errors']:>7} {ratio}")
    api = summary["api"]
    print(f"{'all API calls':<22} {api['count']:>7} {api['p50']:>8.1f} {api['p95']:>8.1f} {api['p99']:>8.1f} "
          f"{api['errors']:>7}")
    print("API p95 by window: " + ", ".join(f"{w['from_s']:.0f}s {w['p95']:.0f} ms ({w['auth']} sign-ups/ins)"
                                             for w in summary["timeline"]))
    print(f"throughput: {summary['throughput']:.1f} req/s "
          f"({summary['api_throughput']:.1f} req/s API calls), "
          f"{summary['requests']} requests in {summary['seconds']:.0f} s "
          f"(users start actions for {args.seconds} s; the answers still on their way are waited for)")
    errors = summary["errors"]
    print("errors by status: " + (", ".join(f"{status}: {count}" for status, count in sorted(errors.items()))
                                  if errors else "none"))
    purchases = summary["purchases"]
    paid = [p["paid_s"] for p in purchases if p["paid_s"] is not None]
    files = [p["files_s"] for p in purchases if p["files_s"] is not None]
    print(f"purchases: {len(purchases)} paid in the sandbox, "
          f"{len(paid)} seen paid by the buyer{median(paid)}, "
          f"{len(files)} with the licensed MP3 built and downloaded{median(files)}")
    met = not errors and api["p95"] < TARGET_P95_MS
    print(f"target: zero errors, p95 under {TARGET_P95_MS} ms for API calls: {'PASS' if met else 'MISS'} "
          f"({sum(errors.values())} errors, API p95 {api['p95']:.1f} ms)")
    return met


def median(seconds: list[float]) -> str:
    return f" (median {percentile(seconds, 0.5):.1f} s from checkout)" if seconds else ""


# -- Saturation ----------------------------------------------------------------------------------------------

BARE = "bare GET /healthz"
PREVIEW_RANGE = {"Range": f"bytes=0-{PREVIEW_CHUNK - 1}"}


def saturation_targets(beat_ids: list[str]) -> dict[str, tuple]:
    """Each endpoint: (how to make the next request's path, extra headers, the status it answers)."""
    return {BARE: (lambda rng: "/healthz", {}, 200),
            "catalogue GET /api/v1/beats": (lambda rng: "/api/v1/beats", {}, 200),
            "beat page GET /api/v1/beats/<id>": (lambda rng: f"/api/v1/beats/{rng.choice(beat_ids)}", {}, 200),
            "preview GET .../<id>/preview": (lambda rng: f"/api/v1/beats/{rng.choice(beat_ids)}/preview",
                                             PREVIEW_RANGE, 302)}


def cpu_ticks(pids: set[int]) -> int:
    """User and system ticks used so far by these processes and their children."""
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(entry) in pids or int(fields[1]) in pids:
            ticks += int(fields[11]) + int(fields[12])
    return ticks


def machine_busy_ticks() -> tuple[int, int]:
    """(busy, total) ticks of every CPU of the machine since boot."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


def hammer(base: str, target: tuple, clients: int, seconds: float, headers: dict | None = None) -> list[Sample]:
    """`clients` threads asking as fast as they are answered, for `seconds`."""
    path_of, extra, _status = target
    samples: list[Sample] = []
    stop_at = time.monotonic() + seconds

    def client(seed: int) -> None:
        rng, session = random.Random(seed), new_session()
        while time.monotonic() < stop_at:
            began = time.perf_counter()
            try:
                answer = session.get(base + path_of(rng), headers={**extra, **(headers or {})},
                                     allow_redirects=False, timeout=30)
                code = answer.status_code
            except requests.RequestException:
                code = 0
            samples.append(Sample("", code, (time.perf_counter() - began) * 1000, True, time.monotonic()))

    threads = [threading.Thread(target=client, args=(index,), daemon=True) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples


def saturate(cluster: Cluster, beat_ids: list[str], args: argparse.Namespace) -> dict:
    targets = saturation_targets(beat_ids)
    hosts = {host.process.pid for host in cluster.hosts}
    totals = {name: {"answers": 0, "errors": 0, "ms": [], "host_ticks": 0, "busy": 0, "all": 0, "seconds": 0.0}
              for name in targets}
    load_average = os.getloadavg()[0]
    order = list(targets)
    for round_number in range(args.rounds):
        random.Random(round_number).shuffle(order)
        for name in order:
            sys.stderr.write(f"  saturating {name} (round {round_number + 1}/{args.rounds})\n")
            status = targets[name][2]
            hammer(cluster.balancer_url, targets[name], args.clients, 1.0)  # every worker busy first
            before, busy_before = cpu_ticks(hosts), machine_busy_ticks()
            began = time.monotonic()
            samples = hammer(cluster.balancer_url, targets[name], args.clients, args.saturate_seconds)
            seconds = time.monotonic() - began
            after, busy_after = cpu_ticks(hosts), machine_busy_ticks()
            row = totals[name]
            row["answers"] += sum(1 for sample in samples if sample.status == status)
            row["errors"] += sum(1 for sample in samples if sample.status != status)
            row["ms"] += [sample.ms for sample in samples]
            row["host_ticks"] += after - before
            row["busy"] += busy_after[0] - busy_before[0]
            row["all"] += busy_after[1] - busy_before[1]
            row["seconds"] += seconds
    tick = os.sysconf("SC_CLK_TCK")
    rows = {}
    for name, row in totals.items():
        host_seconds = row["host_ticks"] / tick
        rows[name] = {"per_core": row["answers"] / host_seconds if host_seconds else 0.0,
                      "per_second": row["answers"] / row["seconds"], "errors": row["errors"],
                      "p50": percentile(row["ms"] or [0.0], 0.5),
                      "host_cores": host_seconds / row["seconds"],
                      "machine_busy": row["busy"] / row["all"] if row["all"] else 0.0}
    bare = rows[BARE]["per_core"] or None
    for row in rows.values():
        row["ratio"] = row["per_core"] / bare if bare else None
    return {"rows": rows, "load_average": load_average}


def print_saturation(saturation: dict, args: argparse.Namespace) -> None:
    print(f"\nsaturation: think time 0, {args.clients} clients, {args.rounds} x {args.saturate_seconds} s per "
          f"endpoint in shuffled rounds; load average {saturation['load_average']:.1f} before; "
          f"{os.cpu_count()} CPUs shared by the clients, both hosts and every service")
    print(f"{'endpoint':<36} {'req/s':>7} {'p50 ms':>7} {'host cores':>11} {'machine':>8} "
          f"{'req/s/core':>11} {'x bare':>7} {'errors':>7}")
    for name, row in saturation["rows"].items():
        ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else "-"
        print(f"{name:<36} {row['per_second']:>7.0f} {row['p50']:>7.1f} {row['host_cores']:>11.2f} "
              f"{row['machine_busy']:>7.0%} {row['per_core']:>11.0f} {ratio:>7} {row['errors']:>7}")
    print("req/s/core: answers per CPU second used by both hosts' gunicorn processes; host cores: how many "
          "CPUs they kept busy; machine: how busy all CPUs were (clients, PostgreSQL, Redis, HAProxy, ...)")


# -- Profile -------------------------------------------------------------------------------------------------

def profile(cluster: Cluster, beat_ids: list[str], name: str, args: argparse.Namespace,
            profile_dir: Path) -> list[dict]:
    """Runs `--profile-requests` requests to `name` under the hosts' profiler; its top functions."""
    sys.stderr.write(f"profiling {args.profile_requests} requests: {name}\n")
    target = saturation_targets(beat_ids)[name]
    profiled, deadline = 0, time.monotonic() + PROFILE_SECONDS
    while profiled < args.profile_requests and time.monotonic() < deadline:
        hammer(cluster.balancer_url, target, 2, 1.0, headers={PROFILE_HEADER: "1"})
        profiled = count_profiled(profile_dir)
    if not profiled:
        raise SystemExit(f"no request profiled in {PROFILE_SECONDS} s: are the hosts' hooks loaded?")
    stats = pstats.Stats(*[str(path) for path in profile_dir.glob("*.prof")])
    total = max(stats.total_tt, 1e-9)
    rows = []
    for (filename, line, function), (_calls, count, own, cumulative, _callers) in stats.stats.items():
        rows.append({"function": f"{short_path(filename)}:{line}({function})", "calls": count, "requests": profiled,
                     "own_ms": own * 1000 / profiled, "cumulative_ms": cumulative * 1000 / profiled,
                     "own_share": own / total})
    return sorted(rows, key=lambda row: -row["own_ms"])


def count_profiled(profile_dir: Path) -> int:
    """Requests profiled so far: the hook writes one file for each, whole."""
    return len(list(profile_dir.glob("*.prof")))


def short_path(filename: str) -> str:
    for marker in ("site-packages/", str(ROOT) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def print_profile(name: str, rows: list[dict], args: argparse.Namespace) -> None:
    per_request = max((row["cumulative_ms"] for row in rows), default=0.0)
    print(f"\nprofile: {name}, {rows[0]['requests'] if rows else 0} requests under cProfile on the hosts "
          f"({per_request:.1f} ms each under the profiler, which slows calls down)")
    print(f"{'own ms/req':>10} {'cum ms/req':>10} {'share':>6}  function")
    for row in rows[:args.profile_top]:
        print(f"{row['own_ms']:>10.2f} {row['cumulative_ms']:>10.2f} {row['own_share']:>6.1%}  {row['function']}")
    ours = [row for row in sorted(rows, key=lambda row: -row["cumulative_ms"])
            if row["function"].startswith("marketplace/")]
    print("the project's functions by cumulative time (with all they call):")
    for row in ours[:args.profile_top]:
        print(f"{'':>10} {row['cumulative_ms']:>10.2f} {'':>6}  {row['function']}")


# -- Summary for bench/run_all.py ----------------------------------------------------------------------------

def json_summary(phases: list[dict], met: bool, saturation: dict | None, profiled: str | None,
                 profile_rows: list[dict]) -> dict:
    rows = []
    for index, summary in enumerate(phases):
        label = f"{summary['users']} users"
        target = index == 0
        rows += [{"name": f"{label}: throughput", "value": round(summary["throughput"], 1), "unit": "req/s"},
                 {"name": f"{label}: API calls p95", "value": round(summary["api"]["p95"], 1), "unit": "ms",
                  **({"target": f"< {TARGET_P95_MS} ms", "met": summary["api"]["p95"] < TARGET_P95_MS}
                     if target else {})},
                 {"name": f"{label}: errors", "value": sum(summary["errors"].values()), "unit": "",
                  **({"target": "0", "met": not summary["errors"]} if target else {})},
                 {"name": f"{label}: purchases paid", "value": len(summary["purchases"]), "unit": ""}]
    for name, row in (saturation or {}).get("rows", {}).items():
        rows.append({"name": f"saturation: {name}", "value": round(row["per_core"]), "unit": "req/s/core",
                     "ratio": round(row["ratio"], 2) if row["ratio"] is not None else None})
    if profile_rows:
        top = profile_rows[0]
        rows.append({"name": f"profile of {profiled}: top {top['function']}"[:120],
                     "value": round(top["own_ms"], 2), "unit": "ms/req"})
    serialisable = [{key: value for key, value in summary.items() if key != "purchases"} for summary in phases]
    return {"benchmark": "load", "met": met, "rows": rows, "phases": serialisable, "saturation": saturation,
            "profile": profile_rows[:40]}


# -- Entry point ---------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", default="200,500", help="counts of users, one run each; the first is judged")
    parser.add_argument("--buyers", type=float, default=0.1, help="share of users who buy (0.1: one in ten)")
    parser.add_argument("--think", type=float, default=5.0, help="mean seconds between a user's actions")
    parser.add_argument("--beats", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per host")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--clients", type=int, default=16, help="saturation: concurrent clients")
    parser.add_argument("--saturate-seconds", type=float, default=10.0, help="per endpoint and round; 0: skip")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile-requests", type=int, default=200, help="0: no profile")
    parser.add_argument("--profile-top", type=int, default=15)
    parser.add_argument("--json", type=Path, help="also write a machine-readable summary here")
    args = parser.parse_args()
    unavailable = netns_available()
    if unavailable:
        raise SystemExit(f"bench/load.py runs two app hosts in network namespaces: {unavailable}")
    server_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_SERVER
    redis_url = os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS
    # Ctrl-C and kill both reach the finally block below, which stops every child.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
        profile_dir = Path(folder) / "profiles"
        profile_dir.mkdir()
        cluster, beat_ids = start_cluster(server_url, redis_url, args, profile_dir)
        try:
            results = run_parts(cluster, beat_ids, args, profile_dir)
        finally:
            cluster.stop()
    if args.json:
        args.json.write_text(json.dumps(json_summary(*results), indent=2))


def run_parts(cluster: Cluster, beat_ids: list[str], args: argparse.Namespace, profile_dir: Path) -> tuple:
    print(f"two hosts x {args.workers} gunicorn workers x {args.threads} threads behind HAProxy; PostgreSQL, "
          f"Redis, moto S3, 1 Celery worker and beat, Stripe sandbox; {args.beats} beats; "
          f"{os.cpu_count()} CPUs shared by all of it, the load generator and any other work on the machine")
    print("rate limits raised for the run, every user being 127.0.0.1: "
          + ", ".join(f"{name}={value}" for name, value in RAISED_LIMITS.items()))
    warm_up(cluster.balancer_url, beat_ids)
    phases, met = [], True
    for index, users in enumerate(int(count) for count in args.users.split(",")):
        phases.append(run_users(cluster, beat_ids, users, args))
        phase_met = print_report(phases[-1], args)
        met = met and (phase_met or index > 0)  # the target is the first count's
    saturation, profiled, profile_rows = None, None, []
    if args.saturate_seconds > 0:
        saturation = saturate(cluster, beat_ids, args)
        print_saturation(saturation, args)
        if args.profile_requests > 0:
            profiled = min((name for name in saturation["rows"] if name != BARE),
                           key=lambda name: saturation["rows"][name]["per_core"])
            profile_rows = profile(cluster, beat_ids, profiled, args, profile_dir)
            print_profile(profiled, profile_rows, args)
    return phases, met, saturation, profiled, profile_rows


def warm_up(base: str, beat_ids: list[str]) -> None:
    """Every worker opens its connections and reads the catalogue once before the clock starts."""
    session = new_session()
    for beat_id in beat_ids[:20]:
        for path in ("/api/v1/beats", f"/api/v1/beats/{beat_id}"):
            session.get(base + path, timeout=30)


if __name__ == "__main__":
    main()
