"""GET /api/v1/codes: the codes the pages build their choices from, instead of copies."""

from __future__ import annotations


def test_lists_every_status_a_page_filters_by(client):
    answer = client.get("/api/v1/codes")
    assert answer.status_code == 200
    codes = answer.json
    assert codes["beat_statuses"] == ["processing", "published", "failed", "archived", "taken_down",
                                      "sold_exclusive"]
    assert codes["samples"] == ["none", "cleared", "uncleared"]
    assert codes["hold_causes"] == ["takedown", "suspension", "review"]
    assert codes["order_statuses"] == ["pending", "paid", "failed", "expired", "refunded", "disputed"]
    assert codes["license_statuses"] == ["active", "superseded", "revoked"]
    assert codes["transfer_statuses"] == ["pending", "paid", "failed"]
    assert codes["report_statuses"] == ["open", "dismissed", "taken_down"]
    assert "uncleared_sample" in codes["report_reasons"]
    assert codes["user_statuses"] == ["active", "suspended"]
    assert codes["roles"] == ["artist", "beatmaker", "admin"]


def test_credit_roles_carry_their_words_and_who_counts_as_a_producer(client):
    roles = {role["code"]: role for role in client.get("/api/v1/codes").json["credit_roles"]}
    assert roles["beatmaker"] == {"code": "beatmaker", "label": "Beat by", "producer": True}
    assert roles["co_producer"]["producer"] is True
    assert roles["songwriter"] == {"code": "songwriter", "label": "Written by", "producer": False}
    assert len(roles) == 9


def test_is_public_and_kept_by_caches_for_an_hour(client):
    answer = client.get("/api/v1/codes", headers={"Authorization": "Bearer not-a-token"})
    assert answer.status_code == 200  # reads no token
    assert "public" in answer.headers["Cache-Control"]
    assert "max-age=3600" in answer.headers["Cache-Control"]


def test_is_documented_with_its_schema(client):
    spec = client.get("/api/v1/openapi.json").json
    response = spec["paths"]["/api/v1/codes"]["get"]["responses"]["200"]
    schema = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    properties = spec["components"]["schemas"][schema]["properties"]
    assert {"beat_statuses", "order_statuses", "license_statuses", "transfer_statuses", "credit_roles"} <= set(properties)
