"""The worked example in docs/schema-evolution.md runs as written: its shell blocks, pasted into
bash in an empty folder, print what the page says they print."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).parent.parent.parent / "docs" / "schema-evolution.md"


def _example() -> tuple[list[str], list[str]]:
    """(bash blocks, console blocks) of the worked-example section, in order."""
    text = PAGE.read_text(encoding="utf-8").split("## A worked example", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", text, re.S), re.findall(r"```console\n(.*?)```", text, re.S)


def test_the_page_has_a_worked_example() -> None:
    bash, console = _example()
    assert len(bash) == 6 and len(console) == 6
    assert "charter schema rollback 1" in bash[-1]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_worked_example_runs_as_written(tmp_path: Path) -> None:
    bash, console = _example()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "200"}
    script = "set -e\n" + "\n".join(bash)
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=540, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = " ".join(done.stdout.split())
    for block in console:
        for line in block.splitlines():
            line = line.strip()
            # Check the lines a reader relies on; tables and shortened lines ("...") are illustrations.
            if not line or "..." in line or "…" in line or line.startswith(("│", "┃", "✗", "failed", "ok ")):
                continue
            assert " ".join(line.split()) in out, f"the docs promise {line!r}"
    assert out.count("schema check passed") == 3 and out.count("schema check failed") == 2
    assert "1.0.0 -> 1.1.0 is a minor bump, but 1 change(s) require a major bump (2.0.0)" in out
