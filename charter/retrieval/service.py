"""The retrieval service of one app instance: indexes kept in step with published content.

One :class:`LocaleIndex` per (contract index, locale), filled from the published entries
(:mod:`charter.retrieval.documents` says which chunks an entry contributes):

* :meth:`RetrievalService.load` reads the persisted chunks (:mod:`charter.retrieval.store`) and
  :meth:`~RetrievalService.reconcile` makes them match what is published now.
* Each publish, unpublish, rollback or delete committed by this instance re-chunks that one entry
  and makes it searchable (the BM25 delta segment takes it at once), then records the
  publish-to-searchable lag (:mod:`charter.retrieval.freshness`) in one transaction that, on
  PostgreSQL, also replaces the entry's rows in the shared table.
* Changes made elsewhere are followed through the events table
  (:mod:`charter.retrieval.following`); :meth:`~RetrievalService.maintain` merges BM25 delta
  segments and saves the on-disk snapshot.
* :meth:`~RetrievalService.search` ranks chunks by BM25, dense vectors
  (:mod:`charter.retrieval.dense`) or both fused by reciprocal rank (hybrid), and says when it
  had to fall back to BM25.

How a process gets its one service and keeps it running is :mod:`charter.retrieval.lifecycle`.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from charter import events as ev
from charter.exceptions import ConfigError, UnknownLocale, UpstreamUnavailable
from charter.observability.spans import span
from charter.retrieval.contract import Contract
from charter.retrieval.dense import DenseVectors
from charter.retrieval.documents import chunks_for
from charter.retrieval.following import EventFollower, entry_ids
from charter.retrieval.freshness import Change, changes_for, freshness_stats, merge_changes, record_changes
from charter.retrieval.index import Chunk, Hit, LocaleIndex, rrf
from charter.retrieval.routing import RouteDecision, Router
from charter.retrieval.store import ChunkStore, NullStore, TableStore
from charter.retrieval.telemetry import index_search
from charter.retrieval.text import (
    QUESTION_WORDS,
    TOKEN_PATTERN,
    asks_year,
    expects_quantity,
    language_of,
    named_terms,
    states_quantity,
    tokenizer_for,
)

if TYPE_CHECKING:
    from charter.runtime import Runtime

__all__ = ["AnswerSources", "RetrievalService", "SearchResult"]

#: Evidence at which the routed indexes answer without a look at the fallback indexes.
STRONG_EVIDENCE = 0.75
#: How much better a fallback index's evidence must be to answer instead of the routed indexes.
FALLBACK_MARGIN = 0.15
#: Merge a delta segment that has had no writes for this long, so scores become exact again.
IDLE_MERGE_S = 2.0
#: Save the on-disk snapshot this long after the last change.
FLUSH_AFTER_S = 1.0

Progress = Callable[[int, int], None]


@dataclass
class SearchResult:
    hits: list[Hit]
    mode: str
    degraded: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    #: The query's embedding when dense search ran (the evidence score reuses it).
    query_vector: Any = None


@dataclass
class AnswerSources:
    """What a question is answered from (:meth:`RetrievalService.answer_sources`): the sources,
    their evidence against the gate, and where they were found (indexes, content locale)."""

    hits: list[Hit]
    evidence: float
    threshold: float
    mode: str
    decision: RouteDecision
    indexes: list[str]
    locale: str
    degraded: str | None = None
    #: "index" when the routed indexes held no support and the intent's fallback indexes answered;
    #: "intent" when another intent's indexes answered a question the classifier (or the default)
    #: routed elsewhere; "locale" when the question's locale had none and a locale of its fallback
    #: chain did.
    fallback: list[str] = field(default_factory=list)
    attempts: int = 1
    #: Names in the question that no content of its locale chain mentions (``Python`` in "Is there
    #: a Python SDK?"): the question is about something the content does not cover, and its
    #: evidence is 0 (:meth:`RetrievalService.unknown_names`).
    unknown: list[str] = field(default_factory=list)

    @property
    def supported(self) -> bool:
        return bool(self.hits) and self.evidence >= self.threshold


#: The fields that say what an entry is about rather than what it says (a doc's ``summary``, a
#: page's ``description``): :func:`leave_out_summaries`.
SUMMARY_FIELDS = frozenset({"summary", "description"})


def leave_out_summaries(hits: list[Hit]) -> list[Hit]:
    """``hits`` less the summaries of entries whose other text is among them: a summary ("Create and
    rotate API keys.") restates the body in a line that names every topic and answers none, so as a
    source beside its body it only competes with the sentence that answers. The evidence is measured
    before (a summary that matches the question still says the entry is about it); a summary whose
    entry has nothing else among the hits stays."""
    bodies = {h.chunk.entry_id for h in hits if h.chunk.field not in SUMMARY_FIELDS}
    return [h for h in hits if h.chunk.field not in SUMMARY_FIELDS or h.chunk.entry_id not in bodies]


def mentions(term: str, df: dict[str, int], language: str) -> bool:
    """Whether ``term`` (analysed) is indexed in ``df``, or, in a compounding language, is a
    compound whose head is indexed (or the head of an indexed compound)."""
    from charter.retrieval.index import COMPOUNDING, _compound_match

    if term in df:
        return True
    return language in COMPOUNDING and _compound_match(term, df.keys()) != term


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
        #: Query-time synonyms (retrieval.yaml ``synonyms``, :mod:`charter.retrieval.synonyms`).
        self.lexicon = contract.synonyms.lexicon()
        self.indexes: dict[tuple[str, str], LocaleIndex] = {}
        self._lock = threading.RLock()
        self.follower = EventFollower(rt, self.instance, self._follow, self.apply_event)
        self._last_write = 0.0
        self._dirty_since: float | None = None
        self.dense = DenseVectors(contract, self.store, lambda: list(self.indexes.values()), self._mark_dirty)
        self.locales = self._locales()
        self._stats_cache: dict[str, tuple[Any, tuple[int, float, dict[str, int]]]] = {}
        self.fed_types = sorted({s.type for i in contract.indexes.values() for s in i.sources})
        #: Where published content is read from: None for the embedded store; else the other CMS
        #: behind the delivery API (docs/sources.md), which lists its entries as (Entry, Revision).
        self.content_source: Any = None if rt.settings.source == "embedded" else rt.source
        if self.content_source is not None and not hasattr(self.content_source, "published_entries"):
            raise ConfigError(
                f"source {rt.settings.source!r} cannot list its content for the retrieval indexes "
                "(it has no published_entries); remove retrieval.yaml or choose another source"
            )
        #: Why the last reconcile could not read the content source (it is retried on each sync).
        self.source_unavailable: str | None = None

    # -- set-up ---------------------------------------------------------------------------------
    def _locales(self) -> tuple[str, ...]:
        return contract_locales(self.contract, self.rt.registry)

    def index(self, name: str, locale: str) -> LocaleIndex:
        with self._lock:
            idx = self.indexes.get((name, locale))
            if idx is None:
                idx = self.indexes[(name, locale)] = LocaleIndex(name, locale, lexicon=self.lexicon)
            return idx

    @property
    def dense_available(self) -> bool:
        return self.dense.available

    @property
    def dense_reason(self) -> str | None:
        """Why dense search does not run here, or None when it does."""
        return self.dense.reason

    def load(self, progress: Progress | None = None) -> dict[str, int]:
        """Load persisted chunks, then reconcile them with what is published now."""
        with self.rt.read() as conn:
            self.follower.start(conn)
        for (name, locale), (chunks, vectors) in self.store.load().items():
            if name not in self.contract.indexes:
                continue
            by_entry: dict[str, list[Chunk]] = {}
            for c in chunks:
                by_entry.setdefault(c.entry_id, []).append(c)
            self.index(name, locale).load_entries(by_entry, vectors, merge=False)
        return self.reconcile(progress)

    # -- writes ---------------------------------------------------------------------------------
    def reconcile(self, progress: Progress | None = None, *, rebuild: bool = False) -> dict[str, int]:
        """Make the indexes match the published entries; ``rebuild`` drops everything first.

        Entries found stale or missing are recorded like any other change (their lag runs from
        their ``published_at``), except on ``rebuild``, which measures nothing."""
        try:
            published = self._published()
        except UpstreamUnavailable as exc:
            # The other CMS is down: keep the chunks loaded so far (the persisted ones) and
            # answer from them; every sync tries again (an instance still starts meanwhile).
            import structlog

            structlog.get_logger("charter.retrieval").warning(
                "retrieval_source_unavailable", source=self.rt.settings.source, detail=exc.detail
            )
            self.source_unavailable = exc.detail
            return {"indexed": 0, "removed": 0, "unchanged": 0, "chunks": 0}
        self.source_unavailable = None
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
                wanted = chunks_for(self.rt.registry, self.contract, entry, revision)
                # Chunks (which carry the revision), not only revisions: a new chunker or contract
                # re-indexes entries whose revision did not change.
                if all(
                    (self.indexes[key].chunks_of(entry.id) if key in self.indexes else []) == chunks
                    for key, chunks in wanted.items()
                ):
                    counts["unchanged"] += 1
                else:
                    for key, chunks in wanted.items():
                        batches.setdefault(key, {})[entry.id] = chunks
                        counts["chunks"] += len(chunks)
                    counts["indexed"] += 1
                    if not rebuild:
                        changes += changes_for(entry.id, revision.number, wanted, set(), None, entry.published_at)
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
                            changes += changes_for(entry_id, None, {}, {key}, None, None)
            for key, batch in batches.items():
                self.index(*key).load_entries(batch, merge=False)
            for idx in self.indexes.values():
                idx.refresh()
            # No embedding here: a whole corpus takes minutes. Dense search embeds what lacks a
            # vector (in the background on a server, see :meth:`search`), or ``embed_all`` does.
        if batches and self.record:
            self._persist(
                [(self.index(*key), entry_id) for key, batch in batches.items() for entry_id in batch],
                merge_changes(changes),
            )
        return counts

    def apply_entry(self, entry_id: str, event: ev.Event | None = None, *, record: bool | None = None) -> list[Change]:
        """Re-index one entry from its current published state (removing it where it is no longer
        published) and record the lag from ``event`` (or from now). Returns one change per index
        touched; searchable when this returns."""
        found = self._published([entry_id])
        entry, revision = found[0] if found else (None, None)
        with self._lock:
            wanted = chunks_for(self.rt.registry, self.contract, entry, revision) if entry and revision else {}
            removed: set[tuple[str, str]] = set()
            for key, idx in list(self.indexes.items()):
                if key not in wanted and idx.remove_entry(entry_id):
                    removed.add(key)
            for key, chunks in wanted.items():
                self.index(*key).put_entry(entry_id, chunks)
            touched = [self.index(*key) for key in (*wanted, *removed)]
            self.dense.embed_new(touched)
            changes = merge_changes(
                changes_for(entry_id, revision.number if revision else None, wanted, removed, event, None)
            )
            self._last_write = time.monotonic()
        if changes and (self.record if record is None else record):
            self._persist([(idx, entry_id) for idx in touched], changes)
        return changes

    def _published(self, ids: list[str] | None = None) -> list[tuple[Any, Any]]:
        """The published (Entry, Revision) pairs of the fed types (or with ``ids``), from the
        embedded store or the content source."""
        if self.content_source is not None:
            pairs: list[tuple[Any, Any]] = self.content_source.published_entries(self.fed_types, ids)
            return pairs
        from charter.content.store import published_entries

        with self.rt.read() as conn:
            if ids is not None:
                return list(published_entries(conn, ids=ids))
            return [p for t in self.fed_types for p in published_entries(conn, t)]

    def _persist(self, written: list[tuple[LocaleIndex, str]], changes: list[Change]) -> None:
        """Write chunks to the store and record freshness, in one transaction."""
        with self.rt.write() as (conn, pending):
            for idx, entry_id in written:
                self.store.write_entry(conn, idx, entry_id)
            for recorded in record_changes(conn, self.contract, changes, self.instance):
                self.follower.seen.add(recorded.id or 0)
                pending.append(recorded)
        self._mark_dirty()

    def _mark_dirty(self) -> None:
        if self._dirty_since is None:
            self._dirty_since = time.monotonic()

    def on_event(self, event: ev.Event) -> None:
        """Bus subscriber for entry and release events committed by this instance."""
        if event.id is not None:
            self.follower.seen.add(event.id)
        self.apply_event(event)

    def apply_event(self, event: ev.Event) -> None:
        """Re-index the entries an indexing event names (reconcile when it cannot tell which)."""
        ids = self.event_entry_ids(event)
        if ids is None:
            self.reconcile()
            return
        try:
            for entry_id in ids:
                self.apply_entry(entry_id, event)
        except UpstreamUnavailable as exc:
            # The other CMS did not answer: the next sync reconciles with it instead.
            import structlog

            structlog.get_logger("charter.retrieval").warning(
                "retrieval_source_unavailable", source=self.rt.settings.source, detail=exc.detail, event_id=event.id
            )
            self.source_unavailable = exc.detail

    def event_entry_ids(self, event: ev.Event) -> list[str] | None:
        """The entries an event changes in the indexes; None when only a reconcile can tell.
        With another CMS as the content source only its ``source.changed`` events count (the
        source names the entries); the embedded store's events count otherwise."""
        if self.content_source is None:
            return [] if event.type == ev.SOURCE_CHANGED else entry_ids(event)
        if event.type != ev.SOURCE_CHANGED or event.payload.get("source") != self.rt.settings.source:
            return []
        found: list[str] | None = self.content_source.index_ids(event.payload)
        return found

    def sync(self) -> int:
        """Catch up with changes made by other instances or processes (reads the events table),
        and retry a reconcile the content source was unavailable for. Returns how many events
        were applied."""
        if self.source_unavailable is not None:
            self.reconcile()
        return self.follower.sync()

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
        return self.dense.embed_query(text)

    def embed_all(self, progress: Progress | None = None) -> int:
        """Embed every chunk that has no vector yet (loads the model); returns how many were embedded."""
        return self.dense.embed_all(progress)

    def locale_chain(self, locale: str) -> list[str]:
        """``locale`` and the locales its content falls back to (the content types' chains, in
        order), restricted to the locales the indexes cover."""
        out: dict[str, None] = {locale: None}
        for name in self.fed_types:
            ct = self.rt.registry.types.get(name)
            if ct is not None and locale in ct.locales.supported:
                for loc in ct.locales.chain(locale):
                    out[loc] = None
        return [loc for loc in out if loc in self.locales]

    def answer_sources(
        self,
        question: str,
        locale: str,
        *,
        intent: str | None = None,
        mode: str | None = None,
        k: int | None = None,
        depth: int | None = None,
        decision: RouteDecision | None = None,
    ) -> AnswerSources:
        """Route ``question``, search, and measure the evidence; when the routed indexes hold no
        support in ``locale``, try the intent's fallback indexes, then the same along the locale
        fallback chain, and answer from the first place with support (else from the best place
        tried, which the gate then refuses). An explicit ``intent`` is not left for a fallback
        index. ``k`` sources are kept (the contract's ``top_k`` by default); ``depth`` ranks more
        for evaluation."""
        self.check_locale(locale)
        decision = decision or self.router.route(question, intent)
        k = k or self.contract.answering.top_k
        language = language_of(locale)
        unknown = self.unknown_names(question, locale, language)
        # A word only a later locale's content holds ("Okta" asked in German, where only the English
        # docs name it): the locale that supports the question answers about something else, so the
        # later locales are searched too and answer when they support it at least as well. Decided
        # once a locale supports the question, against that locale's vocabulary.
        further: bool | None = None
        quantity = expects_quantity(question, language)
        year = asks_year(question, language)
        steps: list[tuple[RouteDecision, list[str], str, list[str]]] = []
        fallback_indexes = [] if decision.method == "explicit" else self.contract.fallback_indexes(decision.intent)
        # A classifier's or the default's choice is a guess: when it finds no support, the other
        # intents are tried, each with its own indexes (so a regulated index answers only under
        # an intent that names it). A rule or an explicit intent is the contract's decision.
        others = (
            [(name, list(spec.indexes)) for name, spec in self.contract.intents.items() if name != decision.intent]
            if decision.method in ("classifier", "default")
            else []
        )
        for n, loc in enumerate(self.locale_chain(locale)):
            why = ["locale"] if n else []
            steps.append((decision, decision.indexes, loc, why))
            searched = set(decision.indexes)
            if fallback_indexes:
                steps.append((decision, fallback_indexes, loc, [*why, "index"]))
                searched |= set(fallback_indexes)
            for name, names in others:
                if set(names) <= searched:
                    continue  # searched already, under an intent that may use it
                steps.append((RouteDecision(name, names, "fallback"), names, loc, [*why, "intent"]))
                searched |= set(names)
        best: AnswerSources | None = None
        supported: AnswerSources | None = None
        qvec: Any = None
        for attempt, (step_decision, names, loc, why) in enumerate(steps, 1):
            if supported is not None and supported.locale != loc:
                if further is None:
                    further = bool(self.fallback_words(question, supported.locale, language))
                if not further:
                    break  # the question's own locale answers before any fallback locale
            result = self.search(
                question, loc, names, mode=mode, k=max(k, depth or 0), language=language, query_vector=qvec
            )
            qvec = result.query_vector if qvec is None else qvec  # embedded once per question
            if quantity:
                # An answer to "how many/how long/what does it cost" states an amount: the sources
                # that state one come first, and only they count as evidence.
                stating = {id(h) for h in result.hits if states_quantity(h.chunk.text, language, year=year)}
                result.hits = [h for h in result.hits if id(h) in stating] + [
                    h for h in result.hits if id(h) not in stating
                ]
            top = result.hits[:k]
            counted = [h for h in top if states_quantity(h.chunk.text, language, year=year)] if quantity else top
            evidence = 0.0 if unknown else self.evidence(question, counted, result.mode, language, result.query_vector)
            found = AnswerSources(
                result.hits if depth else leave_out_summaries(top),
                evidence,
                self.contract.answering.threshold(result.mode),
                result.mode,
                step_decision,
                list(names),
                loc,
                result.degraded,
                why,
                attempt,
                unknown,
            )
            if found.supported:
                # The routed indexes answer unless a fallback index supports the question clearly
                # better (a weak match in the routed index is a misroute, not an answer).
                if supported is None:
                    supported = found
                    if evidence >= STRONG_EVIDENCE:
                        return found
                elif evidence >= supported.evidence + (0.0 if further and loc != supported.locale else FALLBACK_MARGIN):
                    found.attempts = attempt
                    return found
                else:
                    supported.attempts = attempt
            if best is None or evidence > best.evidence:
                best = found
            best.attempts = attempt
        if supported is not None:
            return supported
        assert best is not None
        return best

    def unknown_names(self, question: str, locale: str, language: str | None = None) -> list[str]:
        """The names in ``question`` (:func:`~charter.retrieval.text.named_terms`: ``Python``,
        ``PayPal``, ``HIPAA``) that no index of ``locale`` or of its locale fallback chain mentions.
        A name is mentioned when every word of it (``API-Key``: api, key) is an indexed term of some
        index in those locales, after that index's analyzer (stemming; in a compounding language
        the indexed word it is the head of counts). Names are matched across languages, since a
        product or a place is written the same way in each."""
        names = named_terms(question, language or language_of(locale))
        if not names:
            return []
        vocabularies: dict[str, list[dict[str, int]]] = {}
        for loc in self.locale_chain(locale):
            languages = {idx.tokenize.language for (_, at), idx in list(self.indexes.items()) if at == loc}
            df = self.locale_statistics(loc)[2]
            for lang in languages:
                vocabularies.setdefault(lang, []).append(df)
        unknown = []
        lang = language or language_of(locale)
        for name in names:
            # A name the lexicon equates with a mentioned word is mentioned ("Europe": "EU").
            spelled = [name] + [alt for m in self.lexicon.matches(name, lang) for alt in m.alternatives]
            if not any(self._mentioned(word, vocabularies) for word in spelled):
                unknown.append(name)
        return unknown

    def fallback_words(self, question: str, locale: str, language: str | None = None) -> list[str]:
        """The words of ``question`` (less its language's stop and question words) that no index of
        ``locale`` holds but an index of a locale of its fallback chain does, as written (after
        that index's analyzer): a product, a place, a loanword the other locale's content uses."""
        chain = self.locale_chain(locale)
        if len(chain) < 2:
            return []
        lang = language or language_of(locale)
        tokenize = tokenizer_for(lang)
        drop = QUESTION_WORDS.get(lang, frozenset()) | tokenize.stopwords
        words = [w for w in dict.fromkeys(TOKEN_PATTERN.findall(question.lower())) if w not in drop]
        if not words:
            return []

        def vocabularies(locales: list[str]) -> dict[str, list[dict[str, int]]]:
            out: dict[str, list[dict[str, int]]] = {}
            for loc in locales:
                df = self.locale_statistics(loc)[2]
                for language_at in {idx.tokenize.language for (_, at), idx in list(self.indexes.items()) if at == loc}:
                    out.setdefault(language_at, []).append(df)
            return out

        own, others = vocabularies([locale]), vocabularies(chain[1:])
        return [w for w in words if not self._mentioned(w, own) and self._mentioned(w, others)]

    @staticmethod
    def _mentioned(name: str, vocabularies: dict[str, list[dict[str, int]]]) -> bool:
        return any(
            all(any(mentions(term, df, lang) for df in dfs) for term in tokenizer_for(lang)(name))
            for lang, dfs in vocabularies.items()
        )

    def search(
        self,
        query: str,
        locale: str,
        indexes: list[str] | None = None,
        *,
        mode: str | None = None,
        k: int = 10,
        language: str | None = None,
        query_vector: Any = None,
    ) -> SearchResult:
        """Top ``k`` chunks for ``query`` in ``locale`` across ``indexes`` (all when None).
        ``language``: the question's language when it differs from the locale's (a fallback
        locale's index is searched with the question's stop words left out too). ``query_vector``:
        the query's embedding when the caller has it already (one question searched in several
        places is embedded once).

        ``mode`` dense or hybrid without the embeddings extra falls back to BM25 and says so in
        :attr:`SearchResult.degraded` (never silently)."""
        self.check_locale(locale)
        mode = mode or self.contract.mode
        degraded = None
        if mode in ("dense", "hybrid") and not self.dense.available:
            degraded = f"{mode} requested, BM25 used: {self.dense_reason}"
            mode = "bm25"
        names = indexes or list(self.contract.indexes)
        unknown = [n for n in names if n not in self.contract.indexes]
        if unknown:
            raise ConfigError(f"unknown index {unknown[0]!r}; declared: {', '.join(self.contract.indexes)}")
        targets = [self.indexes[(n, locale)] for n in names if (n, locale) in self.indexes]
        if mode in ("dense", "hybrid") and self.dense.background:
            busy = self.dense.not_ready(targets)
            if busy:
                degraded = f"{mode} requested, BM25 used: {busy}"
                mode = "bm25"
        timings: dict[str, float] = {}
        rankings: list[list[Hit]] = []
        qvec = None
        depth = max(k, 100) if mode == "hybrid" or len(targets) > 1 else k
        telemetry = self.rt.telemetry
        if mode in ("bm25", "hybrid"):
            t0 = time.perf_counter()
            for idx in targets:
                with index_search(telemetry, idx.name, idx.locale, "bm25") as found:
                    rankings.append(idx.search_bm25(query, depth, language))
                    found["hits"] = len(rankings[-1])
            timings["bm25"] = (time.perf_counter() - t0) * 1000
        if mode in ("dense", "hybrid"):
            t0 = time.perf_counter()
            for idx in targets:
                self.dense.embed_into(idx)
            qvec = query_vector if query_vector is not None else self.embed_query(query)
            method = "dense_in_database" if self.store.dense_in_database else "dense"
            for idx in targets:
                with index_search(telemetry, idx.name, idx.locale, method) as found:
                    if self.store.dense_in_database:
                        rankings.append(self._search_dense_in_database(idx, qvec, depth))
                    else:
                        rankings.append(idx.search_dense(qvec, depth))
                    found["hits"] = len(rankings[-1])
            timings[method] = (time.perf_counter() - t0) * 1000
        rankings = [r for r in rankings if r]
        if not rankings:
            hits: list[Hit] = []
        elif len(rankings) == 1:
            hits = rankings[0][:k]
        else:
            with span(
                telemetry,
                "retrieval.fusion",
                {"charter.retrieval.rankings": len(rankings), "charter.retrieval.rrf_k": self.contract.rrf_k},
            ):
                hits = rrf(rankings, self.contract.rrf_k, limit=k)
        return SearchResult(hits, mode, degraded, timings, qvec)

    def _search_dense_in_database(self, idx: LocaleIndex, qvec: Any, k: int) -> list[Hit]:
        """pgvector's ranking, mapped onto the chunks this instance holds (a row another instance
        wrote a moment ago and this one has not followed yet is left out)."""
        hits: list[Hit] = []
        for key, score in self.store.search_dense(idx, qvec, k):
            chunk = idx.get(key)
            if chunk is not None:
                hits.append(Hit(chunk, score, len(hits)))
        return hits

    def evidence(
        self, query: str, hits: list[Hit], mode: str = "bm25", language: str | None = None, query_vector: Any = None
    ) -> float:
        """How well the best of ``hits`` supports an answer to ``query``, 0..1: its calibrated BM25
        score (:meth:`LocaleIndex.support`); in dense mode the cosine similarity of the query and
        the source; in hybrid mode the mean of the two. The gate (``answering.min_evidence``) is
        calibrated on this score (docs/retrieval.md)."""
        import numpy as np

        best = 0.0
        for hit in hits:
            idx = self.indexes.get((hit.chunk.index, hit.chunk.locale))
            if idx is None:
                continue
            scores = []
            if mode in ("bm25", "hybrid"):
                stats = self.locale_statistics(hit.chunk.locale)
                scores.append(idx.support(idx.query_slots(query, language), hit.chunk, stats))
            if mode in ("dense", "hybrid") and query_vector is not None:
                vec = idx.vector(hit.chunk.key)
                if vec is not None:
                    scores.append(max(0.0, float(np.dot(vec, query_vector))))
            if scores:
                best = max(best, sum(scores) / len(scores))
        return best

    def readiness(self) -> str:
        """``ok`` when every index the contract needs can answer as the contract says; else
        ``degraded: <mode> search runs as BM25: <why>``."""
        if self.contract.mode in ("dense", "hybrid") and self.dense.available:
            why = self.dense.readiness(list(self.indexes.values()))
            if why:
                return f"degraded: {self.contract.mode} search runs as BM25: {why}"
        return "ok"

    def locale_statistics(self, locale: str) -> tuple[int, float, dict[str, int]]:
        """BM25 statistics over every index of ``locale`` together (what the evidence score's IDF
        is computed with), cached until an index of the locale changes."""
        idxs = [idx for (_, loc), idx in self.indexes.items() if loc == locale]
        stamp = tuple((idx.name, len(idx), idx.pending, id(idx._base)) for idx in idxs)
        cached = self._stats_cache.get(locale)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        n, length = 0, 0.0
        df: dict[str, int] = {}
        for idx in idxs:
            i_n, i_avg, i_df = idx.statistics()
            n += i_n
            length += i_avg * i_n
            for term, count in i_df.items():
                df[term] = df.get(term, 0) + count
        stats = (n, length / n if n else 0.0, df)
        self._stats_cache[locale] = (stamp, stats)
        return stats

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


def contract_locales(contract: Contract, registry: Any) -> tuple[str, ...]:
    """The locales the contract's indexes cover: every supported locale of the types they index."""
    seen: dict[str, None] = {}
    for index in contract.indexes.values():
        for source in index.sources:
            if source.type in registry.types:
                for loc in registry.types[source.type].locales.supported:
                    seen[loc] = None
    return tuple(seen)
