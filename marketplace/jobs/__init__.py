"""Background work: jobs queued during a transaction run only after it commits.

A queued job is a row of the outbox (marketplace.jobs.outbox), written in the transaction
that queues it and gone with it if it rolls back. After the commit the row is handed to the
runner; the relay (a periodic job) hands over again the rows that a broker down at the time,
or a process that stopped, left waiting, until each is done. A run claims its row first, so a
row handed over twice runs once; a key naming the event ("receipt:<order id>") makes queuing
it twice a no-op, so its mail goes out once. Periodic jobs (the sweeps, the relay itself) are
handed to the runner directly.

Three ways to run them, chosen by JOBS_BACKEND:
* ``celery``: sent to Celery workers through Redis (production);
* ``thread``: a small thread pool inside the web process (the embedded default);
* ``eager``: right after the commit, in the committing thread (tests).

Jobs are plain functions registered with @job, each on a queue: buyer-facing work (BUYER)
is served ahead of the rest (DEFAULT). Each runs in an app context of its own, owns its
transaction, and must be idempotent: a job can still run twice (a process that dies after the
job's work and before its row is marked done, or work queued again by a sweep).

The modules, each importing only those before it: ``registry`` (the jobs, their queues and
exceptions), ``retries`` (the one retry policy), ``outbox``, ``dispatch`` (``enqueue`` and the
hand-over after the commit), ``running`` (one attempt), ``failures`` (the last failures, kept
for the admins), ``celery_app`` and ``queue`` (the runners, the relay, and the import path job
modules use).
"""
