"""The retrieval service of one app instance: indexes kept in step with published content.

Lifecycle:

* :func:`install` (a runtime installer) subscribes every runtime to entry and release events;
  while the runtime has no service loaded the events are left to the next load (which reconciles).
* :func:`service_for` builds the runtime's one service on first use (the app's start-up hook calls
  it): it loads persisted chunks (files beside SQLite, or the shared ``retrieval_chunks`` table on
  PostgreSQL) and reconciles them with the published entries.
* Each publish, unpublish, rollback or delete committed by this instance re-chunks that one entry
  and makes it searchable (the BM25 delta segment takes it at once), then records the
  publish-to-searchable lag: a ``retrieval_freshness`` row and an ``index.updated`` event (plus
  ``index.freshness_breached`` when the lag is over the index's SLO), in one transaction that, on
  PostgreSQL, also replaces the entry's rows in the shared table.
* :func:`worker_duty` (a worker duty, so it runs in every instance's worker) follows the events
  table: entry changes made elsewhere, and ``index.updated`` events of other instances, whose
  chunks it reads from the shared table (PostgreSQL) or re-derives from the content (SQLite).
  It also merges BM25 delta segments and saves the on-disk snapshot.
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
#: Events that name several entries in ``payload["entries"]`` (a release publishes or rolls back
#: atomically).
BATCH_EVENTS = tuple(
    name for name in (ev.RELEASE_PUBLISHED, getattr(ev, "RELEASE_ROLLED_BACK", None)) if isinstance(name, str)
)
INDEXING_EVENTS = ENTRY_EVENTS + BATCH_EVENTS
#: An entry event another process committed is indexed here only if nobody recorded it within this
#: many seconds (the committing instance normally does it at once).
GRACE_S = 0.5
#: Merge a delta segment that has had no writes for this long, so scores become exact again.
IDLE_MERGE_S = 2.0
#: Save the on-disk snapshot this long after the last change.
FLUSH_AFTER_S = 1.0
#: With ``background_dense``, a dense search embeds up to this many vector-less chunks in line;
#: more go to the background job.
BACKGROUND_EMBED_MIN = 64

Progress = Callable[[int, int], None]


@dataclass
class SearchResult:
    hits: list[Hit]
    mode: str
    degraded: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass
class Change:
    """One entry's change in one index: what was indexed or removed, and how long it took."""

    index: str
    entry_id: str
    revision: int | None
    op: str  # index | remove
    event_type: str
    event_id: int | None
    changed_at: datetime
    searchable_at: datetime
    locales: list[str]
    chunks: int

    @property
    def lag_ms(self) -> float:
        return max(0.0, (self.searchable_at - self.changed_at).total_seconds() * 1000.0)

    def payload(self, instance: str, slo_s: float) -> dict[str, Any]:
        """The ``index.updated`` event payload (documented in :mod:`charter.events`)."""
        return {
            "index": self.index,
            "entry_id": self.entry_id,
            "revision": self.revision,
            "op": self.op,
            "event_type": self.event_type,
            "event_id": self.event_id,
            "changed_at": self.changed_at.isoformat(),
            "searchable_at": self.searchable_at.isoformat(),
            "lag_ms": round(self.lag_ms, 3),
            "freshness_slo_ms": slo_s * 1000.0,
            "locales": self.locales,
            "chunks": self.chunks,
            "instance": instance,
        }


def contract_path(rt: Runtime) -> Path:
    return Path(rt.settings.project_dir) / "retrieval.yaml"


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


class RetrievalService:
    """Every index of one contract, in every locale, for one runtime."""

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
        self._deferred: dict[int, ev.Event] = {}
        self._last_write = 0.0
        self._dirty_since: float | None = None
        self._embedder: Embedder | None = None
        self._embed_lock = threading.Lock()  # one embedding pass at a time; concurrent searches wait
        #: On a server (set by the start-up hook), a dense search never waits for the model to load
        #: or for a corpus to be embedded: a background job does it, and searches meanwhile run as
        #: BM25 and say so in ``degraded``. Library and CLI callers wait instead (the default).
        self.background_dense = False
        self._dense_job: threading.Thread | None = None
        self._job_lock = threading.Lock()
        self._stopping = threading.Event()
        self.dense_reason = self._dense_setup()
        self.locales = self._locales()
        self.fed_types = sorted({s.type for i in contract.indexes.values() for s in i.sources})

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
            by_entry: dict[str, list[Chunk]] = {}
            for c in chunks:
                by_entry.setdefault(c.entry_id, []).append(c)
            self.index(name, locale).load_entries(by_entry, vectors, merge=False)
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

    # -- writes ---------------------------------------------------------------------------------
    def reconcile(self, progress: Progress | None = None, *, rebuild: bool = False) -> dict[str, int]:
        """Make the indexes match the published entries; ``rebuild`` drops everything first.

        Entries found stale or missing are recorded like any other change (their lag runs from
        their ``published_at``), except on ``rebuild``, which measures nothing."""
        from charter.content.store import published_entries

        with self.rt.read() as conn:
            published = [p for t in self.fed_types for p in published_entries(conn, t)]
        counts = {"indexed": 0, "removed": 0, "unchanged": 0, "chunks": 0}
        changes: list[Change] = []
        with self._lock:
            if rebuild:
                for idx in self.indexes.values():
                    idx.clear()
            have: dict[tuple[str, str], dict[str, int]] = {key: idx.entries for key, idx in self.indexes.items()}
            wanted_ids = {e.id for e, _ in published}
            batches: dict[tuple[str, str], dict[str, list[Chunk]]] = {}
            total = len(published)
            for n, (entry, revision) in enumerate(published, 1):
                wanted = self.chunks_for(entry, revision)
                if all(have.get(key, {}).get(entry.id) == revision.number for key in wanted):
                    counts["unchanged"] += 1
                else:
                    for key, chunks in wanted.items():
                        batches.setdefault(key, {})[entry.id] = chunks
                        counts["chunks"] += len(chunks)
                    counts["indexed"] += 1
                    if not rebuild:
                        changes += self._changes(entry.id, revision.number, wanted, set(), None, entry.published_at)
                # An entry may have left an index (the contract changed): drop it there.
                for key, entries in have.items():
                    if entry.id in entries and key not in wanted:
                        batches.setdefault(key, {})[entry.id] = []
                if progress:
                    progress(n, total)
            for key, entries in have.items():
                for entry_id in entries:
                    if entry_id not in wanted_ids:
                        batches.setdefault(key, {})[entry_id] = []
                        counts["removed"] += 1
                        if not rebuild:
                            changes += self._changes(entry_id, None, {}, {key}, None, None)
            for key, batch in batches.items():
                self.index(*key).load_entries(batch, merge=False)
            for idx in self.indexes.values():
                idx.refresh()
            # No embedding here: a whole corpus takes minutes. Dense search embeds what lacks a
            # vector (in the background on a server, see :meth:`search`), or ``embed_all`` does.
        if batches and self.record:
            self._persist(
                [(self.index(*key), entry_id) for key, batch in batches.items() for entry_id in batch],
                _merge_changes(changes),
            )
        return counts

    def _changes(
        self,
        entry_id: str,
        revision: int | None,
        wanted: dict[tuple[str, str], list[Chunk]],
        removed: set[tuple[str, str]],
        event: ev.Event | None,
        changed_at: datetime | None,
    ) -> list[Change]:
        now = datetime.now(UTC)
        out = []
        for key, chunks in wanted.items():
            out.append(
                Change(
                    key[0],
                    entry_id,
                    revision,
                    "index",
                    event.type if event else "reconcile",
                    event.id if event else None,
                    (event.occurred_at if event else changed_at) or now,
                    now,
                    [key[1]],
                    len(chunks),
                )
            )
        for key in removed:
            out.append(
                Change(
                    key[0],
                    entry_id,
                    None,
                    "remove",
                    event.type if event else "reconcile",
                    event.id if event else None,
                    (event.occurred_at if event else changed_at) or now,
                    now,
                    [key[1]],
                    0,
                )
            )
        return out

    def _embed_new(self, touched: list[LocaleIndex]) -> None:
        """Embed now only when the model is already loaded; otherwise dense search embeds lazily."""
        if self._embedder is None or not self._embedder.loaded:
            return
        for idx in {id(i): i for i in touched}.values():
            missing = idx.missing_vectors()
            if missing:
                vecs = self._embedder([c.indexed_text for c in missing])
                idx.set_vectors({c.key: vecs[i] for i, c in enumerate(missing)})

    def apply_entry(self, entry_id: str, event: ev.Event | None = None, *, record: bool | None = None) -> list[Change]:
        """Re-index one entry from its current published state (removing it where it is no longer
        published) and record the lag from ``event`` (or from now). Returns one change per index
        touched; searchable when this returns."""
        from charter.content.store import published_entries

        with self.rt.read() as conn:
            found = published_entries(conn, ids=[entry_id])
        entry, revision = found[0] if found else (None, None)
        with self._lock:
            wanted = self.chunks_for(entry, revision) if entry and revision else {}
            removed: set[tuple[str, str]] = set()
            for key, idx in list(self.indexes.items()):
                if key not in wanted and idx.remove_entry(entry_id):
                    removed.add(key)
            for key, chunks in wanted.items():
                self.index(*key).put_entry(entry_id, chunks)
            touched = [self.index(*key) for key in (*wanted, *removed)]
            self._embed_new(touched)
            changes = _merge_changes(
                self._changes(entry_id, revision.number if revision else None, wanted, removed, event, None)
            )
            self._last_write = time.monotonic()
        if changes and (self.record if record is None else record):
            self._persist([(idx, entry_id) for idx in touched], changes)
        return changes

    def _persist(self, written: list[tuple[LocaleIndex, str]], changes: list[Change]) -> None:
        """Write chunks to the store and record freshness, in one transaction."""
        with self.rt.write() as (conn, pending):
            for idx, entry_id in written:
                self.store.write_entry(conn, idx, entry_id)
            for change in changes:
                slo = self.contract.indexes[change.index].freshness_slo
                conn.execute(
                    sa.insert(retrieval_freshness).values(
                        index_name=change.index,
                        entry_id=change.entry_id,
                        revision=change.revision,
                        op=change.op,
                        event_type=change.event_type,
                        event_id=change.event_id,
                        changed_at=change.changed_at,
                        searchable_at=change.searchable_at,
                        lag_ms=change.lag_ms,
                    )
                )
                payload = change.payload(self.instance, slo)
                recorded = ev.record(conn, ev.Event(ev.INDEX_UPDATED, payload, domain="retrieval"))
                self._seen_events.add(recorded.id or 0)
                pending.append(recorded)
                if change.lag_ms > slo * 1000.0:
                    breach = ev.record(conn, ev.Event(ev.INDEX_FRESHNESS_BREACHED, payload, domain="retrieval"))
                    self._seen_events.add(breach.id or 0)
                    pending.append(breach)
        if self._dirty_since is None:
            self._dirty_since = time.monotonic()

    def on_event(self, event: ev.Event) -> None:
        """Bus subscriber for entry and release events committed by this instance."""
        if event.id is not None:
            self._seen_events.add(event.id)
        for entry_id in _entry_ids(event):
            self.apply_entry(entry_id, event)

    def sync(self) -> int:
        """Catch up with changes made by other instances or processes (reads the events table).
        Returns how many events were applied."""
        with self.rt.read() as conn:
            events = ev.since(conn, self._watermark, [*INDEXING_EVENTS, ev.INDEX_UPDATED], limit=1000)
            for e in events:
                self._watermark = max(self._watermark, e.id or 0)
                if e.id not in self._seen_events and e.type != ev.INDEX_UPDATED:
                    self._deferred[e.id or 0] = e
            waiting = [e for e in self._deferred.values() if e.id is not None]
            done = (
                {
                    r.event_id
                    for r in conn.execute(
                        sa.select(retrieval_freshness.c.event_id).where(
                            retrieval_freshness.c.event_id.in_([e.id for e in waiting])
                        )
                    )
                }
                if waiting
                else set()
            )
        applied = 0
        for e in events:
            if e.type == ev.INDEX_UPDATED and e.id not in self._seen_events:
                self._seen_events.add(e.id or 0)
                if e.payload.get("instance") != self.instance:
                    self._follow(e.payload)
                    applied += 1
        now = datetime.now(UTC)
        for e in sorted(waiting, key=lambda e: e.id or 0):
            if e.id in done:
                self._deferred.pop(e.id or 0, None)
            elif (now - e.occurred_at).total_seconds() >= GRACE_S:
                # Nobody indexed it (it was committed by a process without a loaded service): we do.
                self._deferred.pop(e.id or 0, None)
                self._seen_events.add(e.id or 0)
                for entry_id in _entry_ids(e):
                    self.apply_entry(entry_id, e)
                applied += 1
        self._seen_events = {i for i in self._seen_events if i > self._watermark - 10_000}
        return applied

    def _follow(self, payload: dict[str, Any]) -> None:
        """Apply another instance's ``index.updated``: read the shared rows, or re-derive."""
        name, entry_id = str(payload.get("index")), str(payload.get("entry_id"))
        if name not in self.contract.indexes:
            return
        if isinstance(self.store, TableStore):
            for locale in payload.get("locales") or self.locales:
                chunks, vectors = self.store.read_entry(name, locale, entry_id)
                self.index(name, locale).put_entry(entry_id, chunks, vectors)
            self._last_write = time.monotonic()
        else:
            self.apply_entry(entry_id, record=False)

    def maintain(self, *, force: bool = False) -> dict[str, int]:
        """Background upkeep: merge delta segments that are big or idle, save the snapshot."""
        merged = 0
        idle = time.monotonic() - self._last_write >= IDLE_MERGE_S
        for idx in list(self.indexes.values()):
            if (idx.needs_merge or ((idle or force) and idx.pending)) and idx.merge():
                merged += 1
        flushed = 0
        if self._dirty_since is not None and (force or time.monotonic() - self._dirty_since >= FLUSH_AFTER_S):
            self.flush()
            flushed = 1
        return {"merged": merged, "flushed": flushed}

    def flush(self) -> None:
        self._dirty_since = None
        self.store.flush(list(self.indexes.values()))

    # -- reads ----------------------------------------------------------------------------------
    def check_locale(self, locale: str) -> None:
        if locale not in self.locales:
            raise UnknownLocale(f"unknown locale {locale!r}; the indexes cover {', '.join(self.locales)}")

    def embed_query(self, text: str) -> Any:
        assert self._embedder is not None
        return self._embedder([text])[0]

    def embed_all(self, progress: Progress | None = None) -> int:
        """Embed every chunk that has no vector yet (loads the model); returns how many were embedded."""
        if self._embedder is None:
            return 0
        targets = list(self.indexes.values())
        total = sum(len(idx.missing_vectors()) for idx in targets)
        done = 0
        for idx in targets:
            if self._stopping.is_set():
                break
            done += self._embed_into(idx)
            if progress:
                progress(done, total)
        return done

    def _dense_not_ready(self, targets: list[LocaleIndex]) -> str | None:
        """With :attr:`background_dense`: why dense search cannot run right now (a background job
        is loading the model or embedding many chunks; started here when needed), else None."""
        assert self._embedder is not None
        with self._job_lock:
            if self._dense_job is not None and self._dense_job.is_alive():
                return "the embedding model is loading or embedding chunks in the background"
            missing = sum(len(idx.missing_vectors()) for idx in targets)
            if self._embedder.loaded and missing <= BACKGROUND_EMBED_MIN:
                return None  # the few chunks left are embedded in line by the search
            self._dense_job = threading.Thread(target=self._dense_warm_up, name="charter-embed", daemon=True)
            self._dense_job.start()
            return "the embedding model is loading or embedding chunks in the background"

    def _dense_warm_up(self) -> None:
        try:
            self.embed_all()
        except Exception:  # reported, and retried by the next dense search
            import structlog

            structlog.get_logger("charter.retrieval").exception("retrieval_embedding_failed")

    def serve(self) -> None:
        """Switch to server behaviour: :attr:`background_dense` (the start-up hook calls this)."""
        self._stopping.clear()
        self.background_dense = True

    def stop(self, timeout: float = 30.0) -> None:
        """Leave server behaviour: stop the background embedding job (between two indexes) and
        wait for it."""
        self.background_dense = False
        self._stopping.set()
        job = self._dense_job
        if job is not None:
            job.join(timeout)
        self._stopping.clear()

    def _embed_into(self, idx: LocaleIndex) -> int:
        assert self._embedder is not None
        if not idx.missing_vectors():
            return 0
        with self._embed_lock:
            missing = idx.missing_vectors()
            if not missing:
                return 0
            vecs = self._embedder([c.indexed_text for c in missing])
            new = {c.key: vecs[i] for i, c in enumerate(missing)}
            idx.set_vectors(new)
            self.store.write_vectors(idx, new)
            if self._dirty_since is None:
                self._dirty_since = time.monotonic()
            return len(missing)

    def search(
        self, query: str, locale: str, indexes: list[str] | None = None, *, mode: str | None = None, k: int = 10
    ) -> SearchResult:
        """Top ``k`` chunks for ``query`` in ``locale`` across ``indexes`` (all when None).

        ``mode`` dense or hybrid without the embeddings extra falls back to BM25 and says so in
        :attr:`SearchResult.degraded` (never silently)."""
        self.check_locale(locale)
        mode = mode or self.contract.mode
        degraded = None
        if mode in ("dense", "hybrid") and self._embedder is None:
            degraded = f"{mode} requested, BM25 used: {self.dense_reason}"
            mode = "bm25"
        names = indexes or list(self.contract.indexes)
        unknown = [n for n in names if n not in self.contract.indexes]
        if unknown:
            raise ConfigError(f"unknown index {unknown[0]!r}; declared: {', '.join(self.contract.indexes)}")
        targets = [self.indexes[(n, locale)] for n in names if (n, locale) in self.indexes]
        if mode in ("dense", "hybrid") and self.background_dense:
            busy = self._dense_not_ready(targets)
            if busy:
                degraded = f"{mode} requested, BM25 used: {busy}"
                mode = "bm25"
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
            if self.store.dense_in_database:
                rankings += [self._search_dense_in_database(idx, qvec, depth) for idx in targets]
                timings["dense_in_database"] = (time.perf_counter() - t0) * 1000
            else:
                rankings += [idx.search_dense(qvec, depth) for idx in targets]
                timings["dense"] = (time.perf_counter() - t0) * 1000
        rankings = [r for r in rankings if r]
        if not rankings:
            hits: list[Hit] = []
        elif len(rankings) == 1:
            hits = rankings[0][:k]
        else:
            hits = rrf(rankings, self.contract.rrf_k, limit=k)
        return SearchResult(hits, mode, degraded, timings)

    def _search_dense_in_database(self, idx: LocaleIndex, qvec: Any, k: int) -> list[Hit]:
        """pgvector's ranking, mapped onto the chunks this instance holds (a row another instance
        wrote a moment ago and this one has not followed yet is left out)."""
        hits: list[Hit] = []
        for key, score in self.store.search_dense(idx, qvec, k):
            chunk = idx.get(key)
            if chunk is not None:
                hits.append(Hit(chunk, score, len(hits)))
        return hits

    def evidence(self, query: str, hits: list[Hit]) -> float:
        """Strength of the evidence: the best share of query words any hit contains (0..1)."""
        best = 0.0
        for hit in hits:
            idx = self.indexes.get((hit.chunk.index, hit.chunk.locale))
            if idx is not None:
                best = max(best, idx.coverage(query, hit.chunk))
        return best

    def status(self) -> dict[str, Any]:
        """What ``charter index status`` and ``GET /v1/retrieval/status`` show."""
        out: dict[str, Any] = {
            "store": self.store.kind,
            "mode": self.contract.mode,
            "dense": {
                "available": self.dense_available,
                "reason": self.dense_reason,
                "in_database": self.store.dense_in_database,
                "in_database_reason": self.store.dense_in_database_reason,
            },
            "locales": list(self.locales),
            "indexes": {},
        }
        fresh = freshness_stats(self.rt, self.contract)
        for name, spec in self.contract.indexes.items():
            idxs = [i for (n, _), i in self.indexes.items() if n == name]
            entries = {e for i in idxs for e in i.entries}
            out["indexes"][name] = {
                "entries": len(entries),
                "chunks": sum(len(i) for i in idxs),
                "vectors": sum(len(i.vectors()) for i in idxs),
                "pending": sum(i.pending for i in idxs),
                "locales": sorted(i.locale for i in idxs),
                "regulated": spec.regulated,
                "freshness_slo_s": spec.freshness_slo,
                "freshness": fresh.get(name, {"count": 0}),
            }
        return out


def _merge_changes(changes: list[Change]) -> list[Change]:
    """One change per (index, entry, op), with the locales it covered."""
    merged: dict[tuple[str, str, str], Change] = {}
    for c in changes:
        key = (c.index, c.entry_id, c.op)
        if key in merged:
            m = merged[key]
            m.locales = sorted({*m.locales, *c.locales})
            m.chunks += c.chunks
            m.searchable_at = max(m.searchable_at, c.searchable_at)
        else:
            merged[key] = Change(**{**c.__dict__, "locales": list(c.locales)})
    return list(merged.values())


def _entry_ids(event: ev.Event) -> list[str]:
    entries = event.payload.get("entries")
    if isinstance(entries, list):
        return [str(e) for e in entries]
    entry_id = event.payload.get("id")
    return [entry_id] if isinstance(entry_id, str) else []


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


def freshness_stats(rt: Runtime, contract: Contract | None = None) -> dict[str, dict[str, Any]]:
    """Publish-to-searchable lag per index over the last 50,000 changes: count, p50, p95, max (ms)
    and, given the contract, how many changes breached the index's freshness SLO."""
    t = retrieval_freshness
    by_index: dict[str, list[float]] = {}
    with rt.read() as conn:
        for r in conn.execute(sa.select(t.c.index_name, t.c.lag_ms).order_by(t.c.id.desc()).limit(50_000)):
            by_index.setdefault(r.index_name, []).append(float(r.lag_ms))
    out: dict[str, dict[str, Any]] = {}
    for name, lags in by_index.items():
        ordered = sorted(lags)
        stats: dict[str, Any] = {
            "count": len(lags),
            "p50_ms": _percentile(ordered, 50),
            "p95_ms": _percentile(ordered, 95),
            "max_ms": ordered[-1],
        }
        if contract is not None and name in contract.indexes:
            slo_ms = contract.indexes[name].freshness_slo * 1000.0
            stats["slo_breaches"] = sum(1 for lag in lags if lag > slo_ms)
        out[name] = stats
    return out


def _percentile(ordered: list[float], q: float) -> float:
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def load_service(rt: Runtime, *, record: bool = True, store: ChunkStore | None = None) -> RetrievalService:
    """A service for ``rt``'s project (``retrieval.yaml``), loaded and reconciled, not subscribed."""
    contract = load_contract(contract_path(rt), rt.registry)
    service = RetrievalService(rt, contract, store if store is not None else store_for(rt), record=record)
    service.load()
    return service


_ATTR = "_charter_retrieval_service"


def loaded_service(rt: Runtime) -> RetrievalService | None:
    """The runtime's service if it has been loaded, else None (never loads)."""
    return rt.__dict__.get(_ATTR)


def service_for(rt: Runtime) -> RetrievalService:
    """The runtime's one service: built and loaded on first use; from then on the bus subscriber
    installed by :func:`install` keeps it in step with this instance's commits."""
    service = loaded_service(rt)
    if service is None:
        lock = rt.__dict__.setdefault("_charter_retrieval_lock", threading.Lock())
        with lock:
            service = loaded_service(rt)
            if service is None:
                service = load_service(rt)
                rt.__dict__[_ATTR] = service
    return service


def install(rt: Runtime) -> None:
    """Runtime installer: route committed entry and release events to the loaded service."""

    def on_event(event: ev.Event) -> None:
        service = loaded_service(rt)
        if service is not None:
            service.on_event(event)

    rt.bus.subscribe(on_event, types=INDEXING_EVENTS)


def worker_duty(rt: Runtime) -> float | None:
    """Worker duty: follow other instances' changes, merge delta segments, save the snapshot."""
    service = loaded_service(rt)
    if service is None:
        return None
    service.sync()
    service.maintain()
    return None


async def startup(app: Any, rt: Runtime) -> Callable[[], Any] | None:
    """App start-up hook: load the indexes (a new instance reads the shared table on PostgreSQL).
    Without the in-process worker (``worker = false``) it follows events itself, once a second."""
    import asyncio

    if not contract_path(rt).is_file():
        return None
    service = await asyncio.to_thread(service_for, rt)
    service.serve()  # requests never wait for the embedding model
    app.state.retrieval = service
    task = None
    if not rt.settings.worker:

        async def poll() -> None:
            while True:
                await asyncio.sleep(1.0)
                try:
                    await asyncio.to_thread(worker_duty, rt)
                except Exception:  # a failed poll is retried on the next tick
                    import structlog

                    structlog.get_logger("charter.retrieval").exception("retrieval_sync_failed")

        task = asyncio.get_running_loop().create_task(poll())

    async def cleanup() -> None:
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        await asyncio.to_thread(service.stop)
        await asyncio.to_thread(service.maintain, force=True)

    return cleanup
