"""The outbox: a queued job is a row written with the change that causes it, handed over after
the commit, handed over again by the relay until it is done, and run once however often it is
handed over; a dedupe key makes queuing one event twice a no-op."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update

from marketplace.accounts.models import Role
from marketplace.common.clock import utcnow
from marketplace.db import db
from marketplace.jobs import outbox, queue
from marketplace.jobs.celery_app import make_celery
from marketplace.jobs.failures import FailedJob
from marketplace.jobs.outbox import OutboxJob
from marketplace.migrate import upgrade
from tests.conftest import make_test_app, postgres_only, register

RECORD = "tests.outbox_record"


def register_job(name: str, function, queue_name: str = queue.DEFAULT) -> None:
    queue.job(name, queue=queue_name)(function)


def unregister_job(name: str) -> None:
    queue.JOBS.pop(name, None)
    queue.JOB_QUEUES.pop(name, None)


@pytest.fixture
def recorded():
    """A job that notes the value it was given, each time it runs."""
    ran: list[str] = []
    register_job(RECORD, ran.append)
    yield ran
    unregister_job(RECORD)


def rows(app) -> list[tuple]:
    with app.app_context():
        ordered = select(OutboxJob).order_by(OutboxJob.created_at, OutboxJob.id)
        found = [(row.job, row.args, row.dedupe_key, row.state, row.attempts)
                 for row in db.session.scalars(ordered)]
        db.session.remove()
        return found


def left_waiting(app, value: str) -> str:
    """A committed row that was never handed over: a process stopped right after its commit."""
    with app.app_context():
        row_id = outbox.add(RECORD, [value], None)
        db.session.commit()
        return row_id


def backdate(app, row_id: str, **ages: dt.timedelta) -> None:
    """Make a row's timestamps (dispatched_at, finished_at) lie that long in the past."""
    with app.app_context():
        db.session.execute(update(OutboxJob).where(OutboxJob.id == row_id)
                           .values(**{column: utcnow() - age for column, age in ages.items()}))
        db.session.commit()


def rows_id(app, value: str) -> str:
    with app.app_context():
        return next(row.id for row in db.session.scalars(select(OutboxJob)) if row.args == [value])


def relay(app, every_waiting_row: bool = False) -> int:
    with app.app_context():
        return queue.relay_outbox(every_waiting_row)


def mails_to(folder: Path, address: str) -> list[str]:
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            found.append(str(message["Subject"]))
    return found


# -- written with the change, run after the commit ----------------------------------------------

def test_a_queued_job_is_a_row_of_its_transaction_marked_done_once_it_ran(app, recorded):
    with app.app_context():
        queue.enqueue(RECORD, "x")
        assert rows(app) == []  # not committed yet: another connection sees nothing
        assert recorded == []
        db.session.commit()
    assert recorded == ["x"]
    assert rows(app) == [(RECORD, ["x"], None, "done", 1)]


def test_rolled_back_work_leaves_no_row_and_no_job(app, recorded):
    with app.app_context():
        queue.enqueue(RECORD, "rolled back")
        db.session.rollback()
        queue.enqueue(RECORD, "kept")
        try:
            with db.session.begin_nested():
                queue.enqueue(RECORD, "inside a refused savepoint", key="refused")
                raise RuntimeError("this step is refused")
        except RuntimeError:
            pass
        db.session.commit()
    assert recorded == ["kept"]
    assert rows(app) == [(RECORD, ["kept"], None, "done", 1)]
    with app.app_context():  # the refused savepoint's key was never taken
        queue.enqueue(RECORD, "the same key, later", key="refused")
        db.session.commit()
    assert recorded == ["kept", "the same key, later"]


def test_one_key_queued_twice_is_one_row_and_one_run(app, recorded, caplog):
    caplog.set_level(logging.INFO, logger="marketplace.jobs")
    with app.app_context():
        queue.enqueue(RECORD, "first", key="receipt:ord_1")
        queue.enqueue(RECORD, "same transaction", key="receipt:ord_1")
        db.session.commit()
        queue.enqueue(RECORD, "another transaction", key="receipt:ord_1")
        queue.enqueue(RECORD, "another key", key="receipt:ord_2")
        db.session.commit()
    assert recorded == ["first", "another key"]
    assert rows(app) == [(RECORD, ["first"], "receipt:ord_1", "done", 1),
                         (RECORD, ["another key"], "receipt:ord_2", "done", 1)]
    # The second and third were not even handed over: nothing reached the runner to be skipped.
    assert [record.message for record in caplog.records if record.message == "job_skipped"] == []


@postgres_only("concurrent transactions queuing one key")
def test_one_key_queued_by_concurrent_transactions_is_one_row_and_one_run(app, recorded):
    clients = 8
    start = threading.Barrier(clients)
    errors: list[BaseException] = []

    def queue_the_receipt(number: int) -> None:
        try:
            with app.app_context():
                db.session.connection()
                start.wait(30)
                queue.enqueue(RECORD, f"client {number}", key="receipt:ord_1")
                db.session.commit()
        except BaseException as error:  # noqa: BLE001 (reported in the test's thread)
            errors.append(error)

    threads = [threading.Thread(target=queue_the_receipt, args=(number,)) for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(recorded) == 1
    assert [(key, state) for _job, _args, key, state, _attempts in rows(app)] == [("receipt:ord_1", "done")]


def test_a_key_longer_than_the_column_is_kept_by_its_hash(app, recorded):
    long_key = "refund-receipt:ord_1:" + ",".join(f"item_{number:030d}" for number in range(20))
    with app.app_context():
        queue.enqueue(RECORD, "one", key=long_key)
        queue.enqueue(RECORD, "two", key=long_key)
        queue.enqueue(RECORD, "three", key=long_key[:-1] + "X")
        db.session.commit()
    assert recorded == ["one", "three"]


# -- claimed once, however often handed over -----------------------------------------------------

def test_a_row_handed_over_again_after_it_ran_does_not_run_again(app, recorded):
    with app.app_context():
        queue.enqueue(RECORD, "x")
        db.session.commit()
        row_id = db.session.scalar(select(OutboxJob.id))
    app.extensions["job_runner"].submit(RECORD, ("x",), row_id)  # a second delivery of the message
    assert recorded == ["x"]
    assert rows(app) == [(RECORD, ["x"], None, "done", 1)]


def test_the_relay_handing_over_a_row_still_waiting_for_its_thread_runs_it_once(database_factory, tmp_path,
                                                                                   recorded):
    app = make_test_app(database_factory(), OUTBOX_REDISPATCH_SECONDS=0)
    runner = queue.InProcessRunner(app, threads=1, buyer_threads=1, max_retries=0, backoff_seconds=0)
    app.extensions["job_runner"] = runner
    with app.app_context():
        upgrade(db.engine)
    gate = threading.Event()
    register_job("tests.hold_the_thread", lambda: gate.wait(60))
    try:
        runner.submit("tests.hold_the_thread", ())  # the only thread is busy: the row waits in the pool
        with app.app_context():
            queue.enqueue(RECORD, "once")
            db.session.commit()
        assert rows(app) == [(RECORD, ["once"], None, "pending", 0)]
        assert relay(app) == 1  # waiting, and handed over longer ago than 0 seconds: again
    finally:
        gate.set()
        runner.wait()
        unregister_job("tests.hold_the_thread")
    assert recorded == ["once"]
    assert rows(app) == [(RECORD, ["once"], None, "done", 1)]
    with app.app_context():
        db.engine.dispose()


@postgres_only("concurrent claims of one row")
def test_concurrent_deliveries_of_one_row_run_its_job_once(app, recorded):
    row_id = left_waiting(app, "x")
    deliveries = 8
    start = threading.Barrier(deliveries)
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            start.wait(30)
            queue.run_job(app, RECORD, ("x",), row_id)
        except BaseException as error:  # noqa: BLE001 (reported in the test's thread)
            errors.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(deliveries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert recorded == ["x"]
    assert rows(app) == [(RECORD, ["x"], None, "done", 1)]


# -- the relay --------------------------------------------------------------------------------------

def test_the_relay_hands_over_rows_never_handed_over_and_claims_whose_lease_ran_out(app, recorded):
    never = left_waiting(app, "never handed over")
    with app.app_context():
        outbox.mark_dispatched([never], dispatched=False)  # the broker was down at commit
    died = left_waiting(app, "its run died")
    with app.app_context():  # taken by a run whose process died an hour ago; its lease has run out
        assert outbox.claim(died, lease_seconds=-1)
    backdate(app, died, dispatched_at=dt.timedelta(hours=1))
    running = left_waiting(app, "running now")
    with app.app_context():
        assert outbox.claim(running, lease_seconds=3600)
    backdate(app, running, dispatched_at=dt.timedelta(hours=1))
    left_waiting(app, "handed over just now")
    assert relay(app) == 2  # the last was handed over less than OUTBOX_REDISPATCH_SECONDS ago
    assert sorted(recorded) == ["its run died", "never handed over"]
    assert relay(app) == 0
    assert relay(app, every_waiting_row=True) == 1  # as at start: whenever it was handed over
    assert sorted(recorded) == ["handed over just now", "its run died", "never handed over"]
    assert [(args, state, attempts) for _job, args, _key, state, attempts in rows(app)] == [
        (["never handed over"], "done", 1), (["its run died"], "done", 2), (["running now"], "running", 1),
        (["handed over just now"], "done", 1)]


def test_rows_a_stopped_process_left_waiting_go_out_soon_after_the_next_start(database_factory, recorded):
    """In-process, queued jobs live in the process's threads: the next start relays every
    waiting row, without waiting OUTBOX_REDISPATCH_SECONDS."""
    app = make_test_app(database_factory())
    with app.app_context():
        upgrade(db.engine)
    left_waiting(app, "queued before the restart")  # handed over to threads that are gone
    runner = queue.InProcessRunner(app, threads=1, buyer_threads=1, max_retries=0, backoff_seconds=0)
    app.extensions["job_runner"] = runner
    runner.relay_soon(0)  # what JOBS_BACKEND=thread starts with (a few seconds later)
    deadline = time.monotonic() + 60
    while rows(app)[0][3] != "done" and time.monotonic() < deadline:
        time.sleep(0.1)
    runner.wait()
    assert recorded == ["queued before the restart"]
    assert rows(app) == [(RECORD, ["queued before the restart"], None, "done", 1)]
    with app.app_context():
        db.engine.dispose()


def test_the_relay_forgets_rows_finished_a_week_ago(app, recorded):
    for value in ("old", "recent"):
        with app.app_context():
            queue.enqueue(RECORD, value)
            db.session.commit()
    with app.app_context():
        old = db.session.scalar(select(OutboxJob.id).order_by(OutboxJob.created_at, OutboxJob.id).limit(1))
    backdate(app, old, finished_at=dt.timedelta(days=8))
    backdate(app, rows_id(app, "recent"), finished_at=dt.timedelta(days=6))
    relay(app)
    assert [args for _job, args, *_rest in rows(app)] == [["recent"]]


def test_a_mail_queued_while_the_broker_is_down_waits_in_the_outbox_and_goes_once(app, client, monkeypatch):
    """Celery with its broker unreachable (a closed port): the sign-up succeeds and its
    verification mail waits as a row; once jobs can be handed over again the relay sends it,
    and further passes send nothing more."""
    in_process = app.extensions["job_runner"]
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(app.extensions, "job_runner", queue.CeleryRunner(make_celery(app)))
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    address = "broker-down@example.com"

    response = register(client, address)
    assert response.status_code == 201, response.json
    assert [(job, key, state, attempts) for job, _args, key, state, attempts in rows(app)] == [
        ("accounts.send_verification", None, "pending", 0)]
    with app.app_context():
        assert db.session.scalar(select(OutboxJob.dispatched_at)) is None  # the relay's next pass takes it
    assert mails_to(folder, address) == []

    with pytest.raises(queue.RetryLater):  # still down: the relay says so, and keeps the row
        relay(app)
    assert rows(app)[0][3:] == ("pending", 0)

    monkeypatch.setitem(app.extensions, "job_runner", in_process)  # jobs can be handed over again
    assert relay(app) == 1
    assert mails_to(folder, address) == ["Verify your email address"]
    monkeypatch.setitem(app.config, "OUTBOX_REDISPATCH_SECONDS", 0)
    assert relay(app) == 0 and relay(app, every_waiting_row=True) == 0
    assert mails_to(folder, address) == ["Verify your email address"]
    assert rows(app)[0][3:] == ("done", 1)


# -- failures -----------------------------------------------------------------------------------

@pytest.fixture
def flaky():
    """A job that fails while `failing[0]` is above zero, counting down; its calls."""
    calls: list[str] = []
    failing = [0]

    def run(value: str) -> None:
        calls.append(value)
        if failing[0]:
            failing[0] -= 1
            raise RuntimeError("the mail server is down")

    register_job("tests.outbox_flaky", run)
    yield calls, failing
    unregister_job("tests.outbox_flaky")


def test_a_failed_attempt_is_claimed_again_by_the_runners_next_retry(app, flaky, monkeypatch):
    calls, failing = flaky
    failing[0] = 2
    monkeypatch.setattr(queue.time, "sleep", lambda _seconds: None)  # the backoff, without the wait
    monkeypatch.setitem(app.extensions, "job_runner",
                        queue.InProcessRunner(app, threads=0, max_retries=3, backoff_seconds=1))
    with app.app_context():
        queue.enqueue("tests.outbox_flaky", "x")
        db.session.commit()
    assert calls == ["x", "x", "x"]
    assert rows(app) == [("tests.outbox_flaky", ["x"], None, "done", 3)]


def test_a_job_failing_every_retry_is_failed_left_by_the_relay_and_runs_again_when_an_admin_retries(
        app, client, flaky, make_user, headers_for, monkeypatch):
    calls, failing = flaky
    failing[0] = 1  # JOB_MAX_RETRIES is 0 here: the one attempt fails
    with app.app_context():
        queue.enqueue("tests.outbox_flaky", "x", key="flaky:x")
        db.session.commit()
        failure_id, attempts = db.session.execute(select(FailedJob.id, FailedJob.attempts)).one()
    assert attempts == 1
    assert rows(app) == [("tests.outbox_flaky", ["x"], "flaky:x", "failed", 1)]

    monkeypatch.setitem(app.config, "OUTBOX_REDISPATCH_SECONDS", 0)
    assert relay(app) == 0 and relay(app, every_waiting_row=True) == 0
    assert calls == ["x"]

    response = client.post(f"/api/v1/admin/jobs/failed/{failure_id}/retry",
                           headers=headers_for(make_user(Role.ADMIN)))
    assert response.status_code == 202, response.json
    assert calls == ["x", "x"]
    assert rows(app) == [("tests.outbox_flaky", ["x"], "flaky:x", "failed", 1),
                         ("tests.outbox_flaky", ["x"], None, "done", 1)]


def test_celery_retries_claim_the_row_and_its_last_failure_marks_it_failed(app, flaky, monkeypatch):
    """Celery's own retries (autoretry with JOB_MAX_RETRIES), run eagerly, on a row of the outbox."""
    calls, failing = flaky
    failing[0] = 10
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # never reached: eager
    monkeypatch.setitem(app.config, "JOB_MAX_RETRIES", 2)
    celery = make_celery(app)
    celery.conf.task_always_eager = True
    with app.app_context():
        row_id = outbox.add("tests.outbox_flaky", ["x"], None)
        db.session.commit()
    result = celery.tasks["tests.outbox_flaky"].apply(args=["x"], kwargs={"outbox_id": row_id})
    assert result.state == "FAILURE"
    assert calls == ["x", "x", "x"]
    assert rows(app) == [("tests.outbox_flaky", ["x"], None, "failed", 3)]
    with app.app_context():
        kept = db.session.execute(select(FailedJob.job, FailedJob.attempts)).all()
    assert kept == [("tests.outbox_flaky", 3)]
