"""Where a running Charter finds its git history: ``[charter.metrics] repo``, else the project
folder when it is a git work tree, else none (change lead time then uses recorded ``changes``)."""

from __future__ import annotations

from pathlib import Path

from charter.config import Settings
from charter.exceptions import ConfigError
from charter.metrics.git import GitError, GitHistory


def git_for(settings: Settings) -> GitHistory | None:
    configured = settings.metrics.get("repo")
    if configured:
        path = Path(str(configured))
        if not path.is_absolute():
            path = settings.project_dir / path
        try:
            return GitHistory.open(path)
        except GitError as exc:
            raise ConfigError(f"[charter.metrics] repo: {exc}") from None
    return GitHistory.discover(settings.project_dir)
