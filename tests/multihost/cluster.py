"""Two app hosts, one set of services: the cluster the tests of this folder run against.

Layout (everything below is created by `Cluster.start` and removed by `Cluster.stop`, which
runs from the fixture's teardown and from atexit, so a failure half-way still cleans up):

* Two network namespaces (`ip netns`), one per app host, each joined to the root namespace by
  a veth pair on a /30 of its own: the root side is 10.213.N.1, the host side 10.213.N.2. Each
  host runs gunicorn (2 workers unless told otherwise) on its side's address, port 8000, and
  reaches nothing but the root side's address.
* In the root namespace: PostgreSQL and Redis (as CI starts them, listening on 127.0.0.1
  only), a moto S3 server and the bundled Stripe sandbox (both on 127.0.0.1), one Celery
  worker and one Celery beat, and HAProxy in front of both hosts on 127.0.0.1.
* The hosts reach those services through a second HAProxy in TCP mode, the relay, listening on
  each root-side address at the service's port and connecting to 127.0.0.1. PostgreSQL, Redis
  and the other servers keep listening on loopback only (no change to how CI starts them,
  nothing exposed on other interfaces), no firewall rules or route_localnet to undo, and no
  extra package. A host therefore sees PostgreSQL at 10.213.N.1:5432, Redis at
  10.213.N.1:6379, and so on.

The hosts run on the development profile with production's services set (PostgreSQL, Redis
for rate limits and Celery, S3 storage): production refuses any Stripe but Stripe itself, and
these hosts pay through the sandbox. Everything a host keeps between requests is in those
services, except each process's listing cache, which the tests check directly.

Nothing here needs pytest: bench/load.py runs its simulated users against the same cluster,
with `start_services`, then its store loaded, then `start_hosts`.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from config import PROJECT_ROOT
from tests.support import PostgresDatabases, production_signing_keys

BIN = Path(sys.executable).parent
HOST_PORT = 8000
WEBHOOK_SECRET = "whsec_multihost_sandbox"
SANDBOX_KEY = "sk_test_sandbox"
BUCKET = "multihost-files"
# A worker imports the whole app before it answers: slow when the machine's cores are busy elsewhere.
HOST_BOOT_SECONDS = 180


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def netns_available() -> str | None:
    """None when namespaces can be made here, else why not."""
    if os.geteuid() != 0:
        return "the multi-host harness makes network namespaces, which needs root"
    if shutil.which("ip") is None:
        return "the multi-host harness needs `ip` (iproute2)"
    if shutil.which("haproxy") is None:
        return "the multi-host harness needs HAProxy (Debian package haproxy)"
    probe = f"mkprobe{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"`ip netns add` fails here: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


class Host:
    def __init__(self, index: int, tag: int) -> None:
        self.name = f"host{index}"
        self.namespace = f"mkt{tag}h{index}"
        self.root_link = f"mk{tag}r{index}"
        self.host_link = f"mk{tag}h{index}"
        octet = (tag % 127) * 2 + index - 1
        self.root_address = f"10.213.{octet}.1"
        self.address = f"10.213.{octet}.2"
        self.url = f"http://{self.address}:{HOST_PORT}"
        self.process: subprocess.Popen | None = None

    def make_network(self) -> None:
        ip("netns", "add", self.namespace)
        ip("link", "add", self.root_link, "type", "veth", "peer", "name", self.host_link)
        ip("link", "set", self.host_link, "netns", self.namespace)
        ip("addr", "add", f"{self.root_address}/30", "dev", self.root_link)
        ip("link", "set", self.root_link, "up")
        ip("-n", self.namespace, "addr", "add", f"{self.address}/30", "dev", self.host_link)
        ip("-n", self.namespace, "link", "set", self.host_link, "up")
        ip("-n", self.namespace, "link", "set", "lo", "up")

    def remove_network(self) -> None:
        subprocess.run(["ip", "netns", "del", self.namespace], capture_output=True)
        subprocess.run(["ip", "link", "del", self.root_link], capture_output=True)  # gone with the pair

    def start(self, env: dict[str, str], log: Path, gunicorn_args: list[str]) -> None:
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                ["ip", "netns", "exec", self.namespace, str(BIN / "gunicorn"), *gunicorn_args,
                 "--bind", f"{self.address}:{HOST_PORT}", "--timeout", "120", "marketplace:create_app()"],
                cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        """SIGKILL to the host's gunicorn and its workers (its own process group)."""
        if self.process and self.process.poll() is None:
            signal_group(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def signal_group(pid: int, signal_number: int) -> None:
    """Signals a process group this harness started; it may have ended already."""
    try:
        os.killpg(pid, signal_number)
    except ProcessLookupError:
        pass


def wait_ready(url: str, process: subprocess.Popen | None, log: Path | None = None, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log else ""
            raise AssertionError(f"{url} exited before it was ready:\n{tail}")
        try:
            if requests.get(f"{url}/readyz", timeout=3).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} was not ready in {seconds} s")


HAPROXY_CONFIG = """
global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    option forwardfor
    option redispatch
    retries 3
    # Only a request that never reached a host is sent to the other: never a write twice.
    retry-on conn-failure
listen app
    bind 127.0.0.1:{port}
    balance roundrobin
    option httpchk GET /readyz
    # A killed host refuses at once and is out within a second; a busy one (every worker on a
    # request, on a machine shared with everything else) may take a while to answer its check.
    timeout check 3s
    default-server inter 300ms fall 2 rise 2
{servers}
"""

# Idle pooled connections (PostgreSQL, Redis) stay open for the whole run.
RELAY_CONFIG = """
global
    maxconn 4096
defaults
    mode tcp
    timeout connect 2s
    timeout client 1h
    timeout server 1h
{listeners}
"""


class Cluster:
    """`settings` are added to (or, with None, removed from) every process's environment;
    `gunicorn_args` choose each host's workers, threads and hooks."""

    def __init__(self, server_url: str, redis_url: str, *, settings: dict[str, str | None] | None = None,
                 gunicorn_args: list[str] | None = None) -> None:
        self.tag = os.getpid() % 100000
        self.hosts = [Host(1, self.tag), Host(2, self.tag)]
        self.workdir = Path(tempfile.mkdtemp(prefix="multihost-"))
        self.databases = PostgresDatabases(server_url)
        self.database_url: str | None = None
        self.redis_url = redis_url
        self.settings = settings or {}
        self.gunicorn_args = gunicorn_args or ["--workers", "2"]
        self.processes: list[subprocess.Popen] = []
        self.sandbox_url = ""
        self.balancer_url = ""
        self._stopped = False

    # -- starting ------------------------------------------------------------------------

    def start(self) -> None:
        self.start_services()
        self.start_hosts()

    def start_services(self) -> None:
        """The database (migrated), the Stripe sandbox and the S3 server: what the hosts share."""
        atexit.register(self.stop)
        self._empty_redis()
        self.database_url = self.databases.create()
        self._migrate()
        # The balancer's address is known before it starts: the sandbox delivers webhooks to it.
        self.balancer_port = free_port()
        self.balancer_url = f"http://127.0.0.1:{self.balancer_port}"
        self._start_sandbox()
        self.s3_port = self._start_s3()

    def start_hosts(self) -> None:
        """The hosts' networks and relay, the hosts, the Celery worker and beat, and the balancer."""
        for host in self.hosts:
            host.make_network()
        self._start_relay()
        for host in self.hosts:
            host.start(self.env(host.root_address), self.workdir / f"{host.name}.log", self.gunicorn_args)
        self._start_jobs()
        for host in self.hosts:
            wait_ready(host.url, host.process, self.workdir / f"{host.name}.log", seconds=HOST_BOOT_SECONDS)
        self._start_balancer()

    def env(self, services_address: str) -> dict[str, str]:
        """The settings of every process: services reached at `services_address`."""
        database = self.database_url.replace("@127.0.0.1:", f"@{services_address}:")
        redis_url = self.redis_url.replace("//127.0.0.1:", f"//{services_address}:")
        env = {**os.environ, "APP_ENV": "development", "FLASK_APP": "marketplace",
                "INSTANCE_DIR": str(self.workdir / "instance"),
                "SECRET_KEY": "multihost-" + "k" * 40, "DATABASE_URL": database, "REDIS_URL": redis_url,
                "JOBS_BACKEND": "celery", "JOBS_QUEUE": f"multihost{self.tag}",
                "STORAGE_BACKEND": "s3", "STORAGE_S3_BUCKET": BUCKET,
                "STORAGE_S3_ENDPOINT_URL": f"http://{services_address}:{self.s3_port}",
                "STORAGE_S3_ACCESS_KEY": "multihost", "STORAGE_S3_SECRET_KEY": "multihost",
                "STRIPE_SECRET_KEY": SANDBOX_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "STRIPE_API_BASE": f"http://{services_address}:{self.sandbox_port}",
                "PUBLIC_BASE_URL": self.balancer_url or "http://127.0.0.1",
                "TRUSTED_PROXY_COUNT": "1", "LICENSE_SIGNING_KEYS_DIR": self.signing_keys,
                "MAIL_OUTBOX_DIR": str(self.workdir / "outbox"), "UPLOAD_TMP_DIR": str(self.workdir),
                # Cheap hashing and a generous per-address sign-in limit: the tests sign in often.
                "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST_KIB": "8", "ARGON2_PARALLELISM": "1",
                "LOGIN_LIMIT_PER_ADDRESS": "1000 per minute", "REGISTRATION_LIMIT_PER_ADDRESS": "4 per hour",
                "VOCABULARY_CACHE_SECONDS": "0", **self.settings}
        return {name: value for name, value in env.items() if value is not None}

    def _migrate(self) -> None:
        self.signing_keys = production_signing_keys()
        env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": self.database_url,
               "FLASK_APP": "marketplace", "INSTANCE_DIR": str(self.workdir / "instance")}
        env.pop("REDIS_URL", None)
        done = subprocess.run([str(BIN / "flask"), "db", "upgrade"], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr[-2000:]

    def _start_sandbox(self) -> None:
        """A process of its own, as the hosts' requests to it must not wait on this one's threads."""
        self.sandbox_port = free_port()
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self._spawn([sys.executable, "-m", "marketplace.payments.sandbox", "--port", str(self.sandbox_port),
                     "--webhook-url", self.balancer_url + "/api/v1/payments/stripe/webhook",
                     "--webhook-secret", WEBHOOK_SECRET], "sandbox")
        wait_for_port(self.sandbox_port)

    def _start_s3(self) -> int:
        import boto3

        port = free_port()
        self._spawn([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], "s3")
        wait_for_port(port)
        boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                     aws_access_key_id="multihost", aws_secret_access_key="multihost").create_bucket(Bucket=BUCKET)
        return port

    def _start_relay(self) -> None:
        redis_port = int(self.redis_url.split(":")[2].split("/")[0])
        database_port = int(self.database_url.rsplit(":", 1)[1].split("/")[0])
        listeners = "\n".join(
            f"listen relay-{host.name}-{port}\n    bind {host.root_address}:{port}\n"
            f"    server local 127.0.0.1:{port}"
            for host in self.hosts for port in (database_port, redis_port, self.sandbox_port, self.s3_port))
        config = self.workdir / "relay.cfg"
        config.write_text(RELAY_CONFIG.format(listeners=listeners))
        relay = self._spawn(["haproxy", "-db", "-f", str(config)], "relay")
        for host in self.hosts:
            wait_for_port(database_port, host.root_address, relay)

    def _start_jobs(self) -> None:
        env = self.env("127.0.0.1")
        celery = str(BIN / "celery")
        self._spawn([celery, "-A", "marketplace.jobs.worker", "worker", "--pool", "solo", "--loglevel", "INFO",
                     "--without-heartbeat", "--without-gossip", "--without-mingle"], "worker", env)
        self._spawn([celery, "-A", "marketplace.jobs.worker", "beat", "--loglevel", "INFO",
                     "--schedule", str(self.workdir / "beat-schedule")], "beat", env)

    def _start_balancer(self) -> None:
        servers = "\n".join(f"    server {host.name} {host.address}:{HOST_PORT} check" for host in self.hosts)
        config = self.workdir / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(port=self.balancer_port, servers=servers))
        balancer = self._spawn(["haproxy", "-db", "-f", str(config)], "haproxy")
        wait_ready(self.balancer_url, balancer, self.workdir / "haproxy.log")

    def _spawn(self, command: list[str], name: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        with open(self.workdir / f"{name}.log", "wb") as out:
            process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env or os.environ.copy(), stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    # -- stopping ------------------------------------------------------------------------

    def stop(self) -> None:
        """Removes everything `start` made; safe to call twice and after a partial start."""
        if self._stopped:
            return
        self._stopped = True
        for process in [host.process for host in self.hosts if host.process] + self.processes:
            if process.poll() is None:  # all told at once, so they stop side by side
                signal_group(process.pid, signal.SIGTERM)
        for host in self.hosts:
            host.stop()
        for process in self.processes:
            if process.poll() is None:
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    signal_group(process.pid, signal.SIGKILL)
                    process.wait()
        for host in self.hosts:
            host.remove_network()
        self._empty_redis()
        if self.database_url:
            self.databases.drop(self.database_url)
            self.databases._admin.dispose()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _empty_redis(self) -> None:
        """The cluster's Redis database is its own: counters and queues of an earlier run go."""
        import redis

        client = redis.Redis.from_url(self.redis_url)
        client.flushdb()
        client.close()

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def wait_for_port(port: int, address: str = "127.0.0.1", process: subprocess.Popen | None = None,
                  seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process to listen on {address}:{port} exited")
        try:
            socket.create_connection((address, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {address}:{port} after {seconds} s")


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"
