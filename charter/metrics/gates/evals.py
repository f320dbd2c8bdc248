"""Gate ``evals``: the eval suite runs on the golden dataset, no metric regresses past the
baseline's tolerance (a critical metric's regression, or any gated one, fails the gate), and what a
visitor gets stays above its floors: ``answer_rate`` (answerable questions answered with the right
citation and facts) at least [``eval_min_answer_rate``, default 0.85] and ``refusal_rate``
(unanswerable questions refused) at least [``eval_min_refusal_rate``, default 0.95], whenever the
golden set has such cases and some content is published (a new project has none yet); ``0`` turns
a floor off.

Inputs (``[charter.metrics.ci]`` keys in brackets): ``eval/golden.jsonl`` [``eval_dataset``],
``configs/retriever.yaml`` [``eval_retriever``], ``configs/model.yaml`` [``eval_model``] and the
baseline report ``eval/baseline.json`` [``eval_baseline``]. Domain functions:
``charter.evals.runner:run_eval`` with ``charter.evals.runner:EvalOptions``.
"""

from __future__ import annotations

from typing import Any

from charter.exceptions import CharterError
from charter.metrics.gates.base import CIContext, GateResult, domain

NAME = "evals"
TITLE = "Eval gate"
#: Floors of what a visitor gets (``[charter.metrics.ci]`` overrides them; 0 turns one off).
MIN_ANSWER_RATE = 0.85
MIN_REFUSAL_RATE = 0.95


def _published_entries(rt: Any) -> int:
    import sqlalchemy as sa

    from charter.db.tables import entries

    with rt.read() as conn:
        query = sa.select(sa.func.count()).select_from(entries).where(entries.c.published_revision.is_not(None))
        return int(conn.execute(query).scalar_one())


def run(ctx: CIContext) -> GateResult:
    cfg = ctx.config
    dataset = ctx.project / str(cfg.get("eval_dataset", "eval/golden.jsonl"))
    if not dataset.is_file():
        return GateResult(NAME, TITLE, "not_applicable", f"no golden dataset ({dataset.relative_to(ctx.project)})")
    with domain("charter.evals"):
        from charter.evals.runner import EvalOptions, run_eval
    baseline = ctx.project / str(cfg.get("eval_baseline", "eval/baseline.json"))
    options = EvalOptions(
        dataset=dataset,
        retriever_config=ctx.project / str(cfg.get("eval_retriever", "configs/retriever.yaml")),
        model_config=ctx.project / str(cfg.get("eval_model", "configs/model.yaml")),
        baseline=baseline if baseline.is_file() else None,
        report=ctx.project / str(cfg.get("eval_report", ".charter/ci-eval-report.json")),
        emit_event=False,
    )
    from charter.runtime import Runtime

    rt = Runtime.open(ctx.settings.model_copy(update={"worker": False}))
    try:
        published = _published_entries(rt)
        result: Any = run_eval(rt, options)
    except CharterError as exc:
        details = [f"{e.file + '#' if e.file else ''}{e.pointer or '/'}: {e.message}" for e in exc.errors]
        return GateResult(NAME, TITLE, "failed", str(exc), details)
    finally:
        rt.close()
    comparison = result.comparison
    summary_data = dict(result.report.get("summary", {}))
    floors = {
        "answer_rate": float(cfg.get("eval_min_answer_rate", MIN_ANSWER_RATE)),
        "refusal_rate": float(cfg.get("eval_min_refusal_rate", MIN_REFUSAL_RATE)),
    }
    below = [
        f"below the floor: {metric} {value:.3f} < {floor:.3f}"
        for metric, floor in floors.items()
        if isinstance(value := summary_data.get(metric), int | float) and value < floor
    ]
    if below and not published:
        # A new project (charter init) has a golden set but no content yet: nothing can be
        # answered, which says nothing about the answerer. The floors apply once content is live.
        below = []
        summary_data["floors"] = "not applied: no published content to answer from"
    if below:
        return GateResult(
            NAME,
            TITLE,
            "failed",
            f"{len(below)} figure(s) below their floor",
            below,
            {"summary": summary_data, "floors": floors},
        )
    if comparison is None:
        return GateResult(
            NAME,
            TITLE,
            "passed",
            f"no baseline ({baseline.relative_to(ctx.project)}): ran the suite, nothing to compare",
            data={"summary": summary_data},
        )
    rows = [r.to_dict() for r in comparison.regressions]
    details = [
        f"{'critical' if r.get('critical') else 'regressed'}: {r.get('metric')} "
        f"{r.get('baseline')} → {r.get('current')} (allowed {r.get('allowed')})"
        for r in rows
    ]
    if result.regressed:
        return GateResult(
            NAME,
            TITLE,
            "failed",
            f"{len(rows)} metric(s) regressed past the baseline",
            details,
            {"summary": summary_data, "regressions": rows},
        )
    return GateResult(
        NAME, TITLE, "passed", "no metric regressed past the baseline", details, {"summary": summary_data}
    )
