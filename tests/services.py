"""Find the real services tests need (PostgreSQL, Redis, Chromium) through environment URLs.

Outside CI a missing service skips the test with a visible reason; with CHARTER_REQUIRE_SERVICES=1
(set by .ci/run) a missing service fails the test instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

POSTGRES_URL = os.environ.get("CHARTER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("CHARTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CHROMIUM = os.environ.get("CHARTER_TEST_CHROMIUM", "/usr/bin/chromium")
VARNISHD = os.environ.get("CHARTER_TEST_VARNISHD", "/usr/sbin/varnishd")
REQUIRED = os.environ.get("CHARTER_REQUIRE_SERVICES") == "1"


def unavailable(what: str, why: str) -> None:
    """Skip (locally) or fail (CI) because a service is missing."""
    message = f"{what} unavailable: {why}"
    if REQUIRED:
        pytest.fail(message + " (CHARTER_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


def _reachable(url: str, default_port: int) -> str | None:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return None
    except OSError as exc:
        return str(exc)


def require_postgres() -> str:
    why = _reachable(POSTGRES_URL, 5432)
    if why:
        unavailable("PostgreSQL", f"{POSTGRES_URL}: {why}")
    return POSTGRES_URL


def require_redis() -> str:
    why = _reachable(REDIS_URL, 6379)
    if why:
        unavailable("Redis", f"{REDIS_URL}: {why}")
    return REDIS_URL


def require_chromium() -> str:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        unavailable("Chromium", f"{CHROMIUM} not found (apt-get install chromium)")
    return CHROMIUM


def require_varnish() -> str:
    """varnishd with vmod_xkey (Debian: apt-get install varnish varnish-modules)."""
    import subprocess
    import tempfile

    if not (os.path.exists(VARNISHD) or shutil.which(VARNISHD)):
        unavailable("Varnish", f"{VARNISHD} not found (apt-get install varnish varnish-modules)")
    with tempfile.TemporaryDirectory(prefix="charter-vcl-") as folder:
        probe = Path(folder) / "probe.vcl"
        probe.write_text('vcl 4.1;\nimport xkey;\nbackend b { .host = "127.0.0.1"; .port = "9"; }\n')
        done = subprocess.run(
            [VARNISHD, "-C", "-j", "none", "-n", folder, "-f", str(probe)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    if done.returncode != 0:
        unavailable("Varnish's xkey module", f"{done.stderr.strip()[-300:]} (apt-get install varnish-modules)")
    return VARNISHD


@contextmanager
def varnishd(vcl: Path, port: int, workdir: Path) -> Iterator[str]:
    """A varnishd on 127.0.0.1:``port`` running ``vcl`` (in the foreground, unjailed, its state in
    ``workdir``); yields its base URL and stops it afterwards."""
    import subprocess

    binary = require_varnish()
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "varnishd.log"
    cmd = [binary, "-F", "-j", "none", "-a", f"127.0.0.1:{port}", "-f", str(vcl), "-n", str(workdir / "state")]
    cmd += ["-s", "malloc,64m", "-p", "default_grace=0"]
    proc = subprocess.Popen(cmd, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"varnishd exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("varnishd did not listen in 60 s") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


@contextmanager
def temporary_postgres_database(prefix: str = "charter_test", *, migrated: bool = True) -> Iterator[str]:
    """Create a fresh database on the test server, yield its URL, drop it afterwards.

    With ``migrated`` (the default) the database is a copy of a template that already has every
    migration applied (``CREATE DATABASE … TEMPLATE``), which is many times faster than migrating
    each test's database; the template is named after a digest of the migration files, so a new
    migration makes a new template."""
    import psycopg

    admin_url = require_postgres()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    template = _migrated_template(admin_url) if migrated else None
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for attempt in range(20):
            try:
                conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
                break
            except psycopg.errors.ObjectInUse:  # another process is still connected to the template
                if attempt == 19:
                    raise
                time.sleep(0.1)
    url = _database_url(admin_url, name)
    try:
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def pgvector_database() -> Iterator[tuple[str, str]]:
    """A fresh database on a PostgreSQL server that has the pgvector (``vector``) extension, as
    (url, which server). The test server's own when it offers the extension; otherwise (Debian 12
    packages no pgvector) a private PostgreSQL 16 with pgvector from the ``pgserver`` wheel of the
    test extra (PyPI; x86_64 and macOS only), started in a temporary folder on a Unix socket and
    stopped afterwards."""
    import tempfile

    import psycopg

    admin_url = require_postgres()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        offered = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone()
    if offered:
        with temporary_postgres_database("charter_pgvector") as url:
            yield url, "the test server"
        return
    with warnings.catch_warnings():  # platformdirs, on import: "XDG_RUNTIME_DIR is not set" (no login session)
        warnings.simplefilter("ignore")
        try:
            import pgserver  # type: ignore[import-untyped]
        except ImportError:
            unavailable("pgvector", "the test server has no 'vector' extension and pgserver is not installed")
    with tempfile.TemporaryDirectory(prefix="charter-pgvector-") as folder:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = pgserver.get_server(folder, cleanup_mode="stop")
        try:
            server.psql("CREATE DATABASE charter;")
            yield f"postgresql://postgres@/charter?host={folder}", "pgserver (PostgreSQL 16 with pgvector)"
        finally:
            server.cleanup()


def _database_url(admin_url: str, name: str) -> str:
    return urlunparse(urlparse(admin_url)._replace(path=f"/{name}"))


_templates: dict[str, str] = {}


def _migrated_template(admin_url: str) -> str:
    """The name of a database with every migration applied, created once per migration set (an
    advisory lock keeps concurrent test processes from building it twice)."""
    import hashlib

    import psycopg

    from charter.db.engine import MIGRATIONS, make_engine, upgrade

    digest = hashlib.sha256()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    name = f"charter_tpl_{digest.hexdigest()[:16]}"
    if name in _templates:
        return name
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(727274)")
        try:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                building = f"{name}_building_{uuid.uuid4().hex[:6]}"
                conn.execute(f'CREATE DATABASE "{building}"')
                engine = make_engine(_database_url(admin_url, building))
                try:
                    upgrade(engine, "heads")
                finally:
                    engine.dispose()
                conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
                conn.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true')
        finally:
            conn.execute("SELECT pg_advisory_unlock(727274)")
    _templates[name] = name
    return name


def free_port() -> int:
    """A free TCP port on loopback below 32768 (the ephemeral range starts above it)."""
    import random

    for _ in range(200):
        port = random.randint(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port found")


#: An S3-compatible endpoint to test against; unset: a moto_server started on loopback per test.
S3_URL = os.environ.get("CHARTER_TEST_S3_URL", "")


@contextmanager
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible endpoint: ``CHARTER_TEST_S3_URL`` when set, else ``moto_server``
    (``pip install 'moto[server]'``, in the test extra) on a free loopback port for the test."""
    import subprocess
    import sys
    from pathlib import Path

    try:
        import boto3  # noqa: F401
    except ImportError:
        unavailable("S3", "boto3 is not installed (pip install 'charter[s3]')")
    if S3_URL:
        why = _reachable(S3_URL, 80)
        if why:
            unavailable("S3", f"{S3_URL}: {why}")
        yield S3_URL
        return
    beside = Path(sys.executable).parent / "moto_server"
    server = str(beside) if beside.exists() else shutil.which("moto_server")
    if server is None:
        unavailable("S3", "moto_server not found (pip install 'moto[server]')")
    port = free_port()
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while _reachable(url, port) is not None:
            if proc.poll() is not None or time.monotonic() > deadline:
                unavailable("S3", f"moto_server did not start on {url}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
