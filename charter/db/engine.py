"""Engine factory and schema upgrades.

SQLite runs in WAL mode with foreign keys on; PostgreSQL goes through psycopg 3
(``postgresql://`` URLs are mapped to ``postgresql+psycopg://``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def store_json(value: Any) -> str:
    """Every JSON value written to any table goes through here (the engine's ``json_serializer``):
    a value a read could not serve back (:func:`charter.strictjson.check_stored`) is refused inside
    the write transaction, whichever door it came through (API, admin, CLI, migration, AI draft)."""
    from charter.strictjson import check_stored

    check_stored(value)
    return json.dumps(value)


def _unwrap_charter_errors(context: sa.engine.ExceptionContext) -> BaseException | None:
    """SQLAlchemy wraps an error raised while binding a value (here: :func:`store_json` refusing
    one) in ``StatementError``; hand the CharterError itself to the caller, so it answers 422."""
    from charter.exceptions import CharterError

    original = context.original_exception
    return original if isinstance(original, CharterError) else None


def make_engine(url: str, **kwargs: Any) -> sa.Engine:
    url = normalise_url(url)
    kwargs.setdefault("json_serializer", store_json)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=20, max_overflow=20, **kwargs
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        sa.event.listen(engine, "handle_error", _unwrap_charter_errors)

        @sa.event.listens_for(engine, "begin")
        def _begin_immediate(conn: sa.Connection) -> None:
            # Writers take the lock at BEGIN, so two writers never deadlock on lock upgrade. Straight
            # on the driver's connection: a BEGIN through SQLAlchemy's statement machinery costs as
            # much as the delivery API's whole point read.
            begin = "BEGIN IMMEDIATE" if conn.get_execution_options().get("charter_write") else "BEGIN"
            conn.connection.driver_connection.execute(begin)  # type: ignore[union-attr]

        # Let the "begin" listener above issue BEGIN itself.
        @sa.event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        return engine
    engine = sa.create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True, **kwargs)
    sa.event.listen(engine, "handle_error", _unwrap_charter_errors)
    return engine


def write_connection(engine: sa.Engine) -> sa.Connection:
    """A connection whose transactions take the write lock up front (``BEGIN IMMEDIATE`` on SQLite)."""
    return engine.connect().execution_options(charter_write=True)


def alembic_config(engine: sa.Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the database schema to ``revision`` (idempotent)."""
    import logging

    # Alembic narrates every step at INFO; a server start-up needs only its warnings.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    command.upgrade(alembic_config(engine), revision)
