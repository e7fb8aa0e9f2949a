"""Inputs and situations that once crashed or slipped past a limit."""

from __future__ import annotations

import json
import threading

import pytest
import requests

from tests.conftest import DEFAULT_PASSWORD, login, make_test_app, production_signing_keys, register


@pytest.mark.parametrize("header", ["chunked", "Chunked", "CHUNKED"])
def test_chunked_bodies_keep_the_json_limit_and_type_check_whatever_the_case(live_server, header):
    big = b'{"email": "' + b"a" * (2 * 1024 * 1024) + b'", "password": "x"}'

    def chunks(data):
        for start in range(0, len(data), 65536):
            yield data[start:start + 65536]

    too_large = requests.post(f"{live_server}/api/v1/auth/login", data=chunks(big), timeout=30,
                              headers={"Content-Type": "application/json", "Transfer-Encoding": header})
    assert too_large.status_code == 413
    wrong_type = requests.post(f"{live_server}/api/v1/auth/login", data=chunks(b"email=a"), timeout=30,
                               headers={"Content-Type": "text/plain", "Transfer-Encoding": header})
    assert wrong_type.status_code == 415


@pytest.mark.parametrize("body", [
    '{"email": "a@example.com", "password": "\\ud800\\ud800\\ud800\\ud800\\ud800x"}',
    '{"email": "a\\u0000@example.com", "password": "whatever-pass"}',
    '{"email": "a@example.com", "password": "x", "display_name": "\\udfff", "account_type": "artist"}',
])
def test_unstorable_text_is_422(client, body):
    for path in ("/api/v1/auth/login", "/api/v1/auth/register"):
        response = client.post(path, data=body, content_type="application/json")
        assert response.status_code == 422, (path, response.json)
        assert response.json["error"]["code"] == "validation_failed"


def test_nul_in_a_query_string_is_422(client):
    response = client.get("/api/v1/beats?genre=tr%00ap")
    assert response.status_code == 422


@pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000, '{"email": ' + "9" * 5000 + "}"])
def test_pathological_json_is_400(client, body):
    response = client.post("/api/v1/auth/login", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_json"


def test_parallel_password_guesses_cannot_outrun_the_limit(live_server):
    requests.post(f"{live_server}/api/v1/auth/register", timeout=30, json={
        "email": "target@example.com", "password": DEFAULT_PASSWORD, "display_name": "T",
        "account_type": "artist"})
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def guess(index):
        barrier.wait()
        response = requests.post(f"{live_server}/api/v1/auth/login", timeout=30,
                                 json={"email": "target@example.com", "password": f"guess number {index}"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses.count(401) == 5  # the per-email budget, however parallel the guesses
    assert statuses.count(429) == 15


def test_a_guesser_elsewhere_does_not_lock_the_owner_out(database_factory):
    app = make_test_app(database_factory(), TRUSTED_PROXY_COUNT=1)
    from marketplace.db import db
    from marketplace.migrate import upgrade

    with app.app_context():
        upgrade(db.engine)
    client = app.test_client()
    register(client)
    attacker = {"X-Forwarded-For": "203.0.113.9"}
    for _ in range(8):
        client.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": "wrong guess"},
                    headers=attacker)
    assert client.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": "x" * 10},
                       headers=attacker).status_code == 429
    owner = client.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": DEFAULT_PASSWORD},
                        headers={"X-Forwarded-For": "198.51.100.7"})
    assert owner.status_code == 200


def test_registrations_are_rate_limited_per_address(database_factory):
    app = make_test_app(database_factory(), REGISTRATION_LIMIT_PER_ADDRESS="2 per hour")
    from marketplace.db import db
    from marketplace.migrate import upgrade

    with app.app_context():
        upgrade(db.engine)
    client = app.test_client()
    assert register(client, "a@example.com").status_code == 201
    assert register(client, "b@example.com").status_code == 201
    third = register(client, "c@example.com")
    assert third.status_code == 429 and "Retry-After" in third.headers


def test_one_mailbox_has_one_spelling(client):
    assert register(client, "ann@exämple.com").json["email"] == "ann@xn--exmple-cua.com"
    assert register(client, "Ann@XN--EXMPLE-CUA.com").status_code == 409
    for odd in ("ann@localhost", "ann@[127.0.0.1]"):
        assert register(client, odd).status_code == 422


def test_security_headers_and_no_store_for_tokens(client):
    register(client)
    response = login(client)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {response.json['access_token']}"})
    assert me.headers["Cache-Control"] == "no-store"


def test_logout_204_has_no_body(client, signed_in):
    response = client.post("/api/v1/auth/logout", headers=signed_in())
    assert response.status_code == 204 and response.data == b""


def test_demo_seed_refuses_production(tmp_path):
    import os
    import subprocess
    import sys

    from config import PROJECT_ROOT

    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": "s" * 48, "FLASK_APP": "marketplace",
           "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "REDIS_URL": "redis://127.0.0.1:1/0",
           "STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x",
           "PUBLIC_BASE_URL": "https://beats.example", "CONTRACT_GOVERNING_LAW": "the laws of Ireland",
           "MAIL_BACKEND": "smtp", "MAIL_FROM": "no-reply@beats.example",
           "MAIL_REPLY_TO": "help@beats.example", "LICENSE_SIGNING_KEYS_DIR": production_signing_keys()}
    result = subprocess.run([sys.executable, "-m", "flask", "seed", "demo"], env=env, cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "development only" in result.stderr


def test_an_unreachable_rate_limit_store_is_503_not_500(database_factory):
    app = make_test_app(database_factory(), RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    from marketplace.db import db
    from marketplace.migrate import upgrade

    with app.app_context():
        upgrade(db.engine)
    client = app.test_client()
    response = login(client)
    assert response.status_code == 503
    assert response.json["error"]["code"] == "rate_limiter_unavailable"
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["error"]["details"]["checks"]["rate_limits"] == "unreachable"


def test_the_spec_documents_error_answers(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    me = paths["/api/v1/me"]["get"]["responses"]
    assert {"401", "403"} <= set(me)
    assert me["401"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorEnvelope")
    login_doc = paths["/api/v1/auth/login"]["post"]["responses"]
    assert {"400", "401", "413", "415", "422", "429"} <= set(login_doc)
    assert "Retry-After" in login_doc["429"]["headers"]
    upload_doc = paths["/api/v1/beats"]["post"]["responses"]
    assert {"202", "401", "403", "413", "415", "422"} <= set(upload_doc)
    json.dumps(paths)  # serialisable
