"""Gate ``evals``: the eval suite runs on the golden dataset and no metric regresses past the
baseline's tolerance (a critical metric's regression, or any gated one, fails the gate).

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
        result: Any = run_eval(rt, options)
    except CharterError as exc:
        details = [f"{e.file + '#' if e.file else ''}{e.pointer or '/'}: {e.message}" for e in exc.errors]
        return GateResult(NAME, TITLE, "failed", str(exc), details)
    finally:
        rt.close()
    comparison = result.comparison
    summary_data = dict(result.report.get("summary", {}))
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
