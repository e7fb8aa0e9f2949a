"""Mail settings: checked when the app starts, and production refuses mail nobody can answer."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from config import PROJECT_ROOT, ConfigurationError, ProductionConfig, config_for
from tests.conftest import production_signing_keys

PRODUCTION = {"SECRET_KEY": "k" * 48, "DATABASE_URL": "postgresql+psycopg://db/x", "REDIS_URL": "redis://r/0",
              "STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x",
              "PUBLIC_BASE_URL": "https://beats.example", "CONTRACT_GOVERNING_LAW": "the laws of Ireland",
              "MAIL_BACKEND": "smtp", "MAIL_FROM": "Beat marketplace <no-reply@beats.example>",
              "MAIL_REPLY_TO": "help@beats.example", "SMTP_HOST": "smtp.beats.example",
              "SMTP_SECURITY": "starttls", "LICENSE_SIGNING_KEYS_DIR": production_signing_keys()}


def refusal(**changes) -> str:
    with pytest.raises(ConfigurationError) as refused:
        ProductionConfig.check({**PRODUCTION, **changes})
    return str(refused.value)


def test_production_starts_with_a_reply_to_for_a_no_reply_sender():
    ProductionConfig.check(PRODUCTION)
    ProductionConfig.check({**PRODUCTION, "MAIL_FROM": "Beat marketplace <hello@beats.example>",
                            "MAIL_REPLY_TO": None})


@pytest.mark.parametrize("sender", ["no-reply@beats.example", "Store <noreply@beats.example>",
                                    "DoNotReply@beats.example", "do_not_reply@beats.example"])
def test_production_refuses_a_no_reply_sender_without_a_reply_to(sender):
    assert "MAIL_REPLY_TO must name a mailbox someone reads" in refusal(MAIL_FROM=sender, MAIL_REPLY_TO=None)
    assert "MAIL_REPLY_TO must name a mailbox someone reads" in refusal(MAIL_FROM=sender,
                                                                         MAIL_REPLY_TO="noreply@beats.example")


def test_production_refuses_the_outbox_folder_and_the_development_sender():
    message = refusal(MAIL_BACKEND="log", MAIL_FROM="Beat marketplace <no-reply@localhost>")
    assert "MAIL_BACKEND must be smtp" in message
    assert "MAIL_FROM must be an address at the store's own domain" in message


def test_production_refuses_unencrypted_smtp_except_to_this_machine():
    assert "SMTP_SECURITY=none" in refusal(SMTP_SECURITY="none")
    ProductionConfig.check({**PRODUCTION, "SMTP_SECURITY": "none", "SMTP_HOST": "localhost"})


def test_production_refuses_a_user_name_without_a_password():
    assert "SMTP_PASSWORD must be set with SMTP_USERNAME" in refusal(SMTP_USERNAME="store")


@pytest.mark.parametrize("settings, words", [
    ({"SMTP_SECURITY": "ssl"}, "SMTP_SECURITY must be starttls"),
    ({"MAIL_BACKEND": "sendmail"}, "MAIL_BACKEND must be one of log, smtp"),
    ({"SMTP_TIMEOUT_SECONDS": 0}, "SMTP_TIMEOUT_SECONDS must be more than 0"),
    ({"MAIL_FROM": "the store"}, "MAIL_FROM must be one email address"),
    ({"MAIL_REPLY_TO": "a@b.example, c@d.example"}, "MAIL_REPLY_TO must be one email address"),
    ({"MAIL_REPLY_TO": "help@beats.example\r\nBcc: x@y.example"}, "MAIL_REPLY_TO must be one email address"),
    ({"SMTP_CA_FILE": "/nowhere/ca.pem"}, "SMTP_CA_FILE names no readable file"),
])
def test_every_profile_refuses_mail_settings_that_cannot_work(settings, words):
    with pytest.raises(ConfigurationError, match=words):
        config_for("development").check(settings)


@pytest.mark.parametrize("environment, port", [({"SMTP_SECURITY": "tls"}, "465"), ({"SMTP_SECURITY": "none"}, "25"),
                                               ({}, "587"), ({"SMTP_SECURITY": "tls", "SMTP_PORT": "2525"}, "2525")])
def test_the_port_follows_the_security(environment, port):
    clean = {key: value for key, value in os.environ.items() if not key.startswith("SMTP_")}
    read = subprocess.run([sys.executable, "-c", "import config; print(config.Config.SMTP_PORT)"],
                          env={**clean, **environment}, cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=60, check=True)
    assert read.stdout.strip() == port
