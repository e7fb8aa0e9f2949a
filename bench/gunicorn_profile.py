"""Gunicorn hooks that bench/load.py gives the app hosts (`-c bench/gunicorn_profile.py`): a
request carrying the header X-Bench-Profile runs under cProfile, and each worker writes what
its profiled requests added up to into BENCH_PROFILE_DIR/<pid>.prof after each of them.
Requests without the header run as they would without these hooks."""

from __future__ import annotations

import cProfile
import os

PROFILE_HEADER = "X-BENCH-PROFILE"  # as gunicorn spells request headers
_profile = cProfile.Profile()


def pre_request(worker, req) -> None:
    worker.profiling = any(name == PROFILE_HEADER for name, _value in req.headers)
    if worker.profiling:
        _profile.enable()


def post_request(worker, req, environ, resp) -> None:
    if getattr(worker, "profiling", False):
        _profile.disable()
        worker.profiling = False
        path = os.path.join(os.environ["BENCH_PROFILE_DIR"], f"{os.getpid()}.prof")
        _profile.dump_stats(path + ".part")
        os.replace(path + ".part", path)  # the benchmark reads these while the worker serves
