"""Eval reports: JSON (format ``charter.eval-report/1``) and a self-contained HTML page.

The JSON schema is :data:`REPORT_SCHEMA_PATH` (``report.schema.json`` beside this module) and is
documented field by field in docs/evals.md. Consumers may rely on ``format``, ``subject.prompt``,
``subject.prompt_version`` and ``summary`` (a flat ``{figure: number | null}``), which the
gateway's promotion gate reads; every other field is only ever extended, never renamed.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from charter import __version__
from charter.exceptions import ConfigError

if TYPE_CHECKING:
    from charter.evals.cache import CachedComplete
    from charter.evals.config import ModelEvalConfig, RetrieverConfig
    from charter.evals.dataset import Dataset
    from charter.evals.metrics import CaseResult, Metric
    from charter.evals.retrievers import EvalRetriever
    from charter.evals.runner import EvalOptions

REPORT_FORMAT = "charter.eval-report/1"
REPORT_SCHEMA_PATH = Path(__file__).with_name("report.schema.json")
#: Retrieved document ids kept per case in the report.
RETRIEVED_IN_REPORT = 10


def _case(r: CaseResult) -> dict[str, Any]:
    c = r.case
    return {
        "id": c.id,
        "line": c.line,
        "query": c.query,
        "locale": c.locale,
        "intent": c.intent,
        "routed_intent": r.routed_intent,
        "expected": {
            "must_cite": c.must_cite,
            "must_refuse": c.must_refuse,
            "facts": list(c.facts),
            "relevant": dict(c.relevant),
        },
        "answer": r.answer,
        "refused": r.refused,
        "refusal_reason": r.refusal_reason,
        "cited": list(r.cited),
        "sources": [{"marker": s.marker, "id": s.id, "doc_id": s.doc_id} for s in r.sources],
        "retrieved": r.retrieved[:RETRIEVED_IN_REPORT],
        "dropped_sentences": r.dropped_sentences,
        "latency_ms": round(r.latency_ms, 3),
        "retrieval_ms": round(r.retrieval_ms, 3),
        "model_ms": round(r.model_ms, 3),
        "cached": r.cached,
        "error": r.error,
        "scores": r.scores,
    }


def build_report(
    *,
    run_id: str,
    started_at: datetime,
    finished_at: datetime,
    duration_ms: float,
    options: EvalOptions,
    dataset: Dataset,
    retriever: EvalRetriever,
    retriever_cfg: RetrieverConfig,
    model_cfg: ModelEvalConfig,
    route: str | None,
    prompt: tuple[str | None, str | None],
    metrics: dict[str, Metric],
    summaries: dict[str, dict[str, Any]],
    results: list[CaseResult],
    cache: CachedComplete | None,
    concurrency: int,
    language: str,
) -> dict[str, Any]:
    figures = [f for m in metrics.values() for f in m.produces]
    summary = {f: summaries.get(f, {}).get("value") for f in figures}
    errors = [r for r in results if r.error]
    return {
        "format": REPORT_FORMAT,
        "run_id": run_id,
        "charter_version": __version__,
        "created_at": finished_at.isoformat(),
        "subject": {
            "prompt": prompt[0],
            "prompt_version": prompt[1],
            "pipeline": "prompt" if prompt[0] else "ask",
            "route": route,
            "judge": model_cfg.judge,
            "retriever": retriever.description,
            "mode": retriever_cfg.mode,
        },
        "dataset": {
            "path": str(options.dataset),
            "sha256": dataset.sha256,
            "cases": len(results),
            "errors": [e.to_dict() for e in dataset.errors],
        },
        "config": {
            "retriever_config": str(options.retriever_config),
            "model_config": str(options.model_config),
            "metrics": list(metrics),
            "top_k": retriever_cfg.top_k,
            "depth": retriever_cfg.depth,
            "recall_k": retriever_cfg.recall_k,
            "concurrency": concurrency,
            "cache": options.cache,
            "language": language,
        },
        "summary": summary,
        "metrics": {f: summaries.get(f, {"value": None, "n": 0}) for f in figures},
        "totals": {
            "cases": len(results),
            "errors": len(errors),
            "refused": sum(1 for r in results if r.refused),
            "answered": sum(1 for r in results if r.refused is False),
            "invalid_lines": len(dataset.errors),
        },
        "cache": {"hits": cache.hits, "misses": cache.misses} if cache is not None else {"hits": 0, "misses": 0},
        "timing": {
            "started_at": started_at.isoformat(),
            "finished_at": finished_at.isoformat(),
            "duration_ms": round(duration_ms, 3),
        },
        "retriever": getattr(retriever, "stats", dict)(),
        "baseline": None,
        "cases": [_case(r) for r in results],
    }


def _atomic_write(path: Path, data: str) -> Path:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"cannot write report {path}: {exc.strerror or exc}") from exc
    return path


def write_json(report: dict[str, Any], path: Path) -> Path:
    return _atomic_write(path, json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")


def render_html(report: dict[str, Any]) -> str:
    """The report as one HTML page (no scripts, no external assets; all content escaped)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("charter.evals", "templates"), autoescape=select_autoescape(["html"]), trim_blocks=True
    )

    def fmt(value: Any) -> str:
        if value is None:
            return "—"
        if isinstance(value, float):
            return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
        return str(value)

    env.filters["fmt"] = fmt
    return env.get_template("report.html").render(report=report)


def write_html(report: dict[str, Any], path: Path) -> Path:
    return _atomic_write(path, render_html(report))


def load_schema() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(REPORT_SCHEMA_PATH.read_text(encoding="utf-8"))
    return result


def validate_report(report: Any) -> list[str]:
    """Problems with ``report`` against the JSON schema (empty when valid)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema())
    return [
        f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in sorted(validator.iter_errors(report), key=lambda e: list(e.absolute_path))
    ]
