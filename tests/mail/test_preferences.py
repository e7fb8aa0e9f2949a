"""Mail preferences: what a person may turn off (sale notices, marketing), read and changed
through /api/v1/me/mail-preferences, with clear answers to anything else."""

from __future__ import annotations

import threading

import requests

from tests.conftest import postgres_only

SWITCH_ERROR = "Use true (send these mails) or false (do not)."


def test_sale_notices_are_on_and_marketing_off_until_their_owner_says_otherwise(client, signed_in):
    headers = signed_in()
    assert client.get("/api/v1/me/mail-preferences", headers=headers).json == {
        "sale_notices": True, "marketing": False}
    changed = client.patch("/api/v1/me/mail-preferences", json={"marketing": True}, headers=headers)
    assert changed.status_code == 200
    assert changed.json == {"sale_notices": True, "marketing": True}  # what was left out stays
    changed = client.patch("/api/v1/me/mail-preferences", json={"sale_notices": False}, headers=headers)
    assert client.get("/api/v1/me/mail-preferences", headers=headers).json == {
        "sale_notices": False, "marketing": True}


def test_each_person_has_their_own_preferences(client, signed_in):
    ann, bo = signed_in("ann@example.com"), signed_in("bo@example.com")
    client.patch("/api/v1/me/mail-preferences", json={"sale_notices": False}, headers=ann)
    assert client.get("/api/v1/me/mail-preferences", headers=bo).json["sale_notices"] is True


def test_anything_but_true_or_false_is_refused_in_words(client, signed_in):
    headers = signed_in()
    for value in ("no", 0, 1, None, "false", []):
        answer = client.patch("/api/v1/me/mail-preferences", json={"sale_notices": value}, headers=headers)
        assert answer.status_code == 422, value
        assert answer.json["error"]["code"] == "validation_failed"
        assert answer.json["error"]["details"]["sale_notices"] == [SWITCH_ERROR], value
    empty = client.patch("/api/v1/me/mail-preferences", json={}, headers=headers)
    assert empty.status_code == 422
    assert empty.json["error"]["details"]["_body"] == [
        "Send at least one of: sale_notices, marketing (true or false)."]
    unknown = client.patch("/api/v1/me/mail-preferences", json={"security": False}, headers=headers)
    assert unknown.status_code == 422 and "security" in unknown.json["error"]["details"]
    not_json = client.patch("/api/v1/me/mail-preferences", data="sale_notices=false", headers=headers,
                            content_type="application/x-www-form-urlencoded")
    assert not_json.status_code == 415 and "error" in not_json.json
    assert client.get("/api/v1/me/mail-preferences", headers=headers).json["sale_notices"] is True


def test_only_the_signed_in_owner_reads_or_changes_them(client):
    assert client.get("/api/v1/me/mail-preferences").status_code == 401
    assert client.patch("/api/v1/me/mail-preferences", json={"marketing": True}).status_code == 401


def test_the_preferences_are_in_the_api_spec(client):
    spec = client.get("/api/v1/openapi.json").json
    path = spec["paths"]["/api/v1/me/mail-preferences"]
    assert {"get", "patch"} <= set(path)
    assert "requestBody" in path["patch"] and "422" in path["patch"]["responses"]
    schemas = spec["components"]["schemas"]
    assert {"sale_notices", "marketing"} <= set(schemas["MailPreferences"]["properties"])


@postgres_only("concurrent changes")
def test_two_devices_changing_different_preferences_at_once_both_keep_their_change(client, signed_in, live_server):
    headers = signed_in()
    changes = [{"sale_notices": False}, {"marketing": True}] * 4
    barrier = threading.Barrier(len(changes))
    statuses: list[int] = []

    def change(body: dict) -> None:
        barrier.wait()
        statuses.append(requests.patch(f"{live_server}/api/v1/me/mail-preferences", json=body, headers=headers,
                                       timeout=30).status_code)

    threads = [threading.Thread(target=change, args=(body,)) for body in changes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * len(changes)
    # Each request writes only the preference it names: none undoes the other's.
    assert client.get("/api/v1/me/mail-preferences", headers=headers).json == {
        "sale_notices": False, "marketing": True}
