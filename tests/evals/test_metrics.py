"""Metrics, one table per metric, and the golden-set parser."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import pytest

from charter.evals.dataset import GoldenCase, load_dataset
from charter.evals.metrics import CaseResult, MetricContext, SourceUsed
from charter.evals.metrics.citations import Citations
from charter.evals.metrics.factuality import Factuality
from charter.evals.metrics.latency import Latency, percentile
from charter.evals.metrics.refusal import Refusal
from charter.evals.metrics.retrieval import Retrieval, ndcg_at, recall_at
from charter.evals.metrics.toxicity import Toxicity, toxic_terms

CTX = MetricContext()
SOURCE = SourceUsed("S1", "doc-1#0", "doc-1", "Annual plans can be refunded pro rata within 30 days of purchase.")


def result(answer: str | None = None, *, refused: bool | None = False, **case: Any) -> CaseResult:
    from charter.retrieval.text import citation_markers, sentences

    r = CaseResult(GoldenCase(id="c", line=1, query="q", **case), answer=answer, refused=refused, sources=[SOURCE])
    if answer and not refused:
        r.sentences = [(s, [f"S{m}" for m in citation_markers(s)]) for s in sentences(answer)]
    return r


def score(metric: Any, r: CaseResult) -> Any:
    return asyncio.run(metric.score(r, CTX))


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Annual plans can be refunded pro rata within 30 days. [S1]", 1.0),
        ("Annual plans can be refunded pro rata within 30 days. [S1] Lumen was founded on the moon.", 0.5),
        ("Everything is free forever. [S1]", 0.0),
    ],
)
def test_factuality(answer: str, expected: float) -> None:
    assert score(Factuality(), result(answer))["factuality"] == expected


def test_factuality_with_a_judge() -> None:
    async def judge(claim: str, evidence: str) -> bool:
        return "moon" not in claim

    ctx = MetricContext(judge=judge)
    r = result("Refunds within 30 days. [S1] Founded on the moon. [S1]")
    assert asyncio.run(Factuality().score(r, ctx))["factuality"] == 0.5
    assert (
        Factuality().summarize([{"factuality": 0.5, "claims": 2, "supported": 1}], ctx)["factuality"]["method"]
        == "judge"
    )


def test_fact_recall_and_refusals_are_skipped() -> None:
    r = result(
        "Annual plans can be refunded pro rata within 30 days. [S1]", facts=("refunded pro rata", "monthly plans")
    )
    assert score(Factuality(), r)["fact_recall"] == 0.5
    assert score(Factuality(), result("I don't know", refused=True)) is None


@pytest.mark.parametrize(
    ("answer", "coverage", "correctness"),
    [
        ("Annual plans can be refunded pro rata within 30 days. [S1]", 1.0, 1.0),
        ("Annual plans can be refunded pro rata. [S1] Also we like cake.", 0.5, 1.0),
        ("We like cake. [S1]", 1.0, 0.0),  # cites a source that does not support it
        ("Refunds within 30 days. [S4]", 1.0, 0.0),  # a source that was never given
    ],
)
def test_citations(answer: str, coverage: float, correctness: float) -> None:
    s = score(Citations(), result(answer))
    assert s["coverage"] == coverage and s["correctness"] == correctness


def test_citations_must_be_relevant_when_the_case_says_so() -> None:
    r = result("Annual plans can be refunded pro rata within 30 days. [S1]", relevant={"other-doc": 1.0})
    assert score(Citations(), r)["correctness"] == 0.0


def test_refusal_precision_and_recall() -> None:
    m = Refusal()
    scores = [
        score(m, result("no", refused=True, must_refuse=True)),  # tp
        score(m, result("no", refused=True, must_refuse=False)),  # fp
        score(m, result("yes [S1]", refused=False, must_refuse=True)),  # fn
        score(m, result("yes [S1]", refused=False, must_refuse=False)),  # tn
    ]
    assert score(m, result("x")) is None  # says nothing about refusing
    summary = m.summarize(scores, CTX)
    assert summary["refusal_precision"]["value"] == 0.5 and summary["refusal_recall"]["value"] == 0.5


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("You are an idiot.", ["idiot"]),
        ("Shut up and pay.", ["shut up"]),
        ("Halt die Klappe!", ["halt die klappe"]),
        ("Skills and scunthorpe are fine; assessment too.", []),
        ("A pleasant, helpful answer.", []),
    ],
)
def test_toxicity_lexicon(text: str, terms: list[str]) -> None:
    assert toxic_terms(text) == terms


def test_toxicity_rate() -> None:
    m = Toxicity()
    scores = [score(m, result("Thanks!")), score(m, result("You idiot."))]
    assert m.summarize(scores, CTX)["toxicity_rate"]["value"] == 0.5


def test_ranking_metrics() -> None:
    rel = {"a": 1.0, "b": 1.0}
    assert ndcg_at(["a", "b", "c"], rel) == 1.0
    assert ndcg_at(["c", "a"], {"a": 1.0}) == pytest.approx(1 / math.log2(3))
    assert ndcg_at(["x"], {"a": 2.0, "b": 1.0}) == 0.0
    assert recall_at(["a", "x", "b"], rel, 2) == 0.5
    r = result(None, relevant={"a": 1.0})
    r.retrieved = ["a"]
    assert score(Retrieval(), r) == {"recall": 1.0, "ndcg10": 1.0}
    assert score(Retrieval(), result(None)) is None  # no relevant ids: nothing to measure


def test_latency_percentiles() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5 and percentile([], 50) is None
    rows = [{"latency_ms": v, "retrieval_ms": v / 2, "model_ms": 0, "cached": False} for v in (10, 20, 30, 40, 1000)]
    summary = Latency().summarize(rows, CTX)
    assert summary["latency_p50_ms"]["value"] == 30 and summary["latency_p95_ms"]["value"] == pytest.approx(808.0)


def test_malformed_golden_lines_are_reported_and_the_rest_runs(tmp_path: Path) -> None:
    path = tmp_path / "golden.jsonl"
    path.write_text(
        "\n".join(
            [
                "# a comment",
                '{"id": "ok-1", "query": "Refunds?", "expected": {"must_cite": true, "relevant": ["a"]}}',
                '{"id": "bad-json", "query": ',
                '{"id": "no-query"}',
                '{"id": "ok-1", "query": "duplicate id"}',
                '{"query": "x", "expected": {"must_refuse": "yes"}}',
                '{"query": "x", "colour": "blue"}',
                "[1, 2]",
                '{"prompt": "Prompt is accepted for query", "context": ["inline source"], '
                '"expected": {"relevant": {"d": 2}}}',
                "",
            ]
        ),
        encoding="utf-8",
    )
    data = load_dataset(path)
    assert [c.id for c in data.cases] == ["ok-1", "line-9"]
    assert data.cases[1].query == "Prompt is accepted for query" and data.cases[1].relevant == {"d": 2.0}
    assert data.cases[1].context is not None and data.cases[1].context[0].text == "inline source"
    assert [(e.line, e.message.split(" ")[0]) for e in data.errors] == [
        (3, "not"),
        (4, "'query'"),
        (5, "duplicate"),
        (6, "'expected.must_refuse'"),
        (7, "unknown"),
        (8, "expected"),
    ]
    assert len(data.sha256) == 64
