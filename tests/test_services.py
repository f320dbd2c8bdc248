"""CI's promise: with CHARTER_REQUIRE_SERVICES=1 a missing PostgreSQL, Redis or Chromium fails the
run; without it, the tests that need one skip with the reason."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PROBE = """
from tests.services import require_chromium, require_postgres, require_redis

def test_postgres():
    require_postgres()

def test_redis():
    require_redis()

def test_chromium():
    require_chromium()
"""


@pytest.mark.slow
@pytest.mark.parametrize(("required", "outcome"), [("1", "3 failed"), ("", "3 skipped")])
def test_missing_services_fail_in_ci_and_skip_elsewhere(tmp_path: Path, required: str, outcome: str) -> None:
    probe = tmp_path / "test_probe.py"
    probe.write_text(PROBE)
    env = {
        **os.environ,
        "CHARTER_REQUIRE_SERVICES": required,
        "CHARTER_TEST_POSTGRES_URL": "postgresql://postgres@127.0.0.1:1/none",
        "CHARTER_TEST_REDIS_URL": "redis://127.0.0.1:1/0",
        "CHARTER_TEST_CHROMIUM": str(tmp_path / "no-chromium"),
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(probe)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert outcome in result.stdout, result.stdout
    assert result.returncode == (1 if required else 0)
    if required:
        assert "CHARTER_REQUIRE_SERVICES=1" in result.stdout
