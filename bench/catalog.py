"""Catalogue search at 100,000 beats (or a million: --beats 1000000), over HTTP, against a trivial endpoint of the same app.

Loads beats with credits, tags and offers (a few exclusives held by open checkouts) into a
fresh PostgreSQL database, serves the app with gunicorn (one worker), then times
representative searches (text, filters, every sort, deep cursor pages) and, in the same run,
GET /healthz as the baseline, all interleaved in shuffled rounds, warm (listing cache on) and
cold (off; on PostgreSQL, which builds every page's documents in its one statement, the
listing cache is not used, so both measure the same code). Prints p50/p95 per query and the
ratio of each to the baseline's, the sizes of the database and of the catalogue's indexes,
and with --explain the plans of limit=100 and the tag filter.

    BENCH_DATABASE_URL=postgresql://marketplace:marketplace@127.0.0.1:5432/marketplace_test \\
        .venv/bin/python bench/catalog.py [--beats 100000] [--requests 200] [--explain] [--json FILE]

The database named in the URL is only used to create (and at the end drop) a database of
the benchmark's own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import normalise_database_url  # noqa: E402
from marketplace.catalog.keys import CANONICAL_KEYS  # noqa: E402
from marketplace.common.ids import new_id  # noqa: E402
from marketplace.licensing.defaults import COMMON_TERMS, CONTENT_ID_BY_KIND, DEFAULT_TIERS  # noqa: E402

TARGET_RATIO = 4  # every query's p95 under 4 times the baseline's
DEFAULT_SERVER = "postgresql://marketplace:marketplace@127.0.0.1:5432/marketplace_test"
GENRES = ["trap", "drill", "boom bap", "r&b", "afrobeats", "lofi", "pop", "reggaeton", "dancehall",
          "rage", "jersey club", "house", "soul", "gospel", "country rap", "phonk", "uk garage"]
MOODS = ["dark", "chill", "energetic", "sad", "happy", "aggressive", "romantic", "dreamy", "epic", "bouncy"]
WORDS = ("midnight velvet neon ghost city lights dream wave storm gold rush cold heart smoke mirror "
         "echo river night drive summer rain fire ice shadow moon sun star blue red purple haze "
         "street king queen crown money paper chase vibe flow soul spirit angel demon lost found "
         "forever young wild free broken glass silk road ocean desert thunder lightning").split()
FIRST = "Metro Wheezy Zay Pierre Nick Tay Murda Cash Tone Kenny Boi Lex Dre Kid Ant Marv Southside".split()
LAST = "Beats Keys Made Flip Wave Sound Audio Music Prod Loops Kid Boomin Major Luger Mode".split()


def progress(label: str, done: int, total: int) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    sys.stderr.write(f"\r{label:<28} [{'#' * filled}{'.' * (width - filled)}] {done:>7}/{total}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def create_database(server_url: str) -> str:
    server = make_url(normalise_database_url(server_url))
    name = f"mkt_bench_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    admin = create_engine(make_url(normalise_database_url(server_url)), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def migrate(url: str) -> None:
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": url, "FLASK_APP": "marketplace"}
    subprocess.run([str(Path(sys.executable).parent / "flask"), "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)


CHUNK = 50_000  # beats generated and copied at a time, so a million never sit in memory at once


def load_catalogue(url: str, beat_count: int, seed: int = 7) -> None:
    """Bulk-loads users, beats, credits, tags and offers with COPY, shaped like a real store,
    in chunks of beats each copied with their credits, tags and offers."""
    rng = random.Random(seed)
    offer_rng = random.Random(seed + 1)  # offers drawn apart, so the beats stay the same
    engine = create_engine(normalise_database_url(url))
    now = dt.datetime.now(dt.timezone.utc)
    maker_count = max(10, beat_count // 50)
    makers = [(new_id("usr"), f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}") for i in range(maker_count)]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy("COPY users (id, email, display_name, password_hash, status, created_at, "
                         "updated_at) FROM STDIN") as copy:
            for index, (user_id, name) in enumerate(makers):
                copy.write_row((user_id, f"maker{index}@bench.test", name, "$argon2id$unused", "active", now, now))
        with cursor.copy("COPY user_roles (user_id, role, granted_at) FROM STDIN") as copy:
            for user_id, _ in makers:
                copy.write_row((user_id, "beatmaker", now))
        tiers = copy_tiers(cursor, makers, now)
        buyer_id = insert_buyer(cursor, now)
        for first in range(0, beat_count, CHUNK):
            beat_rows, credit_rows, tag_rows, offer_rows = [], [], [], []
            for _ in range(first, min(beat_count, first + CHUNK)):
                beat_row = make_beat(rng, offer_rng, makers, tiers, now, credit_rows, tag_rows, offer_rows)
                beat_rows.append(beat_row)
            copy_rows(cursor, "beats", "beats (id, owner_id, title, description, bpm, musical_key, genre, mood, "
                      "samples, status, play_count, price_from_amount, price_currency, search_document, tags, "
                      "created_at, updated_at, published_at)", beat_rows, first, beat_count)
            copy_rows(cursor, "credits", "beat_credits (id, beat_id, position, name, user_id, role, "
                      "profit_share_bps, status)", credit_rows)
            copy_rows(cursor, "tags", "beat_tags (beat_id, tag, position)", tag_rows)
            copy_rows(cursor, "offers", "offers (id, beat_id, tier_id, position, price_amount, currency, active)",
                      offer_rows)
            hold_exclusives(cursor, offer_rng, offer_rows, tiers, buyer_id, now)
        raw.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def make_beat(rng: random.Random, offer_rng: random.Random, makers: list[tuple[str, str]], tiers: dict,
              now: dt.datetime, credit_rows: list, tag_rows: list, offer_rows: list) -> tuple:
    """One beat's row; its credits, tags and offers are added to their lists."""
    maker_count = len(makers)
    owner_id, owner_name = makers[min(int(rng.paretovariate(1.2)) - 1, maker_count - 1)
                                  if rng.random() < 0.5 else rng.randrange(maker_count)]
    beat_id = new_id("bt")
    title = " ".join(rng.sample(WORDS, rng.choice((1, 2, 2, 3)))).title()
    tags = list(dict.fromkeys(rng.choice(WORDS + GENRES) for _ in range(rng.randint(1, 6))))
    names = [owner_name] + [f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                            for _ in range(rng.choice((0, 0, 1, 1, 2, 3)))]
    # The owner's own credit is linked to their account (accepted); the others are names only.
    credit_rows += [(new_id("crd"), beat_id, position, name,
                     owner_id if position == 0 else None,
                     "producer" if position == 0 else rng.choice(("co_producer", "mix_engineer")),
                     10000 if position == 0 else None, "accepted" if position == 0 else "name_only")
                    for position, name in enumerate(names)]
    tag_rows += [(beat_id, tag, position) for position, tag in enumerate(tags)]
    published = now - dt.timedelta(seconds=rng.randrange(2 * 365 * 86400))
    status = "published" if rng.random() < 0.95 else rng.choice(("archived", "processing"))
    price = None if rng.random() < 0.1 else rng.choice((1999, 2499, 2999, 3499, 4999, 9999))
    if price:
        offer_rows += offers_of(offer_rng, beat_id, tiers[owner_id], price)
    genre, mood = rng.choice(GENRES), rng.choice(MOODS)
    # The search document as catalog.services.refresh_search_document writes it.
    return (beat_id, owner_id, title, "", int(min(200, max(60, rng.gauss(130, 25)))),
            rng.choice(CANONICAL_KEYS), genre, mood, "none",
            status, int(rng.paretovariate(1.1) * 10) - 10, price,
            "usd" if price else None, " ".join([title, genre, mood, *tags, *names]), tags,
            published, published, published if status == "published" else None)


def copy_rows(cursor, label: str, table: str, rows: list[tuple], done: int = 0, total: int | None = None) -> None:
    """Copies rows into a table; the progress shown counts from `done` out of `total` (the rows)."""
    total = total or len(rows)
    with cursor.copy(f"COPY {table} FROM STDIN") as copy:
        for index, row in enumerate(rows):
            copy.write_row(row)
            if index % 20000 == 0 or index == len(rows) - 1:
                progress(label, done + index + 1, total)


def copy_tiers(cursor, makers: list[tuple[str, str]], now: dt.datetime) -> dict[str, list[tuple[str, dict]]]:
    """Every beatmaker's tiers: the default templates."""
    tiers: dict[str, list[tuple[str, dict]]] = {}
    with cursor.copy("COPY license_tiers (id, owner_id, position, name, kind, includes_mp3, includes_wav, "
                     "includes_stems, distribution_copies, audio_streams, music_videos, radio_stations, "
                     "paid_performances, term_years, credit_line_template, publishing_share_bps, "
                     "master_points_bps, content_id, default_price_amount, currency, created_at, updated_at) "
                     "FROM STDIN") as copy:
        for user_id, _name in makers:
            for position, template in enumerate(DEFAULT_TIERS):
                tier_id = new_id("tier")
                tiers.setdefault(user_id, []).append((tier_id, template))
                limits = template["limits"]
                copy.write_row((tier_id, user_id, position, template["name"], template["kind"],
                                *(kind in template["deliverables"] for kind in ("mp3", "wav", "stems")),
                                limits["distribution_copies"], limits["audio_streams"], limits["music_videos"],
                                limits["radio_stations"], limits["paid_performances"], template["term_years"],
                                COMMON_TERMS["credit_line_template"], COMMON_TERMS["publishing_share_bps"],
                                COMMON_TERMS["master_points_bps"], CONTENT_ID_BY_KIND[template["kind"]],
                                template["default_price"], "usd", now, now))
    return tiers


def offers_of(rng: random.Random, beat_id: str, tiers: list[tuple[str, dict]], price: int) -> list[tuple]:
    """The basic lease at the beat's listed price, and most of the other tiers above it."""
    basic_price = DEFAULT_TIERS[0]["default_price"]
    return [(new_id("ofr"), beat_id, tier_id, position, price * template["default_price"] // basic_price, "usd", True)
            for position, (tier_id, template) in enumerate(tiers) if position == 0 or rng.random() < 0.7]


def insert_buyer(cursor, now: dt.datetime) -> str:
    buyer_id = new_id("usr")
    cursor.execute("INSERT INTO users (id, email, display_name, password_hash, status, created_at, updated_at) "
                   "VALUES (%s, 'buyer@bench.test', 'Buyer', '$argon2id$unused', 'active', %s, %s)",
                   (buyer_id, now, now))
    return buyer_id


def hold_exclusives(cursor, rng: random.Random, offer_rows: list[tuple], tiers: dict, buyer_id: str,
                    now: dt.datetime) -> None:
    """One exclusive in 200 is held by a buyer's open checkout, so listings show some held."""
    exclusive_tiers = {tier_id for owned in tiers.values() for tier_id, template in owned
                       if template["kind"] == "exclusive"}
    held = [(new_id("ord"), beat_id, price) for _id, beat_id, tier_id, _position, price, _currency, _active
            in offer_rows if tier_id in exclusive_tiers and rng.random() < 0.005]
    expires = now + dt.timedelta(days=7)  # still held when the database is reused later
    copy_rows(cursor, "orders", "orders (id, buyer_id, status, currency, subtotal_amount, discount_amount, "
              "total_amount, refunded_amount, expires_at, created_at)",
              [(order_id, buyer_id, "pending", "usd", price, 0, price, 0, expires, now) for order_id, _, price in held])
    copy_rows(cursor, "holds", "exclusive_holds (id, beat_id, order_id, expires_at, created_at)",
              [(new_id("hld"), beat_id, order_id, expires, now) for order_id, beat_id, _ in held])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, **settings: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": url, **settings}
    process = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--workers", "1",
                                "--bind", f"127.0.0.1:{port}", "marketplace:create_app()"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                return process, base
        except requests.RequestException:  # not listening yet, or still booting
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start")


def deep_cursor(session: requests.Session, base: str, query: str, pages: int) -> str:
    cursor = None
    for _ in range(pages):
        body = session.get(f"{base}/api/v1/beats?{query}" + (f"&cursor={cursor}" if cursor else "")).json()
        cursor = body["next_cursor"]
    return cursor


def time_request(session: requests.Session, url: str) -> float:
    started = time.perf_counter()
    response = session.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: {response.text[:300]}")
    return elapsed


def time_rounds(session: requests.Session, base: str, queries: dict[str, str], rounds: int) -> dict[str, list[float]]:
    """Each round times every query once, the baseline among them, in a shuffled order: so
    every query, the baseline too, is measured in the same conditions, and a change of the
    machine's load during the run (another process, the CPU clock) weighs on all alike."""
    order = random.Random(1)
    timings: dict[str, list[float]] = {name: [] for name in queries}
    for done in range(rounds):
        names = list(queries)
        order.shuffle(names)
        for name in names:
            timings[name].append(time_request(session, base + queries[name]))
        if done % 20 == 0 or done == rounds - 1:
            progress("timed rounds", done + 1, rounds)
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


QUERIES = {
    "baseline GET /healthz": "/healthz",
    "browse newest": "/api/v1/beats",
    "text q=midnight": "/api/v1/beats?q=midnight",
    "text q=neon dr (2 words, prefix)": "/api/v1/beats?q=neon%20dr",
    "text q=metro (credited name)": "/api/v1/beats?q=metro",
    "text q=trap (genre word)": "/api/v1/beats?q=trap",
    "text q=dark drill (mood + genre)": "/api/v1/beats?q=dark%20drill",
    "genre=trap": "/api/v1/beats?genre=trap",
    "genre+mood+bpm range": "/api/v1/beats?genre=drill&mood=dark&bpm_min=130&bpm_max=150",
    "key=F#m": "/api/v1/beats?key=F%23m",
    "tag=velvet": "/api/v1/beats?tag=velvet",
    "price 2000-3000": "/api/v1/beats?price_min=2000&price_max=3000",
    "sort=popular": "/api/v1/beats?sort=popular",
    "sort=price_asc": "/api/v1/beats?sort=price_asc",
    "sort=price_desc": "/api/v1/beats?sort=price_desc",
    "sort=bpm": "/api/v1/beats?sort=bpm",
    "limit=100": "/api/v1/beats?limit=100",
    "q + genre + sort=popular": "/api/v1/beats?q=night&genre=trap&sort=popular",
    "vocabulary (kept a minute)": "/api/v1/catalog/vocabulary",
}
BASELINE = "baseline GET /healthz"


def measure(url: str, rounds: int, **settings: str) -> dict[str, list[float]]:
    """Serves the app on the loaded database with these settings and times every query."""
    process, base = start_server(url, **settings)
    try:
        session = requests.Session()
        queries = dict(QUERIES)
        for sort in ("newest", "popular", "price_asc"):
            cursor = deep_cursor(session, base, f"sort={sort}", 200)
            queries[f"cursor page 200, sort={sort}"] = f"/api/v1/beats?sort={sort}&cursor={cursor}"
        time_rounds(session, base, queries, 10)  # warm the worker
        return time_rounds(session, base, queries, rounds)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:  # a busy machine: do not lose the figures for it
            process.kill()
            process.wait()


def report(title: str, results: dict[str, list[float]]) -> tuple[float, list[dict]]:
    """Prints a table of p50/p95 and their ratios to the baseline's; returns the worst p95
    ratio and the rows for --json."""
    baseline = results[BASELINE]
    base_p50, base_p95 = percentile(baseline, 0.5), percentile(baseline, 0.95)
    print(f"\n{title}")
    print(f"{'query':<36} {'p50 ms':>8} {'p95 ms':>8} {'p50 x':>7} {'p95 x':>7}")
    rows, worst = [], 0.0
    for name, timings in results.items():
        p50, p95 = percentile(timings, 0.5), percentile(timings, 0.95)
        if name != BASELINE:
            worst = max(worst, p95 / base_p95)
        print(f"{name:<36} {p50:>8.2f} {p95:>8.2f} {p50 / base_p50:>7.2f} {p95 / base_p95:>7.2f}")
        rows.append({"name": f"{name} p95", "value": round(p95, 2), "unit": "ms", "ratio": round(p95 / base_p95, 2)})
    print(f"worst p95 ratio to baseline: {worst:.2f}x (target under {TARGET_RATIO:g}x); "
          f"mean baseline {statistics.mean(baseline):.2f} ms")
    return worst, rows


def sizes(url: str) -> list[tuple[str, int]]:
    """The database's size, then the catalogue's tables (with their indexes) and every index of them."""
    engine = create_engine(normalise_database_url(url))
    with engine.connect() as connection:
        found = [("database", connection.execute(text("SELECT pg_database_size(current_database())")).scalar())]
        found += connection.execute(text(
            "SELECT 'table ' || relname || ' (with indexes)', pg_total_relation_size(relid) FROM pg_stat_user_tables "
            "WHERE relname IN ('beats', 'beat_tags', 'beat_credits', 'offers') ORDER BY 2 DESC")).all()
        found += connection.execute(text(
            "SELECT 'index ' || indexrelname, pg_relation_size(indexrelid) FROM pg_stat_user_indexes "
            "WHERE relname IN ('beats', 'beat_tags', 'beat_credits', 'offers') ORDER BY 2 DESC")).all()
    engine.dispose()
    return [(name, int(size)) for name, size in found]


def print_sizes(found: list[tuple[str, int]]) -> None:
    print("\nsizes")
    for name, size in found:
        print(f"{name:<60} {size / 2**20:>10.1f} MB")


# Listings whose statements are explained: a page of 100 and the tag filter.
EXPLAINED = {"limit=100": {"limit": 100}, "tag=velvet": {"tag": "velvet"}}


def explain(url: str) -> None:
    """Prints EXPLAIN (ANALYZE, BUFFERS) of each EXPLAINED listing's one statement (its page
    with its beats' documents built as JSON), as the app runs it on this database."""
    os.environ.setdefault("APP_ENV", "development")
    from marketplace import create_app
    from marketplace.catalog import search
    from marketplace.db import db

    app = create_app(overrides={"DATABASE_URL": url})
    with app.app_context():
        offers = search.offer_source()
        for name, arguments in EXPLAINED.items():
            query = search.BeatQuery(**arguments)
            params, text_search = search._query_parameters(query, True)
            statement = search._page_with_documents(*search._shape(query, params, text_search), offers).params(
                **params, limit=query.limit + 1)
            with db.engine.connect() as connection:
                sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
                plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql.replace("%", "%%"))
                print(f"\nEXPLAIN (ANALYZE, BUFFERS) {name}")
                print("\n".join(line for line, in plan))
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beats", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per query")
    parser.add_argument("--keep", action="store_true", help="keep the loaded database and print its URL")
    parser.add_argument("--reuse", metavar="URL", help="a database loaded by an earlier --keep run")
    parser.add_argument("--json", type=Path, help="also write a machine-readable summary here")
    parser.add_argument("--explain", action="store_true", help="also print the plans of limit=100 and tag=")
    args = parser.parse_args()
    server_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_SERVER

    url = args.reuse or create_database(server_url)
    if args.reuse:  # the tables say how many beats that run loaded
        engine = create_engine(normalise_database_url(url))
        with engine.connect() as connection:
            args.beats = connection.execute(text("SELECT count(*) FROM beats")).scalar()
        engine.dispose()
    try:
        migrate(url)  # a reused database is brought to the current schema
        if not args.reuse:
            started = time.perf_counter()
            load_catalogue(url, args.beats)
            print(f"loaded {args.beats} beats in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        results = measure(url, args.requests)
        # The same queries with every beat's document built on every request, as on a
        # listing's first sight of its beats (no listing cache).
        uncached = measure(url, max(20, args.requests // 4), LISTING_CACHE_BEATS="0")
        found = sizes(url)
        if args.explain:
            explain(url)
    finally:
        if args.keep or args.reuse:
            print(f"database kept: {url}", file=sys.stderr)
        else:
            drop_database(server_url, url)

    worst, rows = report(f"catalogue search, {args.beats} beats, gunicorn 1 worker, "
                         f"{args.requests} requests each", results)
    worst_uncached, _ = report("the same with documents built on every request (LISTING_CACHE_BEATS=0), "
                               f"{len(uncached[BASELINE])} requests each", uncached)
    print_sizes(found)
    if args.json:
        rows.insert(0, {"name": f"worst p95 ratio ({args.beats} beats)", "value": round(worst, 2),
                        "unit": "x", "target": f"< {TARGET_RATIO:g}x", "met": worst < TARGET_RATIO})
        rows.append({"name": "worst p95 ratio, documents built on every request", "value": round(worst_uncached, 2),
                     "unit": "x"})
        args.json.write_text(json.dumps({"benchmark": "catalog", "met": worst < TARGET_RATIO, "rows": rows},
                                        indent=2))


if __name__ == "__main__":
    main()
