"""``charter prompts``: list, show, diff, history, promote, rollback and run, with clean errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from charter.cli.commands import prompts as prompts_cli
from charter.cli.errors import run_cli

GOOD = {
    "format": "charter.eval-report/1",
    "subject": {"prompt": "support-answer", "prompt_version": "1.1.0"},
    "summary": {"factuality": {"value": 0.9}, "citation_coverage": 0.9, "latency_p95_ms": 300},
}


@pytest.fixture
def cli(gw_project: Path, tmp_path: Path, template_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Any:
    db = tmp_path / "cli.db"
    shutil.copyfile(template_db, db)
    monkeypatch.setenv("CHARTER_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("CHARTER_ACTOR", "release-bot")

    def invoke(*args: str) -> tuple[int, str, str]:
        try:
            run_cli(prompts_cli.app, [*args, "--project", str(gw_project)])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def write(tmp_path: Path, name: str, doc: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def test_list_show_and_diff(cli: Any) -> None:
    code, out, _ = cli("list", "--json")
    assert code == 0
    assert {p["name"]: p["versions"] for p in json.loads(out)} == {
        "answer": ["1.0.0"],
        "claim-draft": ["1.0.0"],
        "support-answer": ["1.0.0", "1.1.0"],
    }
    code, out, _ = cli("show", "support-answer")
    assert code == 0 and "1.1.0" in out and "dach-pilot" in out and "no label moves yet" in out
    code, out, _ = cli("show", "support-answer", "1.1.0")
    assert code == 0 and "changelog:" in out and "not released" in out
    code, out, _ = cli("diff", "support-answer", "1.0.0", "1.1.0")
    assert code == 0
    assert out.startswith("--- support-answer@1.0.0\n+++ support-answer@1.1.0\n")
    assert "-changelog: First version." in out and "\n system: |\n" in out  # templates as literal blocks
    assert "\n+  Answer in at most three sentences" in out


def test_promote_rollback_and_history(cli: Any, tmp_path: Path) -> None:
    v100 = write(tmp_path, "v100.json", {**GOOD, "subject": {"prompt": "support-answer", "prompt_version": "1.0.0"}})
    v110 = write(tmp_path, "v110.json", GOOD)
    assert cli("promote", "support-answer", "1.0.0", "--report", v100, "--reason", "first release")[0] == 0
    code, out, _ = cli("promote", "support-answer", "1.1.0", "-r", v110, "-m", "shorter answers")
    assert code == 0 and "production -> 1.1.0 (was 1.0.0)" in out
    code, out, _ = cli("rollback", "support-answer", "-m", "answers too short")
    assert code == 0 and "production -> 1.0.0 (was 1.1.0)" in out
    code, out, _ = cli("history", "support-answer", "--json")
    moves = json.loads(out)
    assert [(m["action"], m["to_version"], m["actor"], m["reason"]) for m in moves] == [
        ("promote", "1.0.0", "cli:release-bot", "first release"),
        ("promote", "1.1.0", "cli:release-bot", "shorter answers"),
        ("rollback", "1.0.0", "cli:release-bot", "answers too short"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "nope"), "no prompt named 'nope'"),
        (("show", "support-answer", "9.0.0"), "has no version '9.0.0'"),
        (("diff", "support-answer", "1.0.0", "2.0.0"), "has no version '2.0.0'"),
        (("rollback", "support-answer", "-m", "x"), "label 'production' of prompt 'support-answer' is not set"),
        (
            ("promote", "support-answer", "1.1.0", "-r", "/no/such/report.json", "-m", "x"),
            "cannot read the eval report",
        ),
    ],
)
def test_bad_input_is_a_clean_error(cli: Any, args: tuple[str, ...], message: str) -> None:
    code, out, err = cli(*args)
    assert code == 1
    assert message in " ".join(err.split()), err
    assert "Traceback" not in err + out


def test_a_failing_report_names_every_threshold(cli: Any, tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.json", {**GOOD, "summary": {"factuality": 0.5, "latency_p95_ms": 9000}})
    code, _, err = cli("promote", "support-answer", "1.1.0", "-r", bad, "-m", "try")
    flat = " ".join(err.split())
    assert code == 1
    assert "/summary/factuality: factuality = 0.5 is below the minimum 0.8" in flat
    assert "/summary/citation_coverage: metric 'citation_coverage' is missing" in flat
    assert "/summary/latency_p95_ms: latency_p95_ms = 9000 is above the maximum 2000" in flat
    not_json = tmp_path / "x.json"
    not_json.write_text("{oops")
    code, _, err = cli("promote", "support-answer", "1.1.0", "-r", str(not_json), "-m", "try")
    assert code == 1 and "is not JSON" in " ".join(err.split())


def test_run(cli: Any) -> None:
    variables = json.dumps(
        {"question": "How long do refunds take?", "sources": [{"id": "e#1", "text": "Refunds take 5 days."}]}
    )
    code, out, _ = cli("run", "support-answer", "--version", "1.1.0", "--vars", variables)
    assert code == 0
    result = json.loads(out)
    assert result["output"] == "Refunds take 5 days. [S1]" and result["citations"] == ["e#1"]
    code, _, err = cli("run", "support-answer", "--version", "1.1.0", "--vars", "[1]")
    assert code == 1 and "--vars must be a JSON object" in err


def test_the_real_command_line(gw_project: Path, tmp_path: Path, template_db: Path) -> None:
    db = tmp_path / "sub.db"
    shutil.copyfile(template_db, db)
    proc = subprocess.run(
        [sys.executable, "-m", "charter", "prompts", "list", "--json", "--project", str(gw_project)],
        capture_output=True,
        text=True,
        env={"CHARTER_DATABASE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert [p["name"] for p in json.loads(proc.stdout)] == ["answer", "claim-draft", "support-answer"]
