from __future__ import annotations

import json
import logging

from marketplace.observability import JsonLogFormatter, RequestIdFilter


def test_request_id_is_generated_and_returned(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert len(first) == 32 and first != second


def test_a_plain_request_id_from_the_client_is_honoured(client):
    response = client.get("/healthz", headers={"X-Request-ID": "edge-7f3a:42"})
    assert response.headers["X-Request-ID"] == "edge-7f3a:42"


def test_a_hostile_request_id_is_replaced(client):
    for hostile in ["x" * 500, 'a"b', "line\\nbreak", "<script>"]:
        returned = client.get("/healthz", headers={"X-Request-ID": hostile}).headers["X-Request-ID"]
        assert returned != hostile and len(returned) == 32


def test_one_structured_log_line_per_request(client, caplog, signed_in):
    headers = signed_in()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="marketplace.requests"):
        client.get("/api/v1/me?token=do-not-log", headers={**headers, "X-Request-ID": "rid-1"})
    lines = [r for r in caplog.records if r.name == "marketplace.requests"]
    assert len(lines) == 1
    record = lines[0]
    assert record.request_id == "rid-1"
    assert record.method == "GET" and record.path == "/api/v1/me" and record.status == 200
    assert record.user_id.startswith("usr_")
    assert record.duration_ms >= 0
    formatted = JsonLogFormatter().format(record)
    assert "\n" not in formatted
    entry = json.loads(formatted)
    assert entry["event"] == "request" and entry["request_id"] == "rid-1"
    # The query string may hold secrets; it is never logged.
    assert "do-not-log" not in formatted


def test_formatter_keeps_exceptions_on_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "failed", (),
                                                   sys.exc_info())
    RequestIdFilter().filter(record)
    line = JsonLogFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] is None
    assert "ValueError: boom" in entry["exception"]


def test_passwords_and_tokens_never_reach_the_logs(client, caplog):
    with caplog.at_level(logging.DEBUG):
        client.post("/api/v1/auth/register", json={"email": "ann@example.com",
                                                   "password": "hunter2-hunter2",
                                                   "display_name": "Ann", "account_type": "artist"})
        token = client.post("/api/v1/auth/login", json={"email": "ann@example.com",
                                                        "password": "hunter2-hunter2"}).json["access_token"]
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    text = "\n".join(JsonLogFormatter().format(r) for r in caplog.records)
    assert "hunter2-hunter2" not in text
    assert token not in text
