"""Node.js tools for tests that compile or run what Charter generates (tsc, node).

Packages come from the npm registry, pinned, installed once per machine into a git-ignored cache
(``test-artifacts/node/<package>@<version>``, or ``$CHARTER_TEST_NODE_CACHE``) under a file lock, so
parallel test workers install each package once. Without Node or npm the test skips with a visible
reason, and fails under ``CHARTER_REQUIRE_SERVICES=1`` like any other missing service."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

from tests.services import unavailable

CACHE = Path(
    os.environ.get("CHARTER_TEST_NODE_CACHE", Path(__file__).resolve().parent.parent / "test-artifacts" / "node")
)


def require_node() -> str:
    node = shutil.which("node")
    if node is None:
        unavailable("Node.js", "`node` not found on PATH (apt-get install nodejs npm)")
    assert node is not None
    return node


def npm_tool(package: str, version: str, binary: str) -> Path:
    """The path of ``binary`` from ``package@version``, installing it on first use."""
    require_node()
    npm = shutil.which("npm")
    if npm is None:
        unavailable("npm", "`npm` not found on PATH")
    assert npm is not None
    folder = CACHE / f"{package.replace('/', '+')}@{version}"
    exe = folder / "node_modules" / ".bin" / binary
    if exe.exists():
        return exe
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not exe.exists():
            (folder / "package.json").write_text('{"private": true}\n')
            run = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", f"{package}@{version}"],
                cwd=folder, capture_output=True, text=True, timeout=600,
            )  # fmt: skip
            if run.returncode != 0 or not exe.exists():
                unavailable(f"npm package {package}@{version}", (run.stderr or run.stdout).strip()[-500:])
    return exe


def tsc() -> Path:
    return npm_tool("typescript", "5.9.3", "tsc")


def typecheck(files: list[Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``tsc --strict --noEmit`` over ``files`` (ES2022 modules, Node resolution)."""
    args = ["--strict", "--noEmit", "--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext"]
    return subprocess.run([str(tsc()), *args, *map(str, files)], cwd=cwd, capture_output=True, text=True, timeout=300)
