"""The ``beir`` retriever source: a BEIR corpus through the product's BM25, dense and hybrid code,
with dense over passages scored by their best one (MaxP). The dense cases use the real
all-MiniLM-L6-v2 (the ``embedder`` fixture skips without the extra, and fails under
CHARTER_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from charter.evals.config import Passages, RetrieverConfig, load_retriever_config
from charter.evals.retrievers import BeirRetriever, PassageVectors
from charter.exceptions import ConfigError
from charter.retrieval.index import Chunk

FILLER = (
    "Slow braising softens the shoulder while onions caramelise in butter and the stock reduces to a glaze "
    "that coats the back of a spoon before the herbs go in. "
)
#: A fact only in the tail of a long document: past the dense model's 256 word pieces.
TAIL = "Cardiac muscle mitochondria generate most of the heart's ATP through oxidative phosphorylation."


def corpus(path: Path) -> Path:
    docs = [{"_id": "long", "title": "Kitchen notes", "text": FILLER * 18 + TAIL}]
    docs += [{"_id": f"cook{n}", "title": f"Recipe {n}", "text": FILLER * (2 + n % 5)} for n in range(12)]
    docs.append({"_id": "genes", "title": "Genetics", "text": "Chromosomes carry genes made of DNA in every cell."})
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return path


def config(tmp_path: Path, **extra: Any) -> RetrieverConfig:
    return RetrieverConfig(source="beir", corpus=str(corpus(tmp_path / "corpus.jsonl")), base=tmp_path, **extra)


def test_a_document_scores_its_best_passage() -> None:
    docs = [
        Chunk("corpus", "en", f"d{i}", 1, 0, "beir", f"T{i}", "", " ".join(["w"] * n), "")
        for i, n in enumerate((5, 300, 129, 0))
    ]
    spec = Passages(max_tokens=128, overlap=32)
    vectors = PassageVectors(docs, spec)
    # 5 words: one passage; 300: windows at 0, 96, 192; 129: two; empty text: one (the title alone).
    assert vectors.starts == [0, 1, 4, 6] and len(vectors.passages) == 7
    assert vectors.passages[0] == "T0 w w w w w" and vectors.passages[-1] == "T3"
    rng = np.random.default_rng(7)
    vectors.matrix = rng.normal(size=(7, 16)).astype(np.float32)
    query = rng.normal(size=16).astype(np.float32)
    scores = vectors.matrix @ query
    best = [scores[0], scores[1:4].max(), scores[4:6].max(), scores[6]]
    hits = vectors.search(query, 4)
    assert [h.chunk.entry_id for h in hits] == [docs[i].entry_id for i in np.argsort(best)[::-1]]
    assert [round(h.score, 5) for h in hits] == [round(float(s), 5) for s in sorted(best, reverse=True)]
    assert len(vectors.search(query, 2)) == 2


def test_bm25_reads_whole_documents(tmp_path: Path) -> None:
    retriever = BeirRetriever(config(tmp_path, mode="bm25"), tmp_path / "cache")
    found = retriever.retrieve("oxidative phosphorylation ATP", "en", 4)
    assert found.documents[0] == "long" and found.hits[0].chunk.key == "long#0"
    assert retriever.stats()["dense_passages"] is None and retriever.embedder is None


@pytest.mark.parametrize(
    ("raw", "pointer"),
    [
        ("dense_passages: {max_tokens: 64, overlap: 64}", "/dense_passages"),
        ("dense_passages: {max_tokens: 4}", "/dense_passages/max_tokens"),
        ("dense_passages: {size: 64}", "/dense_passages/size"),
    ],
)
def test_bad_passage_rules_are_clear_errors(tmp_path: Path, raw: str, pointer: str) -> None:
    path = tmp_path / "retriever.yaml"
    path.write_text(f"source: beir\ncorpus: corpus.jsonl\nmode: dense\n{raw}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_retriever_config(path)
    assert [e.pointer for e in caught.value.errors] == [pointer]


def test_passages_find_what_truncation_loses_and_are_cached(tmp_path: Path, embedder: Any) -> None:
    passages = BeirRetriever(config(tmp_path, mode="dense"), tmp_path / "cache")
    assert passages.stats()["dense_vectors"] > passages.stats()["documents"] and not passages.vectors_cached
    whole = BeirRetriever(config(tmp_path, mode="dense", dense_passages=None), tmp_path / "cache")
    assert whole.stats()["dense_vectors"] == whole.stats()["documents"] and not whole.vectors_cached

    query = "How do heart muscle cells make ATP?"
    with_passages = {h.chunk.entry_id: h.score for h in passages.retrieve(query, "en", 14).hits}
    truncated = {h.chunk.entry_id: h.score for h in whole.retrieve(query, "en", 14).hits}
    assert next(iter(with_passages)) == "long"  # its best passage holds the answer
    assert with_passages["long"] - truncated["long"] > 0.2  # the whole-document vector never saw it
    assert with_passages["genes"] == pytest.approx(truncated["genes"], abs=1e-5)  # one passage: same vector

    again = BeirRetriever(config(tmp_path, mode="hybrid"), tmp_path / "cache")
    assert again.vectors_cached and again.stats()["embedded_ms"] == passages.stats()["embedded_ms"]
    fused = again.retrieve("mitochondria ATP in heart muscle", "en", 4)
    assert fused.documents[0] == "long" and all(h.chunk.chunk == 0 for h in fused.hits)  # documents, fused once
    assert len(fused.documents) == len(fused.hits)


def test_the_benchmark_takes_a_dataset_without_a_train_split(tmp_path: Path) -> None:
    """bench/retrieval converts the splits a BEIR dataset has (many have only ``test``)."""
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location(
        "retrieval_bench", Path(__file__).parents[2] / "bench/retrieval/bench.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    dataset = tmp_path / "tiny"
    (dataset / "qrels").mkdir(parents=True)
    (dataset / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "herons"}) + "\n", encoding="utf-8")
    (dataset / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n", encoding="utf-8")
    work = tmp_path / "work"
    bench.write_project(work, dataset)
    assert (work / "eval" / "golden.jsonl").read_text(encoding="utf-8").count("\n") == 1
    assert not (work / "eval" / "golden-train.jsonl").exists()


def test_the_benchmark_publish_step_logs_no_line_per_document(tmp_path: Path) -> None:
    """bench/retrieval's publish-to-searchable step imports a whole corpus with no app around it:
    it must not print a log line per document (run in a fresh process, whose logging nothing else
    has configured)."""
    import json
    import os
    import subprocess
    import sys

    dataset = tmp_path / "tiny"
    dataset.mkdir()
    docs = (json.dumps({"_id": f"d{i}", "title": f"T{i}", "text": f"abstract {i} about herons"}) for i in range(120))
    (dataset / "corpus.jsonl").write_text("\n".join(docs) + "\n", encoding="utf-8")
    bench = Path(__file__).parents[2] / "bench/retrieval/bench.py"
    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('rb', {str(bench)!r})\n"
        "bench = importlib.util.module_from_spec(spec); spec.loader.exec_module(bench)\n"
        f"print(bench.publish_to_searchable(__import__('pathlib').Path({str(dataset)!r}), "
        f"__import__('pathlib').Path({str(tmp_path / 'work')!r}), n=2))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    env.pop("CHARTER_LOG_LEVEL", None)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(lines) <= 3, lines[:10]  # the result, not 120 lines of cache purges
    assert "'found': '2/2'" in done.stdout
