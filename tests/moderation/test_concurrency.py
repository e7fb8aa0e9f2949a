"""Races settled by the database: concurrent reports of one user, concurrent strikes."""

from __future__ import annotations

import threading

import requests
from sqlalchemy import func, select

from marketplace.db import db
from marketplace.moderation.models import AuditEntry, Report
from tests.conftest import postgres_only

pytestmark = postgres_only("concurrent transactions and row locks")


def race(count, call):
    """Run call(index) in `count` threads released at once; answers the status codes."""
    barrier = threading.Barrier(count)
    statuses: list[int] = []
    lock = threading.Lock()

    def run(index):
        barrier.wait()
        status = call(index).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(statuses)


def test_concurrent_reports_of_one_user_open_one_report(app, live_server, owner, artist, make_beat):
    beat = make_beat(owner[0])
    statuses = race(6, lambda _i: requests.post(f"{live_server}/api/v1/beats/{beat}/reports", timeout=30,
                                                json={"reason": "spam"}, headers=artist[1]))
    assert statuses == [201] + [409] * 5
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Report)) == 1


def test_concurrent_strikes_suspend_exactly_once(app, live_server, owner, admin, monkeypatch):
    monkeypatch.setitem(app.config, "MODERATION_STRIKES_TO_SUSPEND", 3)
    url = f"{live_server}/api/v1/admin/users/{owner[0]}/strike"
    statuses = race(5, lambda i: requests.post(url, timeout=30, json={"reason": f"Strike {i}."}, headers=admin[1]))
    assert statuses == [200] * 5
    with app.app_context():
        actions = dict(db.session.execute(select(AuditEntry.action, func.count()).group_by(AuditEntry.action)).all())
        counts = sorted(entry.after["active_strikes"] for entry in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.strike")))
    assert actions == {"user.strike": 5, "user.auto_suspend": 1}
    assert counts == [1, 2, 3, 4, 5]  # each strike saw the ones before it


def test_concurrent_answers_to_one_report_resolve_it_once(app, live_server, owner, artist, make_beat, admin, report):
    report_id = report(make_beat(owner[0]), artist[1]).json["id"]
    url = f"{live_server}/api/v1/admin/reports/{report_id}/resolve"
    statuses = race(4, lambda i: requests.post(url, timeout=30, headers=admin[1],
                                               json={"action": "takedown" if i % 2 else "dismiss", "note": "Done."}))
    assert statuses == [200, 409, 409, 409]
    with app.app_context():
        report_actions = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.target_id == report_id))
    assert report_actions == 1
