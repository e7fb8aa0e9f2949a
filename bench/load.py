"""Load: simulated users browsing, listening and buying, against the app served as in production.

Sets up a fresh PostgreSQL database (migrations, then a store of a few hundred published beats
loaded with COPY by bench/catalog.py's loader, each with a preview, a waveform and a master:
one real 30 s track rendered once through the preview pipeline and shared by every beat), and
starts, on loopback:

  gunicorn       4 sync workers, the development profile on PostgreSQL;
  Celery         one worker process on Redis (JOBS_BACKEND=celery): contracts, licensed files, mail;
  Stripe sandbox `flask payments sandbox`, signing its webhooks back to the app.

Then --users simulated users (200) run for --seconds (60), each waiting a random think time
(exponential, mean --think seconds: 5, as a person reads a page or listens a while before the
next click; --think 1 is a stress test) between actions. Most browse: listing pages and their
cursors, text search, filters, beat pages, preview streaming with Range requests (the first
bytes, then a seek) and waveforms. One user in ten buys: registers and signs in, checks out a
Basic lease (POST /checkout), pays through the sandbox's control endpoint (the sandbox then
delivers the signed checkout.session.completed webhook, which fulfils the order), reads the
order until it is paid, then asks for the downloads until the licensed MP3 is built by the
Celery worker and fetches it. Some users ask GET /healthz: the baseline, measured under the
same load, that every kind's p95 is compared with.

Every user comes from 127.0.0.1, so the sign-in and sign-up limits are raised for the run (the
output says so); any 429 still counts as an error, as does every other 4xx/5xx or failed
connection. Prints throughput, p50/p95/p99 per kind of request and for all API calls, errors by
status, and whether the target is met: zero errors, p95 under 100 ms for API calls.

    BENCH_DATABASE_URL=postgresql://marketplace:marketplace@127.0.0.1:5432/marketplace_test \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/10 \\
        .venv/bin/python bench/load.py [--seconds 60] [--users 200] [--beats 300] [--json FILE]

The database named in the URL is only used to create (and at the end drop) a database of the
benchmark's own. Everything it starts is stopped when it ends, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import hashlib
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from catalog import (  # noqa: E402  (bench/catalog.py: the same database and loader)
    DEFAULT_SERVER,
    GENRES,
    MOODS,
    WORDS,
    create_database,
    drop_database,
    free_port,
    load_catalogue,
    migrate,
    percentile,
)

from config import normalise_database_url  # noqa: E402
from marketplace.audio import DEFAULT_TAG_PATH  # noqa: E402
from marketplace.audio.preview import TagPlacement, render_preview  # noqa: E402
from marketplace.catalog.keys import CANONICAL_KEYS  # noqa: E402

DEFAULT_REDIS = "redis://127.0.0.1:6379/10"
BIN = Path(sys.executable).parent
WEBHOOK_PATH = "/api/v1/payments/stripe/webhook"
TRACK_SECONDS = 30
PREVIEW_CHUNK = 64 * 1024
# All users share 127.0.0.1, so the per-address limits would refuse most of them.
RAISED_LIMITS = {"LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
                 "REGISTRATION_LIMIT_PER_ADDRESS": "100000 per hour"}
TARGET_P95_MS = 100
PASSWORD = "load test password 1"
BASELINE = "baseline GET /healthz"


# -- The store -----------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class SharedFiles:
    """Storage keys of the one master, preview and waveform every beat points at."""

    master_key: str = "masters/load/master.wav"
    preview_key: str = "previews/load/preview.mp3"
    waveform_key: str = "waveforms/load/waveform.json"


def render_shared_files(storage_root: Path) -> tuple[SharedFiles, str, int]:
    """A real stereo master and its watermarked preview and waveform, made by the app's pipeline."""
    files = SharedFiles()
    master = storage_root / files.master_key
    for key in (files.master_key, files.preview_key, files.waveform_key):
        (storage_root / key).parent.mkdir(parents=True, exist_ok=True)
    sources = [f"sine=frequency=220:sample_rate=44100:duration={TRACK_SECONDS}",
               f"anoisesrc=color=pink:amplitude=0.1:sample_rate=44100:duration={TRACK_SECONDS}"]
    inputs = [argument for source in sources for argument in ("-f", "lavfi", "-i", source)]
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *inputs, "-filter_complex",
                    "[0:a][1:a]amerge=inputs=2", "-c:a", "pcm_s16le", str(master)], check=True)
    waveform = render_preview(master, DEFAULT_TAG_PATH, TagPlacement(), TRACK_SECONDS * 1000,
                              storage_root / files.preview_key, title="Load", artist="Load")
    (storage_root / files.waveform_key).write_text(json.dumps(waveform, separators=(",", ":")))
    content = master.read_bytes()
    return files, hashlib.sha256(content).hexdigest(), len(content)


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


# -- The services --------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Services:
    base: str
    sandbox: str
    processes: list[subprocess.Popen] = dataclasses.field(default_factory=list)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def app_environment(url: str, redis_url: str, folder: Path, sandbox: str,
                    webhook_secret: str) -> dict[str, str]:
    return {**os.environ, "APP_ENV": "development", "FLASK_APP": "marketplace", "DATABASE_URL": url,
            "SECRET_KEY": secrets.token_urlsafe(48), "REDIS_URL": redis_url, "JOBS_BACKEND": "celery",
            "JOBS_QUEUE": f"bench-load-{secrets.token_hex(4)}", "RATELIMIT_STORAGE_URI": redis_url,
            "STORAGE_LOCAL_ROOT": str(folder / "storage"), "INSTANCE_DIR": str(folder),
            "MAIL_OUTBOX_DIR": str(folder / "outbox"), "STRIPE_SANDBOX_URL": sandbox,
            "STRIPE_WEBHOOK_SECRET": webhook_secret, **RAISED_LIMITS}


def start_services(url: str, redis_url: str, folder: Path, workers: int) -> tuple[Services, dict[str, str]]:
    app_port, sandbox_port = free_port(), free_port()
    services = Services(f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{sandbox_port}")
    webhook_secret = f"whsec_load_{secrets.token_hex(16)}"
    env = app_environment(url, redis_url, folder, services.sandbox, webhook_secret)
    commands = {
        "sandbox": [str(BIN / "flask"), "payments", "sandbox", "--port", str(sandbox_port),
                    "--webhook-url", services.base + WEBHOOK_PATH, "--webhook-secret", webhook_secret],
        "celery": [str(BIN / "celery"), "-A", "marketplace.jobs.worker", "worker", "--pool", "solo",
                   "--loglevel", "WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        "gunicorn": [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{app_port}",
                     "--timeout", "60", "marketplace:create_app()"],
    }
    try:
        for name, command in commands.items():
            log = open(folder / f"{name}.log", "wb")  # noqa: SIM115 - the child keeps it open
            services.processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                                       stderr=subprocess.STDOUT))
        wait_until_up(services, folder)
    except BaseException:
        services.stop()
        raise
    return services, env


def wait_until_up(services: Services, folder: Path) -> None:
    checks = {services.base + "/readyz": 200, services.sandbox + "/_sandbox/config": 200}
    deadline = time.monotonic() + 60
    while checks and time.monotonic() < deadline:
        for process in services.processes:
            if process.poll() is not None:
                logs = "\n".join(path.read_text(errors="replace")[-1500:] for path in folder.glob("*.log"))
                raise SystemExit(f"a service exited while starting:\n{logs}")
        for check_url, status in list(checks.items()):
            try:
                if requests.get(check_url, timeout=5).status_code == status:
                    del checks[check_url]
            except requests.RequestException:  # not listening yet
                pass
        time.sleep(0.2)
    if checks:
        raise SystemExit(f"not up after 60 s: {', '.join(checks)}")


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
    session.trust_env = False  # loopback only, never through a proxy
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
    """What an audio element does: the first bytes, the waveform beside it, then a seek."""
    beat_id = rng.choice(world.beat_ids)
    preview = f"{world.base}/api/v1/beats/{beat_id}/preview"
    world.recorder.request(session, "preview range", "GET", preview, ok=(206,),
                           headers={"Range": f"bytes=0-{PREVIEW_CHUNK - 1}"})
    world.recorder.request(session, "waveform", "GET", f"{world.base}/api/v1/beats/{beat_id}/waveform")
    start = rng.randrange(PREVIEW_CHUNK, 300 * 1024, 1024)
    world.recorder.request(session, "preview range", "GET", preview, ok=(206,),
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
    if ready and world.recorder.request(session, "file download", "GET", world.base + ready[0]["url"]):
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


def print_report(summary: dict, args: argparse.Namespace, buyers: int, purchases: list[dict],
                 load_average: float) -> bool:
    base_p95 = summary["kinds"].get(BASELINE, {}).get("p95") or None
    print(f"\nload: {args.users} users ({buyers} buying), {args.seconds} s, "
          f"think time {args.think:g} s mean; "
          f"gunicorn {args.workers} workers, PostgreSQL, 1 Celery worker on Redis, Stripe sandbox; "
          f"{args.beats} beats")
    print(f"machine: {os.cpu_count()} CPUs, shared with the client's threads and any other work; "
          f"load average {load_average:.1f} before the users started")
    print("rate limits raised for the run, every user being 127.0.0.1: "
          + ", ".join(f"{name}={value}" for name, value in RAISED_LIMITS.items()))
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
    print(f"\nthroughput: {summary['throughput']:.1f} req/s "
          f"({summary['api_throughput']:.1f} req/s API calls), "
          f"{summary['requests']} requests in {summary['seconds']:.0f} s "
          f"(users start actions for {args.seconds} s; the answers still on their way are waited for)")
    errors = summary["errors"]
    print("errors by status: " + (", ".join(f"{status}: {count}" for status, count in sorted(errors.items()))
                                  if errors else "none"))
    paid = [p["paid_s"] for p in purchases if p["paid_s"] is not None]
    files = [p["files_s"] for p in purchases if p["files_s"] is not None]
    print(f"purchases: {len(purchases)} paid in the sandbox, "
          f"{len(paid)} seen paid by the buyer{median(paid)}, "
          f"{len(files)} with the licensed MP3 built and downloaded{median(files)}")
    met = not errors and api["p95"] < TARGET_P95_MS
    print(f"\ntarget: zero errors, p95 under {TARGET_P95_MS} ms for API calls: {'PASS' if met else 'MISS'} "
          f"({sum(errors.values())} errors, API p95 {api['p95']:.1f} ms)")
    return met


def median(seconds: list[float]) -> str:
    return f" (median {percentile(seconds, 0.5):.1f} s from checkout)" if seconds else ""


def json_summary(summary: dict, met: bool, purchases: list[dict]) -> dict:
    base_p95 = summary["kinds"].get(BASELINE, {}).get("p95") or None
    rows = [{"name": "throughput", "value": round(summary["throughput"], 1), "unit": "req/s"},
            {"name": "API calls p95", "value": round(summary["api"]["p95"], 1), "unit": "ms",
             "ratio": round(summary["api"]["p95"] / base_p95, 2) if base_p95 else None,
             "target": f"< {TARGET_P95_MS} ms", "met": summary["api"]["p95"] < TARGET_P95_MS},
            {"name": "API calls p99", "value": round(summary["api"]["p99"], 1), "unit": "ms"},
            {"name": "errors", "value": sum(summary["errors"].values()), "unit": "", "target": "0",
             "met": not summary["errors"]},
            {"name": "purchases paid", "value": len(purchases), "unit": ""},
            {"name": "machine load average at start", "value": round(summary["load_average"], 1), "unit": ""}]
    for kind, row in summary["kinds"].items():
        rows.append({"name": f"{kind} p95", "value": round(row["p95"], 1), "unit": "ms",
                     "ratio": round(row["p95"] / base_p95, 2) if base_p95 else None})
    return {"benchmark": "load", "met": met, "rows": rows, "summary": summary}


# -- Entry point ---------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--buyers", type=float, default=0.1, help="share of users who buy (0.1: one in ten)")
    parser.add_argument("--think", type=float, default=5.0, help="mean seconds between a user's actions")
    parser.add_argument("--beats", type=int, default=300)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--json", type=Path, help="also write a machine-readable summary here")
    args = parser.parse_args()
    server_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_SERVER
    redis_url = os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS
    buyers = max(1, round(args.users * args.buyers)) if args.buyers > 0 else 0
    # Ctrl-C and kill both reach the finally blocks below, which stop every child.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    url = create_database(server_url)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-load-") as folder_name:
            recorder, elapsed = run(url, redis_url, Path(folder_name), args, buyers)
    finally:
        drop_database(server_url, url)
    summary = {**summarise(recorder.samples, elapsed), "load_average": recorder.load_average}
    met = print_report(summary, args, buyers, recorder.purchases, recorder.load_average)
    if args.json:
        args.json.write_text(json.dumps(json_summary(summary, met, recorder.purchases), indent=2))


def run(url: str, redis_url: str, folder: Path, args: argparse.Namespace,
        buyers: int) -> tuple[Recorder, float]:
    sys.stderr.write("migrating\n")
    migrate(url)
    load_catalogue(url, args.beats)
    sys.stderr.write("rendering the shared master, preview and waveform\n")
    beat_ids = attach_files(url, *render_shared_files(folder / "storage"))
    sys.stderr.write("starting the Stripe sandbox, a Celery worker and gunicorn\n")
    services, _env = start_services(url, redis_url, folder, args.workers)
    try:
        warm_up(services.base, beat_ids)
        sys.stderr.write(f"running {args.users} users ({buyers} buying) for {args.seconds} s\n")
        recorder = Recorder()
        world = World(services.base, services.sandbox, beat_ids, recorder,
                      stop_at=time.monotonic() + args.seconds, think=args.think)
        drive(world, args.users, buyers, ramp_seconds=min(10.0, args.seconds / 6))
        return recorder, time.monotonic() - recorder.started
    finally:
        services.stop()


def warm_up(base: str, beat_ids: list[str]) -> None:
    """Every worker opens its connections and reads the catalogue once before the clock starts."""
    session = new_session()
    for beat_id in beat_ids[:20]:
        for path in ("/api/v1/beats", f"/api/v1/beats/{beat_id}", f"/api/v1/beats/{beat_id}/waveform"):
            session.get(base + path, timeout=30)


if __name__ == "__main__":
    main()
