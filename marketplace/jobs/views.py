"""The admin console's view of background work: jobs that failed every retry, and a retry."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from marketplace.accounts.auth import auth_required, current_user
from marketplace.accounts.models import Role
from marketplace.api import Blueprint, document_errors
from marketplace.db import db
from marketplace.jobs import failures
from marketplace.jobs.queue import KINDS

admin_blp = Blueprint("jobs_admin", __name__, url_prefix="/admin/jobs",
                      description="Background jobs for admins: those that failed every retry")


class FailedJobArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class FailedJobSchema(ma.Schema):
    id = ma.fields.String(required=True)
    job = ma.fields.String(required=True, metadata={"description": "the job's name"})
    kind = ma.fields.Function(lambda failed: KINDS.get(failed.job, "other"), required=True,
                              metadata={"description": "contract, delivery (a license's files), email or other"})
    license_id = ma.fields.Function(
        lambda failed: failed.args[0] if failed.job.startswith("licensing.") and failed.args else None,
        required=True, allow_none=True, metadata={"description": "the license whose work failed"})
    args = ma.fields.List(ma.fields.Raw(), required=True)
    error = ma.fields.String(required=True, metadata={"description": "the last attempt's error"})
    attempts = ma.fields.Integer(required=True, metadata={"description": "every attempt so far"})
    failed_at = ma.fields.DateTime(required=True)
    retried_at = ma.fields.DateTime(required=True, allow_none=True)


@admin_blp.get("/failed")
@auth_required(Role.ADMIN)
@admin_blp.arguments(FailedJobArgs, location="query", unknown=ma.RAISE)
@admin_blp.response(200, FailedJobSchema(many=True))
def failed_jobs(args):
    """Jobs that failed every retry and wait for an admin (contracts, delivered files, ...),
    newest first. The periodic sweeps leave their work alone until an admin retries it."""
    return failures.list_failures(args["limit"])


@admin_blp.post("/failed/<failure_id>/retry")
@auth_required(Role.ADMIN)
@admin_blp.response(202, FailedJobSchema)
@document_errors(404, 409)
def retry_failed_job(failure_id):
    """Run a failed job again. If it fails every retry again, it is listed again with its new error."""
    failed = failures.retry(failure_id, current_user().id)
    db.session.commit()
    # Read again: a job run right after the commit (in-process) may have failed again already.
    db.session.refresh(failed)
    return failed
