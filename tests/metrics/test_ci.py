"""``charter ci``: every gate through the real CLI on a real project folder; unavailable domains
fail the run unless skipped; one JSON + Markdown summary."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from charter.cli.errors import run_cli
from charter.cli.main import _build
from charter.config import DEMO_DIR
from tests.metrics.cli import invoke
from tests.metrics.history import GitRepo


def _colors(fg: float) -> str:
    return json.dumps(
        {
            "color": {
                "$type": "color",
                "bg": {"$value": {"colorSpace": "srgb", "components": [1, 1, 1]}},
                "fg": {"$value": {"colorSpace": "srgb", "components": [fg, fg, fg]}},
            }
        }
    )


@pytest.fixture
def ci_project(tmp_path: Path) -> Path:
    project = tmp_path / "site"
    shutil.copytree(DEMO_DIR, project, ignore=shutil.ignore_patterns("__pycache__", "*.py", ".charter*"))
    shutil.rmtree(project / "tokens", ignore_errors=True)  # the demo ships tokens; these tests use their own
    (project / "tokens").mkdir()
    (project / "tokens" / "colors.json").write_text(_colors(0.2), encoding="utf-8")
    (project / "tokens" / "contrast.json").write_text(
        json.dumps({"pairs": [{"foreground": "color.fg", "background": "color.bg"}]}), encoding="utf-8"
    )
    (project / "budgets.yaml").write_text(
        "bundles:\n  - name: app\n    files: 'assets/*.js'\n    max_bytes: 10 KB\n", encoding="utf-8"
    )
    (project / "dist" / "assets").mkdir(parents=True)
    (project / "dist" / "assets" / "app.js").write_text("console.log('hi');\n" * 50, encoding="utf-8")
    return project


def _ci(project: Path, *args: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    summary, markdown = project / "ci.json", project / "ci.md"
    argv = [
        "ci",
        "-p",
        str(project),
        "--dist",
        str(project / "dist"),
        "--summary",
        str(summary),
        "--markdown",
        str(markdown),
        *args,
    ]
    code = invoke(argv)
    return code, json.loads(summary.read_text()), markdown.read_text()


def _with_content(project: Path) -> Path:
    """The demo's content published in the project's own database, which the eval gate asks."""
    from charter.config import load_settings
    from charter.demo import load_demo_content
    from charter.runtime import Runtime

    with Runtime.open(load_settings(project)) as rt:
        load_demo_content(rt)
    return project


def _status(summary: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {g["gate"]: g["status"] for g in summary["gates"]}


def test_every_gate_on_the_demo_project(ci_project: Path) -> None:
    code, summary, md = _ci(_with_content(ci_project))
    status = _status(summary)
    assert status == {
        "schema": "passed",
        "contracts": "passed",  # the demo's two consumer contracts
        "tokens": "passed",
        "divergence": "not_applicable",  # no apps to scan
        "evals": "passed",  # the demo's golden set through the eval runner (no baseline)
        "budgets": "passed",
    }, summary
    assert code == 0 and summary["passed"] is True
    assert md.startswith("<!-- charter-ci-summary -->")
    assert "| Schema check (`schema`) | ✅ passed |" in md
    assert "| Performance budgets (`budgets`) | ✅ passed |" in md


def test_an_unavailable_domain_fails_the_run(ci_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARTER_PLUGINS", "tests.plugin_example")  # registers the "future" gate
    code, summary, md = _ci(ci_project, "--only", "future")
    gate = next(g for g in summary["gates"] if g["gate"] == "future")
    assert code == 1 and gate["status"] == "unavailable", gate
    assert "charter.not_built_yet is not in this build" in gate["summary"]
    assert "⚠️ unavailable" in md
    code, summary, _ = _ci(ci_project, "--only", "future", "--skip", "future")
    assert code == 0 and _status(summary)["future"] == "skipped"


def test_explicit_skips_pass(ci_project: Path) -> None:
    code, summary, md = _ci(ci_project, "--skip", "contracts", "--skip", "evals")
    assert _status(summary)["contracts"] == "skipped" and _status(summary)["evals"] == "skipped"
    assert "skipped with --skip" in md
    assert code == 0 and summary["passed"] is True, summary
    assert "✅ **All gates passed**" in md and "⏭️ skipped" in md


def test_failing_gates(ci_project: Path) -> None:
    (ci_project / "tokens" / "colors.json").write_text(_colors(0.6), encoding="utf-8")  # 2.85:1 on white
    (ci_project / "dist" / "assets" / "big.js").write_bytes(os.urandom(20_000))
    code, summary, md = _ci(ci_project, "--skip", "contracts", "--skip", "evals")
    assert code == 1
    gates = {g["gate"]: g for g in summary["gates"]}
    assert gates["tokens"]["status"] == "failed"
    assert any("contrast 2.85:1" in d for d in gates["tokens"]["details"])
    assert gates["budgets"]["status"] == "failed" and "1 of 2 budget(s) over" in gates["budgets"]["summary"]
    assert "❌ **Some gates failed**: tokens, budgets" in md
    assert "| app: assets/big.js | bundle |" in md  # the budgets table, for the PR comment


def test_schema_versions_against_the_base_ref(ci_project: Path) -> None:
    repo = GitRepo(ci_project)
    repo.git("init", "-q", "-b", "main")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "base")
    page = ci_project / "content-types" / "page.schema.json"
    schema = json.loads(page.read_text())
    schema["properties"].pop("description")
    schema["x-charter"]["localized"].remove("description")
    schema["version"] = "1.0.1"  # a patch bump for a breaking change
    page.write_text(json.dumps(schema), encoding="utf-8")
    code, summary, _ = _ci(ci_project, "--only", "schema", "--base-ref", "main")
    gate = next(g for g in summary["gates"] if g["gate"] == "schema")
    assert code == 1 and gate["status"] == "failed", gate
    assert gate["summary"].startswith("5 content type(s) against git:main: ")
    assert any(d.startswith("page 1.0.0 → 1.0.1: ") for d in gate["details"]), gate["details"]
    code, summary, _ = _ci(ci_project, "--only", "schema", "--base-ref", "no-such-ref")
    gate = next(g for g in summary["gates"] if g["gate"] == "schema")
    assert code == 1 and gate["status"] == "error" and "no-such-ref" in gate["summary"], gate


def test_broken_contract(ci_project: Path) -> None:
    path = ci_project / "contracts" / "pricing-widget.yaml"
    path.write_text(path.read_text().replace("must_include: [name, price]", "must_include: [name, price, tier]"))
    code, summary, md = _ci(ci_project, "--only", "contracts")
    gate = next(g for g in summary["gates"] if g["gate"] == "contracts")
    assert code == 1 and gate["status"] == "failed", gate
    assert any("tier" in d for d in gate["details"])
    assert "Contract checks: ❌ failed" in md


def test_schema_lint_failure(ci_project: Path) -> None:
    (ci_project / "content-types" / "broken.schema.json").write_text("{not json", encoding="utf-8")
    code, summary, _ = _ci(ci_project, "--only", "schema")
    assert code == 1 and _status(summary)["schema"] == "failed"
    assert all(s == "skipped" for g, s in _status(summary).items() if g != "schema")


def test_unknown_gate_is_a_usage_error(ci_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        run_cli(_build(), ["ci", "-p", str(ci_project), "--skip", "lint"])
    assert info.value.code == 1
    assert "unknown gate(s) 'lint'" in "".join(capsys.readouterr().err.split("\n"))
    assert not (ci_project / "charter-ci.json").exists()


@pytest.mark.slow
def test_eval_gate_against_a_baseline(ci_project: Path) -> None:
    """The demo's golden set through the real eval runner; a baseline it falls short of fails."""
    code, summary, _ = _ci(_with_content(ci_project), "--only", "evals")
    gate = next(g for g in summary["gates"] if g["gate"] == "evals")
    assert code == 0 and gate["status"] == "passed" and "no baseline" in gate["summary"], gate["details"]
    report = json.loads((ci_project / ".charter" / "ci-eval-report.json").read_text())
    # A baseline better than this run by more than the default tolerance (0.05) on one figure (a
    # synthetic one: the demo answers nearly every golden question, so it may exceed 1).
    metric = "answer_rate"
    report["summary"][metric] = float(report["summary"][metric]) + 0.1
    (ci_project / "eval" / "baseline.json").write_text(json.dumps(report), encoding="utf-8")
    code, summary, md = _ci(ci_project, "--only", "evals")
    gate = next(g for g in summary["gates"] if g["gate"] == "evals")
    assert code == 1 and gate["status"] == "failed", gate
    assert any(d.startswith(f"regressed: {metric}") for d in gate["details"]), gate["details"]
    assert "Eval gate: ❌ failed" in md
    # What a visitor gets has floors of its own, baseline or not.
    (ci_project / "eval" / "baseline.json").unlink()
    toml = ci_project / "charter.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[charter.metrics.ci]\neval_min_answer_rate = 0.999\n")
    code, summary, _ = _ci(ci_project, "--only", "evals")
    gate = next(g for g in summary["gates"] if g["gate"] == "evals")
    assert code == 1 and gate["status"] == "failed", gate
    assert any(d.startswith("below the floor: answer_rate") for d in gate["details"]), gate["details"]


def _app(project: Path, css: str, name: str = "web") -> Path:
    app = project / "apps" / name
    app.mkdir(parents=True, exist_ok=True)
    (app / "site.css").write_text(css, encoding="utf-8")
    return app


def test_divergence_gate_fails_an_app_above_the_threshold(ci_project: Path) -> None:
    app = _app(ci_project, ".a { color: #ff0000; margin: 13px; }\n.b { color: var(--color-fg); }\n")
    code, summary, md = _ci(ci_project, "--only", "divergence", "--app", f"web={app}")
    gate = next(g for g in summary["gates"] if g["gate"] == "divergence")
    assert code == 1
    assert gate["status"] == "failed", gate  # the scanner is in the build: never "unavailable"
    assert gate["data"] == {"apps": {"web": 66.67}, "threshold_percent": 5.0}
    assert gate["details"] == ["web: 66.7 % of declarations override tokens (threshold 5 %)"]
    assert "Token divergence scan" in md


def test_divergence_gate_passes_apps_that_use_the_tokens(ci_project: Path) -> None:
    # color.fg and color.bg are the project's tokens (ci_project's tokens/colors.json).
    app = _app(ci_project, ".a { color: var(--color-fg); background: var(--color-bg); margin: 0; }\n")
    code, summary, _ = _ci(ci_project, "--only", "divergence", "--app", f"web={app}")
    gate = next(g for g in summary["gates"] if g["gate"] == "divergence")
    assert (code, gate["status"], gate["summary"]) == (0, "passed", "web 0.0 %"), gate


def test_divergence_gate_reads_apps_and_threshold_from_charter_toml(ci_project: Path) -> None:
    _app(ci_project, ".a { color: #ff0000; }\n.b { color: var(--color-fg); }\n.c { color: var(--color-bg); }\n")
    _app(ci_project, ".a { color: var(--color-fg); }\n", name="shop")
    with (ci_project / "charter.toml").open("a", encoding="utf-8") as fh:
        # Relative paths in charter.toml are the project's, wherever charter ci runs.
        fh.write('\n[charter.metrics.ci]\ndivergence_apps = ["web=apps/web", "apps/shop"]\ndivergence_threshold = 40\n')
    code, summary, _ = _ci(ci_project, "--only", "divergence")
    gate = next(g for g in summary["gates"] if g["gate"] == "divergence")
    assert (code, gate["status"]) == (0, "passed"), gate
    assert gate["data"] == {"apps": {"web": 33.33, "shop": 0.0}, "threshold_percent": 40.0}


def test_divergence_gate_reports_a_missing_app_as_an_error(ci_project: Path) -> None:
    missing = ci_project / "apps" / "nope"
    code, summary, _ = _ci(ci_project, "--only", "divergence", "--app", f"web={missing}")
    gate = next(g for g in summary["gates"] if g["gate"] == "divergence")
    assert (code, gate["status"]) == (1, "error"), gate
    assert gate["details"] == [f"{missing}#/: no such file or folder"]
