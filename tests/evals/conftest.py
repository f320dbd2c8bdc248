"""Eval fixtures: the retrieval tests' demo project (dense off) and SQLite runtime."""

from tests.retrieval.conftest import project_dir, rt

__all__ = ["project_dir", "rt"]
