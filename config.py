"""Settings, read from the environment.

Three profiles, chosen by APP_ENV (``development`` by default):

* ``development``: needs nothing but Python and ffmpeg. SQLite file, local files and
  background work in-process, all under ``instance/``.
* ``testing``: like development, with a throwaway database chosen by the test suite.
* ``production``: PostgreSQL, Redis, real secrets. It refuses to start while any of them
  is missing, naming what to set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", PROJECT_ROOT / "instance"))

DEVELOPMENT_SECRET_KEY = "development-only-secret-key-never-use-in-production"
# Contracts rendered in development state a real law, never a blank or a placeholder.
DEVELOPMENT_GOVERNING_LAW = "the laws of England and Wales"


SMTP_DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
MAIL_BACKENDS = ("log", "smtp")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
# Local parts of addresses nobody reads: mail from them needs a Reply-To people read.
NO_REPLY_LOCAL_PART = re.compile(r"^(no|do[-_.]?not|dont)[-_.]?reply", re.IGNORECASE)


class ConfigurationError(RuntimeError):
    """The settings cannot run the app safely; the message says what to set."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None


def _states_something(value: object) -> bool:
    """Words a contract can print: not blank, and no bracketed placeholder left to fill in."""
    text = str(value or "").strip()
    return bool(text) and not any(mark in text for mark in "[]{}<>")


def normalise_database_url(url: str) -> str:
    """Point PostgreSQL URLs at the psycopg 3 driver, whatever spelling was given."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    """Settings shared by every profile. Class attributes are read at import time."""

    ENV_NAME = "base"
    TESTING = False

    SECRET_KEY = _env("SECRET_KEY")
    DATABASE_URL = normalise_database_url(
        _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'marketplace.db'}")
    )
    # Echo every SQL statement to the log (noisy; for debugging only).
    DATABASE_ECHO = _env("DATABASE_ECHO", "0") == "1"

    # Redis carries Celery's queue and the rate limiter's counters in production.
    REDIS_URL = _env("REDIS_URL")
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI") or REDIS_URL or "memory://"
    # Login attempts: every attempt counts per client address; failures count per address and
    # per email and address, never per email alone, so nobody can lock an owner out.
    LOGIN_LIMIT_PER_ADDRESS = _env("LOGIN_LIMIT_PER_ADDRESS", "30 per minute")
    LOGIN_FAILURE_LIMIT_PER_ADDRESS = _env("LOGIN_FAILURE_LIMIT_PER_ADDRESS", "100 per hour")
    LOGIN_FAILURE_LIMIT_PER_EMAIL = _env("LOGIN_FAILURE_LIMIT_PER_EMAIL", "5 per 5 minutes")
    # Once an email has this many failures (from anywhere) in the window, addresses its account
    # never signed in from wait between attempts, 2 s, 4 s, 8 s... up to the maximum, and the
    # owner is told by mail (once per window). Addresses it signed in from are never slowed.
    LOGIN_SLOWDOWN_AFTER_FAILURES = _env("LOGIN_SLOWDOWN_AFTER_FAILURES", "20 per hour")
    LOGIN_SLOWDOWN_MAX_SECONDS = _env_int("LOGIN_SLOWDOWN_MAX_SECONDS", 60)
    REGISTRATION_LIMIT_PER_ADDRESS = _env("REGISTRATION_LIMIT_PER_ADDRESS", "20 per hour")
    # Password reset: how long a mailed link works, how often one address may ask, and how
    # many mails one account receives (asking more only stops the mails: the newest link works).
    PASSWORD_RESET_LINK_MINUTES = _env_int("PASSWORD_RESET_LINK_MINUTES", 30)
    PASSWORD_RESET_LIMIT_PER_ADDRESS = _env("PASSWORD_RESET_LIMIT_PER_ADDRESS", "10 per hour")
    PASSWORD_RESET_MAILS_PER_ACCOUNT = _env("PASSWORD_RESET_MAILS_PER_ACCOUNT", "3 per hour")
    # Address verification: how long the mailed link works, and how often one account may ask
    # for it again.
    EMAIL_VERIFICATION_LINK_HOURS = _env_int("EMAIL_VERIFICATION_LINK_HOURS", 72)
    VERIFICATION_MAILS_PER_ACCOUNT = _env("VERIFICATION_MAILS_PER_ACCOUNT", "3 per hour")
    # A change of address: how long the link mailed to the new address works, and how many
    # changes one account may ask for (each mails an address the asker typed).
    EMAIL_CHANGE_LINK_HOURS = _env_int("EMAIL_CHANGE_LINK_HOURS", 24)
    EMAIL_CHANGE_MAILS_PER_ACCOUNT = _env("EMAIL_CHANGE_MAILS_PER_ACCOUNT", "3 per hour")
    # How long an invitation to be credited on a beat waits for an answer before it expires.
    CREDIT_INVITATION_DAYS = _env_int("CREDIT_INVITATION_DAYS", 30)
    # How many invitations (each mails an address the owner typed) one account may send.
    CREDIT_INVITATIONS_PER_ACCOUNT = _env("CREDIT_INVITATIONS_PER_ACCOUNT", "30 per hour")
    # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted (0: none).
    # Client addresses (rate limits, logs) come from them, so set this behind a proxy.
    TRUSTED_PROXY_COUNT = _env_int("TRUSTED_PROXY_COUNT", 0)
    # Scripts, styles, pages and JSON compressed by the app (gzip or brotli); 0 where the proxy in
    # front compresses instead.
    COMPRESS_RESPONSES = _env("COMPRESS_RESPONSES", "1") == "1"
    # Other web origins whose pages may call the API from a browser (CORS), comma-separated,
    # e.g. "https://app.example.com". Empty: only the store's own pages, on its own origin.
    CORS_ALLOWED_ORIGINS = tuple(origin.strip().rstrip("/") for origin in
                                 (_env("CORS_ALLOWED_ORIGINS") or "").split(",") if origin.strip())

    # argon2id cost. The defaults are argon2-cffi's (RFC 9106 low-memory profile).
    ARGON2_TIME_COST = _env_int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_COST_KIB = _env_int("ARGON2_MEMORY_COST_KIB", 64 * 1024)
    ARGON2_PARALLELISM = _env_int("ARGON2_PARALLELISM", 4)

    # Background jobs: "celery" (Redis) in production, "thread" (in-process) by default.
    JOBS_BACKEND = _env("JOBS_BACKEND") or ("celery" if REDIS_URL else "thread")
    JOB_THREADS = _env_int("JOB_THREADS", 2)
    # In-process threads reserved for buyer-facing jobs (contracts, files, receipts, mails).
    JOB_BUYER_THREADS = _env_int("JOB_BUYER_THREADS", 1)
    JOBS_QUEUE = _env("JOBS_QUEUE", "marketplace")
    JOB_MAX_RETRIES = _env_int("JOB_MAX_RETRIES", 5)
    JOB_RETRY_BACKOFF_SECONDS = 2.0  # before the first retry, doubled for each next (jobs.retries: both runners)
    # Celery: a job taken by a worker that died is delivered again after this many seconds.
    # Also how long a run holds its outbox row: keep it above the longest job.
    JOBS_VISIBILITY_TIMEOUT_SECONDS = _env_int("JOBS_VISIBILITY_TIMEOUT_SECONDS", 3600)
    # The relay hands a queued job over again when it was handed over this long ago and no run
    # has taken it since (a message lost, a process stopped before running it).
    OUTBOX_REDISPATCH_SECONDS = _env_int("OUTBOX_REDISPATCH_SECONDS", 300)

    # Audio: what uploads may be, and how long processing may take before the sweep retries it.
    AUDIO_MIN_SECONDS = 10
    AUDIO_MAX_SECONDS = _env_int("AUDIO_MAX_SECONDS", 15 * 60)
    VOICE_TAG_MAX_SECONDS = 10
    # Voice tag changes (uploads, placement edits, removals) per producer: each one renders
    # every preview of theirs again.
    VOICE_TAG_CHANGE_LIMIT = _env("VOICE_TAG_CHANGE_LIMIT", "30 per minute")
    COVER_MAX_BYTES = _env_int("COVER_MAX_BYTES", 10 * 1024 * 1024)
    COVER_MAX_SIDE = _env_int("COVER_MAX_SIDE", 8000)  # pixels
    COVER_MAX_PIXELS = _env_int("COVER_MAX_PIXELS", 40_000_000)
    STEMS_MAX_ENTRIES = 64
    STEMS_MAX_UNCOMPRESSED_BYTES = _env_int("STEMS_MAX_UNCOMPRESSED_BYTES", 2 * 1024**3)
    PROCESSING_STUCK_AFTER_SECONDS = _env_int("PROCESSING_STUCK_AFTER_SECONDS", 15 * 60)
    PROCESSING_MAX_ATTEMPTS = 3
    # Where uploads are spooled while they are checked, before they reach storage.
    UPLOAD_TMP_DIR = _env("UPLOAD_TMP_DIR")
    # How long signed links to private files live.
    SIGNED_URL_TTL_SECONDS = _env_int("SIGNED_URL_TTL_SECONDS", 15 * 60)

    # How many listed beats' documents each process keeps between requests (0: none); about
    # 7.5 KB of memory each. They are kept under a revision, so they are never shown stale.
    LISTING_CACHE_BEATS = _env_int("LISTING_CACHE_BEATS", 5_000)
    # How long each process keeps the store's genres, moods and keys with their counts of
    # beats on sale (0: counted on every request). The listing itself is never kept stale.
    VOCABULARY_CACHE_SECONDS = _env_int("VOCABULARY_CACHE_SECONDS", 60)

    # Sales.
    STORE_CURRENCY = _env("STORE_CURRENCY", "usd")
    # How long a payment page stays open, and so how long an exclusive is held (30 to 1440).
    CHECKOUT_SESSION_MINUTES = _env_int("CHECKOUT_SESSION_MINUTES", 30)
    # Exclusive holds a buyer may have open at once (one per beat being checked out).
    EXCLUSIVE_HOLDS_PER_BUYER = _env_int("EXCLUSIVE_HOLDS_PER_BUYER", 3)
    # How long in all, within 24 hours, one buyer may hold one beat's exclusive, counted in
    # payment pages (each CHECKOUT_SESSION_MINUTES long): checking out again renews a hold;
    # once this is used up, that buyer cannot hold that beat again until the day has passed.
    EXCLUSIVE_HOLD_PAGES_PER_DAY = _env_int("EXCLUSIVE_HOLD_PAGES_PER_DAY", 3)
    # Checkouts an account may start.
    CHECKOUT_LIMIT_PER_ACCOUNT = _env("CHECKOUT_LIMIT_PER_ACCOUNT", "20 per hour")
    # New free-download licenses one account may take (downloading one again is not counted).
    FREE_DOWNLOAD_LIMIT_PER_ACCOUNT = _env("FREE_DOWNLOAD_LIMIT_PER_ACCOUNT", "10 per day")

    # Price proposals: how long one waits for an answer, how long an accepted one may be paid,
    # how many one artist has open at once, and how many they may make.
    PROPOSAL_HOURS = _env_int("PROPOSAL_HOURS", 72)
    PROPOSAL_CHECKOUT_HOURS = _env_int("PROPOSAL_CHECKOUT_HOURS", 48)
    PROPOSALS_OPEN_PER_ARTIST = _env_int("PROPOSALS_OPEN_PER_ARTIST", 3)
    PROPOSAL_LIMIT_PER_ACCOUNT = _env("PROPOSAL_LIMIT_PER_ACCOUNT", "20 per day")
    # Codes tried that no seller in the cart has, at checkout or in a quote: guessing codes is slow.
    COUPON_MISSES_PER_ACCOUNT = _env("COUPON_MISSES_PER_ACCOUNT", "20 per hour")
    # A payment that settles later (bank debit) keeps its exclusive hold this long at most.
    DELAYED_PAYMENT_HOLD_DAYS = _env_int("DELAYED_PAYMENT_HOLD_DAYS", 7)
    # The store's address: where buyers come back after paying and where mailed links point;
    # in development, the address of the request when unset.
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL")

    # Payouts. The platform's fee on each sold line: basis points of its price (1000 = 10%),
    # rounded half up, plus a fixed amount in minor units; the rest goes to the beat's credits.
    PLATFORM_FEE_BPS = _env_int("PLATFORM_FEE_BPS", 1000)
    PLATFORM_FEE_FIXED = _env_int("PLATFORM_FEE_FIXED", 0)

    # Contracts. The store's name as contracts state it (the buyer accepts on it, the producer
    # through its terms), and the law that governs every license agreement, as its clause reads
    # ("governed by ..."). Development has a default; production must set the law.
    PLATFORM_NAME = _env("PLATFORM_NAME", "Beat marketplace")
    CONTRACT_GOVERNING_LAW = _env("CONTRACT_GOVERNING_LAW")
    # License certificates are signed with the platform's Ed25519 keys: this folder holds their
    # private keys, one file each (PEM or JWK), readable by the app's user alone. Development
    # makes one under instance/ when it first signs; production must name its own folder.
    LICENSE_SIGNING_KEYS_DIR = _env("LICENSE_SIGNING_KEYS_DIR")

    # Moderation. Active strikes that suspend an account automatically.
    MODERATION_STRIKES_TO_SUSPEND = _env_int("MODERATION_STRIKES_TO_SUSPEND", 3)
    # Pre-moderation: uploads of beatmakers with fewer approved beats than this wait for an
    # admin's review before they are published (0: off).
    PREMODERATION_MIN_APPROVED_BEATS = _env_int("PREMODERATION_MIN_APPROVED_BEATS", 0)
    # Reports a user may file, so reporting cannot be used to flood the queue.
    REPORT_LIMIT_PER_USER = _env("REPORT_LIMIT_PER_USER", "10 per hour")

    # Email: "log" writes messages to the log and an outbox folder; "smtp" sends them.
    MAIL_BACKEND = _env("MAIL_BACKEND", "log")
    # Every message's From, and the monitored mailbox replies go to (Reply-To): production
    # refuses a no-reply From without one, so a reply is never lost.
    MAIL_FROM = _env("MAIL_FROM", "Beat marketplace <no-reply@localhost>")
    # Where people may write back (a monitored address); unset, mails never invite a reply.
    MAIL_REPLY_TO = _env("MAIL_REPLY_TO")
    MAIL_OUTBOX_DIR = _env("MAIL_OUTBOX_DIR", str(INSTANCE_DIR / "outbox"))
    SMTP_HOST = _env("SMTP_HOST", "localhost")
    # "starttls" (upgrade a plain connection, port 587), "tls" (TLS from the start, port 465) or
    # "none" (no encryption: a relay on this machine only). Certificates are always verified.
    SMTP_SECURITY = (_env("SMTP_SECURITY", "starttls") or "").lower()
    SMTP_PORT = _env_int("SMTP_PORT", SMTP_DEFAULT_PORTS.get(SMTP_SECURITY, 587))
    SMTP_USERNAME = _env("SMTP_USERNAME")
    SMTP_PASSWORD = _env("SMTP_PASSWORD")
    # The longest wait for the mail server at each step (connecting, each reply).
    SMTP_TIMEOUT_SECONDS = float(_env("SMTP_TIMEOUT_SECONDS", "30"))
    # A PEM file of the certificate authorities to trust instead of the system's (a private CA).
    SMTP_CA_FILE = _env("SMTP_CA_FILE")

    # Bearer tokens.
    ACCESS_TOKEN_TTL_SECONDS = _env_int("ACCESS_TOKEN_TTL_SECONDS", 24 * 3600)

    # Request bodies. JSON bodies are small; uploads (masters, stems) are streamed.
    MAX_JSON_BODY_BYTES = _env_int("MAX_JSON_BODY_BYTES", 1024 * 1024)
    MAX_CONTENT_LENGTH = _env_int("MAX_UPLOAD_BYTES", 2 * 1024**3 + 64 * 1024**2)

    # Files: "local" (a private directory) or "s3" (any S3-compatible bucket).
    STORAGE_BACKEND = _env("STORAGE_BACKEND", "local")
    STORAGE_LOCAL_ROOT = _env("STORAGE_LOCAL_ROOT", str(INSTANCE_DIR / "storage"))
    STORAGE_S3_BUCKET = _env("STORAGE_S3_BUCKET")
    STORAGE_S3_ENDPOINT_URL = _env("STORAGE_S3_ENDPOINT_URL")
    STORAGE_S3_REGION = _env("STORAGE_S3_REGION", "us-east-1")
    STORAGE_S3_ACCESS_KEY = _env("STORAGE_S3_ACCESS_KEY")
    STORAGE_S3_SECRET_KEY = _env("STORAGE_S3_SECRET_KEY")

    # Stripe. Without a secret key, development talks to the bundled Stripe sandbox
    # (`flask payments sandbox`, started by `make run`) at STRIPE_SANDBOX_URL.
    STRIPE_SECRET_KEY = _env("STRIPE_SECRET_KEY")
    STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET")
    STRIPE_API_BASE = _env("STRIPE_API_BASE")  # unset in production: Stripe itself
    STRIPE_SANDBOX_URL = _env("STRIPE_SANDBOX_URL", "http://127.0.0.1:12111")
    STRIPE_TIMEOUT_SECONDS = float(_env("STRIPE_TIMEOUT_SECONDS", "10"))
    STRIPE_MAX_NETWORK_RETRIES = _env_int("STRIPE_MAX_NETWORK_RETRIES", 2)

    LOG_LEVEL = _env("LOG_LEVEL", "INFO")

    # flask-smorest / OpenAPI.
    API_TITLE = "Beat marketplace API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    # Served from static/vendor, so the docs page works without network access.
    OPENAPI_SWAGGER_UI_URL = "/static/vendor/swagger-ui/"

    @classmethod
    def check(cls, values: Mapping[str, Any]) -> None:
        """Raise ConfigurationError when the final settings `values` are unsafe to run."""
        # Stripe keeps a Checkout Session open for 30 minutes to 24 hours.
        if not 30 <= int(values.get("CHECKOUT_SESSION_MINUTES", 30)) <= 1440:
            raise ConfigurationError("CHECKOUT_SESSION_MINUTES must be between 30 and 1440")
        if int(values.get("EXCLUSIVE_HOLDS_PER_BUYER", 3)) < 1:
            raise ConfigurationError("EXCLUSIVE_HOLDS_PER_BUYER must be at least 1")
        for name, default in (("PROPOSAL_HOURS", 72), ("PROPOSAL_CHECKOUT_HOURS", 48),
                              ("PROPOSALS_OPEN_PER_ARTIST", 3)):
            if int(values.get(name, default)) < 1:
                raise ConfigurationError(f"{name} must be at least 1")
        if int(values.get("EXCLUSIVE_HOLD_PAGES_PER_DAY", 3)) < 1:
            raise ConfigurationError("EXCLUSIVE_HOLD_PAGES_PER_DAY must be at least 1")
        if not 0 <= int(values.get("PLATFORM_FEE_BPS", 1000)) <= 10000:
            raise ConfigurationError("PLATFORM_FEE_BPS must be between 0 and 10000 (100%)")
        if int(values.get("PLATFORM_FEE_FIXED", 0)) < 0:
            raise ConfigurationError("PLATFORM_FEE_FIXED must be 0 or more (minor units)")
        from marketplace.common.money import MINIMUM_CHARGE_MINOR

        if str(values.get("STORE_CURRENCY", "usd")).lower() not in MINIMUM_CHARGE_MINOR:
            raise ConfigurationError("STORE_CURRENCY must be a currency whose smallest Stripe charge is "
                                     "known: " + ", ".join(sorted(MINIMUM_CHARGE_MINOR)))
        if int(values.get("MODERATION_STRIKES_TO_SUSPEND", 3)) < 1:
            raise ConfigurationError("MODERATION_STRIKES_TO_SUSPEND must be at least 1")
        if int(values.get("PREMODERATION_MIN_APPROVED_BEATS", 0)) < 0:
            raise ConfigurationError("PREMODERATION_MIN_APPROVED_BEATS must be 0 (off) or more")
        for name in ("CONTRACT_GOVERNING_LAW", "PLATFORM_NAME"):
            if values.get(name) is not None and not _states_something(values[name]):
                raise ConfigurationError(f"{name} is printed in every contract: it must be words, "
                                         "not blank and not a [placeholder]")
        if int(values.get("JOB_BUYER_THREADS", 1)) < 1:
            raise ConfigurationError("JOB_BUYER_THREADS must be at least 1: buyers' jobs need a thread")
        _check_mail_settings(values)


def mail_address(value: str) -> str:
    """The address part of a From or Reply-To setting ("Name <a@b>" or "a@b"); '' when not one."""
    if "\n" in value or "\r" in value or len(getaddresses([value])) != 1:
        return ""
    address = parseaddr(value)[1]
    local, _, domain = address.rpartition("@")
    return address if local and domain else ""


def _check_mail_settings(values: Mapping[str, Any]) -> None:
    backend = values.get("MAIL_BACKEND", "log")
    if backend not in MAIL_BACKENDS:
        raise ConfigurationError(f"MAIL_BACKEND must be one of {', '.join(MAIL_BACKENDS)}, not {backend!r}")
    security = values.get("SMTP_SECURITY", "starttls")
    if security not in SMTP_DEFAULT_PORTS:
        raise ConfigurationError("SMTP_SECURITY must be starttls (port 587), tls (TLS from the start, port 465) "
                                 f"or none (a relay on this machine only), not {security!r}")
    if float(values.get("SMTP_TIMEOUT_SECONDS", 30)) <= 0:
        raise ConfigurationError("SMTP_TIMEOUT_SECONDS must be more than 0")
    for name in ("MAIL_FROM", "MAIL_REPLY_TO"):
        if values.get(name) is not None and not mail_address(str(values[name])):
            raise ConfigurationError(f"{name} must be one email address, as \"Name <name@example.com>\" or "
                                     f"\"name@example.com\"; got {values[name]!r}")
    ca_file = values.get("SMTP_CA_FILE")
    if ca_file and not os.access(ca_file, os.R_OK):
        raise ConfigurationError(f"SMTP_CA_FILE names no readable file: {ca_file}")


def _production_mail_problems(values: Mapping[str, Any]) -> list[str]:
    problems = []
    if values.get("MAIL_BACKEND") != "smtp":
        problems.append("MAIL_BACKEND must be smtp: the outbox folder delivers nothing to anyone")
    sender = mail_address(str(values.get("MAIL_FROM") or ""))
    domain = sender.rpartition("@")[2].lower()
    if domain == "localhost" or domain.endswith(".localhost") or "." not in domain:
        problems.append("MAIL_FROM must be an address at the store's own domain "
                        "(\"Beat marketplace <no-reply@beats.example.com>\")")
    reply_to = mail_address(str(values.get("MAIL_REPLY_TO") or ""))
    if NO_REPLY_LOCAL_PART.match(reply_to) or (NO_REPLY_LOCAL_PART.match(sender) and not reply_to):
        problems.append("MAIL_REPLY_TO must name a mailbox someone reads, not a no-reply address: people "
                        f"answer mails, and MAIL_FROM ({sender}) is where their answers would go without it")
    if values.get("SMTP_SECURITY") == "none" and values.get("SMTP_HOST") not in LOOPBACK_HOSTS:
        problems.append("SMTP_SECURITY=none sends passwords and mails unencrypted: only for a relay on this "
                        "machine (SMTP_HOST=localhost); use starttls or tls")
    if values.get("SMTP_USERNAME") and not values.get("SMTP_PASSWORD"):
        problems.append("SMTP_PASSWORD must be set with SMTP_USERNAME")
    return problems


def _production_signing_key_problems(values: Mapping[str, Any]) -> list[str]:
    folder = values.get("LICENSE_SIGNING_KEYS_DIR")
    if not folder:
        return ["LICENSE_SIGNING_KEYS_DIR must name the folder of the Ed25519 keys that sign license "
                "certificates (make one with: openssl genpkey -algorithm ed25519 -out FOLDER/license-1.pem; "
                "chmod 600 FOLDER/license-1.pem)"]
    from marketplace.licensing.keys import key_folder_problems  # noqa: PLC0415  (needs cryptography)

    return [f"LICENSE_SIGNING_KEYS_DIR: {problem}" for problem in key_folder_problems(Path(folder))]


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    SECRET_KEY = Config.SECRET_KEY or DEVELOPMENT_SECRET_KEY
    CONTRACT_GOVERNING_LAW = Config.CONTRACT_GOVERNING_LAW or DEVELOPMENT_GOVERNING_LAW
    LICENSE_SIGNING_KEYS_DIR = Config.LICENSE_SIGNING_KEYS_DIR or str(INSTANCE_DIR / "license-keys")


class TestingConfig(DevelopmentConfig):
    ENV_NAME = "testing"
    TESTING = True
    # The suite picks its own throwaway database; see tests/conftest.py.
    DATABASE_URL = normalise_database_url(_env("TEST_DATABASE_URL", "sqlite://"))
    RATELIMIT_STORAGE_URI = "memory://"
    VOCABULARY_CACHE_SECONDS = 0  # tests read the counts right after changing the store
    JOBS_BACKEND = "eager"
    JOB_MAX_RETRIES = 0
    # Cheap hashing: the suite signs in hundreds of times. Never use these numbers live.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST_KIB = 8
    ARGON2_PARALLELISM = 1


class ProductionConfig(Config):
    ENV_NAME = "production"

    @classmethod
    def check(cls, values: Mapping[str, Any]) -> None:
        super().check(values)
        problems = []
        secret_key = values.get("SECRET_KEY")
        if not secret_key or secret_key == DEVELOPMENT_SECRET_KEY:
            problems.append("SECRET_KEY must be set to a long random value "
                            "(python -c 'import secrets; print(secrets.token_urlsafe(48))')")
        elif len(secret_key) < 32:
            problems.append("SECRET_KEY must be at least 32 characters long")
        if not str(values.get("DATABASE_URL", "")).startswith("postgresql"):
            problems.append("DATABASE_URL must point at PostgreSQL "
                            "(postgresql://user:password@host:5432/marketplace)")
        if not values.get("STRIPE_SECRET_KEY") or not values.get("STRIPE_WEBHOOK_SECRET"):
            problems.append("STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET must be set (Stripe dashboard, "
                            "Developers > API keys and Webhooks)")
        if values.get("STRIPE_API_BASE"):
            problems.append("STRIPE_API_BASE must be unset in production: payments go to Stripe itself")
        if not str(values.get("PUBLIC_BASE_URL") or "").startswith("https://"):
            problems.append("PUBLIC_BASE_URL must be the store's https:// address (buyers return there "
                            "after paying)")
        if not values.get("CONTRACT_GOVERNING_LAW"):
            problems.append("CONTRACT_GOVERNING_LAW must name the law that governs license agreements, "
                            "as the contract clause reads it (\"the laws of England and Wales\")")
        if not values.get("REDIS_URL"):
            problems.append("REDIS_URL must point at Redis (redis://host:6379/0) for "
                            "background jobs and shared rate limits")
        problems.extend(_production_mail_problems(values))
        problems.extend(_production_signing_key_problems(values))
        if problems:
            raise ConfigurationError(
                "Refusing to start in production:\n  - " + "\n  - ".join(problems))


PROFILES: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None = None) -> type[Config]:
    """The settings class for a profile name, or for APP_ENV when no name is given."""
    name = name or _env("APP_ENV", "development")
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigurationError(
            f"APP_ENV must be one of {', '.join(PROFILES)}; got {name!r}") from None
