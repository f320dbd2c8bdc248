"""The Alembic migrations create exactly the tables in ``charter.db.tables`` (and the domain
table modules), on SQLite and on PostgreSQL, and a branch added later upgrades a database that
already holds data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from charter.auth.preview_register import preview_tokens
from charter.db.engine import alembic_config, make_engine, upgrade
from charter.db.tables import api_tokens, load_all
from tests.services import temporary_postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: no migration applied."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        with temporary_postgres_database(migrated=False) as url:
            yield url


def test_migrations_match_the_tables(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        upgrade(engine, "heads")
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), load_all()) == []
    finally:
        engine.dispose()


def test_the_preview_register_upgrades_a_database_in_use(empty_url: str) -> None:
    """``previews_0001`` on a database migrated before it, holding data: the register appears
    as the tables describe it, nothing else changes, and it downgrades and upgrades again."""
    engine = make_engine(empty_url)
    cfg = alembic_config(engine)
    try:
        upgrade(engine, "heads")
        command.downgrade(cfg, "previews@-1")
        assert "preview_tokens" not in sa.inspect(engine).get_table_names()
        with engine.begin() as conn:
            conn.execute(
                sa.insert(api_tokens).values(
                    id="t1", name="ci", role="editor", prefix="abcd1234", token_hash="h" * 64,
                    created_at=datetime.now(UTC), created_by="system:system",
                )
            )  # fmt: skip
        upgrade(engine, "heads")
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), load_all()) == []
            assert conn.execute(sa.select(api_tokens.c.name)).scalars().all() == ["ci"]
            conn.execute(sa.insert(preview_tokens).values(
                jti="0123456789abcdef", scope="entry", target_id="e", issued_by="user:ed",
                issued_at=datetime.now(UTC), expires_at=datetime.now(UTC), revoked_at=None,
            ))  # fmt: skip
            conn.commit()
        command.downgrade(cfg, "previews@-1")
        assert "preview_tokens" not in sa.inspect(engine).get_table_names()
        upgrade(engine, "heads")
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(preview_tokens)).scalar_one() == 0
    finally:
        engine.dispose()
