"""Background work: jobs queued during a transaction run only after it commits.

Three ways to run them, chosen by JOBS_BACKEND:
* ``celery``: sent to Celery workers through Redis (production);
* ``thread``: a small thread pool inside the web process (the embedded default);
* ``eager``: right after the commit, in the committing thread (tests).

Jobs are plain functions registered with @job, each on a queue: buyer-facing work (BUYER)
is served ahead of the rest (DEFAULT). Each runs in an app context of its own, owns its
transaction, and must be idempotent: any job may run twice.
"""
