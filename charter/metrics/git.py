"""Commit times from a real git repository, for DORA's change lead time.

Reads with the ``git`` binary (``git log --stdin``), so any repository git can read works:
shallow clones included, as long as the deployed commits are present. Only commit ids and
committer times leave git; nothing is written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from charter.exceptions import BadRequest


class GitError(BadRequest):
    type_slug = "git"
    title = "Git history unavailable"


@dataclass
class GitHistory:
    """One repository. Lookups are cached for the life of the object (one report)."""

    repo: Path
    _known: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def open(cls, repo: Path) -> GitHistory:
        """Raises :class:`GitError` when git is missing or ``repo`` is not a work tree."""
        if shutil.which("git") is None:
            raise GitError("git is not installed: change lead time needs the repository's history")
        if not repo.is_dir():
            raise GitError(f"{repo}: no such folder")
        out = _run(repo, ["rev-parse", "--is-inside-work-tree"], check=False)
        if out is None or out.strip() != "true":
            raise GitError(f"{repo} is not a git repository")
        return cls(repo)

    @classmethod
    def discover(cls, repo: Path) -> GitHistory | None:
        """Like :meth:`open`, but None when ``repo`` is not a git work tree."""
        try:
            return cls.open(repo)
        except GitError:
            return None

    def resolve(self, commit: str) -> str | None:
        """The full id of ``commit``, or None when the repository does not have it."""
        if commit not in self._known:
            self.preload([commit])
        return self._known[commit]

    def preload(self, commits: list[str]) -> None:
        todo = [c for c in dict.fromkeys(commits) if c not in self._known]
        if not todo:
            return
        out = (
            _run(
                self.repo,
                ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
                stdin="".join(f"{c}^{{commit}}\n" for c in todo),
            )
            or ""
        )
        for commit, line in zip(todo, out.splitlines(), strict=False):
            parts = line.split()
            self._known[commit] = parts[0] if len(parts) == 2 and parts[1] == "commit" else None
        for commit in todo:
            self._known.setdefault(commit, None)

    def first_deployed(self, head: str, earlier: list[str]) -> list[tuple[str, datetime]]:
        """Commits reachable from ``head`` and from none of ``earlier`` (the commits already in
        production), each with its committer time. ``head`` must resolve (see :meth:`resolve`)."""
        full = self.resolve(head)
        if full is None:
            raise GitError(f"commit {head} is not in {self.repo}")
        self.preload(earlier)
        excluded = [f"^{self._known[c]}" for c in earlier if self._known.get(c)]
        out = _run(self.repo, ["log", "--format=%H %ct", "--stdin"], stdin="\n".join([full, *excluded]) + "\n") or ""
        commits = []
        for line in out.splitlines():
            sha, _, ts = line.partition(" ")
            if sha and ts.strip().lstrip("-").isdigit():
                commits.append((sha, datetime.fromtimestamp(int(ts), UTC)))
        return commits

    def commit_time(self, commit: str) -> datetime | None:
        full = self.resolve(commit)
        if full is None:
            return None
        out = _run(self.repo, ["log", "-1", "--format=%ct", full]) or ""
        return datetime.fromtimestamp(int(out.strip()), UTC) if out.strip() else None


def _run(repo: Path, args: list[str], stdin: str | None = None, check: bool = True) -> str | None:
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        if check:
            raise GitError(f"git {args[0]} failed in {repo}: {exc}") from None
        return None
    if proc.returncode != 0:
        if check:
            raise GitError(f"git {args[0]} failed in {repo}: {proc.stderr.strip() or proc.returncode}")
        return None
    return proc.stdout
