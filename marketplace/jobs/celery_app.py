"""The Celery side: every registered job becomes a Celery task of the same name, routed to
the Celery queue of its own queue (``marketplace.buyer``, or ``marketplace`` for the rest).

Workers start with ``celery -A marketplace.jobs.worker worker`` (and ``beat`` for the sweep).
A worker reads the buyer queue first whenever it has a message, and takes one message at a
time; ``-Q marketplace.buyer`` starts a worker that serves buyers only, so a buyer's job
never even waits for a render in progress.
"""

from __future__ import annotations

from celery import Celery
from flask import Flask
from kombu import Queue

from marketplace.jobs.failures import describe_error, record_failure
from marketplace.jobs.registry import DEFAULT, JOB_QUEUES, JOBS, PERIODIC, QUEUES, GiveUp
from marketplace.jobs.retries import RetryPolicy
from marketplace.jobs.running import run_job


def celery_queue_name(app: Flask, queue: str) -> str:
    """The default queue keeps the configured name, so messages sent before the buyer queue
    existed are still served."""
    base = app.config["JOBS_QUEUE"]
    return base if queue == DEFAULT else f"{base}.{queue}"


def make_celery(app: Flask) -> Celery:
    celery = Celery("marketplace", broker=app.config["REDIS_URL"], backend=None)
    celery.conf.update(
        task_acks_late=True,  # a job whose worker dies mid-way is delivered again
        task_reject_on_worker_lost=True,
        # One message at a time per process: a worker holding a prefetched render could not
        # take a buyer's job that arrives meanwhile.
        worker_prefetch_multiplier=1,
        broker_transport_options={
            # A job whose worker was killed is delivered again once this long has passed since
            # it was taken; so it must exceed the longest job, or long jobs run twice.
            "visibility_timeout": app.config["JOBS_VISIBILITY_TIMEOUT_SECONDS"],
            # Read the queues in the order of `task_queues` every time (Redis BRPOP takes the
            # first that has a message), instead of in turn: the buyer queue always comes first.
            "queue_order_strategy": "priority",
        },
        broker_connection_retry_on_startup=True,
        task_queues=[Queue(celery_queue_name(app, queue)) for queue in QUEUES],
        task_default_queue=celery_queue_name(app, DEFAULT),
        task_routes={name: {"queue": celery_queue_name(app, queue)} for name, queue in JOB_QUEUES.items()},
        beat_schedule={name: {"task": name, "schedule": seconds} for name, seconds in PERIODIC.items()},
    )
    for name in JOBS:
        _register(celery, app, name)
    return celery


def _register(celery: Celery, app: Flask, name: str) -> None:
    policy = RetryPolicy.from_config(app.config)

    class RecordedTask(celery.Task):
        def on_failure(self, exc, task_id, args, kwargs, einfo):
            # Called once the last retry failed (retries in between call on_retry).
            record_failure(app, name, args, describe_error(exc), attempts=self.request.retries + 1)

    # Not shared: a second Celery app in one process (tests) must not take this app's tasks.
    @celery.task(name=name, bind=True, base=RecordedTask, shared=False, max_retries=policy.retries)
    def task(self, *args, outbox_id=None):
        # Messages of the outbox carry their row's id; periodic ones (from beat) carry none.
        retries_done = self.request.retries
        last_attempt = policy.is_last_attempt(retries_done)
        try:
            run_job(app, name, tuple(args), outbox_id, last_attempt=last_attempt)
        except GiveUp:
            raise
        except Exception as error:
            if last_attempt:
                raise
            # The same waits as the in-process runner's: the policy's, without Celery's own backoff.
            raise self.retry(exc=error, countdown=policy.wait_before_retry(retries_done))
