from __future__ import annotations

from pathlib import Path

import pytest

from charter.runtime import Runtime
from tests.metrics.history import GitRepo, build_repo, record_history


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return build_repo(tmp_path / "repo")


@pytest.fixture
def history(runtime: Runtime, repo: GitRepo) -> GitRepo:
    record_history(runtime, repo)
    return repo


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite here; test_report.py runs the known history on PostgreSQL too."""
    return f"sqlite:///{tmp_path / 'charter.db'}"
