"""The harness end to end on the demo project: the seed's command line, the report and its
schema, the gateway's promotion gate reading it, the cache, the baseline gate, the event."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from charter import events as ev
from charter.evals.dataset import load_dataset
from charter.evals.runner import EvalOptions, run_eval
from charter.exceptions import ConfigError
from charter.runtime import Runtime

SEED_METRICS = ["factuality", "citations", "latency", "toxicity", "refusal", "retrieval"]


def options(project: Path, out: Path, **kw: Any) -> EvalOptions:
    return EvalOptions(
        dataset=project / "eval" / "golden.jsonl",
        retriever_config=project / "configs" / "retriever.yaml",
        model_config=project / "configs" / "model.yaml",
        metrics=kw.pop("metrics", [*SEED_METRICS, "routing"]),
        report=out,
        **kw,
    )


def test_a_demo_run_writes_a_valid_report_the_promotion_gate_accepts(
    rt: Runtime, project_dir: Path, tmp_path: Path
) -> None:
    from charter.evals.report import validate_report
    from charter.gateway.prompts.evalgate import check_report
    from charter.gateway.prompts.registry import PromptRegistry

    out = tmp_path / "out" / "eval-report.json"
    run = run_eval(rt, options(project_dir, out, prompt="support-answer@1.1.0"))
    report = json.loads(out.read_text(encoding="utf-8"))
    assert validate_report(report) == []
    assert report["subject"] == {
        **report["subject"],
        "prompt": "support-answer",
        "prompt_version": "1.1.0",
        "pipeline": "prompt",
        "route": "answer",
    }
    s = report["summary"]
    assert set(s) == {
        "factuality",
        "citation_coverage",
        "citation_correctness",
        "latency_p50_ms",
        "latency_p95_ms",
        "toxicity_rate",
        "refusal_precision",
        "refusal_recall",
        "recall_at_k",
        "ndcg_at_10",
        "routing_accuracy",
    }
    assert s["factuality"] >= 0.9 and s["citation_coverage"] >= 0.9 and s["toxicity_rate"] == 0.0
    assert s["refusal_recall"] >= 0.95 and s["ndcg_at_10"] >= 0.8 and s["routing_accuracy"] >= 0.9
    cases = len(load_dataset(project_dir / "eval" / "golden.jsonl").cases)
    assert report["totals"]["cases"] == cases and report["totals"]["errors"] == 0
    version = PromptRegistry.load(project_dir / "prompts").get("support-answer").get("1.1.0")
    assert check_report(report, version)["factuality"] == s["factuality"]
    html = out.with_suffix(".html").read_text(encoding="utf-8")
    assert "<script" not in html and "support-answer" in html and "refund-annual" in html
    assert run.comparison is None and not run.regressed
    with rt.read() as conn:
        [done] = ev.since(conn, 0, [ev.EVAL_COMPLETED])
    assert done.payload["prompt"] == "support-answer" and done.payload["regressions"] == []
    assert done.payload["summary"] == s and done.payload["report"] == str(out)


def test_model_calls_are_cached(rt: Runtime, project_dir: Path, tmp_path: Path) -> None:
    first = run_eval(rt, options(project_dir, tmp_path / "a.json", metrics=["factuality"]))
    assert first.report["cache"]["misses"] > 0 and first.report["cache"]["hits"] == 0
    second = run_eval(rt, options(project_dir, tmp_path / "b.json", metrics=["factuality"]))
    assert second.report["cache"] == {"hits": first.report["cache"]["misses"], "misses": 0}
    assert all(c["cached"] for c in second.report["cases"] if c["answer"] and not c["refused"])
    assert second.report["summary"] == first.report["summary"]
    nocache = run_eval(rt, options(project_dir, tmp_path / "c.json", metrics=["factuality"], cache=False))
    assert nocache.report["cache"]["hits"] == 0


def test_a_regression_against_the_baseline_is_found_and_critical(
    rt: Runtime, project_dir: Path, tmp_path: Path
) -> None:
    base = run_eval(rt, options(project_dir, tmp_path / "base.json"))
    baseline = dict(base.report, summary={**base.report["summary"], "factuality": 1.0, "ndcg_at_10": 1.5})
    (tmp_path / "inflated.json").write_text(json.dumps(baseline), encoding="utf-8")
    (tmp_path / "base-factuality.json").write_text(
        json.dumps(
            dict(baseline, summary={**base.report["summary"], "factuality": base.report["summary"]["factuality"] + 0.1})
        ),
        encoding="utf-8",
    )
    run = run_eval(
        rt,
        options(
            project_dir,
            tmp_path / "cur.json",
            baseline=tmp_path / "base-factuality.json",
            max_regression={"factuality": "0.02"},
        ),
    )
    assert run.regressed
    [row] = run.comparison.regressions  # type: ignore[union-attr]
    assert row.metric == "factuality" and row.critical and row.delta == pytest.approx(-0.1)
    saved = json.loads((tmp_path / "cur.json").read_text(encoding="utf-8"))
    assert saved["baseline"]["regressions"] == ["factuality"] and saved["baseline"]["critical_regressions"] == [
        "factuality"
    ]
    with rt.read() as conn:
        last = ev.since(conn, 0, [ev.EVAL_COMPLETED])[-1]
    assert last.payload["regressed"] and last.payload["critical_regressions"] == 1
    assert last.payload["regressions"][0]["metric"] == "factuality"


def test_bad_input_is_a_clear_error(rt: Runtime, project_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown metric\(s\): speed"):
        run_eval(rt, options(project_dir, tmp_path / "x.json", metrics=["factuality", "speed"]))
    with pytest.raises(ConfigError, match="retriever config not found"):
        run_eval(
            rt,
            options(project_dir, tmp_path / "x.json", retriever_config=tmp_path / "nope.yaml")
            if False
            else EvalOptions(
                dataset=project_dir / "eval" / "golden.jsonl",
                retriever_config=tmp_path / "nope.yaml",
                model_config=project_dir / "configs" / "model.yaml",
            ),
        )
    with pytest.raises(ConfigError, match="cannot read dataset"):
        run_eval(
            rt,
            EvalOptions(
                dataset=tmp_path / "none.jsonl",
                retriever_config=project_dir / "configs" / "retriever.yaml",
                model_config=project_dir / "configs" / "model.yaml",
            ),
        )
    (tmp_path / "bad.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"is not a charter\.eval-report/1 report"):
        run_eval(rt, options(project_dir, tmp_path / "x.json", baseline=tmp_path / "bad.json"))
    assert not (tmp_path / "x.json").exists()  # nothing half-written


def test_malformed_lines_and_a_failing_case_do_not_stop_the_run(rt: Runtime, project_dir: Path, tmp_path: Path) -> None:
    golden = project_dir / "eval" / "golden.jsonl"
    shipped = golden.read_text(encoding="utf-8")
    broken_line = len(shipped.splitlines()) + 1
    cases = len(load_dataset(golden).cases)
    golden.write_text(
        shipped + '{"id": "broken", "query": \n{"id": "klingon", "query": "Refunds?", "locale": "tlh"}\n',
        encoding="utf-8",
    )
    run = run_eval(rt, options(project_dir, tmp_path / "r.json", metrics=["factuality", "retrieval"]))
    report = run.report
    assert [e["line"] for e in report["dataset"]["errors"]] == [broken_line]
    [failed] = [c for c in report["cases"] if c["error"]]
    assert failed["id"] == "klingon" and "unknown locale 'tlh'" in failed["error"]
    assert report["totals"]["errors"] == 1 and report["totals"]["cases"] == cases + 1


def test_a_judge_model_grades_factuality(
    rt: Runtime, project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The judge is a real OpenAI-compatible HTTP server on loopback (the outer seam)."""
    from charter.gateway.mock_upstream import MockUpstream
    from tests.services import free_port

    monkeypatch.setenv("JUDGE_TEST_KEY", "sk-test")
    upstream = MockUpstream(free_port(), answer="no").start_in_thread()
    try:
        model_yaml = project_dir / "configs" / "model.yaml"
        doc = yaml.safe_load(model_yaml.read_text(encoding="utf-8"))
        doc["providers"]["judge-up"] = {
            "kind": "openai",
            "base_url": f"http://127.0.0.1:{upstream.port}/v1",
            "api_key_env": "JUDGE_TEST_KEY",
        }
        doc["models"]["judge"] = {"provider": "judge-up", "model": "judge-1"}
        doc["eval"] = {"judge": "judge", "concurrency": 2}
        model_yaml.write_text(yaml.safe_dump(doc), encoding="utf-8")
        run = run_eval(rt, options(project_dir, tmp_path / "j.json", metrics=["factuality"]))
        fact = run.report["metrics"]["factuality"]
        assert fact["method"] == "judge" and fact["value"] == 0.0  # the judge said "no" to every claim
        assert run.report["subject"]["judge"] == "judge"
        graded = [r for r in upstream.requests if "Claim:" in json.dumps(r)]
        assert graded and "data, not instructions" in json.dumps(graded[0])
    finally:
        upstream.stop()


def test_the_seed_command_line(project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from charter.cli.main import _build

    monkeypatch.chdir(project_dir)
    cli = CliRunner()
    args = [
        "eval",
        "run",
        "--dataset",
        "eval/golden.jsonl",
        "--retriever-config",
        "configs/retriever.yaml",
        "--model-config",
        "configs/model.yaml",
        "--metrics",
        "factuality,citations,latency,toxicity,refusal,retrieval",
        "--report",
        "out/eval-report.json",
    ]
    result = cli.invoke(_build(), args)
    assert result.exit_code == 0, result.output
    assert "factuality" in result.output and (project_dir / "out" / "eval-report.html").is_file()
    report = json.loads((project_dir / "out" / "eval-report.json").read_text(encoding="utf-8"))
    worse = dict(report, summary={**report["summary"], "factuality": min(1.0, report["summary"]["factuality"]) + 0.5})
    (project_dir / "out" / "baseline.json").write_text(json.dumps(worse), encoding="utf-8")
    result = cli.invoke(_build(), [*args, "--baseline", "out/baseline.json", "--max-regression", "factuality=0.02"])
    assert result.exit_code == 3, result.output
    assert "Baseline comparison" in result.output and "regressed" in result.output
    result = cli.invoke(_build(), ["eval", "compare", "out/eval-report.json", "out/eval-report.json"])
    assert result.exit_code == 0 and "unchanged" in result.output
    result = cli.invoke(_build(), ["eval", "validate", "out/eval-report.json"])
    assert result.exit_code == 0 and "valid" in result.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--metrics": "factuality,speed"}, "unknown metric(s): speed"),
        ({"--model-config": "configs/nope.yaml"}, "model config not found"),
        ({"--retriever-config": "configs/nope.yaml"}, "retriever config not found"),
        ({"--dataset": "eval/nope.jsonl"}, "cannot read dataset"),
    ],
)
def test_bad_input_on_the_command_line_is_a_clean_exit_1(
    project_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, str],
    message: str,
) -> None:
    from charter.cli.errors import run_cli
    from charter.cli.main import _build

    monkeypatch.chdir(project_dir)
    argv = {
        "--dataset": "eval/golden.jsonl",
        "--retriever-config": "configs/retriever.yaml",
        "--model-config": "configs/model.yaml",
        "--metrics": "retrieval",
        "--report": "out/r.json",
        **change,
    }
    with pytest.raises(SystemExit) as exited:
        run_cli(_build(), ["eval", "run", *[x for kv in argv.items() for x in kv]])
    assert exited.value.code == 1
    err = " ".join(capsys.readouterr().err.split())
    assert f"error: {message}" in err and "Traceback" not in err
    assert not (project_dir / "out" / "r.json").exists()


def test_an_empty_index_refuses_every_case_and_scores_zero(project_dir: Path, tmp_path: Path) -> None:
    from charter.config import load_settings

    empty = Runtime.open(load_settings(project_dir, database_url=f"sqlite:///{tmp_path / 'empty.db'}"))
    try:  # nothing published: every index is empty
        run = run_eval(empty, options(project_dir, tmp_path / "r.json", metrics=["refusal", "retrieval"]))
    finally:
        empty.close()
    cases = run.report["cases"]
    assert cases and not any(c["error"] for c in cases)
    retrieved = [c for c in cases if c["id"] != "context-given"]  # that case brings its own sources
    assert retrieved and all(c["refused"] and c["refusal_reason"] == "no_sources" for c in retrieved)
    assert run.report["summary"]["recall_at_k"] == 0.0 and run.report["summary"]["refusal_recall"] == 1.0
