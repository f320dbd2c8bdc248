"""Other CMSs for the content-source tests and the delivery benchmark, from the npm registry.

Each vendor is a pinned npm project under ``tests/vendors/<name>/`` (``package.json`` and
``package-lock.json``). :func:`ensure` installs it once per machine with ``npm ci`` into
``$CHARTER_VENDOR_CACHE/<name>-<version>`` (default ``~/.cache/charter-vendors``), outside the
repository, under a file lock; a later call only compares the lock file. Native modules (SQLite
drivers) are compiled from source when no prebuilt binary can be fetched, which needs a C++
toolchain; that is why the first install takes minutes.

``python -m tests.vendors install [NAME ...]`` is what ``make install-test`` runs; a vendor that
cannot be installed prints why and its tests skip (or fail under ``CHARTER_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
CACHE = Path(os.environ.get("CHARTER_VENDOR_CACHE", Path.home() / ".cache" / "charter-vendors"))
VENDORS = ("directus", "strapi")


class VendorUnavailable(RuntimeError):
    """A vendor CMS could not be installed (no Node, no registry, a failed native build): why."""


def folder(name: str) -> Path:
    spec = json.loads((HERE / name / "package.json").read_text())
    version = spec["dependencies"][spec["charter"]["package"]]
    return CACHE / f"{name}-{version}"


def ensure(name: str, log: object = None) -> Path:
    """The installed project folder of vendor ``name`` (installing it first when needed)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise VendorUnavailable("`node` and `npm` are needed (apt-get install nodejs npm)")
    source = HERE / name
    target = folder(name)
    lock = (source / "package-lock.json").read_bytes()
    marker = target / ".charter-installed"
    if marker.exists() and marker.read_bytes() == lock:
        _sync_project(source, target)
        return target
    target.mkdir(parents=True, exist_ok=True)
    with (target / ".lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if marker.exists() and marker.read_bytes() == lock:
            return target
        for file in ("package.json", "package-lock.json"):
            shutil.copyfile(source / file, target / file)
        if callable(log):
            log(f"installing {name} into {target} (npm ci; the first install takes minutes)")
        started = time.monotonic()
        run = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=target, capture_output=True, text=True, timeout=3600,
        )  # fmt: skip
        if run.returncode != 0:
            raise VendorUnavailable(f"npm ci for {name} failed: {(run.stderr or run.stdout).strip()[-800:]}")
        marker.write_bytes(lock)
        if callable(log):
            log(f"installed {name} in {time.monotonic() - started:.0f} s")
    _sync_project(source, target)
    return target


def _sync_project(source: Path, target: Path) -> None:
    """The vendor project's own files (configuration, content-type definitions) beside its modules."""
    for path in source.iterdir():
        if path.is_dir() and path.name != "node_modules":
            shutil.copytree(path, target / path.name, dirs_exist_ok=True)


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "install":
        print("usage: python -m tests.vendors install [NAME ...]", file=sys.stderr)
        return 2
    for name in argv[1:] or VENDORS:
        try:
            print(f"{name}: ready in {ensure(name, log=print)}")
        except (VendorUnavailable, subprocess.TimeoutExpired, OSError) as exc:
            print(f"{name} could not be installed ({exc}); its tests will skip")
    return 0
