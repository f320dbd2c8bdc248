"""A real Wagtail 8 site on loopback, for the adapter test and the delivery benchmark.

* :func:`ensure_venv` builds ``.venv-wagtail/`` at the repository root from PyPI (pinned in
  ``requirements.txt``) once; later calls only check a marker, so reruns cost nothing.
* :func:`migrated_database` runs Django's migrations once per version of the site's code and keeps
  the result next to the venv; each caller gets a copy.
* :func:`seed_from_charter` turns Charter entries (pages and pricing plans) into the site's seed
  format; :func:`seed` loads it with the site's ``seed_pages`` command.
* :func:`serve` runs gunicorn on a loopback port and stops it afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(__file__).parent / "wagtail_site"
REQUIREMENTS = Path(__file__).parent / "requirements.txt"
VENV = Path(os.environ.get("CHARTER_WAGTAIL_VENV", ROOT / ".venv-wagtail"))


class WagtailUnavailable(RuntimeError):
    """The Wagtail venv could not be built (no PyPI, no compiler...): the reason, for a skip."""


def _python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv(log: Any = None) -> Path:
    """The venv's python, building the venv first when its requirements changed (idempotent)."""
    wanted = REQUIREMENTS.read_text()
    marker = VENV / ".charter-requirements"
    if marker.exists() and marker.read_text() == wanted and _python().exists():
        return _python()
    if log:
        log(f"building {VENV} (Wagtail from PyPI; once)")
    try:
        if not _python().exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True, timeout=300)
        subprocess.run(
            [str(_python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
            check=True,
            capture_output=True,
            timeout=1200,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        stderr = getattr(exc, "stderr", b"") or b""
        raise WagtailUnavailable(f"cannot build {VENV}: {exc}; {stderr.decode(errors='replace')[-400:]}") from exc
    marker.write_text(wanted)
    return _python()


def _site_digest() -> str:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    for path in sorted(SITE.rglob("*.py")):
        digest.update(str(path.relative_to(SITE)).encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def _manage(python: Path, db: Path, *args: str, timeout: float = 600) -> str:
    env = {
        **os.environ,
        "WAGTAIL_DB": str(db),
        "DJANGO_SETTINGS_MODULE": "lumen.settings",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    result = subprocess.run(
        [str(python), "manage.py", *args], cwd=SITE, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {result.stderr[-2000:]}")
    return result.stdout


def migrated_database(python: Path, target: Path) -> Path:
    """Copy a migrated site database to ``target`` (migrating once per site version)."""
    cached = VENV / f"charter-site-{_site_digest()}.sqlite3"
    if not cached.exists():
        building = cached.with_suffix(f".{os.getpid()}.tmp")
        _manage(python, building, "migrate", "--noinput")
        building.replace(cached)
    shutil.copyfile(cached, target)
    return target


def seed_from_charter(rows: list[dict[str, Any]], registry: Any, locales: tuple[str, ...]) -> dict[str, Any]:
    """The site's seed format from Charter entries (``{"id", "type", "data"}``, pages and pricing
    plans). Each locale with values of its own becomes a Wagtail translation holding the whole
    resolved document, which is what an editor translating in Wagtail would have."""
    page_ct, plan_ct = registry.get("page"), registry.get("pricing-plan")
    chains = {code.lower(): [c.lower() for c in page_ct.locales.chain(code)] for code in locales}
    seed: dict[str, Any] = {"locales": [c.lower() for c in locales], "chains": chains, "plans": [], "pages": []}
    for row in rows:
        ct = plan_ct if row["type"] == "pricing-plan" else page_ct
        docs = {}
        for code in locales:
            if code == ct.locales.default or row["data"].get(code):
                docs[code.lower()] = ct.resolve(row["data"], code)[0]
        seed["plans" if ct is plan_ct else "pages"].append({"key": row["id"], "locales": docs})
    return seed


def seed(python: Path, db: Path, seed_data: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Create and publish the seed's pages; ``{key: {wagtail locale: page id}}``."""
    path = db.with_suffix(".seed.json")
    path.write_text(json.dumps(seed_data), encoding="utf-8")
    ids: dict[str, dict[str, int]] = json.loads(_manage(python, db, "seed_pages", str(path)).strip().splitlines()[-1])
    return ids


@contextmanager
def serve(python: Path, db: Path, port: int, workers: int = 1) -> Iterator[str]:
    """Run the site under gunicorn on 127.0.0.1:``port``; yields its base URL."""
    env = {**os.environ, "WAGTAIL_DB": str(db), "DJANGO_SETTINGS_MODULE": "lumen.settings"}
    gunicorn = python.parent / "gunicorn"
    proc = subprocess.Popen(
        [
            str(gunicorn),
            "lumen.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=SITE,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/api/v2/pages/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise RuntimeError(f"gunicorn did not start on {url}: {err[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
