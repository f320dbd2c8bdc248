"""Where chunks and vectors persist between runs.

* :class:`FileStore` (the embedded default): one gzipped JSON file of chunks and one ``.npz`` of
  vectors per (index, locale), in a ``retrieval/`` folder beside the SQLite database, written
  atomically (temp file + rename).
* :class:`TableStore` (PostgreSQL): rows of ``retrieval_chunks``, the truth every instance shares;
  where the server has pgvector, also a ``vector`` copy of each embedding that dense search can
  query inside the database (:mod:`charter.retrieval.pgvector`).
* :class:`NullStore`: nothing persists (in-memory databases, evaluation runs).

:func:`store_for` picks the one for a runtime's database.

Either way the content store remains the source of truth: start-up reconciles the loaded chunks
with the published entries, so a stale or missing snapshot costs time, never correctness.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa

from charter.retrieval.index import Chunk, LocaleIndex
from charter.retrieval.tables import embedding_from_bytes, embedding_to_bytes, retrieval_chunks

if TYPE_CHECKING:
    import numpy as np

    from charter.runtime import Runtime

Loaded = dict[tuple[str, str], tuple[list[Chunk], dict[str, "np.ndarray"]]]


class ChunkStore(Protocol):
    kind: str
    dense_in_database: bool
    dense_in_database_reason: str | None

    def load(self) -> Loaded: ...

    def write_entry(self, conn: sa.Connection | None, index: LocaleIndex, entry_id: str) -> None: ...

    def read_entry(self, index_name: str, locale: str, entry_id: str) -> tuple[list[Chunk], dict[str, np.ndarray]]: ...

    def write_vectors(self, index: LocaleIndex, vectors: dict[str, np.ndarray]) -> None: ...

    def flush(self, indexes: Iterable[LocaleIndex]) -> None: ...

    def search_dense(self, index: LocaleIndex, query: np.ndarray, k: int) -> list[tuple[str, float]]: ...


class NullStore:
    kind = "memory"
    #: Dense search runs inside the database (pgvector) instead of in process.
    dense_in_database = False
    dense_in_database_reason: str | None = "only on PostgreSQL with the pgvector extension"

    def load(self) -> Loaded:
        return {}

    def write_entry(self, conn: sa.Connection | None, index: LocaleIndex, entry_id: str) -> None:
        return None

    def read_entry(self, index_name: str, locale: str, entry_id: str) -> tuple[list[Chunk], dict[str, np.ndarray]]:
        return [], {}

    def write_vectors(self, index: LocaleIndex, vectors: dict[str, np.ndarray]) -> None:
        return None

    def flush(self, indexes: Iterable[LocaleIndex]) -> None:
        return None

    def search_dense(self, index: LocaleIndex, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        return []


class FileStore(NullStore):
    kind = "files"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._dirty: set[tuple[str, str]] = set()

    def _paths(self, index: str, locale: str) -> tuple[Path, Path]:
        base = self.directory / index
        return base / f"{locale}.chunks.json.gz", base / f"{locale}.vectors.npz"

    def load(self) -> Loaded:
        import numpy as np

        out: Loaded = {}
        if not self.directory.is_dir():
            return out
        for path in sorted(self.directory.glob("*/*.chunks.json.gz")):
            index, locale = path.parent.name, path.name.removesuffix(".chunks.json.gz")
            try:
                with gzip.open(path, "rt", encoding="utf-8") as fh:
                    chunks = [Chunk.from_dict(c) for c in json.load(fh)]
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a damaged snapshot is rebuilt by reconciliation
            vectors: dict[str, np.ndarray] = {}
            vpath = self._paths(index, locale)[1]
            if vpath.exists():
                try:
                    with np.load(vpath) as data:
                        keys = [str(k) for k in data["keys"]]
                        matrix = data["matrix"]
                        vectors = {k: matrix[i] for i, k in enumerate(keys)}
                except (OSError, ValueError, KeyError):
                    vectors = {}
            out[(index, locale)] = (chunks, vectors)
        return out

    def write_entry(self, conn: sa.Connection | None, index: LocaleIndex, entry_id: str) -> None:
        self._dirty.add((index.name, index.locale))

    def write_vectors(self, index: LocaleIndex, vectors: dict[str, np.ndarray]) -> None:
        self._dirty.add((index.name, index.locale))

    def flush(self, indexes: Iterable[LocaleIndex]) -> None:
        """Write the snapshot of every index changed since the last flush."""
        import numpy as np

        for idx in indexes:
            if (idx.name, idx.locale) not in self._dirty:
                continue
            cpath, vpath = self._paths(idx.name, idx.locale)
            cpath.parent.mkdir(parents=True, exist_ok=True)
            tmp = cpath.with_suffix(".tmp")
            with gzip.open(tmp, "wt", encoding="utf-8") as fh:
                json.dump([c.to_dict() for c in idx.chunks()], fh)
            os.replace(tmp, cpath)
            vectors = idx.vectors()
            if vectors:
                keys = list(vectors)
                vtmp = vpath.with_name(vpath.name + ".tmp.npz")
                np.savez(vtmp, keys=np.array(keys), matrix=np.stack([vectors[k] for k in keys]))
                os.replace(vtmp, vpath)
            elif vpath.exists():
                vpath.unlink()
            self._dirty.discard((idx.name, idx.locale))


class TableStore(NullStore):
    kind = "database"

    def __init__(self, engine: sa.Engine, *, pgvector: bool = True) -> None:
        from charter.retrieval import pgvector as pgv

        self.engine = engine
        self.dense_in_database_reason = pgv.unavailable_reason(engine) if pgvector else "pgvector disabled"
        if self.dense_in_database_reason is None:
            try:
                pgv.ensure(engine)
            except sa.exc.DBAPIError as exc:  # e.g. a role that may not create the extension
                self.dense_in_database_reason = f"pgvector unusable: {str(exc.orig).strip()}"
        self.dense_in_database = self.dense_in_database_reason is None

    def _set_vectors(self, conn: sa.Connection, index: LocaleIndex, vectors: dict[str, np.ndarray]) -> None:
        if not self.dense_in_database:
            return
        from charter.retrieval import pgvector as pgv

        for key, vec in vectors.items():
            entry_id, chunk = key.rsplit("#", 1)
            pgv.set_vector(conn, index.name, index.locale, entry_id, int(chunk), vec)

    def search_dense(self, index: LocaleIndex, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Nearest chunks inside the database (only when :attr:`dense_in_database`)."""
        from charter.retrieval import pgvector as pgv

        return pgv.search(self.engine, index.name, index.locale, query, k)

    def _row_chunk(self, r: sa.Row[tuple[object, ...]]) -> Chunk:
        return Chunk(
            index=r.index_name,
            locale=r.locale,
            entry_id=r.entry_id,
            revision=r.revision,
            chunk=r.chunk,
            type=r.type,
            title=r.title,
            heading=r.heading,
            text=r.text,
            url=r.url,
            field=r.field,
        )

    def load(self) -> Loaded:
        out: Loaded = {}
        t = retrieval_chunks
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t).order_by(t.c.index_name, t.c.locale, t.c.entry_id, t.c.chunk))
            for r in rows:
                chunks, vectors = out.setdefault((r.index_name, r.locale), ([], {}))
                chunk = self._row_chunk(r)
                chunks.append(chunk)
                if r.embedding is not None:
                    vectors[chunk.key] = embedding_from_bytes(r.embedding)
        return out

    def read_entry(self, index_name: str, locale: str, entry_id: str) -> tuple[list[Chunk], dict[str, np.ndarray]]:
        t = retrieval_chunks
        with self.engine.connect() as conn:
            rows = list(
                conn.execute(
                    sa.select(t)
                    .where(t.c.index_name == index_name, t.c.locale == locale, t.c.entry_id == entry_id)
                    .order_by(t.c.chunk)
                )
            )
        chunks = [self._row_chunk(r) for r in rows]
        vectors = {c.key: embedding_from_bytes(r.embedding) for c, r in zip(chunks, rows, strict=True) if r.embedding}
        return chunks, vectors

    def write_entry(self, conn: sa.Connection | None, index: LocaleIndex, entry_id: str) -> None:
        """Replace the entry's rows with what ``index`` holds now (inside the caller's transaction)."""
        assert conn is not None
        t = retrieval_chunks
        conn.execute(
            sa.delete(t).where(t.c.index_name == index.name, t.c.locale == index.locale, t.c.entry_id == entry_id)
        )
        chunks = index.chunks_of(entry_id)
        vectors = index.vectors()
        now = datetime.now(UTC)
        if chunks:
            conn.execute(
                sa.insert(t),
                [
                    {
                        "index_name": c.index,
                        "locale": c.locale,
                        "entry_id": c.entry_id,
                        "chunk": c.chunk,
                        "revision": c.revision,
                        "type": c.type,
                        "title": c.title,
                        "heading": c.heading,
                        "text": c.text,
                        "url": c.url,
                        "field": c.field,
                        "embedding": embedding_to_bytes(vectors[c.key]) if c.key in vectors else None,
                        "updated_at": now,
                    }
                    for c in chunks
                ],
            )
            self._set_vectors(conn, index, {c.key: vectors[c.key] for c in chunks if c.key in vectors})

    def write_vectors(self, index: LocaleIndex, vectors: dict[str, np.ndarray]) -> None:
        t = retrieval_chunks
        with self.engine.begin() as conn:
            for key, vec in vectors.items():
                entry_id, chunk = key.rsplit("#", 1)
                conn.execute(
                    sa.update(t)
                    .where(
                        t.c.index_name == index.name,
                        t.c.locale == index.locale,
                        t.c.entry_id == entry_id,
                        t.c.chunk == int(chunk),
                    )
                    .values(embedding=embedding_to_bytes(vec))
                )
            self._set_vectors(conn, index, vectors)


def store_for(rt: Runtime) -> ChunkStore:
    """The chunk store for ``rt``'s database: the shared table on PostgreSQL, files beside a
    SQLite file, nothing for an in-memory database."""
    url = rt.engine.url
    if url.get_backend_name() == "postgresql":
        return TableStore(rt.engine)
    db = url.database
    if not db or db == ":memory:":
        return NullStore()
    return FileStore(Path(db).resolve().parent / "retrieval")
