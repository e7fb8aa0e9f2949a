"""Lighthouse on every web page, as a phone and as a desktop, against the demo store.

Builds the demo store in a folder of its own (migrations, then `flask seed demo`, as `make run`
does; kept between runs with --instance), serves it on loopback, starts Debian's Chromium
headless with a debugging port, and runs the pinned Lighthouse (bench/lighthouse/package.json,
installed by `make lighthouse`) on each page in the mobile profile (a mid-range phone on a slow
4G link, simulated) and the desktop preset. Pages for signed-in visitors are measured signed in
as the demo account that may see them: the access token is put in the browser's storage before
Lighthouse runs, and kept there (--disable-storage-reset).

Prints one table: page, profile, performance, accessibility, best practices, SEO (0-100) and
the largest contentful paint; with --runs N, of the run with the median performance of N.

    .venv/bin/python bench/lighthouse.py [--only /,/studio] [--profiles mobile,desktop] [--runs 3]
                                         [--instance DIR] [--json FILE] [--reports DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from marketplace.demo.catalogue import ADMIN, ARTIST, BEATMAKER  # noqa: E402
from marketplace.payments.service import SANDBOX_WEBHOOK_SECRET  # noqa: E402

LIGHTHOUSE = BENCH / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-dev-shm-usage", "--no-first-run", "--disable-component-update", "--disable-sync",
                  "--disable-default-apps", "--mute-audio"]
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
FLASK = [sys.executable, "-m", "flask"]

# Every page the web views serve (the routes of static/app/*/index.js, account.js and
# invitations.js), by who sees it. "{beat}" is a published demo beat of the demo beatmaker,
# "{handle}" its maker; "{order}", "{license}" and "{number}" the demo artist's purchase of it
# (made by this script), "{report}" a report waiting in the admin queue, "{user}" the artist.
PAGES = {
    None: ["/", "/beats/{beat}", "/p/{handle}", "/licenses/verify", "/licenses/verify/{number}", "/signin",
           "/signup", "/forgot-password", "/api/v1/docs"],
    ARTIST: ["/cart", "/orders", "/orders/{order}", "/library", "/library/offers", "/licenses/{license}",
             "/account"],
    BEATMAKER: ["/studio", "/studio/upload", "/studio/beats/{beat}", "/studio/tiers", "/studio/voice-tag",
                "/studio/sales", "/studio/stats", "/studio/deals", "/studio/offers", "/payouts"],
    ADMIN: ["/admin", "/admin/reports", "/admin/reports/{report}", "/admin/beats", "/admin/beats/{beat}",
            "/admin/review-queue", "/admin/users", "/admin/users/{user}", "/admin/audit-log", "/admin/payouts",
            "/admin/jobs", "/admin/trace"],
}
# Pages opened from a mailed link: they act on the link's one-time token as they open (or show that
# the link is spent), so a repeated measurement would not measure the same page.
LEFT_OUT = {
    "/reset-password": "a mailed link's one-time token; the same form as /forgot-password",
    "/verify-email": "a mailed link's one-time token, spent when the page opens",
    "/confirm-email": "a mailed link's one-time token, spent when the page opens",
    "/unsubscribe": "a mailed link's token, acted on when the page opens",
    "/credit-invitation": "a mailed invitation's token; needs a credit offered to another account",
}
# Lighthouse now and then loses the trace of a load (NO_NAVSTART) or fails to start: such a run is
# made again, once, instead of being counted.
ATTEMPTS = 2
PURCHASE_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:  # not listening yet, or too busy to answer
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def app_environment(instance: Path, sandbox_port: int | None = None) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("DATABASE_URL", "REDIS_URL", "STRIPE_SECRET_KEY")}
    if sandbox_port is not None:
        environment["STRIPE_SANDBOX_URL"] = f"http://127.0.0.1:{sandbox_port}"
    return {**environment, "APP_ENV": "development", "INSTANCE_DIR": str(instance),
            "FLASK_APP": "marketplace",
            "JOBS_BACKEND": "thread"}


def build_store(instance: Path) -> None:
    environment = app_environment(instance)
    subprocess.run([*FLASK, "db", "upgrade"], cwd=ROOT, env=environment, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([*FLASK, "seed", "demo"], cwd=ROOT, env=environment, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def serve(instance: Path, port: int, sandbox_port: int) -> subprocess.Popen:
    server = subprocess.Popen([*FLASK, "run", "--host", "127.0.0.1", "--port", str(port), "--with-threads"],
                              cwd=ROOT, env=app_environment(instance, sandbox_port), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for(f"http://127.0.0.1:{port}/healthz")
    return server


def serve_payments(instance: Path, port: int, app_port: int) -> subprocess.Popen:
    """The Stripe sandbox, as `make run` starts it, for the demo artist's purchase."""
    sandbox = subprocess.Popen(
        [*FLASK, "payments", "sandbox", "--port", str(port), "--state-file", str(instance / "stripe-sandbox.json"),
         "--webhook-url", f"http://127.0.0.1:{app_port}/api/v1/payments/stripe/webhook",
         "--webhook-secret", SANDBOX_WEBHOOK_SECRET],
        cwd=ROOT, env=app_environment(instance), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    wait_for(f"http://127.0.0.1:{port}/")
    return sandbox


def start_chromium(profile: Path, port: int) -> subprocess.Popen:
    browser = subprocess.Popen([CHROMIUM, *CHROMIUM_FLAGS, f"--remote-debugging-port={port}",
                                f"--user-data-dir={profile}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for(f"http://127.0.0.1:{port}/json/version")
    return browser


def sign_in(base: str, debugging_port: int, account) -> None:
    """Puts the account's access token (or none) where the pages look for it."""
    token = token_of(base, account) if account is not None else None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{debugging_port}")
        page = browser.contexts[0].new_page()
        page.goto(f"{base}/robots.txt")
        if token:
            page.evaluate("token => localStorage.setItem('access_token', token)", token)
        else:
            page.evaluate("() => localStorage.clear()")
        page.close()
        browser.close()  # disconnects; the browser itself goes on


def token_of(base: str, account) -> str:
    answer = requests.post(f"{base}/api/v1/auth/login", json={"email": account.email,
                                                               "password": account.password}, timeout=30)
    answer.raise_for_status()
    return answer.json()["access_token"]


def get(base: str, path: str, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = requests.get(f"{base}/api/v1{path}", headers=headers, timeout=30)
    answer.raise_for_status()
    return answer.json()


def demo_names(base: str) -> dict[str, str]:
    """The ids the pages' addresses need. The demo artist buys a lease of the beat, through the
    sandbox's payment page, the first time (kept in the store folder between runs)."""
    beats = get(base, "/beats")["items"]
    beat = next(beat for beat in beats if beat["beatmaker"]["display_name"] == BEATMAKER.display_name)
    artist = token_of(base, ARTIST)
    license = bought_license(base, artist, beat)
    admin = token_of(base, ADMIN)
    report = get(base, "/admin/reports", admin)["items"][0]
    user = next(user for user in get(base, "/admin/users", admin)["items"] if user["email"] == ARTIST.email)
    order = next(order for order in get(base, "/orders", artist) if order["status"] == "paid")
    return {"beat": beat["id"], "handle": beat["beatmaker"]["handle"], "order": order["id"],
            "license": license["id"], "number": license["license_number"], "report": report["id"],
            "user": user["id"]}


def bought_license(base: str, token: str, beat: dict) -> dict:
    licenses = get(base, "/licenses", token)
    if not licenses:
        lease = min(beat["offers"], key=lambda offer: offer["price"]["amount"])
        answer = requests.post(f"{base}/api/v1/checkout", headers={"Authorization": f"Bearer {token}"},
                               json={"items": [{"beat_id": beat["id"], "tier_id": lease["tier_id"]}]}, timeout=30)
        answer.raise_for_status()
        paid = requests.post(answer.json()["checkout_url"], data={"action": "pay", "email": ARTIST.email},
                             timeout=60)
        paid.raise_for_status()
        deadline = time.monotonic() + PURCHASE_SECONDS
        while not licenses and time.monotonic() < deadline:
            time.sleep(1)
            licenses = get(base, "/licenses", token)
        if not licenses:
            raise SystemExit(f"the demo purchase gave no license within {PURCHASE_SECONDS} s")
    return licenses[0]


def lighthouse(url: str, profile: str, debugging_port: int, report: Path) -> dict:
    command = [str(LIGHTHOUSE), url, f"--port={debugging_port}", "--output=json", f"--output-path={report}",
               "--quiet", "--disable-storage-reset", "--max-wait-for-load=30000",
               f"--only-categories={','.join(CATEGORIES)}"]
    if profile == "desktop":
        command.append("--preset=desktop")
    for attempt in range(1, ATTEMPTS + 1):
        finished = subprocess.run(command, timeout=300).returncode == 0
        result = json.loads(report.read_text()) if finished and report.exists() else None
        error = (result or {}).get("runtimeError")
        if result is not None and not error:
            break
        problem = error["code"] if error else "no report"
        if attempt == ATTEMPTS:
            raise SystemExit(f"Lighthouse failed {attempt} times on {url} ({profile}): {problem}")
        print(f"  {url} ({profile}): {problem}, measured again", flush=True)
    scores = {name: round(100 * (result["categories"][name]["score"] or 0)) for name in CATEGORIES}
    lcp = result["audits"]["largest-contentful-paint"].get("numericValue")
    return {**scores, "lcp_ms": round(lcp) if lcp is not None else None}


def median_run(runs: list[dict]) -> dict:
    """The run whose performance score is the median: the others' scores vary with what else
    the machine's processors are doing (the phone's slower processor is simulated from the
    time each task took here)."""
    ordered = sorted(runs, key=lambda run: (run["performance"], -(run["lcp_ms"] or 0)))
    return ordered[len(ordered) // 2]


def print_table(rows: list[dict]) -> None:
    print(f"\n{'page':<22} {'profile':<8} {'perf':>5} {'a11y':>5} {'best':>5} {'seo':>5} {'LCP':>7}")
    for row in rows:
        lcp = f"{row['lcp_ms'] / 1000:.1f} s" if row["lcp_ms"] is not None else "-"
        print(f"{row['page']:<22} {row['profile']:<8} {row['performance']:>5} {row['accessibility']:>5} "
              f"{row['best-practices']:>5} {row['seo']:>5} {lcp:>7}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated pages as listed in PAGES (default: all)")
    parser.add_argument("--profiles", default="mobile,desktop")
    parser.add_argument("--runs", type=int, default=1,
                        help="runs of each page; the median is shown (default 1)")
    parser.add_argument("--instance", type=Path, help="the demo store's folder, kept between runs")
    parser.add_argument("--json", type=Path, help="write the rows to this file")
    parser.add_argument("--reports", type=Path,
                        help="keep each page's full Lighthouse report (JSON) in this folder")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        raise SystemExit("Lighthouse is not installed: run `make lighthouse` first.")
    only = set(args.only.split(",")) if args.only else None
    work = Path(tempfile.mkdtemp(prefix="lighthouse-"))
    instance = args.instance or work / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    if args.reports:
        args.reports.mkdir(parents=True, exist_ok=True)
    print(f"Building the demo store in {instance} ...", flush=True)
    build_store(instance)
    app_port, debugging_port, sandbox_port = free_port(), free_port(), free_port()
    base = f"http://127.0.0.1:{app_port}"
    started = []
    try:
        started.append(serve_payments(instance, sandbox_port, app_port))
        started.append(serve(instance, app_port, sandbox_port))
        started.append(start_chromium(work / "chromium", debugging_port))
        names = demo_names(base)
        rows = []
        for page, reason in LEFT_OUT.items():
            if only is None or page in only:
                print(f"  {page}: left out, {reason}", flush=True)
        for account, pages in PAGES.items():
            chosen = [page for page in pages if only is None or page in only]
            if not chosen:
                continue
            sign_in(base, debugging_port, account)
            for page in chosen:
                if "{handle}" in page and not names["handle"]:
                    print(f"  {page}: left out, the demo beatmaker has no public handle", flush=True)
                    continue
                for profile in args.profiles.split(","):
                    slug = page.strip("/").replace("/", "-").replace("{", "").replace("}", "") or "home"
                    report = (args.reports or work) / f"{slug}-{profile}.json"
                    runs = [lighthouse(base + page.format(**names), profile, debugging_port, report)
                            for _ in range(args.runs)]
                    row = median_run(runs)
                    rows.append({"page": page, "profile": profile, **row})
                    print(f"  {page} {profile}: {row}", flush=True)
        print_table(rows)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2))
    finally:
        for process in reversed(started):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        shutil.rmtree(work / "chromium", ignore_errors=True)


if __name__ == "__main__":
    main()
