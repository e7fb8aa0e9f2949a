"""Runs every benchmark in bench/ and prints one table of their figures, ratios and targets.

Each benchmark prints its own report as it goes and writes a JSON summary (--json) that this
script gathers. `make bench` runs it; QUICK=1 (--quick here) uses smaller sizes so the whole
set takes a few minutes instead of a quarter of an hour or more.

    .venv/bin/python bench/run_all.py [--quick] [--only catalog,preview,load]

Needs PostgreSQL (BENCH_DATABASE_URL) for catalog and load, and Redis (BENCH_REDIS_URL, db 10
by default, emptied by load) for load; ffmpeg for preview and load; root, `ip netns` and HAProxy
for load, which runs two app hosts in network namespaces of their own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent

# Arguments of each benchmark, full and quick.
BENCHMARKS = {
    "catalog": {"full": [], "quick": ["--beats", "10000", "--requests", "50"]},
    "preview": {"full": [], "quick": ["--lengths", "30,180", "--repeat", "1"]},
    "load": {"full": [], "quick": ["--seconds", "20", "--users", "50", "--saturate-seconds", "3", "--rounds", "1",
                                   "--profile-requests", "30"]},
}


def run(name: str, arguments: list[str], folder: Path) -> dict:
    summary_path = folder / f"{name}.json"
    print(f"\n=== {name}: bench/{name}.py {' '.join(arguments)}", flush=True)
    started = time.monotonic()
    command = [sys.executable, str(BENCH / f"{name}.py"), *arguments, "--json", str(summary_path)]
    completed = subprocess.run(command)
    seconds = time.monotonic() - started
    if completed.returncode != 0 or not summary_path.exists():
        return {"benchmark": name, "met": False, "seconds": seconds,
                "rows": [{"name": f"failed (exit status {completed.returncode})", "value": "", "unit": ""}]}
    return {**json.loads(summary_path.read_text()), "seconds": seconds}


def cell(value, unit: str = "") -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        value = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value} {unit}".strip()


def verdict(row: dict) -> str:
    if "met" not in row:
        return ""
    return "PASS" if row["met"] else "MISS"


def print_table(summaries: list[dict]) -> None:
    width = max(len(row["name"]) for summary in summaries for row in summary["rows"]) + 2
    width = min(width, 72)
    print(f"\n{'benchmark':<10} {'measure':<{width}} {'value':>12} {'x baseline':>11} {'target':>10} {'':>5}")
    for summary in summaries:
        for row in summary["rows"]:
            ratio = cell(row.get("ratio"))
            value = cell(row["value"], row["unit"])
            print(f"{summary['benchmark']:<10} {row['name'][:width]:<{width}} {value:>12} "
                  f"{ratio:>11} {row.get('target', ''):>10} {verdict(row):>5}")
    print()
    for summary in summaries:
        print(f"{summary['benchmark']:<10} targets {'PASS' if summary['met'] else 'MISS'} "
              f"({summary['seconds']:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (make bench QUICK=1)")
    parser.add_argument("--only", help="comma-separated names, of " + ", ".join(BENCHMARKS))
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        summaries = [run(name, BENCHMARKS[name]["quick" if args.quick else "full"], Path(folder))
                     for name in names]
    print_table(summaries)


if __name__ == "__main__":
    main()
