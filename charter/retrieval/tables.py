"""Retrieval tables, on the shared ``metadata`` (migrations: ``retrieval_0001``, ``retrieval_0002``).

``retrieval_chunks`` is the shared truth on PostgreSQL (every instance loads it at start-up and
follows ``index.updated`` events); the embedded default keeps chunks in files beside the database
instead. ``retrieval_freshness`` records, per indexed change, the lag from the content change to
the moment it became searchable (the RAG freshness metric).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from charter.db.tables import TS, metadata

if TYPE_CHECKING:
    import numpy as np

retrieval_chunks = sa.Table(
    "retrieval_chunks",
    metadata,
    sa.Column("index_name", sa.String(100), primary_key=True),
    sa.Column("locale", sa.String(35), primary_key=True),
    sa.Column("entry_id", sa.String(36), primary_key=True),
    sa.Column("chunk", sa.Integer, primary_key=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("heading", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("url", sa.String(500), nullable=False),
    #: The field the chunk was built from (``body``, ``sections[4].items[1]``, ``price``).
    sa.Column("field", sa.String(300), nullable=False, server_default=""),
    #: float32 little-endian bytes of the L2-normalised embedding; NULL until embedded.
    sa.Column("embedding", sa.LargeBinary, nullable=True),
    sa.Column("updated_at", TS, nullable=False),
    sa.Index("ix_retrieval_chunks_entry", "entry_id"),
)

retrieval_freshness = sa.Table(
    "retrieval_freshness",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("index_name", sa.String(100), nullable=False),
    sa.Column("entry_id", sa.String(36), nullable=False),
    sa.Column("revision", sa.Integer, nullable=True),
    sa.Column("op", sa.String(20), nullable=False),  # index | remove
    sa.Column("event_type", sa.String(80), nullable=False),
    sa.Column("event_id", sa.Integer, nullable=True),
    sa.Column("changed_at", TS, nullable=False),
    sa.Column("searchable_at", TS, nullable=False),
    sa.Column("lag_ms", sa.Float, nullable=False),
    sa.Index("ix_retrieval_freshness_index_at", "index_name", "searchable_at"),
)


def embedding_to_bytes(vec: np.ndarray) -> bytes:
    """The ``retrieval_chunks.embedding`` column's encoding: float32, little-endian."""
    import numpy as np

    return np.asarray(vec, dtype="<f4").tobytes()


def embedding_from_bytes(raw: bytes) -> np.ndarray:
    """A vector from the ``retrieval_chunks.embedding`` column (a writable copy)."""
    import numpy as np

    return np.frombuffer(raw, dtype="<f4").copy()
