"""Imports every feature's models, so Base.metadata knows every table (Alembic, tests)."""

from marketplace.accounts import models as accounts_models  # noqa: F401
from marketplace.db import Base

metadata = Base.metadata
