"""The audit log names people and beats, not only their ids: the acting admin's name and
email, a beat's title, an account's name and email, a report's beat, in the JSON pages and
in the CSV export (whose id columns stay)."""

from __future__ import annotations

import csv
import io

import pytest

from marketplace.accounts.models import Role


@pytest.fixture
def named_history(client, make_user, headers_for, make_beat, report):
    """An admin with a name in any script takes a beat down, strikes its owner and dismisses a
    report on another beat. Returns (admin id, owner id, taken-down beat, reported beat, report id)."""
    admin_id = make_user(Role.ADMIN, "Zoë Ödegaard 管理员 🛡")
    admin_headers = headers_for(admin_id)
    owner_id = make_user(Role.BEATMAKER, "Nova Beats")
    reporter = headers_for(make_user(Role.ARTIST, "Ann Artist"))
    taken, reported = make_beat(owner_id, title="Night Drive"), make_beat(owner_id, title="Día de Sol ☀")
    assert client.post(f"/api/v1/admin/beats/{taken}/takedown", json={"reason": "Copied."},
                       headers=admin_headers).status_code == 200
    assert client.post(f"/api/v1/admin/users/{owner_id}/strike", json={"reason": "Repeat offender."},
                       headers=admin_headers).status_code == 200
    report_id = report(reported, reporter).json["id"]
    assert client.post(f"/api/v1/admin/reports/{report_id}/resolve",
                       json={"action": "dismiss", "note": "Fine."}, headers=admin_headers).status_code == 200
    return admin_id, admin_headers, owner_id, taken, reported, report_id


def admin_email(client, headers, user_id):
    return client.get(f"/api/v1/admin/users/{user_id}", headers=headers).json["email"]


def test_log_entries_name_the_admin_the_beat_the_account_and_the_reported_beat(client, named_history):
    admin_id, headers, owner_id, taken, _reported, report_id = named_history
    response = client.get("/api/v1/admin/audit-log", headers=headers)
    assert response.status_code == 200, response.json
    entries = {entry["action"]: entry for entry in response.json["items"]}
    email = admin_email(client, headers, admin_id)
    for entry in entries.values():
        assert entry["actor_id"] == admin_id
        assert entry["actor_name"] == "Zoë Ödegaard 管理员 🛡" and entry["actor_email"] == email
    takedown = entries["beat.takedown"]
    assert (takedown["target_id"], takedown["target_name"]) == (taken, "Night Drive")
    assert takedown["target_email"] is None
    strike = entries["user.strike"]
    assert strike["target_id"] == owner_id and strike["target_name"] == "Nova Beats"
    assert strike["target_email"] == admin_email(client, headers, owner_id)
    dismissal = entries["report.dismiss"]
    assert dismissal["target_id"] == report_id and dismissal["target_name"] == "Día de Sol ☀"


def test_entries_by_the_system_name_no_one(client, app, make_user, headers_for, make_beat):
    from marketplace.catalog import services as catalog
    from marketplace.db import db
    from marketplace.moderation import beats
    from marketplace.moderation.audit import SYSTEM

    headers = headers_for(make_user(Role.ADMIN, "Admin"))
    beat_id = make_beat(make_user(Role.BEATMAKER, "Owner"), title="Quiet One")
    with app.app_context():
        beats.take_down(catalog.get_beat(beat_id), SYSTEM, "Found by a scan.")
        db.session.commit()
    [entry] = client.get("/api/v1/admin/audit-log?actor_kind=system", headers=headers).json["items"]
    assert entry["actor_name"] is None and entry["actor_email"] is None
    assert entry["target_name"] == "Quiet One"


def test_the_csv_export_keeps_the_ids_and_adds_the_names(client, named_history):
    admin_id, headers, owner_id, taken, _reported, report_id = named_history
    response = client.get("/api/v1/admin/audit-log.csv", headers=headers)
    assert response.status_code == 200
    reader = csv.DictReader(io.StringIO(response.get_data(as_text=True)))
    assert reader.fieldnames == [
        "id", "created_at", "actor_kind", "actor_id", "actor_name", "actor_email", "action", "target_type",
        "target_id", "target_name", "target_email", "reason", "before", "after", "request_id"]
    rows = {row["action"]: row for row in reader}
    takedown, strike, dismissal = rows["beat.takedown"], rows["user.strike"], rows["report.dismiss"]
    email = admin_email(client, headers, admin_id)
    assert {(row["actor_id"], row["actor_name"], row["actor_email"]) for row in rows.values()} == {
        (admin_id, "Zoë Ödegaard 管理员 🛡", email)}
    assert (takedown["target_id"], takedown["target_name"]) == (taken, "Night Drive")
    assert takedown["target_email"] == ""
    assert (strike["target_id"], strike["target_name"]) == (owner_id, "Nova Beats")
    assert strike["target_email"] == admin_email(client, headers, owner_id)
    assert (dismissal["target_id"], dismissal["target_name"]) == (report_id, "Día de Sol ☀")


def test_a_long_export_names_every_entry(client, app, make_user, headers_for, make_beat):
    """More entries than one batch of names: each row still carries its own names."""
    from marketplace.catalog import services as catalog
    from marketplace.db import db
    from marketplace.moderation import beats
    from marketplace.moderation.audit import SYSTEM
    from marketplace.moderation.listings import CSV_BATCH

    headers = headers_for(make_user(Role.ADMIN, "Admin"))
    owner = make_user(Role.BEATMAKER, "Owner")
    titles = [f"Beat nº {index}" for index in range(CSV_BATCH + 3)]
    ids = [make_beat(owner, title=title) for title in titles]
    with app.app_context():
        for beat_id in ids:
            beats.take_down(catalog.get_beat(beat_id), SYSTEM, "Found by a scan.")
        db.session.commit()
    export = client.get("/api/v1/admin/audit-log.csv?action=beat.takedown", headers=headers)
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [(row["target_id"], row["target_name"]) for row in rows] == list(zip(ids, titles))


def test_a_report_shows_its_beats_preview(client, make_user, headers_for, make_beat, report):
    headers = headers_for(make_user(Role.ADMIN, "Admin"))
    beat_id = make_beat(make_user(Role.BEATMAKER, "Owner"), title="Loud One")
    report_id = report(beat_id, headers_for(make_user(Role.ARTIST, "Ann"))).json["id"]
    beat = client.get(f"/api/v1/admin/reports/{report_id}", headers=headers).json["beat"]
    assert beat["preview_url"] == client.get(f"/api/v1/beats/{beat_id}").json["preview_url"]
    assert beat["preview_url"].startswith(f"/api/v1/beats/{beat_id}/preview?v=")
    listed = client.get("/api/v1/admin/reports", headers=headers).json["items"]
    assert [item["beat"]["preview_url"] for item in listed] == [beat["preview_url"]]
