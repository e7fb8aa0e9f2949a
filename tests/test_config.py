"""Settings: a development default that needs nothing installed, and a production profile
that refuses to start unsafely."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from config import INSTANCE_DIR, PROJECT_ROOT, ConfigurationError, ProductionConfig, config_for
from tests.conftest import production_signing_keys
from tests.mail.test_mail_settings import PRODUCTION


def start_app(env: dict[str, str]) -> subprocess.CompletedProcess:
    """Builds the app in a fresh interpreter, exactly as a server process would."""
    clean = {key: value for key, value in os.environ.items()
             if key not in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "APP_ENV")}
    return subprocess.run([sys.executable, "-c", "from marketplace import create_app; create_app()"],
                          env={**clean, **env}, cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=60)


def test_production_refuses_to_start_without_secret_key_and_database():
    result = start_app({"APP_ENV": "production"})
    assert result.returncode != 0
    assert "Refusing to start in production" in result.stderr
    assert "SECRET_KEY must be set" in result.stderr
    assert "DATABASE_URL must point at PostgreSQL" in result.stderr


def test_production_refuses_sqlite_and_the_development_key():
    with pytest.raises(ConfigurationError) as refused:
        ProductionConfig.check({"SECRET_KEY": "development-only-secret-key-never-use-in-production",
                                "DATABASE_URL": "sqlite:///prod.db", "REDIS_URL": "redis://x"})
    message = str(refused.value)
    assert "SECRET_KEY" in message and "DATABASE_URL" in message and "REDIS_URL" not in message


def test_production_refuses_a_short_secret_key_and_missing_redis():
    with pytest.raises(ConfigurationError) as refused:
        ProductionConfig.check({"SECRET_KEY": "short", "DATABASE_URL": "postgresql+psycopg://db/x"})
    assert "at least 32 characters" in str(refused.value)
    assert "REDIS_URL" in str(refused.value)


def test_production_starts_with_real_settings():
    result = start_app({"APP_ENV": "production", "SECRET_KEY": "k" * 48,
                        "DATABASE_URL": "postgres://user:pw@127.0.0.1:5432/marketplace",
                        "REDIS_URL": "redis://127.0.0.1:6379/0", "STRIPE_SECRET_KEY": "sk_live_x",
                        "STRIPE_WEBHOOK_SECRET": "whsec_x", "PUBLIC_BASE_URL": "https://beats.example",
                        "CONTRACT_GOVERNING_LAW": "the laws of Ireland", "MAIL_BACKEND": "smtp",
                        "MAIL_FROM": "Beat marketplace <no-reply@beats.example>",
                        "MAIL_REPLY_TO": "help@beats.example",
                        "LICENSE_SIGNING_KEYS_DIR": production_signing_keys()})
    assert result.returncode == 0, result.stderr


def test_production_refuses_missing_stripe_keys_and_a_sandbox_address():
    with pytest.raises(ConfigurationError) as refused:
        ProductionConfig.check({"SECRET_KEY": "k" * 48, "DATABASE_URL": "postgresql+psycopg://db/x",
                                "REDIS_URL": "redis://r/0", "STRIPE_API_BASE": "http://127.0.0.1:12111"})
    assert "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET must be set" in str(refused.value)
    assert "STRIPE_API_BASE must be unset" in str(refused.value)
    assert "PUBLIC_BASE_URL must be the store's https://" in str(refused.value)


def test_checkout_session_length_is_within_stripes_limits():
    with pytest.raises(ConfigurationError, match="CHECKOUT_SESSION_MINUTES"):
        config_for("development").check({"CHECKOUT_SESSION_MINUTES": 20})


@pytest.mark.parametrize("name", ["PROPOSAL_HOURS", "PROPOSAL_CHECKOUT_HOURS", "PROPOSALS_OPEN_PER_ARTIST"])
def test_proposal_settings_are_at_least_one(name):
    with pytest.raises(ConfigurationError, match=name):
        config_for("development").check({name: 0})


def test_development_default_is_a_sqlite_file_under_instance():
    development = config_for("development")
    assert development.DATABASE_URL.startswith("sqlite:///")
    assert "instance" in development.DATABASE_URL
    assert development.SECRET_KEY
    development.check({})  # needs nothing


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(ConfigurationError, match="APP_ENV must be one of"):
        config_for("staging")


def test_postgres_urls_use_the_psycopg3_driver():
    from config import normalise_database_url

    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


# -- the keys that sign license certificates ------------------------------------------------------

def signing_key_refusal(folder) -> str:
    with pytest.raises(ConfigurationError) as refused:
        ProductionConfig.check({**PRODUCTION, "LICENSE_SIGNING_KEYS_DIR": folder})
    return str(refused.value)


def test_production_refuses_to_start_without_a_signing_key(tmp_path):
    result = start_app({"APP_ENV": "production", "SECRET_KEY": "k" * 48,
                        "DATABASE_URL": "postgres://user:pw@127.0.0.1:5432/marketplace",
                        "REDIS_URL": "redis://127.0.0.1:6379/0", "STRIPE_SECRET_KEY": "sk_live_x",
                        "STRIPE_WEBHOOK_SECRET": "whsec_x", "PUBLIC_BASE_URL": "https://beats.example",
                        "CONTRACT_GOVERNING_LAW": "the laws of Ireland", "MAIL_BACKEND": "smtp",
                        "MAIL_FROM": "Beat marketplace <no-reply@beats.example>",
                        "MAIL_REPLY_TO": "help@beats.example"})
    assert result.returncode != 0
    assert "Refusing to start in production" in result.stderr
    assert "LICENSE_SIGNING_KEYS_DIR must name the folder of the Ed25519 keys" in result.stderr
    assert "SECRET_KEY" not in result.stderr.split("Refusing to start in production")[1]

    assert "holds no signing key" in signing_key_refusal(str(tmp_path))
    assert "holds no signing key" in signing_key_refusal(str(tmp_path / "missing"))


def test_production_refuses_a_key_others_can_read_or_that_is_no_ed25519_key(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    key_file = tmp_path / "license-1.pem"
    key_file.write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key_file.chmod(0o644)
    assert f"readable by the app's user alone (chmod 600 {key_file})" in signing_key_refusal(str(tmp_path))
    key_file.chmod(0o600)
    ProductionConfig.check({**PRODUCTION, "LICENSE_SIGNING_KEYS_DIR": str(tmp_path)})  # an openssl-made key

    other = tmp_path / "license-2.pem"
    other.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    other.chmod(0o600)
    assert "license-2.pem is not an Ed25519 private key" in signing_key_refusal(str(tmp_path))


def test_development_keeps_its_signing_keys_in_the_instance_folder():
    assert config_for("development").LICENSE_SIGNING_KEYS_DIR == str(INSTANCE_DIR / "license-keys")
