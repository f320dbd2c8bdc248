"""Hypothesis over ``charter content import`` (issue 13): JSON Lines files mixing valid entries with
hostile values (lone surrogates, NaN, Infinity, 1e400, integers beyond 2**53, NUL in names, lines
that are not JSON). Each run exits 0 (all imported) or 1 with a clear error (nothing imported:
every table unchanged); never a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charter.cli.errors import run_cli
from charter.cli.main import _build
from charter.runtime import Runtime
from tests.api.test_hostile_json import counts

EXAMPLES = int(os.environ.get("CHARTER_HOSTILE_EXAMPLES", "60"))
GOOD = {"type": "doc", "data": {"en": {"slug": "imported", "title": "Imported", "body": "Text.", "area": "billing"}}}
HOSTILE = [r'"\ud800"', "NaN", "Infinity", "-Infinity", "1e400", "9007199254740993", "123456789012345678901234"]
lines = st.one_of(
    st.just(json.dumps(GOOD)),
    st.sampled_from(HOSTILE).map(lambda v: json.dumps(GOOD).replace('"Imported"', v)),
    st.sampled_from(HOSTILE).map(lambda v: json.dumps(GOOD).replace('"body"', r'"b\u0000ody"')),
    st.text(max_size=30),
)


def test_import_refuses_hostile_lines_and_imports_nothing(
    runtime: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHARTER_DATABASE_URL", runtime.settings.resolved_database_url())
    project = str(runtime.settings.project_dir)
    outcomes: set[int] = set()

    @settings(max_examples=max(10, EXAMPLES // 3), deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
    @given(st.lists(lines, min_size=1, max_size=4))
    def run(content: list[str]) -> None:
        file = tmp_path / "import.jsonl"
        file.write_bytes("\n".join(c.replace("\n", " ") for c in content).encode("utf-8", "surrogatepass"))
        before = counts(runtime)
        try:
            run_cli(_build(), ["content", "import", str(file), "--project", project])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        _out, err = capsys.readouterr()
        outcomes.add(code)
        assert code in (0, 1), (content, code, err)
        assert "Traceback" not in err, err
        if code == 1:
            assert "error:" in err, err
            assert counts(runtime) == before, content

    run()
    assert outcomes == {0, 1}, outcomes  # some files imported, the hostile ones refused
