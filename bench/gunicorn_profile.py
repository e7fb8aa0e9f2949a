"""Gunicorn hooks that bench/load.py gives the app hosts (`-c bench/gunicorn_profile.py`): a
request carrying the header X-Bench-Profile runs under a cProfile of its own (per thread, as a
worker may serve several requests at once), written to BENCH_PROFILE_DIR as one file per
request when it ends. Requests without the header run as they would without these hooks."""

from __future__ import annotations

import cProfile
import itertools
import os
import threading

PROFILE_HEADER = "X-BENCH-PROFILE"  # as gunicorn spells request headers
_current = threading.local()
_numbers = itertools.count()


def pre_request(worker, req) -> None:
    if any(name == PROFILE_HEADER for name, _value in req.headers):
        _current.profile = cProfile.Profile()
        _current.profile.enable()


def post_request(worker, req, environ, resp) -> None:
    profile = getattr(_current, "profile", None)
    if profile is None:
        return
    profile.disable()
    _current.profile = None
    path = os.path.join(os.environ["BENCH_PROFILE_DIR"], f"{os.getpid()}-{next(_numbers)}.prof")
    profile.dump_stats(path + ".part")
    os.replace(path + ".part", path)  # the benchmark counts the files while the hosts serve
