"""Imports every feature's models, so Base.metadata knows every table (Alembic, tests)."""

from marketplace.accounts import models as accounts_models  # noqa: F401
from marketplace.catalog import models as catalog_models  # noqa: F401
from marketplace.catalog.search import DATABASE_ONLY_OBJECTS
from marketplace.checkout import models as checkout_models  # noqa: F401
from marketplace.collaborators import models as collaborators_models  # noqa: F401
from marketplace.db import Base
from marketplace.jobs import failures as jobs_models  # noqa: F401
from marketplace.jobs import outbox as outbox_models  # noqa: F401
from marketplace.licensing import models as licensing_models  # noqa: F401
from marketplace.moderation import models as moderation_models  # noqa: F401
from marketplace.payments import models as payments_models  # noqa: F401
from marketplace.payouts import models as payouts_models  # noqa: F401
from marketplace.profiles import models as profiles_models  # noqa: F401
from marketplace.proposals import models as proposals_models  # noqa: F401

metadata = Base.metadata


def include_in_schema_comparison(obj, name, type_, reflected, compare_to) -> bool:
    """Leave out the backend-specific search objects that migrations build by hand
    (PostgreSQL's tsvector column and GIN index, SQLite's FTS5 tables)."""
    return not (name in DATABASE_ONLY_OBJECTS or (name or "").startswith("beats_fts"))
