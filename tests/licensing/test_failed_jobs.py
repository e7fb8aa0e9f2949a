"""A contract or a license's files whose job fails every retry (JOB_MAX_RETRIES) waits for an
admin: listed in the admin console with its error, retried on request, never by the sweep."""

from __future__ import annotations

import datetime as dt

import pytest

from marketplace.accounts.models import Role
from marketplace.catalog.models import Beat
from marketplace.db import db
from marketplace.jobs import queue
from marketplace.licensing.models import License
from marketplace.licensing.tasks import sweep_licenses

RETRIES = 2  # JOB_MAX_RETRIES of this test's runner: three attempts in all
FAILED = "/api/v1/admin/jobs/failed"


@pytest.fixture
def retrying_runner(app, monkeypatch):
    """Jobs run after each commit with the production runner's retries, without the backoff's wait."""
    runner = queue.InProcessRunner(app, threads=0, max_retries=RETRIES, backoff_seconds=0)
    monkeypatch.setitem(app.extensions, "job_runner", runner)
    return runner


@pytest.fixture
def admin(make_user, headers_for):
    return headers_for(make_user(Role.ADMIN, "Ada Admin"))


def age(app, license_id):
    """The license was issued an hour ago: old enough for the sweep to look at it."""
    with app.app_context():
        db.session.get(License, license_id).issued_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        db.session.commit()


def test_a_contract_that_fails_every_retry_waits_for_an_admin_who_retries_it(
        app, client, retrying_runner, admin, seller, make_user, headers_for, upload_beat, offer_all, sell):
    # No installed font draws this emoji (newer than every font): the contract cannot be rendered.
    buyer_id = make_user(Role.ARTIST, "Fan \U0001fae8")
    buyer_headers = headers_for(buyer_id)
    beat_id = upload_beat(seller[1])
    license_id = sell(beat_id, offer_all(seller[1], beat_id)["Basic lease"]["id"], buyer_id)
    assert client.get(f"/api/v1/licenses/{license_id}", headers=buyer_headers).json["contract_ready"] is False

    listed = client.get(FAILED, headers=admin)
    assert listed.status_code == 200, listed.json
    [failed] = listed.json
    assert failed["kind"] == "contract" and failed["job"] == "licensing.render_contract"
    assert failed["license_id"] == license_id and failed["args"] == [license_id]
    assert failed["attempts"] == RETRIES + 1
    assert failed["error"].startswith("ContractIncomplete: no font has these characters")
    assert failed["retried_at"] is None

    # The sweep leaves it alone: no silent retries every five minutes.
    age(app, license_id)
    with app.app_context():
        assert sweep_licenses() == 0
    assert client.get(FAILED, headers=admin).json[0]["attempts"] == RETRIES + 1

    # Retried while the cause is still there: it fails every retry again and is listed again.
    again = client.post(f"{FAILED}/{failed['id']}/retry", headers=admin)
    assert again.status_code == 202, again.json
    assert again.json["attempts"] == 2 * (RETRIES + 1) and again.json["retried_at"] is None
    assert [row["id"] for row in client.get(FAILED, headers=admin).json] == [failed["id"]]

    # Support corrects the name on the license; the retry renders the contract.
    with app.app_context():
        db.session.get(License, license_id).buyer_name = "Fan"
        db.session.commit()
    done = client.post(f"{FAILED}/{failed['id']}/retry", headers=admin)
    assert done.status_code == 202 and done.json["retried_at"] is not None
    assert client.get(FAILED, headers=admin).json == []
    assert client.get(f"/api/v1/licenses/{license_id}", headers=buyer_headers).json["contract_ready"] is True


def test_files_that_cannot_be_built_are_listed_as_a_failed_delivery(app, client, retrying_runner, admin,
                                                                    seller, buyer, upload_beat, offer_all,
                                                                    sell):
    beat_id = upload_beat(seller[1])
    tiers = offer_all(seller[1], beat_id)
    with app.app_context():  # the master is gone from storage
        db.session.get(Beat, beat_id).master_key = "masters/missing.wav"
        db.session.commit()
    license_id = sell(beat_id, tiers["Basic lease"]["id"], buyer[0])
    [failed] = client.get(FAILED, headers=admin).json
    assert (failed["kind"], failed["job"]) == ("delivery", "licensing.build_files")
    assert failed["license_id"] == license_id
    assert failed["attempts"] == RETRIES + 1 and failed["error"]
    age(app, license_id)
    with app.app_context():
        assert sweep_licenses() == 0  # its contract is done, its files wait for an admin


def test_only_admins_see_and_retry_failed_jobs(client, admin, buyer):
    _buyer_id, buyer_headers = buyer
    assert client.get(FAILED, headers=buyer_headers).status_code == 403
    assert client.get(FAILED).status_code == 401
    refused = client.post(f"{FAILED}/fjob_nope/retry", headers=buyer_headers)
    assert refused.status_code == 403
    missing = client.post(f"{FAILED}/fjob_nope/retry", headers=admin)
    assert missing.status_code == 404 and missing.json["error"]["code"] == "failed_job_not_found"
    assert client.get(f"{FAILED}?limit=0", headers=admin).status_code == 422


def test_a_job_that_no_longer_exists_is_not_retried(app, client, admin):
    from marketplace.jobs.failures import FailedJob, args_key

    with app.app_context():
        failed = FailedJob(job="licensing.renamed_since", args=["lic_x"], args_key=args_key(["lic_x"]),
                           error="RuntimeError: old", attempts=6)
        db.session.add(failed)
        db.session.commit()
        failure_id = failed.id
    refused = client.post(f"{FAILED}/{failure_id}/retry", headers=admin)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "job_unknown"
    assert [row["id"] for row in client.get(FAILED, headers=admin).json] == [failure_id]
