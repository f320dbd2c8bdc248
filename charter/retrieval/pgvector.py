"""Dense search inside PostgreSQL, where the server has the pgvector (``vector``) extension.

Optional and automatic: :class:`~charter.retrieval.store.TableStore` enables it when
:func:`unavailable_reason` returns None. It then keeps a ``vector(384)`` copy of each chunk's
embedding in the ``embedding_vec`` column of ``retrieval_chunks`` (added here, not by a migration,
because the column type exists only with the extension) and answers dense queries with pgvector's
cosine distance operator ``<=>``. Without the extension (Debian 12 packages none) dense search runs
in process over the float32 ``embedding`` bytes every instance loads, which is always available.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from charter.retrieval.embeddings import DIMENSIONS

if TYPE_CHECKING:
    import numpy as np

COLUMN = "embedding_vec"


def unavailable_reason(engine: sa.Engine) -> str | None:
    """Why dense search cannot run inside this database, or None when it can (the extension is
    installed, or available and creatable by this role)."""
    if engine.url.get_backend_name() != "postgresql":
        return "the database is not PostgreSQL"
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT installed_version FROM pg_available_extensions WHERE name = 'vector'")
        ).first()
    if row is None:
        return "the server has no 'vector' extension (pgvector; Debian 12 does not package it)"
    return None


def ensure(engine: sa.Engine) -> None:
    """Create the extension and the column (idempotent), and copy embeddings that lack a vector."""
    from charter.retrieval.tables import embedding_from_bytes

    with engine.begin() as conn:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
        conn.execute(sa.text(f"ALTER TABLE retrieval_chunks ADD COLUMN IF NOT EXISTS {COLUMN} vector({DIMENSIONS})"))
        missing = conn.execute(
            sa.text(
                "SELECT index_name, locale, entry_id, chunk, embedding FROM retrieval_chunks "
                f"WHERE embedding IS NOT NULL AND {COLUMN} IS NULL"
            )
        ).all()
        for r in missing:
            set_vector(conn, r.index_name, r.locale, r.entry_id, r.chunk, embedding_from_bytes(r.embedding))


def literal(vec: np.ndarray) -> str:
    """pgvector's text form: ``[0.1,0.2,...]``."""
    return "[" + ",".join(f"{float(x):.7g}" for x in vec) + "]"


def set_vector(conn: sa.Connection, index: str, locale: str, entry_id: str, chunk: int, vec: np.ndarray) -> None:
    conn.execute(
        sa.text(
            f"UPDATE retrieval_chunks SET {COLUMN} = CAST(:v AS vector) "
            "WHERE index_name = :i AND locale = :l AND entry_id = :e AND chunk = :c"
        ),
        {"v": literal(vec), "i": index, "l": locale, "e": entry_id, "c": chunk},
    )


def search(engine: sa.Engine, index: str, locale: str, query: np.ndarray, k: int) -> list[tuple[str, float]]:
    """The ``k`` nearest chunks as (``entry_id#chunk``, cosine similarity), best first."""
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(
                f"SELECT entry_id, chunk, 1 - ({COLUMN} <=> CAST(:q AS vector)) AS score FROM retrieval_chunks "
                f"WHERE index_name = :i AND locale = :l AND {COLUMN} IS NOT NULL "
                f"ORDER BY {COLUMN} <=> CAST(:q AS vector) LIMIT :k"
            ),
            {"q": literal(query), "i": index, "l": locale, "k": k},
        ).all()
    return [(f"{r.entry_id}#{r.chunk}", float(r.score)) for r in found]
