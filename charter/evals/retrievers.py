"""What the harness retrieves with: the project's own indexes, or a BEIR-format corpus.

* ``project``: a fresh in-memory :class:`~charter.retrieval.service.RetrievalService` over the
  project's published content and ``retrieval.yaml`` (routing included), nothing persisted.
* ``beir``: one index over ``corpus.jsonl[.gz]`` (``_id``, ``title``, ``text``), so a public
  benchmark runs through the same BM25/dense/hybrid code as the product. The unit is the document:
  BM25 reads each whole document; the dense model, whose input stops at 256 word pieces, reads it as
  overlapping word windows (``dense_passages``, each with the title) and scores the document by its
  best window (MaxP, Dai and Callan 2019); hybrid fuses the two document rankings by RRF.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from charter.exceptions import ConfigError
from charter.retrieval.chunking import windows
from charter.retrieval.contract import Answering, Citations, Contract, Index, Intent, Source, load_contract
from charter.retrieval.index import Chunk, Hit, LocaleIndex, rrf, top_indices

if TYPE_CHECKING:
    import numpy as np

    from charter.evals.config import Passages, RetrieverConfig
    from charter.runtime import Runtime


@dataclass
class Retrieved:
    hits: list[Hit]  # ranked chunks, ``depth`` deep
    documents: list[str]  # ranked unique document ids
    evidence: float = 0.0
    intent: str | None = None
    mode: str = "bm25"
    ms: float = 0.0
    notes: list[str] = field(default_factory=list)
    #: The evidence gate the hits were measured against (None: no gate, e.g. a BEIR corpus).
    threshold: float | None = None
    #: The routed intent's indexes held no support; its fallback indexes (or another intent) answered.
    misrouted: bool = False


class EvalRetriever(Protocol):
    contract: Contract
    description: str

    def retrieve(self, query: str, locale: str, top_k: int) -> Retrieved: ...


def _documents(hits: list[Hit]) -> list[str]:
    seen: dict[str, None] = {}
    for hit in hits:
        seen.setdefault(hit.chunk.entry_id, None)
    return list(seen)


class ProjectRetriever:
    def __init__(self, rt: Runtime, cfg: RetrieverConfig) -> None:
        from charter.retrieval.service import RetrievalService
        from charter.retrieval.store import NullStore

        self.cfg = cfg
        self.contract = load_contract(cfg.resolve(cfg.contract), rt.registry)
        if cfg.rrf_k:
            self.contract = self.contract.model_copy(update={"rrf_k": cfg.rrf_k})
        self.service = RetrievalService(rt, self.contract, NullStore(), record=False)
        started = time.perf_counter()
        self.service.load()
        if cfg.mode in ("dense", "hybrid"):
            self.service.embed_all()  # embed up front, so no case's latency includes it
        self.build_ms = (time.perf_counter() - started) * 1000
        self.description = f"project retrieval ({cfg.resolve(cfg.contract)}), mode {cfg.mode}"

    def retrieve(self, query: str, locale: str, top_k: int) -> Retrieved:
        started = time.perf_counter()
        if self.cfg.routing:
            found = self.service.answer_sources(
                query, locale, mode=self.cfg.mode, k=top_k, depth=max(self.cfg.depth, top_k)
            )
            hits, evidence, mode, degraded = found.hits, found.evidence, found.mode, found.degraded
            intent: str | None = found.decision.intent
            threshold: float | None = found.threshold
            misrouted = "index" in found.fallback or "intent" in found.fallback
        else:
            result = self.service.search(query, locale, None, mode=self.cfg.mode, k=max(self.cfg.depth, top_k))
            hits, mode, degraded = result.hits, result.mode, result.degraded
            evidence = self.service.evidence(query, hits[:top_k], mode, query_vector=result.query_vector)
            intent, threshold, misrouted = None, self.contract.answering.threshold(mode), False
        return Retrieved(
            hits=hits,
            documents=_documents(hits),
            evidence=evidence,
            intent=intent,
            mode=mode,
            ms=(time.perf_counter() - started) * 1000,
            notes=[degraded] if degraded else [],
            threshold=threshold,
            misrouted=misrouted,
        )

    def stats(self) -> dict[str, Any]:
        indexes = self.service.indexes
        return {
            "entries": len({e for idx in indexes.values() for e in idx.entries}),
            "chunks": sum(len(idx) for idx in indexes.values()),
            "build_ms": {"load": round(self.build_ms, 1)},
            "dense": self.service.dense_reason or "available",
        }


def read_beir_corpus(path: Path) -> list[dict[str, str]]:
    """``corpus.jsonl`` or ``corpus.jsonl.gz`` (or a folder holding one)."""
    if path.is_dir():
        for name in ("corpus.jsonl.gz", "corpus.jsonl"):
            if (path / name).exists():
                path = path / name
                break
    if not path.is_file():
        raise ConfigError(f"BEIR corpus not found: {path}")
    opener: Any = gzip.open if path.suffix == ".gz" else open
    docs = []
    with opener(path, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    raw = json.loads(line)
                    docs.append(
                        {
                            "id": str(raw["_id"]),
                            "title": str(raw.get("title") or ""),
                            "text": str(raw.get("text") or ""),
                        }
                    )
                except (ValueError, KeyError) as exc:
                    raise ConfigError(f"{path}:{n}: not a BEIR corpus line ({exc})") from exc
    return docs


def beir_contract(mode: str, top_k: int, rrf_k: int | None = None) -> Contract:
    return Contract(
        mode=mode,  # type: ignore[arg-type]
        rrf_k=rrf_k or Contract.model_fields["rrf_k"].default,
        indexes={"corpus": Index(sources=[Source(type="beir", fields=["text"])], citations=Citations(required=True))},
        intents={"all": Intent(indexes=["corpus"])},
        answering=Answering(top_k=top_k, min_evidence=0.0),
    )


class PassageVectors:
    """Dense vectors of a corpus cut into passages, searched per document: a document scores its
    best passage. The passages of one document are contiguous rows, so the per-document maximum is
    one ``np.maximum.reduceat`` over the score vector."""

    def __init__(self, docs: list[Chunk], spec: Passages) -> None:
        self.docs = docs
        self.passages: list[str] = []
        starts: list[int] = []
        for doc in docs:
            starts.append(len(self.passages))
            for window in windows(doc.text.split(), spec.max_tokens, spec.overlap):
                self.passages.append(" ".join(part for part in (doc.title, " ".join(window)) if part))
        self.starts = starts
        self.matrix: np.ndarray | None = None

    def search(self, query_vector: np.ndarray, k: int) -> list[Hit]:
        import numpy as np

        if self.matrix is None or not self.docs:
            return []
        scores = np.maximum.reduceat(self.matrix @ query_vector.astype(np.float32), self.starts)
        return [
            Hit(self.docs[i], float(scores[i]), r)
            for r, i in enumerate(top_indices(scores, k, lambda i: self.docs[i].key))
        ]


class BeirRetriever:
    def __init__(self, cfg: RetrieverConfig, cache_dir: Path) -> None:
        self.cfg = cfg
        self.cache_dir = cache_dir
        self.vectors_cached = False
        self.embedded_ms: float | None = None
        path = cfg.resolve(cfg.corpus or "")
        self.docs = read_beir_corpus(path)
        self.contract = beir_contract(cfg.mode, cfg.top_k, cfg.rrf_k)
        self.index = LocaleIndex("corpus", "en", variants=False)  # plain BM25, as bm25s scores it
        started = time.perf_counter()
        self.index.load_entries(
            {
                doc["id"]: [
                    Chunk("corpus", "en", doc["id"], 1, 0, "beir", doc["title"], "", doc["text"], f"beir:{doc['id']}")
                ]
                for doc in self.docs
            }
        )
        self.build_ms = {"bm25": (time.perf_counter() - started) * 1000}
        self.embedder: Any = None
        self.passages: PassageVectors | None = None
        if cfg.mode in ("dense", "hybrid"):
            from charter.retrieval.embeddings import Embedder

            self.embedder = Embedder()
            started = time.perf_counter()
            self._load_vectors()
            self.build_ms["dense"] = (time.perf_counter() - started) * 1000
        self.description = f"BEIR corpus {path} ({len(self.docs)} documents), mode {cfg.mode}"

    def _load_vectors(self) -> None:
        """Embed every document (or passage), or read the vectors cached for this corpus, model
        and passage rule."""
        import numpy as np

        spec = self.cfg.dense_passages
        chunks = [c for d in self.docs for c in self.index.chunks_of(d["id"])]
        texts = [c.indexed_text for c in chunks]
        name = self.embedder.name
        if spec is not None:
            self.passages = PassageVectors(chunks, spec)
            texts = self.passages.passages
            name += f"-passages-{spec.max_tokens}-{spec.overlap}"
        digest = hashlib.sha256()
        for doc in self.docs:
            digest.update(f"{doc['id']}\x00{doc['title']}\x00{doc['text']}\x01".encode())
        cache = self.cache_dir / "embeddings" / f"{name}-{digest.hexdigest()[:24]}.npy"
        meta = cache.with_suffix(".json")
        matrix = np.load(cache) if cache.exists() else None
        if matrix is not None and matrix.shape[0] == len(texts):
            self.vectors_cached = True
            try:  # how long computing the cached vectors took, when they were computed
                self.embedded_ms = float(json.loads(meta.read_text(encoding="utf-8"))["embed_ms"])
            except (OSError, ValueError, KeyError, TypeError):
                self.embedded_ms = None
        else:
            started = time.perf_counter()
            matrix = self.embedder(texts)
            self.embedded_ms = (time.perf_counter() - started) * 1000
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.save(cache, matrix)
            meta.write_text(
                json.dumps({"embed_ms": self.embedded_ms, "vectors": len(texts), "model": self.embedder.name}),
                encoding="utf-8",
            )
            self.vectors_cached = False
        if self.passages is not None:
            self.passages.matrix = matrix.astype(np.float32)
        else:
            self.index.set_vectors({c.key: matrix[i] for i, c in enumerate(chunks)})

    def _search_dense(self, query: str, k: int) -> list[Hit]:
        qvec = self.embedder([query])[0]
        return self.passages.search(qvec, k) if self.passages is not None else self.index.search_dense(qvec, k)

    def retrieve(self, query: str, locale: str, top_k: int) -> Retrieved:
        started = time.perf_counter()
        depth = max(self.cfg.depth, top_k)
        each = max(self.cfg.candidates or depth, depth) if self.cfg.mode == "hybrid" else depth
        rankings = []
        if self.cfg.mode in ("bm25", "hybrid"):
            rankings.append(self.index.search_bm25(query, each))
        if self.cfg.mode in ("dense", "hybrid"):
            rankings.append(self._search_dense(query, each))
        hits = rankings[0] if len(rankings) == 1 else rrf(rankings, self.contract.rrf_k, limit=depth)
        top = hits[:top_k]
        evidence = max((self.index.coverage(query, h.chunk) for h in top), default=0.0)
        return Retrieved(hits, _documents(hits), evidence, None, self.cfg.mode, (time.perf_counter() - started) * 1000)

    def stats(self) -> dict[str, Any]:
        spec = self.cfg.dense_passages
        return {
            "documents": len(self.docs),
            "chunks": len(self.index),
            "dense_vectors": len(self.passages.passages) if self.passages is not None else len(self.index.vectors()),
            "dense_passages": spec.model_dump() if spec is not None and self.embedder is not None else None,
            "build_ms": {k: round(v, 1) for k, v in self.build_ms.items()},
            "vectors_cached": self.vectors_cached,
            "embedded_ms": round(self.embedded_ms, 1) if self.embedded_ms is not None else None,
        }


def build_retriever(cfg: RetrieverConfig, rt: Runtime | None) -> EvalRetriever:
    from charter.evals.config import cache_dir

    if cfg.source == "beir":
        return BeirRetriever(cfg, cache_dir(cfg.cache_dir, cfg.base, rt))
    if rt is None:
        raise ConfigError("retriever source 'project' needs a project (run inside one or pass --project)")
    return ProjectRetriever(rt, cfg)
