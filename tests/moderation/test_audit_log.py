"""The audit log: written in the transaction of each action, never changed, filterable and
exportable as CSV; checkout's automatic refunds and admin refunds are in it too."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import delete, select, text, update

from marketplace.accounts import services as accounts
from marketplace.catalog import services as catalog
from marketplace.checkout.holds import HOLD_GRACE
from marketplace.checkout.models import ExclusiveHold, Order
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.moderation import beats
from marketplace.moderation.audit import CLI, AuditLogIsAppendOnly
from marketplace.moderation.models import AuditEntry
from tests.conftest import postgres_only


def test_an_action_and_its_entry_commit_or_roll_back_together(app, owner, make_beat, audit_entries):
    beat_id = make_beat(owner[0])
    with app.app_context():
        beats.take_down(catalog.get_beat(beat_id), CLI, "Checking.")
        db.session.rollback()
    with app.app_context():
        assert catalog.get_beat(beat_id).status == "published"
    assert audit_entries() == []
    with app.app_context():
        beats.take_down(catalog.get_beat(beat_id), CLI, "Checking.")
        db.session.commit()
    [entry] = audit_entries()
    assert (entry["action"], entry["actor_kind"], entry["target_type"], entry["target_id"]) == (
        "beat.takedown", "cli", "beat", beat_id)
    assert entry["before"]["status"] == "published" and entry["after"]["status"] == "taken_down"


def test_entries_cannot_be_changed_or_deleted_through_the_session(app, owner, make_beat, audit_entries):
    make_beat_id = make_beat(owner[0])
    with app.app_context():
        beats.take_down(catalog.get_beat(make_beat_id), CLI, "Original reason.")
        db.session.commit()
    attempts = [
        lambda entry: setattr(entry, "reason", "Rewritten."),
        lambda entry: db.session.delete(entry),
        lambda entry: db.session.execute(update(AuditEntry).values(reason="Rewritten.")),
        lambda entry: db.session.execute(delete(AuditEntry)),
    ]
    for attempt in attempts:
        with app.app_context():
            entry = db.session.scalar(select(AuditEntry))
            with pytest.raises(AuditLogIsAppendOnly):
                attempt(entry)
                db.session.flush()
            db.session.rollback()
    assert [e["reason"] for e in audit_entries()] == ["Original reason."]


@postgres_only("the append-only trigger")
@pytest.mark.parametrize("statement", ["UPDATE audit_log SET reason = 'Rewritten.'", "DELETE FROM audit_log"])
def test_postgresql_refuses_changes_to_entries_whatever_the_client(app, owner, make_beat, statement):
    from sqlalchemy.exc import DBAPIError

    with app.app_context():
        beats.take_down(catalog.get_beat(make_beat(owner[0])), CLI, "Original reason.")
        db.session.commit()
        with db.engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text(statement))
        assert db.session.scalar(select(AuditEntry.reason)) == "Original reason."


def test_the_api_offers_no_way_to_change_the_log(client, admin_headers):
    for method in ("put", "patch", "delete", "post"):
        response = getattr(client, method)("/api/v1/admin/audit-log", json={}, headers=admin_headers)
        assert response.status_code == 405, method


@pytest.fixture
def history(app, client, owner, artist, make_beat, admin, report):
    """A few admin actions: a takedown, a strike, a dismissed report. Returns the beat ids."""
    first, second = make_beat(owner[0]), make_beat(owner[0])
    client.post(f"/api/v1/admin/beats/{first}/takedown", json={"reason": "=HYPERLINK(\"http://x\")"},
                headers=admin[1])
    client.post(f"/api/v1/admin/users/{owner[0]}/strike", json={"reason": "Repeat offender."}, headers=admin[1])
    report_id = report(second, artist[1]).json["id"]
    client.post(f"/api/v1/admin/reports/{report_id}/resolve", json={"action": "dismiss", "note": "Fine."},
                headers=admin[1])
    return first, second


def test_the_log_is_filterable_and_pages_newest_first(client, owner, admin, history):
    first, _second = history

    def actions(query=""):
        response = client.get(f"/api/v1/admin/audit-log{query}", headers=admin[1])
        assert response.status_code == 200, response.json
        return [item["action"] for item in response.json["items"]]

    assert actions() == ["report.dismiss", "user.strike", "beat.takedown"]
    assert actions("?action=user.strike") == ["user.strike"]
    assert actions(f"?target_type=beat&target_id={first}") == ["beat.takedown"]
    assert actions(f"?actor_id={admin[0]}") == actions()
    assert actions("?actor_kind=system") == []
    assert actions("?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00%2B02:00") == []
    assert actions(f"?since={(utcnow() - dt.timedelta(minutes=5)).isoformat().replace('+', '%2B')}") == actions()
    page = client.get("/api/v1/admin/audit-log?limit=2", headers=admin[1]).json
    rest = client.get(f"/api/v1/admin/audit-log?limit=2&cursor={page['next_cursor']}", headers=admin[1]).json
    assert [i["action"] for i in page["items"] + rest["items"]] == actions() and rest["next_cursor"] is None
    entry = page["items"][1]
    assert set(entry) == {"id", "created_at", "actor_kind", "actor_id", "actor_name", "actor_email",
                          "action", "target_type", "target_id", "target_name", "target_email", "reason",
                          "before", "after", "request_id"}
    assert entry["before"]["active_strikes"] == 0 and entry["after"]["active_strikes"] == 1


@pytest.mark.parametrize("query", ["?since=2026-01-01T00:00:00", "?since=yesterday", "?actor_kind=robot",
                                   "?since=0001-01-01T00:00:00%2B14:00", "?colour=red", "?limit=201"])
def test_bad_log_filters_are_422(client, admin_headers, query):
    assert client.get(f"/api/v1/admin/audit-log{query}", headers=admin_headers).status_code == 422
    assert client.get(f"/api/v1/admin/audit-log.csv{query}", headers=admin_headers).status_code == 422


def test_the_log_exports_as_csv_oldest_first_and_safe_for_spreadsheets(client, admin, history):
    response = client.get("/api/v1/admin/audit-log.csv", headers=admin[1])
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["action"] for row in rows] == ["beat.takedown", "user.strike", "report.dismiss"]
    assert rows[0]["reason"] == "'=HYPERLINK(\"http://x\")"  # never run as a formula
    assert rows[0]["actor_id"] == admin[0] and '"status": "taken_down"' in rows[0]["after"]
    filtered = client.get("/api/v1/admin/audit-log.csv?action=user.strike", headers=admin[1])
    assert [row["action"] for row in csv.DictReader(io.StringIO(filtered.get_data(as_text=True)))] == [
        "user.strike"]
    assert client.get("/api/v1/admin/audit-log.csv?actor_kind=robot", headers=admin[1]).status_code == 422


def test_admin_and_automatic_refunds_of_checkout_are_recorded(app, client, payments, shop, new_buyer, checkout,
                                                             session_of, order_of, admin, audit_entries):
    from tests.checkout.conftest import wait_for

    exclusive = shop["tiers"]["Exclusive"]["id"]
    _late, late_headers = new_buyer("Late")
    _other, other_headers = new_buyer("Other")
    late = checkout(late_headers, [(shop["beat_id"], exclusive)]).json["order_id"]
    with app.app_context():  # the late buyer's hold ran out, and its grace too, while the page stayed open
        db.session.scalar(select(ExclusiveHold).where(ExclusiveHold.order_id == late)).expires_at = \
            utcnow() - HOLD_GRACE - dt.timedelta(seconds=1)
        db.session.commit()
    other_response = checkout(other_headers, [(shop["beat_id"], exclusive)])
    assert other_response.status_code == 201, other_response.json
    other = other_response.json["order_id"]
    payments.complete(session_of(other), deliver="sync")
    payments.complete(session_of(late), deliver="sync")
    assert order_of(late, late_headers)["status"] == "refunded"
    [auto] = audit_entries(action="order.auto_refund")
    assert (auto["actor_kind"], auto["target_id"], auto["reason"]) == ("system", late, "exclusive_unavailable")
    assert auto["after"]["item_status"] == "refunded" and auto["after"]["amount"] > 0

    refunded = client.post(f"/api/v1/orders/{other}/refund", headers=admin[1])
    assert refunded.status_code == 202
    wait_for(lambda: order_of(other, other_headers)["status"] == "refunded")
    [request] = audit_entries(action="order.refund_request")
    assert (request["actor_kind"], request["actor_id"], request["target_id"]) == ("admin", admin[0], other)


def test_a_mismatched_payment_refunded_automatically_is_recorded(app, payments, shop, buyer, checkout, session_of,
                                                                order_of, audit_entries):
    started = checkout(buyer[1], [(shop["beat_id"], shop["tiers"]["Basic"]["id"])]).json["order_id"]
    with app.app_context():  # our order now asks for more than the payment page charged
        order = db.session.get(Order, started)
        order.subtotal_amount += 100
        order.total_amount += 100
        db.session.commit()
    payments.complete(session_of(started), deliver="sync")
    assert order_of(started, buyer[1])["status_reason"] == "payment_mismatch"
    [auto] = audit_entries(action="order.auto_refund")
    assert (auto["actor_kind"], auto["target_id"], auto["reason"]) == ("system", started, "payment_mismatch")
    assert audit_entries(action="order.refund_request") == []  # the refund job asks Stripe; no admin did


def test_entries_name_the_admin_and_the_request(client, owner, make_beat, admin, audit_entries, app):
    beat = make_beat(owner[0])
    response = client.post(f"/api/v1/admin/beats/{beat}/takedown", json={"reason": "Spam."},
                           headers={**admin[1], "X-Request-ID": "req-takedown-1"})
    assert response.status_code == 200
    [entry] = audit_entries()
    assert entry["actor_id"] == admin[0] and entry["request_id"] == "req-takedown-1"
    with app.app_context():
        assert accounts.get_user(admin[0]).has_role("admin")


def test_entries_of_one_millisecond_keep_the_order_they_were_written_in():
    from marketplace.common.ids import new_ordered_id

    ids = [new_ordered_id("aud") for _ in range(2000)]  # many share a millisecond
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
