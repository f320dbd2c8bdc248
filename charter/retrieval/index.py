"""In-memory indexes: one :class:`LocaleIndex` per (contract index, locale).

BM25 has two segments, so that a change is searchable the moment it is written:

* the **base** segment is a bm25s model over every chunk as of the last :meth:`LocaleIndex.merge`
  (bm25s precomputes each (chunk, term) score, which is what makes its queries fast);
* the **delta** segment holds the chunks written since, as a small inverted index scored at query
  time with the same BM25 formula (Lucene variant, bm25s's default ``k1=1.5``, ``b=0.75``) and
  the base segment's statistics (document count, average length, document frequencies), so the
  two segments' scores are comparable and can be merged by value.

A replaced or removed chunk is masked out of the base segment (a tombstone). :meth:`merge`
rebuilds the base from cached token lists (no re-tokenising) *outside* the lock, swaps it in, and
keeps in the delta whatever changed meanwhile; after a merge every score is exact BM25 over the
whole corpus again. Callers merge when :attr:`LocaleIndex.needs_merge` says so (the worker does
it in the background); until then results differ from a fresh build only by slightly stale
corpus statistics.

Dense vectors are kept per chunk and stacked into one matrix on demand; a chunk without a vector
gets one the next time dense search runs, so start-up never waits for the embedding model.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from charter.retrieval.text import QUESTION_WORDS, TOKEN_PATTERN, Tokenizer, tokenizer_for

if TYPE_CHECKING:
    import numpy as np

    from charter.retrieval.synonyms import Lexicon

#: One question word as the index matches it: the word's term first, then the indexed terms its
#: synonyms add (:meth:`LocaleIndex.query_slots`); a source holding any of them holds the word.
Slot = tuple[str, ...]

#: bm25s's defaults (method "lucene"), used for the delta segment too.
K1 = 1.5
B = 0.75
#: The delta segment is merged once it holds this many chunks, or this share of the base.
MERGE_MIN_CHUNKS = 256
MERGE_SHARE = 0.05


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
    #: The field of the entry the text was built from (``body``, ``sections[4].items[1]``, ``price``).
    field: str = ""

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
        return cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    rank: int


Embed = Callable[[list[str]], "np.ndarray"]


@dataclass
class _Base:
    """A bm25s model over ``rows`` (chunk keys) with the statistics it was built with."""

    model: Any
    rows: list[str]
    chunks: list[Chunk]  # the chunk object each row was built from (identity marks it current)
    row_of: dict[str, int]
    alive: np.ndarray  # bool per row; False once the chunk was replaced or removed
    n_docs: int
    avg_len: float
    df: dict[str, int]


def _idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


#: The weight of a question word the index has never seen, as a share of the highest IDF: such a
#: word is often the subject the content does not cover ("CEO", "PayPal"), but as often a word of
#: the question's frame ("offer", "work"). Calibrated with the evidence gate (docs/retrieval.md).
UNKNOWN_WEIGHT = 1.0

#: Languages that write compounds as one word; their unknown query words are matched to the
#: indexed words they are a part or a whole of.
COMPOUNDING = frozenset({"de", "nl", "sv", "da"})
MIN_COMPOUND_PART = 6
#: A query word also finds the indexed compounds it ends (:meth:`LocaleIndex.query_slots`): the
#: word's stem has at least this many letters, the rest of the compound at least that many, and at
#: most that many compounds are added.
MIN_COMPOUND_HEAD, MIN_COMPOUND_MODIFIER, MAX_COMPOUNDS = 3, 4, 8


_ONE_WORD = re.compile(r"[\w-]+")
_CAMEL = re.compile(r"\b[a-z]+(?:[A-Z][a-z0-9]+)+\b")
_LETTER_HYPHEN = re.compile(r"\b(\w)-(\w{2,})\b")


def identifier_words(text: str) -> str:
    """The words hidden in identifiers and hyphenated spellings of ``text``: ``apiKey`` ->
    ``api Key``, ``e-mail`` -> ``email`` (a one-letter part is dropped by the analyzer)."""
    parts = [re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", m.group(0)) for m in _CAMEL.finditer(text)]
    parts += [m.group(1) + m.group(2) for m in _LETTER_HYPHEN.finditer(text)]
    return " ".join(parts)


#: An unknown query term of at least this many letters matches an indexed word that shares all
#: of it but its last letter (``liabl`` finds ``liabil``: Snowball stems "liable" and "liability"
#: apart; ``renew`` finds ``renewal``). A word the term merely starts with does not count: "weekend"
#: is not "week".
MIN_PREFIX_TERM = 5


def prefix_match(term: str, vocab: AbstractSet[str]) -> str:
    """The indexed word an unknown ``term`` is a variant of (see :data:`MIN_PREFIX_TERM`): of the
    words starting with all of ``term`` but its last letter, one starting with the whole term
    first, then the shortest; ``term`` when there is none."""
    if len(term) < MIN_PREFIX_TERM:
        return term
    stem = term[:-1]
    found = [w for w in vocab if w.startswith(stem) and len(w) > len(stem)]
    if not found:
        return term
    return min(found, key=lambda w: (not w.startswith(term), len(w), w))


def compound_part(part: str, whole: str) -> bool:
    """Whether ``part`` is the head of the compound ``whole`` (``erstatt`` of ``ruckerstatt``):
    its ending, at least six letters, so "statt" is not taken for "Erstattung"."""
    return len(part) >= MIN_COMPOUND_PART and whole.endswith(part)


def _compound_match(term: str, vocab: AbstractSet[str]) -> str:
    """The indexed word that ``term`` is the head of (``erstatt`` in ``ruckerstatt``) or that has
    ``term`` (less up to two letters of ending) as its head (``datenaufbewahr`` for
    ``aufbewahrt``); the longest such word, or ``term`` itself when none is."""
    if len(term) < MIN_COMPOUND_PART + 1:
        return term
    best = ""
    for word in vocab:
        if word != term and compound_part(word, term) and len(word) > len(best):
            best = word
    if best:
        return best
    for cut in (0, 1, 2):
        core = term[: len(term) - cut] if cut else term
        if len(core) < MIN_COMPOUND_PART:
            break
        found = sorted(w for w in vocab if w != core and compound_part(core, w))
        if found:
            return min(found, key=len)
    return term


#: Languages whose past participles put ``ge`` before the stem ("geladen", "gelöscht"), after a
#: separable particle when the verb has one ("abgeschlossen", "eingerichtet"); the Snowball stemmer
#: leaves the ``ge`` on, so "geladen" (``gelad``) and "laden" (``lad``) stem apart.
PARTICIPLE_PREFIXES: dict[str, tuple[str, ...]] = {
    "de": ("ab", "an", "auf", "aus", "ein", "mit", "nach", "vor", "zu", "zuruck", "weg", "fest", "frei", "um"),
    "nl": ("af", "aan", "op", "uit", "in", "mee", "na", "voor", "toe", "terug", "weg", "vast", "vrij", "om"),
}
#: The participle's stem holds the verb's stem and at most this many letters of ending
#: (``speichert`` for ``speich``), and the verb's stem has at least :data:`MIN_PARTICIPLE_STEM`.
MAX_PARTICIPLE_ENDING, MIN_PARTICIPLE_STEM = 3, 3


def participle_of(term: str, word: str, language: str) -> bool:
    """Whether ``term`` is a past participle of the verb whose stem is ``word`` in ``language``
    (``gelad`` of ``lad``, ``gekundigt`` of ``kundig``, ``eingerichtet`` of ``einricht``)."""
    particles = PARTICIPLE_PREFIXES.get(language)
    if particles is None or len(word) < MIN_PARTICIPLE_STEM or "ge" not in term:
        return False
    for particle in ("", *particles):
        if not term.startswith(particle + "ge") or not word.startswith(particle):
            continue
        rest = particle + term[len(particle) + 2 :]
        if rest.startswith(word) and len(rest) - len(word) <= MAX_PARTICIPLE_ENDING and len(rest) > len(particle):
            return True
    return False


def participle_match(term: str, vocab: AbstractSet[str], language: str) -> str:
    """The indexed verb stem an unknown participle ``term`` belongs to (:func:`participle_of`),
    the longest; ``term`` when there is none."""
    if language not in PARTICIPLE_PREFIXES or "ge" not in term:
        return term
    found = [w for w in vocab if participle_of(term, w, language)]
    return max(found, key=lambda w: (len(w), w)) if found else term


class LocaleIndex:
    """The chunks of one index in one locale, searchable by BM25 and (optionally) dense vectors.

    Thread-safe: writes and searches take a short lock; :meth:`merge` does its heavy work without it.
    """

    def __init__(
        self,
        name: str,
        locale: str,
        tokenizer: Tokenizer | None = None,
        *,
        variants: bool = True,
        lexicon: Lexicon | None = None,
    ) -> None:
        self.name = name
        #: Query-time synonyms (:mod:`charter.retrieval.synonyms`); None for plain BM25.
        self.lexicon = lexicon
        self.locale = locale
        #: Match word variants the analyzer leaves apart (:meth:`chunk_tokens`, :meth:`query_terms`):
        #: on for a site's indexes; off for plain BM25 exactly as bm25s computes it (the BEIR benchmark).
        self.variants = variants
        self.tokenize = tokenizer or tokenizer_for(locale.split("-")[0].lower())
        self._chunks: dict[str, Chunk] = {}
        self._tokens: dict[str, list[str]] = {}
        self._by_entry: dict[str, list[str]] = {}
        self._vectors: dict[str, np.ndarray] = {}
        self._base: _Base | None = None
        self._dead = 0  # tombstoned base rows
        # Delta segment: key -> (term counts, length); term -> {key: tf}.
        self._delta: dict[str, tuple[Counter[str], int]] = {}
        self._postings: dict[str, dict[str, int]] = {}
        self._unmerged = False  # chunks loaded in bulk, searchable only after the next merge
        self._matrix: np.ndarray | None = None
        self._matrix_rows: list[str] = []
        self._lock = threading.RLock()
        self._merge_lock = threading.Lock()
        self._vocab: frozenset[str] | None = None
        self._vocab_size = -1
        #: unknown query term -> the indexed word it matched (compound head, prefix variant) or itself
        self._matched: dict[str, str] = {}
        #: indexed term -> the indexed compounds it is the head of (compounding languages)
        self._compounds: dict[str, tuple[str, ...]] = {}

    def chunk_tokens(self, chunk: Chunk) -> list[str]:
        """The terms a chunk is indexed under: its analysed text, plus the words of the identifiers
        it writes as one (``apiKey`` is also ``api`` ``key``; ``e-mail`` is also ``email``), so a
        visitor's words find a code sample or a spelling variant."""
        text = chunk.indexed_text
        extra = identifier_words(text) if self.variants else ""
        return self.tokenize(f"{text} {extra}" if extra else text)

    # -- writes ---------------------------------------------------------------------------------
    def put_entry(self, entry_id: str, chunks: Iterable[Chunk], vectors: dict[str, np.ndarray] | None = None) -> None:
        """Replace every chunk of ``entry_id`` (an empty iterable removes the entry). Searchable
        as soon as this returns."""
        chunks = list(chunks)
        tokens = {c.key: self.chunk_tokens(c) for c in chunks}
        with self._lock:
            self._drop(entry_id)
            for c in chunks:
                self._chunks[c.key] = c
                self._tokens[c.key] = tokens[c.key]
                self._add_delta(c.key, tokens[c.key])
                if vectors and c.key in vectors:
                    self._vectors[c.key] = vectors[c.key]
            if chunks:
                self._by_entry[entry_id] = [c.key for c in chunks]
            self._matrix = None

    def load_entries(
        self, entries: dict[str, list[Chunk]], vectors: dict[str, np.ndarray] | None = None, *, merge: bool = True
    ) -> None:
        """Bulk :meth:`put_entry` for loading and rebuilding: skips the delta segment's bookkeeping
        and (with ``merge``) builds the base segment once at the end."""
        tokens = {c.key: self.chunk_tokens(c) for chunks in entries.values() for c in chunks}
        with self._lock:
            for entry_id, chunks in entries.items():
                self._drop(entry_id)
                for c in chunks:
                    self._chunks[c.key] = c
                    self._tokens[c.key] = tokens[c.key]
                    if vectors and c.key in vectors:
                        self._vectors[c.key] = vectors[c.key]
                if chunks:
                    self._by_entry[entry_id] = [c.key for c in chunks]
            self._unmerged = True
            self._matrix = None
        if merge:
            self.merge()

    def remove_entry(self, entry_id: str) -> bool:
        with self._lock:
            found = entry_id in self._by_entry
            self._drop(entry_id)
            if found:
                self._matrix = None
            return found

    def clear(self) -> None:
        with self._lock:
            for entry_id in list(self._by_entry):
                self._drop(entry_id)
            self._matrix = None

    def _drop(self, entry_id: str) -> None:
        self._vocab = None  # every write passes here first: the vocabulary is recomputed on demand
        base = self._base
        for key in self._by_entry.pop(entry_id, []):
            self._chunks.pop(key, None)
            self._tokens.pop(key, None)
            self._vectors.pop(key, None)
            self._remove_delta(key)
            if base is not None:
                row = base.row_of.get(key)
                if row is not None and base.alive[row]:
                    base.alive[row] = False
                    self._dead += 1

    def _add_delta(self, key: str, tokens: list[str]) -> None:
        counts = Counter(tokens)
        self._delta[key] = (counts, len(tokens))
        for term, tf in counts.items():
            self._postings.setdefault(term, {})[key] = tf

    def _remove_delta(self, key: str) -> None:
        found = self._delta.pop(key, None)
        if found is None:
            return
        for term in found[0]:
            posting = self._postings.get(term)
            if posting is not None:
                posting.pop(key, None)
                if not posting:
                    del self._postings[term]

    # -- merging --------------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """Chunks in the delta segment plus tombstones in the base: the work a merge would do."""
        return len(self._delta) + self._dead

    @property
    def needs_merge(self) -> bool:
        base_rows = len(self._base.rows) if self._base else 0
        return self._unmerged or self.pending >= max(MERGE_MIN_CHUNKS, MERGE_SHARE * base_rows)

    def merge(self) -> bool:
        """Rebuild the base segment from every current chunk; returns False when nothing was pending.

        The bm25s build runs without the index lock, so searches and writes go on meanwhile;
        writes made during the build stay in the delta segment."""
        import bm25s
        import numpy as np

        # bm25s sets its own logger to DEBUG on import, over the application's level: every build
        # would print "Building index from IDs objects" at start-up.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        with self._merge_lock:
            with self._lock:
                if not self.pending and not self._unmerged and (self._base is not None or not self._chunks):
                    return False
                self._unmerged = False
                rows = list(self._chunks)
                chunks = [self._chunks[k] for k in rows]
                token_lists = [self._tokens[k] for k in rows]
            model = None
            df: Counter[str] = Counter()
            lengths = 0
            if rows:
                vocab: dict[str, int] = {}
                ids = [[vocab.setdefault(t, len(vocab)) for t in tokens] for tokens in token_lists]
                model = bm25s.BM25(k1=K1, b=B)
                model.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
                for tokens in token_lists:
                    df.update(set(tokens))
                    lengths += len(tokens)
            with self._lock:
                if model is None:
                    self._base = None
                else:
                    row_of = {k: i for i, k in enumerate(rows)}
                    alive = np.fromiter((self._chunks.get(k) is c for k, c in zip(rows, chunks, strict=True)), bool)
                    self._base = _Base(
                        model, rows, chunks, row_of, alive, len(rows), lengths / max(1, len(rows)), dict(df)
                    )
                    self._dead = int((~alive).sum())
                # What changed during the build stays in the delta; everything else is in the base.
                base = self._base
                self._delta.clear()
                self._postings.clear()
                for key in self._chunks:
                    row = base.row_of.get(key) if base else None
                    if row is None or not base.alive[row]:  # type: ignore[union-attr]
                        self._add_delta(key, self._tokens[key])
            return True

    def refresh(self) -> None:
        """Merge now if anything is pending (exact BM25 statistics afterwards)."""
        if self.pending or self._unmerged or (self._base is None and self._chunks):
            self.merge()

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

    def get(self, key: str) -> Chunk | None:
        """The current chunk ``<entry_id>#<chunk>``, or None."""
        with self._lock:
            return self._chunks.get(key)

    def chunks_of(self, entry_id: str) -> list[Chunk]:
        with self._lock:
            return [self._chunks[k] for k in self._by_entry.get(entry_id, [])]

    def vectors(self) -> dict[str, np.ndarray]:
        with self._lock:
            return dict(self._vectors)

    def vector(self, key: str) -> np.ndarray | None:
        with self._lock:
            return self._vectors.get(key)

    def missing_vectors(self) -> list[Chunk]:
        with self._lock:
            return [c for k, c in self._chunks.items() if k not in self._vectors]

    def set_vectors(self, vectors: dict[str, np.ndarray]) -> None:
        with self._lock:
            for key, vec in vectors.items():
                if key in self._chunks:
                    self._vectors[key] = vec
            self._matrix = None

    def _stats(self) -> tuple[int, float, dict[str, int]]:
        """(document count, average length, document frequencies) that scores are computed with."""
        if self._base is not None:
            return self._base.n_docs, self._base.avg_len, self._base.df
        n = len(self._delta)
        total = sum(length for _, length in self._delta.values())
        df = {t: len(p) for t, p in self._postings.items()}
        return n, total / max(1, n), df

    def search_bm25(self, query: str, k: int = 10, language: str | None = None) -> list[Hit]:
        """The ``k`` best chunks for ``query`` (asked in ``language``, default this index's)."""
        import numpy as np

        terms = list(dict.fromkeys(t for slot in self.query_slots(query, language) for t in slot))
        if not terms or k <= 0:
            return []
        with self._lock:
            candidates: list[tuple[float, str]] = []
            base = self._base
            if base is not None:
                known = [t for t in terms if t in base.model.vocab_dict]
                if known:
                    scores = base.model.get_scores(known)
                    scores[~base.alive] = 0.0
                    scored = np.flatnonzero(scores > 0)
                    for i in top_indices(scores[scored], k, lambda i: base.rows[scored[i]]):
                        candidates.append((float(scores[scored[i]]), base.rows[scored[i]]))
            if self._delta:
                n, avg_len, df = self._stats()
                delta_scores: dict[str, float] = {}
                for term in terms:
                    posting = self._postings.get(term)
                    if not posting:
                        continue
                    idf = _idf(df.get(term, len(posting)), max(n, len(posting)))
                    for key, tf in posting.items():
                        length = self._delta[key][1]
                        norm = K1 * ((1 - B) + B * length / avg_len) if avg_len else K1
                        delta_scores[key] = delta_scores.get(key, 0.0) + idf * tf / (norm + tf)
                candidates.extend((float(np.float32(s)), key) for key, s in delta_scores.items() if s > 0)
            candidates.sort(key=lambda item: (-item[0], item[1]))  # ties: by chunk key (see top_indices)
            return [Hit(self._chunks[key], score, r) for r, (score, key) in enumerate(candidates[:k])]

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
            top = top_indices(scores, k, rows.__getitem__)
            return [Hit(self._chunks[rows[i]], float(scores[i]), r) for r, i in enumerate(top)]

    def query_terms(self, query: str, language: str | None = None) -> list[str]:
        """The query's terms for this index: its analyzer's tokens, minus the stop words of the
        question's ``language`` when that differs (a German question searching English content),
        and, for compounding languages, an unknown word replaced by the indexed word it is a part
        or a whole of ("Rückerstattung" finds "Erstattungen", "Monatsplan" finds "Plan"); with
        :attr:`variants`, an unknown word still unmatched is replaced by the indexed word it is a
        variant of by prefix (:func:`prefix_match`: "liable" finds "liability")."""
        asked = language or self.tokenize.language
        return self._terms(query, asked)

    def query_slots(self, query: str, language: str | None = None) -> list[Slot]:
        """The query's words as this index matches them: one :data:`Slot` per term of
        :meth:`query_terms`, where a word or phrase the :attr:`lexicon` knows also holds the
        indexed terms of its synonyms ("yearly" -> ``("year", "annual")``; the phrase "money back"
        -> ``("refund",)``). A phrase none of whose synonyms is indexed stays its own words."""
        return [self._with_compounds(slot) for slot in self._slots(query, language)]

    def _with_compounds(self, slot: Slot) -> Slot:
        """In a compounding language, ``slot`` with the indexed compounds its words are the
        head of ("Daten": ``dat`` also finds ``kundendat``, "Kundendaten"), at most
        :data:`MAX_COMPOUNDS` of them, so a plain word is not missed where the content writes it as
        the end of a compound. The rest of such a compound must be :data:`MIN_COMPOUND_MODIFIER`
        letters at least ("Mandat" is not a kind of "Daten")."""
        if not self.variants or self.tokenize.language not in COMPOUNDING:
            return slot
        extra: list[str] = []
        with self._lock:
            vocab = self._vocabulary()
            memo = self._compounds
        for head in slot:
            found = memo.get(head)
            if found is None:
                found = ()
                if len(head) >= MIN_COMPOUND_HEAD:
                    # The vocabulary is an immutable snapshot: scanned without the lock.
                    found = tuple(
                        sorted(w for w in vocab if w.endswith(head) and len(w) - len(head) >= MIN_COMPOUND_MODIFIER)
                    )[:MAX_COMPOUNDS]
                if len(memo) < 10_000:
                    memo[head] = found
            extra += [w for w in found if w not in slot and w not in extra]
        return (*slot, *extra) if extra else slot

    def _slots(self, query: str, language: str | None = None) -> list[Slot]:
        asked = language or self.tokenize.language
        matches = self.lexicon.matches(query, asked, into=self.tokenize.language) if self.lexicon else []
        if not matches:
            return [(t,) for t in self._terms(query, asked)]
        with self._lock:
            vocab = self._vocabulary()
        slots: list[Slot] = []
        pos = 0
        for m in matches:
            slots += [(t,) for t in self._terms(query[pos : m.start], asked)]
            pos = m.end
            own = self._terms(query[m.start : m.end], asked)
            alternatives = []
            for alternative in m.alternatives:
                if len(_ONE_WORD.findall(alternative)) != 1:
                    continue  # a phrase ("no cost") is not one word, whatever its stop words leave
                found = self.tokenize(alternative)
                if len(found) == 1 and found[0] in vocab and found[0] not in own:
                    alternatives.append(found[0])
            one_word = len(TOKEN_PATTERN.findall(query[m.start : m.end])) == 1
            if one_word and not own:
                continue  # a stop or frame word: it says nothing, and neither do its synonyms
            if len(own) == 1 and one_word:
                slots.append(tuple(dict.fromkeys([*own, *alternatives])))
            elif alternatives:
                slots.append(tuple(dict.fromkeys(alternatives)))
            else:
                slots += [(t,) for t in own]
        slots += [(t,) for t in self._terms(query[pos:], asked)]
        return slots

    def _terms(self, query: str, asked: str) -> list[str]:
        drop = QUESTION_WORDS.get(asked, frozenset()) | QUESTION_WORDS.get(self.tokenize.language, frozenset())
        if asked != self.tokenize.language:
            drop = drop | tokenizer_for(asked).stopwords
        terms = self.tokenize(" ".join(w for w in TOKEN_PATTERN.findall(query.lower()) if w not in drop))
        if not terms:
            return []
        with self._lock:
            vocab = self._vocabulary()
            matched = self._matched
        out = []
        for t in terms:
            if t not in vocab:
                found = matched.get(t)
                if found is None:
                    found = t
                    if self.tokenize.language in COMPOUNDING:
                        found = _compound_match(t, vocab)
                    if found not in vocab and self.variants:
                        found = prefix_match(t, vocab)
                    if found not in vocab and self.variants:
                        found = participle_match(t, vocab, self.tokenize.language)
                    if len(matched) < 10_000:
                        matched[t] = found
                t = found
            out.append(t)
        return out

    def _vocabulary(self) -> frozenset[str]:
        """Every indexed term (recomputed after a write), with a fresh memo of unknown terms' matches."""
        if self._vocab is None or self._vocab_size != len(self._tokens):
            self._vocab = frozenset(t for tokens in self._tokens.values() for t in tokens)
            self._vocab_size = len(self._tokens)
            self._matched = {}
            self._compounds = {}
        return self._vocab

    def statistics(self) -> tuple[int, float, dict[str, int]]:
        """(chunk count, average length, document frequencies) BM25 scores with."""
        with self._lock:
            n, avg_len, df = self._stats()
            return n, avg_len, dict(df) if self._base is None else df

    def support(
        self, terms: list[str] | list[Slot], chunk: Chunk, stats: tuple[int, float, dict[str, int]] | None = None
    ) -> float:
        """The chunk's BM25 score for ``terms`` divided by the score a chunk of average length
        holding every term once would get (the sum of the terms' IDF), capped at 1: a calibratable
        0..1 evidence score. ``stats`` (count, average length, document frequencies) replace this
        index's own, e.g. those of every index of the locale, so a small index's IDF is not noise.
        A term the index has never seen counts with the highest IDF (times :data:`UNKNOWN_WEIGHT`),
        so a question about something the content never mentions scores low. A :data:`Slot`
        (a word with its synonyms, :meth:`query_slots`) counts as one word: held when the chunk
        holds any of its terms, weighted by the IDF of its own term when indexed, else of its best
        indexed synonym."""
        unique = list(dict.fromkeys(t if isinstance(t, tuple) else (t,) for t in terms))
        if not unique:
            return 0.0
        with self._lock:
            n, avg_len, df = stats or self._stats()
            tokens = self._tokens.get(chunk.key)
            if tokens is None:
                tokens = self.chunk_tokens(chunk)
        counts = Counter(tokens)
        n = max(n, 1)
        norm = K1 * ((1 - B) + B * len(tokens) / avg_len) if avg_len else K1
        score = total = 0.0
        for slot in unique:
            seen = df.get(slot[0], 0)
            if seen:
                idf = _idf(seen, n)
            else:
                known = [df[t] for t in slot[1:] if df.get(t)]
                idf = _idf(min(known), n) if known else UNKNOWN_WEIGHT * _idf(0, n)
            total += idf
            tf = sum(counts.get(t, 0) for t in slot)
            if tf:
                # A very short chunk's BM25 term score exceeds the average chunk's; capped, so a
                # chunk of a few words cannot look like strong evidence for a long question.
                score += idf * min(1.0, tf * (K1 + 1) / (norm + tf))
        return min(1.0, score / total) if total else 0.0

    def coverage(self, query: str, chunk: Chunk) -> float:
        """Share of the query's content words that occur in ``chunk`` (evidence strength, 0..1)."""
        q = set(self.tokenize(query))
        if not q:
            return 0.0
        with self._lock:
            tokens = set(self._tokens.get(chunk.key) or self.chunk_tokens(chunk))
        return len(q & tokens) / len(q)


def top_indices(scores: np.ndarray, k: int, key: Callable[[int], str]) -> list[int]:
    """The positions of the ``k`` highest ``scores``, best first; equal scores in the order of
    ``key(position)`` (the chunk's key), also where a tie straddles the ``k``-th place. So the ranking is a
    function of the scores and the chunks alone, never of the order an index happened to receive
    its chunks in: every instance of a deployment answers a question alike."""
    import numpy as np

    n = scores.shape[0]
    if n == 0 or k <= 0:
        return []
    k = min(k, n)
    part = np.flatnonzero(scores >= np.partition(scores, n - k)[n - k]) if k < n else np.arange(n)
    return sorted((int(i) for i in part), key=lambda i: (-scores[i], key(i)))[:k]


def rrf(rankings: list[list[Hit]], k: int = 60, weights: list[float] | None = None, limit: int = 10) -> list[Hit]:
    """Reciprocal rank fusion (Cormack, Clarke and Buettcher, SIGIR 2009): score = sum w / (k + rank)."""
    fused: dict[str, float] = {}
    chunks: dict[str, Chunk] = {}
    for n, ranking in enumerate(rankings):
        w = weights[n] if weights else 1.0
        for rank, hit in enumerate(ranking):
            key = f"{hit.chunk.index}/{hit.chunk.locale}/{hit.chunk.key}"
            fused[key] = fused.get(key, 0.0) + w / (k + rank + 1)
            chunks[key] = hit.chunk
    order = sorted(fused, key=lambda key: (-fused[key], key))[:limit]  # ties: by chunk, as top_indices
    return [Hit(chunks[key], fused[key], r) for r, key in enumerate(order)]
