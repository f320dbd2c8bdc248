"""The in-memory index: BM25 ranks exactly like plain bm25s, changes are searchable at once, and a
merge (with writes going on) keeps every chunk."""

from __future__ import annotations

import threading

import bm25s
import numpy as np
import pytest

from charter.retrieval.chunking import chunk_document, sections, windows
from charter.retrieval.contract import Chunking, Source
from charter.retrieval.index import Chunk, Hit, LocaleIndex, rrf
from charter.retrieval.text import Tokenizer

DOCS = {
    "a": "Annual plans can be refunded pro rata within thirty days of purchase.",
    "b": "Monthly plans renew each month and can be cancelled at any time.",
    "c": "A dashboard holds up to forty charts; each chart uses a governed metric.",
    "d": "Dashboards can be shared with a read-only link that expires.",
    "e": "Customer data is stored in the EU in Frankfurt by default.",
    "f": "Refunds for monthly plans are not possible; annual refunds are pro rata.",
}
QUERIES = ["refund annual plan", "share a dashboard link", "where is data stored", "monthly plans cancelled"]


def chunk(entry: str, text: str, n: int = 0, revision: int = 1) -> Chunk:
    return Chunk("docs", "en", entry, revision, n, "doc", "", "", text, f"/docs/{entry}")


def build(docs: dict[str, str], merge: bool = True) -> LocaleIndex:
    idx = LocaleIndex("docs", "en")
    for entry, text in docs.items():
        idx.put_entry(entry, [chunk(entry, text)])
    if merge:
        idx.merge()
    return idx


def peer_scores(docs: dict[str, str], query: str) -> dict[str, float]:
    """Plain bm25s with the same tokenisation (stop words + Snowball stemmer)."""
    tok = Tokenizer("en")
    ids = list(docs)
    model = bm25s.BM25()
    model.index(bm25s.tokenize(list(docs.values()), stemmer=tok.stemmer(), show_progress=False), show_progress=False)
    q = bm25s.tokenize([query], stemmer=tok.stemmer(), show_progress=False)
    inverse = {v: k for k, v in q.vocab.items()}
    scores = model.get_scores([inverse[i] for i in q.ids[0]])
    return {ids[i]: float(s) for i, s in enumerate(scores) if s > 0}


@pytest.mark.parametrize("merged", [True, False], ids=["base-segment", "delta-segment"])
@pytest.mark.parametrize("query", QUERIES)
def test_scores_equal_plain_bm25s(query: str, merged: bool) -> None:
    idx = build(DOCS, merge=merged)
    ours = {h.chunk.entry_id: h.score for h in idx.search_bm25(query, 10)}
    expected = peer_scores(DOCS, query)
    assert ours.keys() == expected.keys()
    for key, score in expected.items():
        assert ours[key] == pytest.approx(score, rel=1e-5)


def test_changes_are_searchable_at_once_and_exact_after_merge() -> None:
    idx = build(DOCS)
    assert not idx.search_bm25("zebrafish", 5)
    idx.put_entry("z", [chunk("z", "Zebrafish regenerate heart tissue.")])
    assert [h.chunk.entry_id for h in idx.search_bm25("zebrafish heart", 5)] == ["z"]
    idx.put_entry("a", [chunk("a", "Nothing about money here.", revision=2)])  # replace: the old text is gone
    assert "a" not in [h.chunk.entry_id for h in idx.search_bm25("refunded pro rata thirty", 10)]
    assert idx.remove_entry("c")
    assert "c" not in [h.chunk.entry_id for h in idx.search_bm25("forty charts", 10)]
    assert idx.pending > 0
    assert idx.merge()
    assert idx.pending == 0
    current = {**DOCS, "z": "Zebrafish regenerate heart tissue.", "a": "Nothing about money here."}
    del current["c"]
    for query in QUERIES:
        ours = {h.chunk.entry_id: h.score for h in idx.search_bm25(query, 10)}
        assert ours == pytest.approx(peer_scores(current, query), rel=1e-5)
    assert idx.entries["a"] == 2
    assert not idx.merge()  # nothing pending


def test_writes_during_a_merge_are_kept() -> None:
    docs = {f"d{i}": f"document number {i} about topic{i % 7} and more words" for i in range(600)}
    idx = build(docs)
    for i in range(300):
        idx.put_entry(f"d{i}", [chunk(f"d{i}", f"rewritten {i} mentions quasar{i}", revision=2)])
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set():
            idx.put_entry(f"new{n}", [chunk(f"new{n}", f"fresh pulsar{n}")])
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        idx.merge()
    finally:
        stop.set()
        thread.join()
    written = [e for e in idx.entries if e.startswith("new")]
    assert written
    for entry in written[-3:]:
        n = entry.removeprefix("new")
        assert [h.chunk.entry_id for h in idx.search_bm25(f"pulsar{n}", 3)][:1] == [entry]
    assert [h.chunk.entry_id for h in idx.search_bm25("quasar17", 3)][:1] == ["d17"]
    assert "d17" not in [
        h.chunk.entry_id for h in idx.search_bm25("topic3 document number 17", 50) if h.chunk.revision == 1
    ]


def test_needs_merge_after_many_changes() -> None:
    idx = build({f"d{i}": f"text {i}" for i in range(10)})
    assert not idx.needs_merge
    for i in range(300):
        idx.put_entry(f"n{i}", [chunk(f"n{i}", f"more text {i}")])
    assert idx.needs_merge
    idx.merge()
    assert not idx.needs_merge


def test_empty_index_and_unknown_words() -> None:
    idx = LocaleIndex("docs", "en")
    assert idx.search_bm25("anything", 5) == []
    idx.refresh()
    idx = build(DOCS)
    assert idx.search_bm25("xyzzy plugh", 5) == []
    assert idx.search_bm25("the and of", 5) == []  # stop words only


def test_dense_search_uses_current_vectors() -> None:
    idx = build({"a": "one", "b": "two"})
    idx.set_vectors({"a#0": np.array([1.0, 0.0], np.float32), "b#0": np.array([0.0, 1.0], np.float32)})
    assert [h.chunk.entry_id for h in idx.search_dense(np.array([0.9, 0.1], np.float32), 2)] == ["a", "b"]
    idx.put_entry("a", [chunk("a", "one again", revision=2)])  # the old vector must not survive
    assert [h.chunk.entry_id for h in idx.search_dense(np.array([0.9, 0.1], np.float32), 2)] == ["b"]

    def embed(texts: list[str]) -> np.ndarray:
        return np.array([[1.0, 0.0] for _ in texts], np.float32)

    assert next(h.chunk.entry_id for h in idx.search_dense(np.array([1.0, 0.0], np.float32), 2, embed)) == "a"


#: Plans whose passages score exactly alike for a question about plans and costs.
TIED = {f"plan-{n:02d}": f"The plan {name} costs {n} euro." for n, name in enumerate("abcdefghijkl")}


@pytest.mark.parametrize("merged", [True, False], ids=["base-segment", "delta-segment"])
def test_ties_rank_alike_whatever_order_an_index_received_its_chunks_in(merged: bool) -> None:
    """Two instances of a deployment hold the same chunks, received in different orders (one
    indexed the writes as they came, the other followed them): the same question ranks alike on
    both, also where a tie straddles the k-th place."""
    forwards = build(TIED, merge=merged)
    backwards = build(dict(reversed(TIED.items())), merge=merged)
    for k in (3, 5, 12):
        ranked = [[h.chunk.key for h in idx.search_bm25("what does a plan cost", k)] for idx in (forwards, backwards)]
        assert ranked[0] == ranked[1] == sorted(ranked[0]) and len(ranked[0]) == k
    vectors = {f"{entry}#0": np.array([1.0, 0.0], np.float32) for entry in TIED}
    for idx in (forwards, backwards):
        idx.set_vectors(vectors)
    query = np.array([1.0, 0.0], np.float32)
    dense = [[h.chunk.entry_id for h in idx.search_dense(query, 4)] for idx in (forwards, backwards)]
    assert dense[0] == dense[1] == sorted(TIED)[:4]
    a, b, c = chunk("a", "x"), chunk("b", "y"), chunk("c", "z")
    fused = rrf([[Hit(b, 1, 0)], [Hit(c, 1, 0)], [Hit(a, 1, 0)]], k=60, limit=3)  # three rankings, one tie
    assert [h.chunk.entry_id for h in fused] == ["a", "b", "c"]


def test_rrf_fuses_rankings() -> None:
    a, b, c = chunk("a", "x"), chunk("b", "y"), chunk("c", "z")
    fused = rrf([[Hit(a, 9, 0), Hit(b, 5, 1)], [Hit(b, 0.9, 0), Hit(c, 0.5, 1)]], k=60, limit=3)
    assert [h.chunk.entry_id for h in fused] == ["b", "a", "c"]
    assert fused[0].score == pytest.approx(1 / 61 + 1 / 62)


def test_chunking_by_heading_with_overlapping_windows() -> None:
    body = (
        "# Title\n\nIntro text.\n\n## Part one\n\n" + " ".join(f"w{i}" for i in range(25)) + "\n\n## Part two\n\nEnd."
    )
    pieces = chunk_document({"body": body}, Source(type="doc", fields=["body"]), Chunking(max_tokens=10, overlap=4))
    assert pieces[0].heading == "Title" and pieces[0].text == "Intro text."
    part_one = [p for p in pieces if p.heading == "Title > Part one"]
    assert [p.text.split()[0] for p in part_one] == ["w0", "w6", "w12", "w18"]
    assert all(len(p.text.split()) <= 10 for p in part_one)
    assert pieces[-1].heading == "Title > Part two"
    assert sections("no headings here", by_heading=True)[0].heading == ""
    assert list(windows(["a", "b"], 10, 2)) == [["a", "b"]]


def test_field_paths_walk_arrays() -> None:
    doc = {"name": "Team", "features": ["SSO", "Audit"], "faq": [{"q": "Free?", "a": "Yes."}], "n": 3}
    src = Source(type="x", fields=["name", "features", "faq[].a", "n"])
    texts = [p.text for p in chunk_document(doc, src, Chunking())]
    assert texts == ["Team", "Features: SSO and Audit.", "Yes.", "3"]
