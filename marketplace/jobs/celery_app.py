"""The Celery side: every registered job becomes a Celery task of the same name.

Workers start with ``celery -A marketplace.jobs.worker worker`` (and ``beat`` for the sweep).
"""

from __future__ import annotations

from celery import Celery
from flask import Flask

from marketplace.jobs.failures import describe_error, record_failure
from marketplace.jobs.queue import JOBS, PERIODIC, run_job


def make_celery(app: Flask) -> Celery:
    celery = Celery("marketplace", broker=app.config["REDIS_URL"], backend=None)
    celery.conf.update(
        task_acks_late=True,  # a job whose worker dies mid-way is delivered again
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # A job whose worker was killed is delivered again once this long has passed since it
        # was taken; so it must exceed the longest job, or long jobs run twice.
        broker_transport_options={"visibility_timeout": app.config["JOBS_VISIBILITY_TIMEOUT_SECONDS"]},
        broker_connection_retry_on_startup=True,
        task_default_queue=app.config["JOBS_QUEUE"],
        beat_schedule={name: {"task": name, "schedule": seconds} for name, seconds in PERIODIC.items()},
    )
    for name in JOBS:
        _register(celery, app, name)
    return celery


def _register(celery: Celery, app: Flask, name: str) -> None:
    class RecordedTask(celery.Task):
        def on_failure(self, exc, task_id, args, kwargs, einfo):
            # Called once the last retry failed (retries in between call on_retry).
            record_failure(app, name, args, describe_error(exc), attempts=self.request.retries + 1)

    @celery.task(name=name, bind=True, base=RecordedTask, autoretry_for=(Exception,), retry_backoff=True,
                 retry_backoff_max=600, max_retries=app.config["JOB_MAX_RETRIES"])
    def task(self, *args):
        run_job(app, name, tuple(args))
