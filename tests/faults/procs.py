"""Real processes for the fault tests: a Charter server, a worker, a webhook receiver."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from charter.config import DEMO_DIR

ROOT = Path(__file__).resolve().parents[2]


def project(tmp_path: Path, toml: str = "") -> Path:
    """A copy of the demo project with ``toml`` as its charter.toml."""
    dst = tmp_path / "project"
    shutil.copytree(DEMO_DIR, dst, ignore=shutil.ignore_patterns("__pycache__", "*.py", ".charter*"))
    (dst / "charter.toml").write_text(toml or '[charter]\ncache = "memory"\n', encoding="utf-8")
    return dst


def env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "CHARTER_DATABASE_URL": database_url,
        "CHARTER_LOG_LEVEL": "WARNING",
        # A non-demo server or worker refuses the public development key (charter.config.require_secret).
        "CHARTER_SECRET_KEY": "faults-" + "k" * 32,
        "PYTHONPATH": str(ROOT),
    }


def server(project_dir: Path, database_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "charter",
        "serve",
        "-p",
        str(project_dir),
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=env(database_url), stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    kill(proc)
    raise AssertionError("server did not start in 90 s")


def spawn_worker(project_dir: Path, database_url: str, log: Path, interval: float = 0.1) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "charter", "worker", "-p", str(project_dir), "--interval", str(interval)]
    return subprocess.Popen(cmd, env=env(database_url), stdout=log.open("ab"), stderr=subprocess.STDOUT)


def wait_started(proc: subprocess.Popen[bytes], log: Path, times: int = 1) -> subprocess.Popen[bytes]:
    """Wait until the worker logged its ``times``-th start (a log may hold earlier runs)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"worker exited with {proc.returncode}: {log.read_text()[-2000:]}")
        if log.read_text(errors="replace").count("worker started") >= times:
            return proc
        time.sleep(0.1)
    kill(proc)
    raise AssertionError("worker did not start in 90 s")


def worker(project_dir: Path, database_url: str, log: Path, interval: float = 0.1) -> subprocess.Popen[bytes]:
    times = log.read_text(errors="replace").count("worker started") + 1 if log.exists() else 1
    return wait_started(spawn_worker(project_dir, database_url, log, interval), log, times)


def receiver(port: int, secret: str, fail_rate: float, log: Path, seed: int) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "tests.webhooks.receiver",
        "--port",
        str(port),
        "--secret",
        secret,
        "--fail-rate",
        str(fail_rate),
        "--seed",
        str(seed),
        "--log",
        str(log),
    ]
    proc = subprocess.Popen(cmd, env=env(""), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert b"listening" in line, line
    return proc


def kill(proc: subprocess.Popen[bytes]) -> None:
    """kill -9, and reap it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            kill(proc)
