"""Budgets: parsing (every problem at once), file sizes, a bounded load on real loopback servers."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from charter.cli.main import _build
from charter.exceptions import BadRequest
from charter.metrics.budgets import BudgetError, check_budgets, load_budgets, parse_budgets
from charter.metrics.budgets.check import UnreachableServer
from charter.metrics.budgets.config import parse_size
from tests.metrics.servers import charter_server, tiny_server
from tests.services import free_port


@pytest.mark.parametrize(
    ("text", "size"),
    [(1000, 1000), ("170 KB", 170_000), ("170 KiB", 174_080), ("1.5MB", 1_500_000), ("2 mib", 2097152)],
)
def test_sizes(text: object, size: int) -> None:
    assert parse_size(text) == size


def test_malformed_budgets_list_every_problem() -> None:
    with pytest.raises(BudgetError) as info:
        parse_budgets(
            {
                "bundles": [{"files": "../x.js", "max_bytes": "lots"}, "nope"],
                "api": [
                    {"endpoint": "FETCH /x", "p95_ms": -1, "requests": 5000},
                    {"endpoint": "GET /a", "p95_ms": 5},
                    {"endpoint": "GET /a", "p95_ms": 6},
                ],
                "llm": [{"p95_ms": 10}],
                "surprise": True,
            }
        )
    pointers = {e.pointer for e in info.value.errors}
    assert pointers == {
        "/surprise",
        "/bundles/0/files",
        "/bundles/0/max_bytes",
        "/bundles/1",
        "/api/0/endpoint",
        "/api/0/p95_ms",
        "/api/0/requests",
        "/llm/0/route",
        "",
    }, info.value.errors
    assert info.value.status == 422


@pytest.mark.parametrize("content", ["", "a: [", "- 1\n- 2\n", "version: 2\napi: []\n"])
def test_unusable_files(tmp_path: Path, content: str) -> None:
    path = tmp_path / "budgets.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BudgetError):
        load_budgets(path)
    with pytest.raises(BudgetError, match="no such budgets file"):
        load_budgets(tmp_path / "missing.yaml")


def _dist(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "assets" / "app-1a2b.js").write_bytes(os.urandom(30_000))  # random bytes do not compress
    (dist / "assets" / "vendor-9f.js").write_bytes(b"x" * 500_000)  # compresses to ~1 KB
    (dist / "hero.png").write_bytes(os.urandom(120_000))
    (dist / "img").mkdir()
    (dist / "img" / "big.webp").write_bytes(os.urandom(300_000))
    return dist


def test_file_budgets(tmp_path: Path) -> None:
    dist = _dist(tmp_path)
    budgets = parse_budgets(
        {
            "bundles": [
                {"name": "app", "files": "assets/app-*.js", "max_bytes": "25 KB"},
                {"name": "vendor", "files": "assets/vendor-*.js", "max_bytes": "5 KB"},
                {"name": "vendor raw", "files": "assets/vendor-*.js", "max_bytes": "5 KB", "compression": "none"},
                {"name": "all", "files": "**/*.js", "max_bytes": "1 MB", "max_total_bytes": "20 KB"},
                {"name": "missing", "files": "assets/none-*.js", "max_bytes": 1},
            ],
            "images": [{"max_bytes": "200 KB"}],
        }
    )
    report = check_budgets(budgets, dist=dist)
    by_name = {r.name: r for r in report.results}
    app = by_name["app"]
    assert app.status == "over" and app.measured == len(
        gzip.compress((dist / "assets/app-1a2b.js").read_bytes(), 9, mtime=0)
    )
    assert app.margin == 25_000 - app.measured < 0
    assert by_name["vendor"].status == "ok" and by_name["vendor"].measured < 5000
    assert by_name["vendor raw"].status == "over" and by_name["vendor raw"].measured == 500_000
    assert by_name["all (total)"].status == "over"
    assert by_name["missing"].status == "error" and "no file" in by_name["missing"].detail
    assert by_name["**/*.png: hero.png"].status == "ok" and by_name["**/*.png: hero.png"].measured == 120_000
    assert by_name["**/*.png: img/big.webp"].status == "over"
    assert {r.name for r in report.failed} == {"app", "vendor raw", "all (total)", "missing", "**/*.png: img/big.webp"}
    md = report.to_markdown()
    assert "| app | bundle | 24.4 KiB |" in md and "❌ over" in md


def test_latency_budgets_under_a_bounded_load() -> None:
    budgets = parse_budgets(
        {
            "defaults": {"requests": 12, "concurrency": 3, "warmup": 1},
            "api": [
                {"endpoint": "GET /fast", "p95_ms": 1000},
                {"endpoint": "GET /slow", "p95_ms": 20},
                {"endpoint": "GET /broken", "p95_ms": 1000, "requests": 4},
                {"endpoint": "GET /private", "p95_ms": 1000, "auth": True, "requests": 3},
            ],
        }
    )
    with tiny_server() as url:
        report = check_budgets(budgets, api=url, token="s3cret")
        unauth = check_budgets(budgets, api=url, only=("api",))
    fast, slow, broken, private = report.results
    assert fast.status == "ok" and fast.measured is not None and fast.extra["requests"] == 12
    assert slow.status == "over" and slow.measured is not None and slow.measured >= 50
    assert slow.margin is not None and slow.margin < 0
    assert broken.status == "error" and "4× HTTP 500 of 4 requests" in broken.detail
    assert private.status == "ok"
    assert unauth.results[3].status == "error" and "--token" in unauth.results[3].detail


def test_skipped_without_inputs_and_bad_inputs(tmp_path: Path) -> None:
    budgets = parse_budgets(
        {"bundles": [{"files": "*.js", "max_bytes": 1}], "api": [{"endpoint": "GET /", "p95_ms": 1}]}
    )
    report = check_budgets(budgets)
    assert [r.status for r in report.results] == ["skipped", "skipped"] and not report.failed
    with pytest.raises(BadRequest, match="no such folder"):
        check_budgets(budgets, dist=tmp_path / "nope")
    with pytest.raises(BadRequest, match="http"):
        check_budgets(budgets, api="localhost:8000")
    with pytest.raises(UnreachableServer, match="cannot reach"):
        check_budgets(budgets, api=f"http://127.0.0.1:{free_port()}")


@pytest.mark.slow
def test_cli_against_charter_itself(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The demo budgets file, against the Charter app served by uvicorn on loopback."""
    from charter.config import DEMO_DIR

    dist = _dist(tmp_path)
    runner = CliRunner()
    out = tmp_path / "report.json"
    md = tmp_path / "report.md"
    with charter_server(app) as url:
        result = runner.invoke(
            _build(),
            [
                "budgets",
                "check",
                "-b",
                str(DEMO_DIR / "budgets.yaml"),
                "--dist",
                str(dist),
                "--api",
                url,
                "--only",
                "api",
                "--only",
                "bundle",
                "-o",
                str(out),
                "--markdown",
                str(md),
            ],
        )
    data = json.loads(out.read_text())
    by_name = {r["name"]: r for r in data["results"]}
    assert by_name["GET /v1/pages/about"]["measured"] is not None
    assert by_name["GET /v1/pages/about"]["extra"]["failures"] == {}
    assert by_name["app"]["status"] == "ok" and 30_000 <= by_name["app"]["measured"] < 31_000
    assert by_name["vendor"]["measured"] < 2000
    assert result.exit_code == (1 if data["passed"] is False else 0), result.output
    assert "budget" in result.output and "measured" in result.output and "margin" in result.output
    assert md.read_text().startswith("| Budget |")


def test_cli_unreachable_and_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from charter.config import DEMO_DIR

    bad = tmp_path / "b.yaml"
    bad.write_text("api:\n  - endpoint: nope\n", encoding="utf-8")
    from charter.cli.errors import run_cli

    for argv, message in [
        (
            [
                "budgets",
                "check",
                "-b",
                str(DEMO_DIR / "budgets.yaml"),
                "--api",
                f"http://127.0.0.1:{free_port()}",
                "--only",
                "api",
            ],
            "cannot reach",
        ),
        (["budgets", "check", "-b", str(bad)], "/api/0/endpoint"),
        (["budgets", "check", "-b", str(DEMO_DIR / "budgets.yaml"), "--only", "fonts"], "--only"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            run_cli(_build(), argv)
        assert exit_info.value.code in (1, 2), (argv, message)
        captured = capsys.readouterr()
        flat = "".join((captured.err + captured.out).split())  # Rich wraps long lines
        assert "".join(message.split()) in flat, (argv, captured)
