"""Database: SQLAlchemy Core tables, engine factory and Alembic migrations."""

from charter.db.engine import make_engine, upgrade
from charter.db.tables import metadata

__all__ = ["make_engine", "metadata", "upgrade"]
