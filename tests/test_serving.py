"""The app served the way people run it: `flask run` on the development defaults (what
`make run` does), and gunicorn with the production profile on PostgreSQL and Redis."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from config import PROJECT_ROOT
from tests.conftest import postgres_only, production_signing_keys, require_service

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run([str(BIN / "flask"), *args], env=env, cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def wait_until_up(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stderr.read()[-2000:]}")
        try:
            if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or still booting
            time.sleep(0.2)
    raise AssertionError("server did not become ready in 30 s")


def round_trip(base: str) -> None:
    """What the README shows with curl: register, log in, /me, log out."""
    registered = requests.post(f"{base}/api/v1/auth/register", timeout=10, json={
        "email": "Curl@Example.com", "password": "paper lanterns 1", "display_name": "Curl",
        "account_type": "beatmaker"})
    assert registered.status_code == 201, registered.text
    token = requests.post(f"{base}/api/v1/auth/login", timeout=10, json={
        "email": "curl@example.com", "password": "paper lanterns 1"}).json()["access_token"]
    me = requests.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert me.status_code == 200 and me.json()["roles"] == ["beatmaker"]
    assert me.headers["X-Request-ID"]
    out = requests.post(f"{base}/api/v1/auth/logout", timeout=10,
                        headers={"Authorization": f"Bearer {token}"})
    assert out.status_code == 204


def serve(command: list[str], env: dict[str, str], base: str):
    process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        wait_until_up(base, process)
        round_trip(base)
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_development_server_on_default_settings(tmp_path):
    env = {**os.environ, "APP_ENV": "development", "INSTANCE_DIR": str(tmp_path),
           "FLASK_APP": "marketplace"}
    env.pop("DATABASE_URL", None)
    run_cli(["db", "upgrade"], env)
    seeded = run_cli(["seed", "demo"], env)
    assert "admin@demo.test" in seeded and "password:" in seeded
    assert (tmp_path / "marketplace.db").exists()
    port = free_port()
    serve([str(BIN / "flask"), "run", "--host", "127.0.0.1", "--port", str(port)], env,
          f"http://127.0.0.1:{port}")


@postgres_only("the production profile")
def test_gunicorn_with_the_production_profile(database_factory):
    redis_url = os.environ.get("TEST_REDIS_URL")
    require_service("Redis (TEST_REDIS_URL)", bool(redis_url))
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": "s" * 48,
           "DATABASE_URL": database_factory(), "REDIS_URL": redis_url, "FLASK_APP": "marketplace",
           "STRIPE_SECRET_KEY": "sk_live_unused", "STRIPE_WEBHOOK_SECRET": "whsec_unused",
           "PUBLIC_BASE_URL": "https://beats.example", "CONTRACT_GOVERNING_LAW": "the laws of Ireland",
           "MAIL_BACKEND": "smtp", "MAIL_FROM": "no-reply@beats.example",
           "MAIL_REPLY_TO": "help@beats.example", "LICENSE_SIGNING_KEYS_DIR": production_signing_keys()}
    run_cli(["db", "upgrade"], env)
    port = free_port()
    serve([str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
           "marketplace:create_app()"], env, f"http://127.0.0.1:{port}")
