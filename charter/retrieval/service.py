"""The retrieval service of one app instance: indexes kept in step with published content.

Lifecycle: :func:`service_for` builds it once per runtime, loads persisted chunks (files beside
SQLite, or the shared ``retrieval_chunks`` table on PostgreSQL), reconciles them with the
published entries, and subscribes to the event bus. Each ``entry.published``, ``unpublished``,
``rolled_back`` or ``deleted`` event re-chunks that one entry, makes it searchable, then records
the publish-to-searchable lag (``retrieval_freshness`` row + ``index.updated`` event). Other
instances and processes follow through :meth:`RetrievalService.sync`, which polls the events table.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from charter import events as ev
from charter.exceptions import ConfigError, UnknownLocale
from charter.retrieval.chunking import chunk_document, document_title
from charter.retrieval.contract import Contract, load_contract
from charter.retrieval.embeddings import Embedder, unavailable_reason
from charter.retrieval.index import Chunk, Hit, LocaleIndex, rrf
from charter.retrieval.routing import Router
from charter.retrieval.store import ChunkStore, FileStore, NullStore, TableStore
from charter.retrieval.tables import retrieval_freshness

if TYPE_CHECKING:
    from charter.content.models import Entry, Revision
    from charter.runtime import Runtime

ENTRY_EVENTS = (ev.ENTRY_PUBLISHED, ev.ENTRY_UNPUBLISHED, ev.ENTRY_ROLLED_BACK, ev.ENTRY_DELETED)
Progress = Callable[[int, int], None]


@dataclass
class SearchResult:
    hits: list[Hit]
    mode: str
    degraded: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)


def contract_path(rt: Runtime) -> Path:
    return Path(rt.settings.project_dir) / "retrieval.yaml"


def store_for(rt: Runtime) -> ChunkStore:
    url = rt.engine.url
    if url.get_backend_name() == "postgresql":
        return TableStore(rt.engine)
    db = url.database
    if not db or db == ":memory:":
        return NullStore()
    return FileStore(Path(db).resolve().parent / "retrieval")


class RetrievalService:
    def __init__(
        self, rt: Runtime, contract: Contract, store: ChunkStore | None = None, *, record: bool = True
    ) -> None:
        self.rt = rt
        self.contract = contract
        self.store = store if store is not None else NullStore()
        self.record = record
        self.instance = uuid.uuid4().hex[:12]
        self.router = Router(contract)
        self.indexes: dict[tuple[str, str], LocaleIndex] = {}
        self._lock = threading.RLock()
        self._watermark = 0
        self._seen_events: set[int] = set()
        self._embedder: Embedder | None = None
        self.dense_reason = self._dense_setup()
        self.locales = self._locales()

    # -- set-up ---------------------------------------------------------------------------------
    def _dense_setup(self) -> str | None:
        if self.contract.dense == "off":
            return "dense retrieval is off in retrieval.yaml"
        reason = unavailable_reason()
        if reason and self.contract.dense == "on":
            raise ConfigError(f"retrieval.yaml says dense: on, but {reason}")
        if reason is None:
            self._embedder = Embedder()
        return reason

    def _locales(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for index in self.contract.indexes.values():
            for source in index.sources:
                if source.type in self.rt.registry.types:
                    for loc in self.rt.registry.types[source.type].locales.supported:
                        seen[loc] = None
        return tuple(seen)

    def index(self, name: str, locale: str) -> LocaleIndex:
        with self._lock:
            idx = self.indexes.get((name, locale))
            if idx is None:
                idx = self.indexes[(name, locale)] = LocaleIndex(name, locale)
            return idx

    @property
    def dense_available(self) -> bool:
        return self._embedder is not None

    def load(self, progress: Progress | None = None) -> dict[str, int]:
        """Load persisted chunks, then reconcile them with what is published now."""
        with self.rt.read() as conn:
            self._watermark = conn.execute(sa.select(sa.func.max(ev.events_table.c.id))).scalar() or 0
        for (name, locale), (chunks, vectors) in self.store.load().items():
            if name not in self.contract.indexes:
                continue
            idx = self.index(name, locale)
            by_entry: dict[str, list[Chunk]] = {}
            for c in chunks:
                by_entry.setdefault(c.entry_id, []).append(c)
            for entry_id, cs in by_entry.items():
                idx.put_entry(entry_id, cs, vectors)
        return self.reconcile(progress)

    # -- chunking -------------------------------------------------------------------------------
    def chunks_for(self, entry: Entry, revision: Revision) -> dict[tuple[str, str], list[Chunk]]:
        """Every chunk an entry's published revision contributes, by (index, locale)."""
        out: dict[tuple[str, str], list[Chunk]] = {}
        ct = self.rt.registry.types.get(entry.type)
        if ct is None:
            return out
        for name, source in self.contract.indexes_for_type(entry.type):
            rules = self.contract.chunking_for(name)
            for locale in ct.locales.supported:
                doc, _resolved = ct.resolve(revision.data, locale)
                bucket = out.setdefault((name, locale), [])
                title = document_title(doc, source)
                url = source.url.format_map(_UrlFields(doc, entry, locale))
                for piece in chunk_document(doc, source, rules):
                    bucket.append(
                        Chunk(
                            index=name,
                            locale=locale,
                            entry_id=entry.id,
                            revision=revision.number,
                            chunk=len(bucket),
                            type=entry.type,
                            title=title,
                            heading=piece.heading,
                            text=piece.text,
                            url=url,
                        )
                    )
        return out

    def _fed_types(self) -> list[str]:
        return sorted({s.type for i in self.contract.indexes.values() for s in i.sources})

    # -- writes ---------------------------------------------------------------------------------
    def reconcile(self, progress: Progress | None = None, *, rebuild: bool = False) -> dict[str, int]:
        """Make the indexes match the published entries; ``rebuild`` drops everything first."""
        from charter.content.store import published_entries

        with self.rt.read() as conn:
            published = [p for t in self._fed_types() for p in published_entries(conn, t)]
        counts = {"indexed": 0, "removed": 0, "unchanged": 0, "chunks": 0}
        with self._lock:
            if rebuild:
                for idx in self.indexes.values():
                    idx.clear()
            have: dict[str, int] = {}
            for idx in self.indexes.values():
                have.update(idx.entries)
            wanted = {e.id for e, _ in published}
            total = len(published)
            touched: list[tuple[LocaleIndex, str]] = []
            for n, (entry, revision) in enumerate(published, 1):
                if not rebuild and have.get(entry.id) == revision.number and self._complete(entry.id, entry.type):
                    counts["unchanged"] += 1
                else:
                    for (name, locale), chunks in self.chunks_for(entry, revision).items():
                        idx = self.index(name, locale)
                        idx.put_entry(entry.id, chunks)
                        touched.append((idx, entry.id))
                        counts["chunks"] += len(chunks)
                    counts["indexed"] += 1
                if progress:
                    progress(n, total)
            for idx in list(self.indexes.values()):
                for entry_id in list(idx.entries):
                    if entry_id not in wanted:
                        idx.remove_entry(entry_id)
                        touched.append((idx, entry_id))
                        counts["removed"] += 1
            for idx in self.indexes.values():
                idx.refresh()
            self._embed_new([i for i, _ in touched])
        if touched and self.record:
            if isinstance(self.store, TableStore):
                with self.rt.write() as (conn, _pending):
                    for idx, entry_id in touched:
                        self.store.write_entry(conn, idx, entry_id)
            else:
                for idx, entry_id in touched:
                    self.store.write_entry(None, idx, entry_id)
            self.flush()
        return counts

    def _complete(self, entry_id: str, type_name: str) -> bool:
        ct = self.rt.registry.types.get(type_name)
        if ct is None:
            return True
        return all(
            entry_id in self.index(name, loc).entries
            for name, _ in self.contract.indexes_for_type(type_name)
            for loc in ct.locales.supported
        ) or not any(True for _ in self.contract.indexes_for_type(type_name))

    def _embed_new(self, touched: list[LocaleIndex]) -> None:
        """Embed now only when the model is already loaded; otherwise dense search embeds lazily."""
        if self._embedder is None or not self._embedder.loaded:
            return
        for idx in {id(i): i for i in touched}.values():
            missing = idx.missing_vectors()
            if missing:
                vecs = self._embedder([c.indexed_text for c in missing])
                new = {c.key: vecs[i] for i, c in enumerate(missing)}
                idx.set_vectors(new)

    def apply_entry(self, entry_id: str, event: ev.Event | None = None) -> list[dict[str, Any]]:
        """Re-index one entry from its current published state; record the lag when ``event`` says
        when the change happened. Returns one change record per index touched."""
        from charter.content.store import published_entries

        with self.rt.read() as conn:
            found = published_entries(conn, ids=[entry_id])
        entry, revision = found[0] if found else (None, None)
        with self._lock:
            wanted = self.chunks_for(entry, revision) if entry and revision else {}
            touched: dict[str, list[LocaleIndex]] = {}
            for key, idx in list(self.indexes.items()):
                if key not in wanted and idx.remove_entry(entry_id):
                    touched.setdefault(key[0], []).append(idx)
            for (name, locale), chunks in wanted.items():
                idx = self.index(name, locale)
                idx.put_entry(entry_id, chunks)
                touched.setdefault(name, []).append(idx)
            for idxs in touched.values():
                for idx in idxs:
                    idx.refresh()
            searchable_at = datetime.now(UTC)
            self._embed_new([i for idxs in touched.values() for i in idxs])
        changes = []
        for name in touched:
            changed_at = event.occurred_at if event else searchable_at
            changes.append(
                {
                    "index": name,
                    "entry_id": entry_id,
                    "revision": revision.number if revision else None,
                    "op": "index" if name in {n for n, _ in wanted} else "remove",
                    "event_type": event.type if event else "manual",
                    "event_id": event.id if event else None,
                    "changed_at": changed_at,
                    "searchable_at": searchable_at,
                    "lag_ms": max(0.0, (searchable_at - changed_at).total_seconds() * 1000.0),
                    "locales": sorted(i.locale for i in touched[name]),
                }
            )
        if changes and self.record:
            self._record(changes, touched)
        return changes

    def _record(self, changes: list[dict[str, Any]], touched: dict[str, list[LocaleIndex]]) -> None:
        with self.rt.write() as (conn, pending):
            for change in changes:
                for idx in touched[change["index"]]:
                    self.store.write_entry(conn, idx, change["entry_id"])
                conn.execute(
                    sa.insert(retrieval_freshness).values(
                        index_name=change["index"],
                        entry_id=change["entry_id"],
                        revision=change["revision"],
                        op=change["op"],
                        event_type=change["event_type"],
                        event_id=change["event_id"],
                        changed_at=change["changed_at"],
                        searchable_at=change["searchable_at"],
                        lag_ms=change["lag_ms"],
                    )
                )
                payload = {k: v for k, v in change.items() if k not in ("changed_at", "searchable_at")}
                payload["instance"] = self.instance
                recorded = ev.record(conn, ev.Event(ev.INDEX_UPDATED, payload, domain="retrieval"))
                self._seen_events.add(recorded.id or 0)
                pending.append(recorded)
        self.flush()

    def on_event(self, event: ev.Event) -> None:
        """Bus subscriber for entry events committed by this instance."""
        entry_id = event.payload.get("id")
        if not isinstance(entry_id, str):
            return
        if event.id is not None:
            self._seen_events.add(event.id)
        fed = event.payload.get("type")
        if fed is not None and fed not in self._fed_types():
            return
        self.apply_entry(entry_id, event)

    def sync(self) -> int:
        """Catch up with changes made by other instances or processes (polls the events table)."""
        with self.rt.read() as conn:
            events = ev.since(conn, self._watermark, [*ENTRY_EVENTS, ev.INDEX_UPDATED], limit=1000)
            if not events:
                return 0
            done = {
                r.event_id
                for r in conn.execute(
                    sa.select(retrieval_freshness.c.event_id).where(
                        retrieval_freshness.c.event_id.in_([e.id for e in events if e.id is not None])
                    )
                )
            }
        applied = 0
        for e in events:
            self._watermark = max(self._watermark, e.id or 0)
            if e.id in self._seen_events:
                continue
            if e.type == ev.INDEX_UPDATED:
                if e.payload.get("instance") != self.instance:
                    self._reload(e.payload)
                    applied += 1
            elif e.id not in done and e.payload.get("type") in self._fed_types():
                self.apply_entry(str(e.payload.get("id")), e)  # nobody indexed it yet: we do, and record
                applied += 1
        self._seen_events = {i for i in self._seen_events if i > self._watermark - 10_000}
        return applied

    def _reload(self, payload: dict[str, Any]) -> None:
        name, entry_id = str(payload.get("index")), str(payload.get("entry_id"))
        if name not in self.contract.indexes:
            return
        if isinstance(self.store, TableStore):
            for locale in payload.get("locales") or self.locales:
                chunks, vectors = self.store.read_entry(name, locale, entry_id)
                idx = self.index(name, locale)
                idx.put_entry(entry_id, chunks, vectors)
                idx.refresh()
        else:
            saved, self.record = self.record, False
            try:
                self.apply_entry(entry_id)
            finally:
                self.record = saved

    def flush(self) -> None:
        self.store.flush(list(self.indexes.values()))

    # -- reads ----------------------------------------------------------------------------------
    def check_locale(self, locale: str) -> None:
        if locale not in self.locales:
            raise UnknownLocale(f"unknown locale {locale!r}; indexes cover {', '.join(self.locales)}")

    def embed_query(self, text: str) -> Any:
        assert self._embedder is not None
        return self._embedder([text])[0]

    def _embed_into(self, idx: LocaleIndex) -> None:
        assert self._embedder is not None
        missing = idx.missing_vectors()
        if missing:
            vecs = self._embedder([c.indexed_text for c in missing])
            new = {c.key: vecs[i] for i, c in enumerate(missing)}
            idx.set_vectors(new)
            self.store.write_vectors(idx, new)

    def search(
        self, query: str, locale: str, indexes: list[str] | None = None, *, mode: str | None = None, k: int = 10
    ) -> SearchResult:
        """Top ``k`` chunks for ``query`` in ``locale`` across ``indexes`` (all when None)."""
        self.check_locale(locale)
        mode = mode or self.contract.mode
        degraded = None
        if mode in ("dense", "hybrid") and self._embedder is None:
            degraded = f"{mode} requested, BM25 used: {self.dense_reason}"
            mode = "bm25"
        names = indexes or list(self.contract.indexes)
        targets = [self.indexes[(n, locale)] for n in names if (n, locale) in self.indexes]
        timings: dict[str, float] = {}
        rankings: list[list[Hit]] = []
        depth = max(k, 100) if mode == "hybrid" or len(targets) > 1 else k
        if mode in ("bm25", "hybrid"):
            t0 = time.perf_counter()
            rankings += [idx.search_bm25(query, depth) for idx in targets]
            timings["bm25"] = (time.perf_counter() - t0) * 1000
        if mode in ("dense", "hybrid"):
            t0 = time.perf_counter()
            for idx in targets:
                self._embed_into(idx)
            qvec = self.embed_query(query)
            rankings += [idx.search_dense(qvec, depth) for idx in targets]
            timings["dense"] = (time.perf_counter() - t0) * 1000
        hits = rankings[0][:k] if len(rankings) == 1 else rrf(rankings, self.contract.rrf_k, limit=k)
        return SearchResult(hits, mode, degraded, timings)

    def evidence(self, query: str, hits: list[Hit]) -> float:
        """Strength of the evidence: the best share of query words any hit contains (0..1)."""
        best = 0.0
        for hit in hits:
            idx = self.indexes.get((hit.chunk.index, hit.chunk.locale))
            if idx is not None:
                best = max(best, idx.coverage(query, hit.chunk))
        return best

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "store": self.store.kind,
            "mode": self.contract.mode,
            "dense": {"available": self.dense_available, "reason": self.dense_reason},
            "locales": list(self.locales),
            "indexes": {},
        }
        fresh = freshness_stats(self.rt)
        for name, spec in self.contract.indexes.items():
            idxs = [i for (n, _), i in self.indexes.items() if n == name]
            entries = {e for i in idxs for e in i.entries}
            out["indexes"][name] = {
                "entries": len(entries),
                "chunks": sum(len(i) for i in idxs),
                "vectors": sum(len(i.vectors()) for i in idxs),
                "locales": sorted(i.locale for i in idxs),
                "regulated": spec.regulated,
                "freshness_slo_s": spec.freshness_slo,
                "freshness": fresh.get(name, {"count": 0}),
            }
        return out


class _UrlFields(dict[str, str]):
    """``str.format_map`` fields for a source's URL template: entry fields, slug, id, locale, type."""

    def __init__(self, doc: dict[str, Any], entry: Entry, locale: str) -> None:
        super().__init__(
            id=entry.id,
            entry_id=entry.id,
            slug=entry.slug or str(doc.get("slug", entry.id)),
            locale=locale,
            type=entry.type,
        )
        self.update({k: str(v) for k, v in doc.items() if isinstance(v, str | int | float)})
        self["entry_id"] = entry.id

    def __missing__(self, key: str) -> str:
        return ""


def freshness_stats(rt: Runtime) -> dict[str, dict[str, Any]]:
    """Publish-to-searchable lag per index: count, p50, p95, max (ms) and SLO breaches."""
    import numpy as np

    t = retrieval_freshness
    by_index: dict[str, list[float]] = {}
    with rt.read() as conn:
        for r in conn.execute(sa.select(t.c.index_name, t.c.lag_ms).order_by(t.c.id.desc()).limit(50_000)):
            by_index.setdefault(r.index_name, []).append(float(r.lag_ms))
    out: dict[str, dict[str, Any]] = {}
    for name, lags in by_index.items():
        arr = np.array(lags)
        out[name] = {
            "count": len(lags),
            "p50_ms": float(np.percentile(arr, 50)),
            "p95_ms": float(np.percentile(arr, 95)),
            "max_ms": float(arr.max()),
        }
    return out


def load_service(rt: Runtime, *, record: bool = True, store: ChunkStore | None = None) -> RetrievalService:
    """A service for ``rt``'s project (``retrieval.yaml``), loaded and reconciled, not subscribed."""
    contract = load_contract(contract_path(rt), rt.registry)
    service = RetrievalService(rt, contract, store if store is not None else store_for(rt), record=record)
    service.load()
    return service


_ATTR = "_charter_retrieval_service"


def service_for(rt: Runtime) -> RetrievalService:
    """The runtime's one service: built, loaded and subscribed to entry events on first use."""
    service: RetrievalService | None = getattr(rt, _ATTR, None)
    if service is None:
        lock = rt.__dict__.setdefault("_charter_retrieval_lock", threading.Lock())
        with lock:
            service = getattr(rt, _ATTR, None)
            if service is None:
                service = load_service(rt)
                rt.bus.subscribe(service.on_event, types=ENTRY_EVENTS)
                setattr(rt, _ATTR, service)
    return service


async def startup(app: Any, rt: Runtime) -> Callable[[], Any] | None:
    """App start-up hook: load indexes, follow events; the cleanup stops polling and saves."""
    import asyncio

    if not contract_path(rt).is_file():
        return None
    service = await asyncio.to_thread(service_for, rt)
    app.state.retrieval = service

    async def poll() -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                await asyncio.to_thread(service.sync)
            except Exception:  # a failed poll is retried on the next tick
                import structlog

                structlog.get_logger("charter.retrieval").exception("retrieval_sync_failed")

    task = asyncio.get_running_loop().create_task(poll())

    async def cleanup() -> None:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        service.flush()

    return cleanup
