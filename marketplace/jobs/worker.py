"""Entry point for Celery workers: ``celery -A marketplace.jobs.worker worker``."""

from marketplace import create_app

flask_app = create_app()
celery = flask_app.extensions["job_runner"].celery
