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

LIGHTHOUSE = BENCH / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-dev-shm-usage", "--no-first-run", "--disable-component-update", "--disable-sync",
                  "--disable-default-apps", "--mute-audio"]
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
FLASK = [sys.executable, "-m", "flask"]
RUNS_PER_PAGE = 3

# Every page, by who sees it. "{beat}" and "{handle}" are a published demo beat and its maker.
PAGES = {
    None: ["/", "/beats/{beat}", "/p/{handle}", "/licenses/verify", "/signin", "/signup", "/forgot-password",
           "/api/v1/docs"],
    ARTIST: ["/cart", "/orders", "/library", "/account"],
    BEATMAKER: ["/studio", "/studio/upload", "/studio/tiers", "/studio/voice-tag", "/studio/sales"],
    ADMIN: ["/admin", "/admin/reports", "/admin/beats", "/admin/review-queue", "/admin/users",
            "/admin/audit-log", "/admin/payouts", "/admin/jobs"],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def app_environment(instance: Path) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("DATABASE_URL", "REDIS_URL")}
    return {**environment, "APP_ENV": "development", "INSTANCE_DIR": str(instance),
            "FLASK_APP": "marketplace",
            "JOBS_BACKEND": "thread"}


def build_store(instance: Path) -> None:
    environment = app_environment(instance)
    subprocess.run([*FLASK, "db", "upgrade"], cwd=ROOT, env=environment, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([*FLASK, "seed", "demo"], cwd=ROOT, env=environment, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def serve(instance: Path, port: int) -> subprocess.Popen:
    server = subprocess.Popen([*FLASK, "run", "--host", "127.0.0.1", "--port", str(port), "--with-threads"],
                              cwd=ROOT, env=app_environment(instance), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for(f"http://127.0.0.1:{port}/healthz")
    return server


def start_chromium(profile: Path, port: int) -> subprocess.Popen:
    browser = subprocess.Popen([CHROMIUM, *CHROMIUM_FLAGS, f"--remote-debugging-port={port}",
                                f"--user-data-dir={profile}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for(f"http://127.0.0.1:{port}/json/version")
    return browser


def sign_in(base: str, debugging_port: int, account) -> None:
    """Puts the account's access token (or none) where the pages look for it."""
    token = None
    if account is not None:
        answer = requests.post(f"{base}/api/v1/auth/login", json={"email": account.email,
                                                                   "password": account.password}, timeout=30)
        answer.raise_for_status()
        token = answer.json()["access_token"]
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


def demo_names(base: str) -> dict[str, str]:
    beats = requests.get(f"{base}/api/v1/beats", timeout=30).json()["items"]
    beat = beats[0]
    handles = [beat["beatmaker"]["handle"] for beat in beats if beat["beatmaker"].get("handle")]
    return {"beat": beat["id"], "handle": handles[0] if handles else None}


def lighthouse(url: str, profile: str, debugging_port: int, report: Path) -> dict:
    command = [str(LIGHTHOUSE), url, f"--port={debugging_port}", "--output=json", f"--output-path={report}",
               "--quiet", "--disable-storage-reset", "--max-wait-for-load=30000",
               f"--only-categories={','.join(CATEGORIES)}"]
    if profile == "desktop":
        command.append("--preset=desktop")
    for attempt in range(1, RUNS_PER_PAGE + 1):
        # Lighthouse now and then loses the trace of a load (NO_NAVSTART): the page is measured again.
        if subprocess.run(command, timeout=300).returncode == 0:
            break
        if attempt == RUNS_PER_PAGE:
            raise SystemExit(f"Lighthouse failed {attempt} times on {url} ({profile})")
    result = json.loads(report.read_text())
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
    app_port, debugging_port = free_port(), free_port()
    base = f"http://127.0.0.1:{app_port}"
    started = []
    try:
        started.append(serve(instance, app_port))
        started.append(start_chromium(work / "chromium", debugging_port))
        names = demo_names(base)
        rows = []
        for account, pages in PAGES.items():
            chosen = [page for page in pages if only is None or page in only]
            if not chosen:
                continue
            sign_in(base, debugging_port, account)
            for page in chosen:
                if "{handle}" in page and not names["handle"]:
                    print(f"  {page}: skipped, no demo beatmaker has a public handle", flush=True)
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
