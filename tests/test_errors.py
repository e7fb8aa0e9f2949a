"""Every error is the one JSON envelope, with the right status and a stable code."""

from __future__ import annotations

import logging

import pytest
import requests

from tests.conftest import make_test_app


def assert_envelope(response, status, code):
    assert response.status_code == status, response.data[:300]
    assert response.mimetype == "application/json"
    body = response.json
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_unknown_route_is_404_envelope(client):
    assert_envelope(client.get("/api/v1/no-such-thing"), 404, "not_found")
    assert_envelope(client.get("/no-such-page"), 404, "not_found")


def test_wrong_method_is_405_with_allow_header(client):
    response = client.put("/api/v1/me", json={})
    assert_envelope(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_malformed_json_is_400(client):
    response = client.post("/api/v1/auth/login", data='{"email": ', content_type="application/json")
    assert_envelope(response, 400, "malformed_json")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/xml"])
def test_non_json_bodies_are_415(client, content_type):
    response = client.post("/api/v1/auth/login", data="email=a&password=b", content_type=content_type)
    error = assert_envelope(response, 415, "unsupported_media_type")
    assert error["details"]["expected"] == "application/json"


def test_ten_megabyte_json_body_is_413(client):
    body = '{"email": "' + "a" * (10 * 1024 * 1024) + '", "password": "x"}'
    response = client.post("/api/v1/auth/register", data=body, content_type="application/json")
    assert_envelope(response, 413, "payload_too_large")


def test_large_chunked_json_body_is_413_while_reading(live_server):
    """Without Content-Length (chunked upload) the limit is enforced as the body is read."""
    def chunks():
        yield b'{"email": "'
        for _ in range(2048):
            yield b"a" * 1024
        yield b'", "password": "x"}'

    response = requests.post(f"{live_server}/api/v1/auth/login", data=chunks(), timeout=30,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_validation_errors_are_422_with_per_field_details(client):
    error = assert_envelope(client.post("/api/v1/auth/register", json={"email": "x"}), 422,
                            "validation_failed")
    assert {"email", "password", "display_name", "account_type"} <= set(error["details"])
    assert all(isinstance(messages, list) for messages in error["details"].values())


def test_unknown_fields_are_rejected(client):
    error = assert_envelope(client.post("/api/v1/auth/login",
                                        json={"email": "a@b.co", "password": "x", "remember": True}),
                            422, "validation_failed")
    assert error["details"]["remember"] == ["Unknown field."]


def test_unexpected_exceptions_are_500_logged_with_request_id_and_never_leak(database_factory,
                                                                             caplog):
    app = make_test_app(database_factory())

    @app.get("/api/v1/_explode")
    def explode():
        raise RuntimeError("secret internal detail")

    client = app.test_client()
    with caplog.at_level(logging.ERROR, logger="marketplace.errors"):
        response = client.get("/api/v1/_explode", headers={"X-Request-ID": "req-boom-1"})
    error = assert_envelope(response, 500, "internal_error")
    assert error["details"] == {"request_id": "req-boom-1"}
    assert b"secret internal detail" not in response.data
    assert b"Traceback" not in response.data
    assert response.headers["X-Request-ID"] == "req-boom-1"
    records = [r for r in caplog.records if r.getMessage() == "unhandled_exception"]
    assert len(records) == 1
    assert records[0].request_id == "req-boom-1"
    assert records[0].exc_info and records[0].exc_info[0] is RuntimeError


def test_http_errors_raised_by_views_keep_the_envelope(database_factory):
    from werkzeug.exceptions import Conflict, Forbidden

    app = make_test_app(database_factory())

    @app.get("/api/v1/_forbidden")
    def forbidden():
        raise Forbidden()

    @app.get("/api/v1/_conflict")
    def conflict():
        raise Conflict()

    client = app.test_client()
    assert_envelope(client.get("/api/v1/_forbidden"), 403, "forbidden")
    assert_envelope(client.get("/api/v1/_conflict"), 409, "conflict")
