"""Eval fixtures: the retrieval tests' demo project (dense off) and SQLite runtime."""

from tests.retrieval.conftest import embedder, project_dir, rt

__all__ = ["embedder", "project_dir", "rt"]
