"""``charter index``: check, rebuild (with a progress bar), status, search, routing."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from charter.cli.main import _build

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(_build(), list(args))
    return result.exit_code, result.output


def test_check_accepts_the_demo_and_rejects_a_broken_contract(project_dir: Path) -> None:
    code, output = invoke("index", "check", "--project", str(project_dir))
    assert code == 0 and "3 indexes" in output
    text = (project_dir / "retrieval.yaml").read_text(encoding="utf-8").replace("type: legal-text", "type: legal-txt")
    (project_dir / "retrieval.yaml").write_text(text, encoding="utf-8")
    import pytest

    from charter.cli.errors import run_cli

    with pytest.raises(SystemExit) as exit_info:
        run_cli(_build(), ["index", "check", "--project", str(project_dir)])
    assert exit_info.value.code == 1


def test_rebuild_status_search_and_routing(project_dir: Path) -> None:
    (project_dir / "charter.toml").write_text('[charter]\ncache = "memory"\n', encoding="utf-8")
    from charter.config import load_settings
    from charter.demo import load_demo_content
    from charter.runtime import Runtime

    rt = Runtime.open(load_settings(project_dir))
    load_demo_content(rt)
    rt.close()
    code, output = invoke("index", "rebuild", "--project", str(project_dir))
    assert code == 0, output
    assert "indexing" in output and "indexed 17 entries into 69 chunks" in output
    assert (project_dir / ".charter" / "retrieval" / "legal" / "en.chunks.json.gz").is_file()
    code, output = invoke("index", "status", "--json", "--project", str(project_dir))
    assert code == 0
    status = json.loads(output)
    assert status["store"] == "files" and status["indexes"]["legal"]["chunks"] == 12
    code, output = invoke("index", "search", "refund annual", "--route", "--project", str(project_dir))
    assert code == 0 and "intent legal (rule)" in output and "29b9433c" in output
    code, output = invoke("index", "routing", "--project", str(project_dir))
    assert code == 0 and "routing accuracy" in output and "leave-one-out" in output
