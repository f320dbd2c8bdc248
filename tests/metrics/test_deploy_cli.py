"""``charter deploy record|incident`` into a local project and against a real server on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from charter.config import load_settings
from charter.db.tables import events
from charter.runtime import Runtime
from tests.metrics.cli import invoke
from tests.metrics.history import COMMITS, WEEK1, GitRepo, build_repo
from tests.metrics.servers import charter_server
from tests.services import free_port


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = invoke(argv)
    out = capsys.readouterr()
    return code, out.out, "".join(out.err.split("\n"))


def _events(project: Path, event_type: str) -> list[dict]:  # type: ignore[type-arg]
    rt = Runtime.open(load_settings(project, worker=False))
    try:
        with rt.read() as conn:
            rows = conn.execute(sa.select(events.c.payload).where(events.c.type == event_type).order_by(events.c.id))
            return [dict(r.payload) for r in rows]
    finally:
        rt.close()


def test_local_record_and_report(project_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = build_repo(tmp_path / "repo")
    p = str(project_dir)
    code, _, err = _run(
        [
            "deploy",
            "record",
            "-p",
            p,
            "--repo",
            str(repo.path),
            "--service",
            "web",
            "--id",
            "d1",
            "--commit",
            repo.shas["c2"],
            "--deployed-at",
            "2025-01-06T12:00:00Z",
        ],
        capsys,
    )
    assert code == 0 and "recorded deployment d1: web/production" in err
    # HEAD of --repo is the default commit; --changes-since records the commits with their times
    code, out, _ = _run(
        [
            "deploy",
            "record",
            "-p",
            p,
            "--repo",
            str(repo.path),
            "--service",
            "web",
            "--id",
            "d2",
            "--deployed-at",
            "2025-01-14T12:00:00Z",
            "--changes-since",
            repo.shas["c7"],
            "--json",
        ],
        capsys,
    )
    assert code == 0
    payload = json.loads(out)["payload"]
    assert payload["commit"] == repo.shas["c8"]
    assert [c["sha"] for c in payload["changes"]] == [repo.shas["c8"], repo.shas["c9"]]
    assert payload["changes"][1]["committed_at"] == "2025-01-13T10:00:00Z"
    code, _, err = _run(
        [
            "deploy",
            "incident",
            "-p",
            p,
            "--id",
            "i1",
            "--deploy",
            "d2",
            "--started-at",
            "2025-01-14T12:30:00Z",
            "--resolved-at",
            "2025-01-14T13:00:00Z",
        ],
        capsys,
    )
    assert code == 0 and "resolved at 2025-01-14T13:00:00Z" in err
    code, out, _ = _run(["metrics", "report", "-p", p, "-m", "dora", "-w", "2025-W03", "-f", "json"], capsys)
    results = {r["metric"]: r for r in json.loads(out)["results"]}
    # d2's recorded changes: c9 (committed 01-13 10:00) -> 26 h; c8 (01-14 11:00) -> 1 h
    assert results["change_lead_time"]["value"] == (26 + 1) / 2 * 3600
    assert results["change_fail_rate"]["value"] == 1.0
    assert results["failed_deployment_recovery_time"]["value"] == 3600
    code, out, _ = _run(["metrics", "report", "-p", p, "-w", WEEK1, "-f", "markdown", "--fail-on-breach"], capsys)
    assert code == 0 and "| Deployment frequency | 1.00/week |" in out
    assert COMMITS  # the history module is the shared source of the dates


def test_bad_input_records_nothing(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = str(project_dir)
    for argv, message in [
        (["deploy", "record", "-p", p, "--commit", "abc1234", "--deployed-at", "2026-01-01 10:00"], "no UTC offset"),
        (["deploy", "record", "-p", p, "--commit", "abc1234", "--kind", "yolo"], "/kind"),
        (["deploy", "record", "-p", p, "--commit", "abc1234", "--remediates", "ghost"], "no deployment 'ghost'"),
        (["deploy", "incident", "-p", p, "--resolved", "--resolved-at", "2026-01-01T00:00:00Z"], "not both"),
        (["deploy", "incident", "-p", p, "--deploy", "ghost"], "ghost"),
        (["metrics", "report", "-p", p, "-w", "fortnight"], "unknown window 'fortnight'"),
        (["metrics", "report", "-p", p, "-m", "happiness"], "unknown metric(s) 'happiness'"),
        (["metrics", "report", "-p", p, "--until", "tomorrow"], "--until"),
        (["metrics", "report", "-p", p, "--repo", str(project_dir)], "not a git repository"),
    ]:
        code, _, err = _run(argv, capsys)
        assert code in (1, 2), argv
        assert message in err, (argv, err)
    assert _events(project_dir, "deploy.recorded") == []
    assert _events(project_dir, "incident.recorded") == []


@pytest.mark.slow
def test_against_a_server(app, tokens: dict[str, str], capsys: pytest.CaptureFixture[str], repo: GitRepo) -> None:  # type: ignore[no-untyped-def]
    with charter_server(app) as url:
        base = ["deploy", "record", "--server", url, "--repo", str(repo.path), "--service", "api"]
        code, _, err = _run([*base, "--token", tokens["publisher"], "--id", "r1"], capsys)
        assert code == 0 and "recorded deployment r1: api/production" in err, err
        code, _, err = _run([*base, "--token", tokens["publisher"], "--id", "r1"], capsys)
        assert code == 0 and "already recorded deployment r1" in err
        code, _, err = _run([*base, "--token", tokens["viewer"], "--id", "r2"], capsys)
        assert code == 1 and "403" in err
        code, _, err = _run([*base, "--token", tokens["publisher"], "--remediates", "ghost"], capsys)
        assert code == 1 and "/remediates/0" in err
        code, _, err = _run(
            ["deploy", "incident", "--server", url, "--token", tokens["publisher"], "--deploy", "r1", "--id", "inc"],
            capsys,
        )
        assert code == 0 and "recorded incident inc (api/production, open, update 1)" in err
    code, _, err = _run([*base, "--token", "x", "--server", f"http://127.0.0.1:{free_port()}"], capsys)
    assert code == 1 and "cannot reach" in err
