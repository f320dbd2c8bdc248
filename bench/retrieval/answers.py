"""Answer quality and ``POST /v1/ask`` latency on the demo project, through the real app.

Usage: ``bench/retrieval/answers.py [--modes bm25,hybrid] [--dataset charter/demo/eval/golden.jsonl]
[--heldout charter/demo/eval/heldout.jsonl,charter/demo/eval/heldout2.jsonl,charter/demo/eval/heldout3.jsonl]
[--rounds 3] [--json out.json]``.

For each install it copies the demo project, loads its content into a fresh SQLite database, starts
the app in process and sends every case that has no ``context`` of its own to ``/v1/ask``, from two
sets reported apart: the golden set (``--dataset``, what the evidence gate is calibrated on and
``charter ci`` gates) and the held-out sets (``--heldout``, comma-separated, each reported under its
file name; never used to calibrate or tune, so their figures say how the answerer does on questions
nobody fitted it to; ``--heldout ''`` skips them):

* ``bm25``: the ``make run`` install (no embeddings extra): ``dense: off``, ``mode: bm25``;
* ``hybrid``: the install with ``charter[embeddings]``: the demo's contract as shipped (hybrid).

It reports, per locale, the share of answerable questions answered with a right citation and every
expected fact (``answer_rate``) and the share of unanswerable ones refused (``refusal_rate``), the
scoring of the ``answers`` eval metric, and the p50/p95 of ``/v1/ask`` over ``--rounds`` passes
(the first pass, which loads the embedding model, is a warm-up and not timed).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def project_copy(dst: Path, mode: str) -> Path:
    from charter.config import DEMO_DIR

    shutil.copytree(DEMO_DIR, dst, ignore=shutil.ignore_patterns("__pycache__", "*.py", ".charter*"))
    if mode == "bm25":
        contract = (dst / "retrieval.yaml").read_text(encoding="utf-8")
        contract = contract.replace("mode: hybrid ", "mode: bm25 ", 1).replace("dense: auto ", "dense: off ", 1)
        (dst / "retrieval.yaml").write_text(contract, encoding="utf-8")
    return dst


def judge(case: Any, body: dict[str, Any]) -> dict[str, Any]:
    """The ``answers`` metric's verdict on one ``/v1/ask`` response."""
    from charter.retrieval.text import language_of, overlap, strip_markers

    if case.must_refuse:
        return {"kind": "unanswerable", "ok": bool(body["refused"])}
    answered = not body["refused"]
    cited = {c["entry_id"] for c in body["citations"]}
    right = answered and (not case.relevant or bool(cited & set(case.relevant)))
    text = strip_markers(body["answer"])
    facts = answered and all(overlap(f, text, language_of(case.locale)) >= 0.6 for f in case.facts)
    return {"kind": "answerable", "ok": bool(answered and right and facts), "answered": answered, "cited": right}


def run_mode(
    mode: str, datasets: dict[str, Path], rounds: int, verbose: bool, calibrate: bool = False
) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from charter.app import create_app
    from charter.config import load_settings
    from charter.demo import load_demo_content
    from charter.evals.dataset import load_dataset
    from charter.runtime import Runtime

    sets = {
        name: [c for c in load_dataset(path).cases if c.context is None and c.must_refuse is not None]
        for name, path in datasets.items()
    }
    cases = [c for found in sets.values() for c in found]
    if len({c.id for c in cases}) != len(cases):
        raise SystemExit("case ids repeat across the sets; each set must have ids of its own")
    with tempfile.TemporaryDirectory(prefix="charter-answers-") as tmp:
        project = project_copy(Path(tmp) / "project", mode)
        settings = load_settings(
            project, database_url=f"sqlite:///{Path(tmp) / 'charter.db'}", worker=False, log_level="WARNING"
        )
        rt = Runtime.open(settings)
        load_demo_content(rt)
        try:
            with TestClient(create_app(rt.settings, runtime=rt)) as client:
                ready = time.perf_counter()
                while client.get("/readyz").status_code != 200 and time.perf_counter() - ready < 300:
                    time.sleep(0.2)
                results: dict[str, dict[str, Any]] = {}
                latencies: list[float] = []
                for n in range(rounds + 1):
                    for case in cases:
                        t0 = time.perf_counter()
                        r = client.post("/v1/ask", json={"question": case.query, "locale": case.locale})
                        took = (time.perf_counter() - t0) * 1000
                        if n:
                            latencies.append(took)
                        if r.status_code != 200:
                            raise SystemExit(f"{case.id}: HTTP {r.status_code} {r.text}")
                        body = r.json()
                        results[case.id] = {**judge(case, body), "locale": case.locale, "body": body}
        finally:
            rt.close()
    out: dict[str, Any] = {"mode": mode, "sets": {}}
    for name, mine_all in sets.items():
        out["sets"][name] = per_locale(mode, name, mine_all, results, verbose, calibrate)
    out["locales"] = out["sets"].get("golden", {})
    out["ask_p50_ms"] = statistics.median(latencies) if latencies else None
    out["ask_p95_ms"] = percentile(latencies, 95) if latencies else None
    out["requests"] = len(latencies)
    return out


def per_locale(
    mode: str, name: str, cases: list[Any], results: dict[str, dict[str, Any]], verbose: bool, calibrate: bool
) -> dict[str, Any]:
    """answer_rate / refusal_rate per locale of one set; prints misses (``verbose``) and every
    case's evidence score (``calibrate``)."""
    out: dict[str, Any] = {}
    for locale in sorted({c.locale for c in cases}):
        mine = [(c, results[c.id]) for c in cases if c.locale == locale]
        ans = [r for _, r in mine if r["kind"] == "answerable"]
        un = [r for _, r in mine if r["kind"] == "unanswerable"]
        out[locale] = {
            "answer_rate": sum(r["ok"] for r in ans) / len(ans) if ans else None,
            "answerable": len(ans),
            "answered_right": sum(r["ok"] for r in ans),
            "answered": sum(r["answered"] for r in ans),
            "refusal_rate": sum(r["ok"] for r in un) / len(un) if un else None,
            "unanswerable": len(un),
            "refused": sum(r["ok"] for r in un),
            "misses": [c.id for c, r in mine if not r["ok"]],
        }
        if calibrate:
            for case, r in sorted(mine, key=lambda cr: cr[1]["body"]["evidence"]):
                b = r["body"]
                print(f"  {name} {b['evidence']:.3f} {r['kind'][:6]} {'ok ' if r['ok'] else 'BAD'} {case.id}")
        if verbose:
            for case, r in mine:
                if not r["ok"]:
                    b = r["body"]
                    cites = ",".join(f"{c['entry_id'][:8]}#{c['chunk']}" for c in b["citations"])
                    print(
                        f"  MISS {mode} {name} {case.id}: {case.query!r} -> refused={b['refused']} "
                        f"({b['refusal_reason']}, ev={b['evidence']:.2f}, {b['intent']}/{b['route_method']}) "
                        f"[{cites}] {b['answer'][:160]!r}"
                    )
    return out


def _rate(value: float | None, n: int, k: int) -> str:
    return f"{value:.0%} ({k}/{n})" if value is not None else "–"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--modes", default="bm25,hybrid")
    parser.add_argument("--dataset", type=Path, default=ROOT / "charter" / "demo" / "eval" / "golden.jsonl")
    parser.add_argument(
        "--heldout",
        default=",".join(
            str(ROOT / "charter" / "demo" / "eval" / f) for f in ("heldout.jsonl", "heldout2.jsonl", "heldout3.jsonl")
        ),
        help="held-out sets, comma-separated, each reported apart under its file name ('' to skip)",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--calibrate", action="store_true", help="print every case's evidence score")
    args = parser.parse_args()
    from charter.observability.logging import configure_logging

    configure_logging("WARNING", json=False)  # the content load below would log a line per entry
    rows = []
    for mode in args.modes.split(","):
        if mode == "hybrid":
            from charter.retrieval.embeddings import unavailable_reason

            if unavailable_reason():
                print(f"hybrid skipped: {unavailable_reason()}")
                continue
        heldout = [Path(p) for p in args.heldout.split(",") if p]
        datasets = {"golden": args.dataset, **{p.stem: p for p in heldout}}
        row = run_mode(mode, datasets, args.rounds, args.verbose, args.calibrate)
        rows.append(row)
        for name, locales in row["sets"].items():
            for locale, f in locales.items():
                print(
                    f"{mode:7} {name:8} {locale:6} answered right "
                    f"{_rate(f['answer_rate'], f['answerable'], f['answered_right'])} "
                    f"(answered {f['answered']}), refused {_rate(f['refusal_rate'], f['unanswerable'], f['refused'])}"
                )
        if row["ask_p50_ms"] is not None:
            print(
                f"{mode:7} /v1/ask p50 {row['ask_p50_ms']:.1f} ms, p95 {row['ask_p95_ms']:.1f} ms "
                f"({row['requests']} requests)"
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
