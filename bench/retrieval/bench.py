"""Retrieval benchmark on BEIR SciFact, run through ``charter eval``, with plain bm25s as the peer.

Usage: ``bench/retrieval/run [--runs 3] [--dataset ../shared/datasets/scifact]`` (see README.md).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHARTER = [sys.executable, "-m", "charter"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def load_qrels(dataset: Path, split: str = "test") -> dict[str, dict[str, float]]:
    qrels: dict[str, dict[str, float]] = {}
    for n, line in enumerate((dataset / "qrels" / f"{split}.tsv").read_text(encoding="utf-8").splitlines()):
        if n == 0 or not line.strip():
            continue
        qid, did, score = line.split("\t")
        if float(score) > 0:
            qrels.setdefault(qid, {})[did] = float(score)
    return qrels


def write_project(work: Path, dataset: Path) -> None:
    """Golden sets converted from SciFact's test split (``golden.jsonl``, what the targets are
    measured on) and train split (``golden-train.jsonl``, what a lever is chosen on), and the configs."""
    queries = {}
    for line in (dataset / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        raw = json.loads(line)
        queries[raw["_id"]] = raw["text"]
    (work / "eval").mkdir(parents=True, exist_ok=True)
    for split, name in SPLITS.items():
        if not (dataset / "qrels" / f"{split}.tsv").is_file():
            continue  # not every BEIR dataset has a train split (SciFact has; many have only test)
        with (work / "eval" / name).open("w", encoding="utf-8") as fh:
            for qid, rel in load_qrels(dataset, split).items():
                fh.write(json.dumps({"id": qid, "query": queries[qid], "expected": {"relevant": rel}}) + "\n")
    (work / "configs").mkdir(exist_ok=True)
    (work / "content-types").mkdir(exist_ok=True)
    (work / "configs" / "model.yaml").write_text("eval: {concurrency: 1}\n", encoding="utf-8")
    for name, extra in {"bm25": "mode: bm25", "dense": "mode: dense", "hybrid": "mode: hybrid", **LEVERS}.items():
        (work / "configs" / f"retriever-{name}.yaml").write_text(
            f"source: beir\ncorpus: {dataset / 'corpus.jsonl.gz'}\ndepth: 100\nrecall_k: 100\n"
            f"cache_dir: {work / 'cache'}\n{extra}\n",
            encoding="utf-8",
        )


SPLITS = {"test": "golden.jsonl", "train": "golden-train.jsonl"}

#: Variants tried with ``--levers``, one run each (the quality figures are deterministic) on the
#: test *and* the train split, so a choice can be made on train and read on test. The standard
#: levers of reciprocal rank fusion (its k, how deep each ranking goes before fusion) and of the
#: dense side (one vector per whole document, truncated by the model, or longer passages).
LEVERS = {
    "hybrid-rrf_k-10": "mode: hybrid\nrrf_k: 10",
    "hybrid-rrf_k-20": "mode: hybrid\nrrf_k: 20",
    "hybrid-rrf_k-120": "mode: hybrid\nrrf_k: 120",
    "hybrid-candidates-1000": "mode: hybrid\ncandidates: 1000",
    "hybrid-passages-192-48": "mode: hybrid\ndense_passages: {max_tokens: 192, overlap: 48}",
    "hybrid-whole-documents": "mode: hybrid\ndense_passages: null",
    "dense-whole-documents": "mode: dense\ndense_passages: null",
}


def charter_eval(work: Path, mode: str, run: int, split: str = "test") -> dict[str, Any]:
    report = work / "out" / f"{mode}-{split}-{run}.json"
    cmd = [
        *CHARTER,
        "eval",
        "run",
        "--project",
        str(work),
        "--dataset",
        str(work / "eval" / SPLITS[split]),
        "--retriever-config",
        str(work / "configs" / f"retriever-{mode}.yaml"),
        "--model-config",
        str(work / "configs" / "model.yaml"),
        "--metrics",
        "retrieval,latency",
        "--concurrency",
        "1",
        "--report",
        str(report),
    ]
    subprocess.run(cmd, check=True, cwd=work, stdout=subprocess.DEVNULL)
    data = json.loads(report.read_text(encoding="utf-8"))
    query_ms = [c["retrieval_ms"] for c in data["cases"]]
    return {
        "ndcg_at_10": data["summary"]["ndcg_at_10"],
        "recall_at_100": data["summary"]["recall_at_k"],
        "query_p50_ms": percentile(query_ms, 50),
        "query_p99_ms": percentile(query_ms, 99),
        "build_ms": data["retriever"]["build_ms"].get("dense" if mode.startswith("dense") else "bm25"),
        "dense_vectors": data["retriever"].get("dense_vectors"),
        "build_ms_all": data["retriever"]["build_ms"],
        "vectors_cached": data["retriever"].get("vectors_cached"),
        "embedded_ms": data["retriever"].get("embedded_ms"),
    }


def read_corpus(dataset: Path) -> list[dict[str, str]]:
    """The dataset's ``corpus.jsonl.gz``, or ``corpus.jsonl`` where it comes unpacked."""
    packed = dataset / "corpus.jsonl.gz"
    if packed.exists():
        with gzip.open(packed, "rt", encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
    with open(dataset / "corpus.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def plain_bm25s(dataset: Path) -> dict[str, Any]:
    """The peer: bm25s used directly, as its README shows, with the same stemmer and stop words."""
    import bm25s
    import Stemmer

    from charter.evals.metrics.retrieval import ndcg_at, recall_at

    docs = read_corpus(dataset)
    ids = [d["_id"] for d in docs]
    stemmer = Stemmer.Stemmer("english")
    started = time.perf_counter()
    tokens = bm25s.tokenize(
        [f"{d.get('title', '')} {d['text']}" for d in docs], stopwords="en", stemmer=stemmer, show_progress=False
    )
    model = bm25s.BM25()
    model.index(tokens, show_progress=False)
    build_ms = (time.perf_counter() - started) * 1000
    qrels = load_qrels(dataset)
    lines = (dataset / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    queries = {json.loads(line)["_id"]: json.loads(line)["text"] for line in lines}
    ndcg, recall, lat = [], [], []
    for qid, rel in qrels.items():
        t0 = time.perf_counter()
        q = bm25s.tokenize([queries[qid]], stopwords="en", stemmer=stemmer, show_progress=False, return_ids=False)
        results, _scores = model.retrieve(q, k=100, show_progress=False, n_threads=1)
        lat.append((time.perf_counter() - t0) * 1000)
        ranked = [ids[i] for i in results[0]]
        ndcg.append(ndcg_at(ranked, rel, 10))
        recall.append(recall_at(ranked, rel, 100))
    return {
        "ndcg_at_10": sum(ndcg) / len(ndcg),
        "recall_at_100": sum(recall) / len(recall),
        "query_p50_ms": percentile(lat, 50),
        "query_p99_ms": percentile(lat, 99),
        "build_ms": build_ms,
    }


def publish_to_searchable(dataset: Path, work: Path, n: int = 20) -> dict[str, Any]:
    """Publish ``n`` entries into an index that already holds the SciFact corpus (BM25 path) and
    read the lag each ``index.updated`` event recorded; check each is found by its own words."""
    from charter import events as ev
    from charter.observability.logging import configure_logging

    # No app is created here, so nothing would configure logging, and structlog's default prints
    # every level: one debug line per published document. Warnings and errors still show.
    configure_logging("WARNING", json=False)
    from charter.auth.roles import SYSTEM
    from charter.config import load_settings
    from charter.content.actions.create import create_entry
    from charter.content.actions.publish import publish_entry
    from charter.content.transfer import import_entries
    from charter.retrieval.lifecycle import service_for
    from charter.runtime import Runtime

    project = work / "publish-project"
    (project / "content-types").mkdir(parents=True, exist_ok=True)
    (project / "content-types" / "abstract.schema.json").write_text(
        json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": "abstract.v1",
                "version": "1.0.0",
                "title": "Abstract",
                "type": "object",
                "x-charter": {"domain": "science", "locales": {"default": "en"}},
                "required": ["title", "text"],
                "additionalProperties": False,
                "properties": {"title": {"type": "string"}, "text": {"type": "string"}},
            }
        ),
        encoding="utf-8",
    )
    (project / "retrieval.yaml").write_text(
        "mode: bm25\ndense: off\nindexes:\n  science:\n    sources: [{type: abstract, fields: [text], title: title}]\n"
        "    chunking: {by_heading: false, max_tokens: 4096, overlap: 0}\n    freshness_slo: 1s\n"
        "intents:\n  all: {indexes: [science]}\n",
        encoding="utf-8",
    )
    docs = read_corpus(dataset)
    rt = Runtime.open(load_settings(project, database_url=f"sqlite:///{project / 'charter.db'}", log_level="WARNING"))
    try:
        rows = [
            (
                i,
                {
                    "type": "abstract",
                    "status": "published",
                    "data": {"en": {"title": d.get("title") or "-", "text": d["text"]}},
                },
            )
            for i, d in enumerate(docs, 1)
        ]
        import_entries(rt, SYSTEM, rows, source="scifact")
        started = time.perf_counter()
        service = service_for(rt)
        load_ms = (time.perf_counter() - started) * 1000
        lags, found = [], 0
        for k in range(n):
            word = f"benchmarkterm{k}x"
            entry = create_entry(
                rt, SYSTEM, "abstract", {"en": {"title": f"New {k}", "text": f"A new abstract about {word}."}}
            )
            t0 = time.perf_counter()
            publish_entry(rt, SYSTEM, entry.id)
            hits = service.search(word, "en", k=1).hits
            wall = (time.perf_counter() - t0) * 1000
            found += bool(hits and hits[0].chunk.entry_id == entry.id)
            with rt.read() as conn:
                [event] = [
                    e for e in ev.since(conn, 0, [ev.INDEX_UPDATED], limit=100_000) if e.payload["entry_id"] == entry.id
                ]
            lags.append((event.payload["lag_ms"], wall))
    finally:
        rt.close()
    return {
        "entries_in_index": len(docs),
        "index_load_ms": load_ms,
        "lag_p50_ms": statistics.median(lag for lag, _ in lags),
        "lag_max_ms": max(lag for lag, _ in lags),
        "publish_call_p50_ms": statistics.median(wall for _, wall in lags),
        "found": f"{found}/{n}",
    }


def _num(value: float | None) -> str:
    """A figure with four decimals, or "–" where the dataset has no such split."""
    return "–" if value is None else f"{value:.4f}"


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def write_section(results: dict[str, Any], command: str) -> None:
    bench_md = ROOT / "BENCHMARKS.md"
    r = results
    rows = []
    for name, label in (
        ("bm25", "Charter BM25"),
        ("dense", "Charter dense (all-MiniLM-L6-v2, best 128-word passage)"),
        ("hybrid", "Charter hybrid (RRF k=60)"),
        ("peer", "plain bm25s (peer)"),
    ):
        m = r["medians"].get(name)
        if not m:
            continue
        rows.append(
            f"| {label} | {m['ndcg_at_10']:.4f} | {m['recall_at_100']:.4f} | {m['query_p50_ms']:.2f} | "
            f"{m['query_p99_ms']:.2f} | {m['build_ms'] / 1000:.2f} |"
        )
    levers = ""
    if r.get("levers"):
        lines = [
            f"| `{name}` | {m['ndcg_at_10']:.4f} | {_num(m['train_ndcg_at_10'])} | {m['recall_at_100']:.4f} | "
            f"{m['query_p50_ms']:.2f} |"
            for name, m in r["levers"].items()
        ]
        levers = (
            "\nLevers (`--levers`, one run each on the 300 test and the 809 train queries; `hybrid` is the default:"
            " `rrf_k: 60`, 100 candidates from each, dense over 128-word passages with 32 words of overlap):\n\n"
            "| variant | nDCG@10 test | nDCG@10 train | recall@100 test | query p50 ms |\n"
            "|---|---:|---:|---:|---:|\n" + "\n".join(lines) + "\n"
        )
    verdict = ""
    hybrid = r["medians"].get("hybrid")
    if hybrid:
        met = "met" if hybrid["ndcg_at_10"] >= 0.72 else "missed"
        verdict = f"\nHybrid target nDCG@10 ≥ 0.72: **{met}** with the default fusion ({hybrid['ndcg_at_10']:.4f})."
        hybrid_levers = {n: m for n, m in r.get("levers", {}).items() if n.startswith("hybrid")}
        hybrid_levers = {n: m for n, m in hybrid_levers.items() if m.get("train_ndcg_at_10") is not None}
        if hybrid_levers:
            best, m = max(hybrid_levers.items(), key=lambda item: item[1]["train_ndcg_at_10"])
            verdict += (
                f" Best hybrid variant on the train split: `{best}` (train {m['train_ndcg_at_10']:.4f},"
                f" test {m['ndcg_at_10']:.4f})."
            )
        verdict += (
            " Dense and hybrid latency include embedding the query on the CPU, so they follow the machine's load.\n"
        )
    p = r["publish"]
    section = f"""<!-- bench:retrieval -->
## Retrieval (`bench/retrieval/`)

BEIR SciFact (5,183 abstracts, 300 test queries), run through `charter eval run` (the dataset converted to a
golden set, `source: beir`), medians of {r["runs"]} runs on {r["date"]}. Query latency is per query inside
the harness (dense includes embedding the query); build time is tokenising + indexing (dense: embedding the
corpus, {r["dense_build_note"]}). BM25 reads each whole abstract; the dense model, whose input stops at 256
word pieces (about 160 words; 70 % of the abstracts are longer), reads each as overlapping 128-word passages
with the title and scores it by its best passage (MaxP); hybrid fuses the two document rankings by RRF.
Peer: plain bm25s in the same run, same stemmer and stop words. Machine:
2 cores shared with other work, load average {r["load"][0]:.1f} at the start and {r["load"][1]:.1f} at the end.

| retriever | nDCG@10 | recall@100 | query p50 ms | query p99 ms | build s |
|---|---:|---:|---:|---:|---:|
{chr(10).join(rows)}
{verdict}{levers}
Publish-to-searchable on the BM25 path (an index already holding all {p["entries_in_index"]:,} abstracts,
{p["found"]} new entries found by their own words right after publishing): lag p50 **{p["lag_p50_ms"]:.1f} ms**,
max {p["lag_max_ms"]:.1f} ms (the `lag_ms` of each `index.updated` event); the publish call itself p50
{p["publish_call_p50_ms"]:.1f} ms. Targets: BM25 nDCG@10 ≥ 0.68, hybrid ≥ 0.72, BM25 p50 ≤ 2 ms, lag ≤ 1 s.

Command: `{command}`
<!-- /bench:retrieval -->"""
    text = bench_md.read_text(encoding="utf-8")
    start, end = (
        text.index("<!-- bench:retrieval -->"),
        text.index("<!-- /bench:retrieval -->") + len("<!-- /bench:retrieval -->"),
    )
    bench_md.write_text(text[:start] + section + text[end:], encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dataset", type=Path, default=ROOT.parent / "shared" / "datasets" / "scifact")
    parser.add_argument("--modes", default="bm25,dense,hybrid")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--levers", action="store_true", help="also run the hybrid variants in LEVERS once")
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    dataset = args.dataset.resolve()
    work = args.work or Path(tempfile.mkdtemp(prefix="charter-bench-retrieval-"))
    write_project(work, dataset)
    modes = [m for m in args.modes.split(",") if m]
    per_mode: dict[str, list[dict[str, Any]]] = {m: [] for m in [*modes, "peer"]}
    dense_first_build = None
    dense_from_cache = False
    for run in range(args.runs):
        for mode in modes:
            result = charter_eval(work, mode, run)
            if mode == "dense" and dense_first_build is None:
                # Embedding the corpus: measured now, or when the cache was filled (recorded beside it).
                dense_first_build = result["build_ms"] if not result["vectors_cached"] else result["embedded_ms"]
                dense_from_cache = bool(result["vectors_cached"])
            per_mode[mode].append(result)
            print(
                f"run {run + 1} {mode}: {json.dumps({k: v for k, v in result.items() if k != 'build_ms_all'})}",
                flush=True,
            )
        peer = plain_bm25s(dataset)
        per_mode["peer"].append(peer)
        print(f"run {run + 1} plain bm25s: {json.dumps(peer)}", flush=True)
    medians = {
        name: {
            k: median_of(runs, k)
            for k in ("ndcg_at_10", "recall_at_100", "query_p50_ms", "query_p99_ms", "build_ms")
            if runs and runs[0].get(k) is not None
        }
        for name, runs in per_mode.items()
        if runs
    }
    if "dense" in medians and dense_first_build is not None:
        medians["dense"]["build_ms"] = dense_first_build
    if "hybrid" in medians and dense_first_build is not None:
        medians["hybrid"]["build_ms"] += dense_first_build  # both indexes
    levers: dict[str, dict[str, Any]] = {}
    if args.levers:
        for name in ["hybrid", *LEVERS]:
            test = per_mode["hybrid"][0] if name == "hybrid" and per_mode.get("hybrid") else charter_eval(work, name, 0)
            has_train = (work / "eval" / SPLITS["train"]).is_file()
            train = charter_eval(work, name, 0, "train") if has_train else {}
            levers[name] = {
                **test,
                "train_ndcg_at_10": train.get("ndcg_at_10"),
                "train_recall_at_100": train.get("recall_at_100"),
            }
            print(f"lever {name}: {json.dumps(levers[name])}", flush=True)
    publish = publish_to_searchable(dataset, work)
    print("publish-to-searchable:", json.dumps(publish), flush=True)
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "runs": args.runs,
        "medians": medians,
        "publish": publish,
        "levers": levers,
        "load": [load_start, os.getloadavg()[0]],
        "per_run": per_mode,
        "dense_build_note": "measured when the embedding cache was filled, see results.json"
        if dense_from_cache
        else "first run, before the embedding cache",
    }
    (Path(__file__).parent / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    command = f"bench/retrieval/run --runs {args.runs}" + (" --levers" if args.levers else "")
    write_section(results, command + (f" --work {args.work}" if args.work else ""))
    print(json.dumps(medians, indent=2))


if __name__ == "__main__":
    main()
