"""In-memory indexes: one :class:`LocaleIndex` per (contract index, locale).

BM25 is bm25s over cached token lists: an update replaces an entry's chunks and marks the index
dirty; the next :meth:`LocaleIndex.refresh` rebuilds the bm25s matrices from the cached tokens
(BM25's IDF and average length are corpus-wide, so an exact score needs the whole corpus; the
rebuild skips tokenisation, which is most of the cost). Dense vectors are kept per chunk and
stacked into one matrix on demand; a chunk without a vector gets one the next time dense search
runs, so start-up never waits for the embedding model.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from charter.retrieval.text import Tokenizer, tokenizer_for

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Chunk:
    """One searchable piece of one entry's published revision, in one locale."""

    index: str
    locale: str
    entry_id: str
    revision: int
    chunk: int
    type: str
    title: str
    heading: str
    text: str
    url: str

    @property
    def key(self) -> str:
        """``<entry_id>#<chunk>``: unique within a (index, locale) pair; what answers cite."""
        return f"{self.entry_id}#{self.chunk}"

    @property
    def indexed_text(self) -> str:
        return " ".join(part for part in (self.title, self.heading, self.text) if part)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Chunk:
        return cls(**{k: raw[k] for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    rank: int


Embed = Callable[[list[str]], "np.ndarray"]


class LocaleIndex:
    """The chunks of one index in one locale, searchable by BM25 and (optionally) dense vectors."""

    def __init__(self, name: str, locale: str, tokenizer: Tokenizer | None = None) -> None:
        self.name = name
        self.locale = locale
        self.tokenize = tokenizer or tokenizer_for(locale.split("-")[0].lower())
        self._chunks: dict[str, Chunk] = {}
        self._tokens: dict[str, list[str]] = {}
        self._by_entry: dict[str, list[str]] = {}
        self._vectors: dict[str, np.ndarray] = {}
        self._rows: list[str] = []
        self._bm25: Any = None
        self._matrix: np.ndarray | None = None
        self._matrix_rows: list[str] = []
        self._dirty = False
        self._lock = threading.RLock()

    # -- writes ---------------------------------------------------------------------------------
    def put_entry(self, entry_id: str, chunks: Iterable[Chunk], vectors: dict[str, np.ndarray] | None = None) -> None:
        """Replace every chunk of ``entry_id`` (an empty iterable removes the entry)."""
        chunks = list(chunks)
        tokens = {c.key: self.tokenize(c.indexed_text) for c in chunks}
        with self._lock:
            self._drop(entry_id)
            for c in chunks:
                self._chunks[c.key] = c
                self._tokens[c.key] = tokens[c.key]
                if vectors and c.key in vectors:
                    self._vectors[c.key] = vectors[c.key]
            if chunks:
                self._by_entry[entry_id] = [c.key for c in chunks]
            self._dirty = True

    def remove_entry(self, entry_id: str) -> bool:
        with self._lock:
            found = entry_id in self._by_entry
            self._drop(entry_id)
            self._dirty = self._dirty or found
            return found

    def clear(self) -> None:
        with self._lock:
            for entry_id in list(self._by_entry):
                self._drop(entry_id)
            self._dirty = True

    def _drop(self, entry_id: str) -> None:
        for key in self._by_entry.pop(entry_id, []):
            self._chunks.pop(key, None)
            self._tokens.pop(key, None)
            self._vectors.pop(key, None)

    # -- reads ----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._chunks)

    @property
    def entries(self) -> dict[str, int]:
        """entry id -> indexed revision."""
        with self._lock:
            return {e: self._chunks[keys[0]].revision for e, keys in self._by_entry.items() if keys}

    def chunks(self) -> list[Chunk]:
        with self._lock:
            return list(self._chunks.values())

    def chunks_of(self, entry_id: str) -> list[Chunk]:
        with self._lock:
            return [self._chunks[k] for k in self._by_entry.get(entry_id, [])]

    def vectors(self) -> dict[str, np.ndarray]:
        with self._lock:
            return dict(self._vectors)

    def missing_vectors(self) -> list[Chunk]:
        with self._lock:
            return [c for k, c in self._chunks.items() if k not in self._vectors]

    def set_vectors(self, vectors: dict[str, np.ndarray]) -> None:
        with self._lock:
            for key, vec in vectors.items():
                if key in self._chunks:
                    self._vectors[key] = vec
            self._matrix = None

    def refresh(self) -> None:
        """Make every write so far searchable (rebuild BM25 if anything changed)."""
        with self._lock:
            if not self._dirty:
                return
            import bm25s

            rows = list(self._chunks)
            if rows:
                vocab: dict[str, int] = {}
                ids = [[vocab.setdefault(t, len(vocab)) for t in self._tokens[k]] for k in rows]
                model = bm25s.BM25()
                model.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
                self._bm25 = model
            else:
                self._bm25 = None
            self._rows = rows
            self._matrix = None
            self._dirty = False

    def search_bm25(self, query: str, k: int = 10) -> list[Hit]:
        self.refresh()
        with self._lock:
            model, rows = self._bm25, self._rows
            if model is None:
                return []
            known = [t for t in self.tokenize(query) if t in model.vocab_dict]
            if not known:
                return []
            scores = model.get_scores(known)
            top = _top_k(scores, k)
            return [
                Hit(self._chunks[rows[i]], float(scores[i]), r)
                for r, i in enumerate(top)
                if scores[i] > 0 and rows[i] in self._chunks
            ]

    def search_dense(self, query_vector: np.ndarray, k: int = 10, embed: Embed | None = None) -> list[Hit]:
        """Cosine search (vectors are L2-normalised). ``embed`` fills in chunks that lack a vector."""
        import numpy as np

        if embed is not None:
            missing = self.missing_vectors()
            if missing:
                vecs = embed([c.indexed_text for c in missing])
                self.set_vectors({c.key: vecs[i] for i, c in enumerate(missing)})
        with self._lock:
            if self._matrix is None:
                self._matrix_rows = [k for k in self._chunks if k in self._vectors]
                self._matrix = (
                    np.stack([self._vectors[k] for k in self._matrix_rows]).astype(np.float32)
                    if self._matrix_rows
                    else None
                )
            matrix, rows = self._matrix, self._matrix_rows
            if matrix is None:
                return []
            scores = matrix @ query_vector.astype(np.float32)
            top = _top_k(scores, k)
            return [
                Hit(self._chunks[rows[i]], float(scores[i]), r) for r, i in enumerate(top) if rows[i] in self._chunks
            ]

    def coverage(self, query: str, chunk: Chunk) -> float:
        """Share of the query's content words that occur in ``chunk`` (evidence strength, 0..1)."""
        q = set(self.tokenize(query))
        if not q:
            return 0.0
        with self._lock:
            tokens = set(self._tokens.get(chunk.key) or self.tokenize(chunk.indexed_text))
        return len(q & tokens) / len(q)


def _top_k(scores: np.ndarray, k: int) -> list[int]:
    import numpy as np

    n = scores.shape[0]
    if n == 0:
        return []
    k = min(k, n)
    part = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
    return [int(i) for i in part[np.argsort(-scores[part], kind="stable")]]


def rrf(rankings: list[list[Hit]], k: int = 60, weights: list[float] | None = None, limit: int = 10) -> list[Hit]:
    """Reciprocal rank fusion (Cormack, Clarke and Buettcher, SIGIR 2009): score = sum w / (k + rank)."""
    fused: dict[str, float] = {}
    chunks: dict[str, Chunk] = {}
    for n, ranking in enumerate(rankings):
        w = weights[n] if weights else 1.0
        for rank, hit in enumerate(ranking):
            fused[hit.chunk.key] = fused.get(hit.chunk.key, 0.0) + w / (k + rank + 1)
            chunks[hit.chunk.key] = hit.chunk
    order = sorted(fused, key=lambda key: -fused[key])[:limit]
    return [Hit(chunks[key], fused[key], r) for r, key in enumerate(order)]
