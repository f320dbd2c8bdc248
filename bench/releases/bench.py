"""Publish 100 entries as one release vs one by one (see README.md)."""

from __future__ import annotations

import os
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from charter.auth.roles import SYSTEM, Actor, Role
from charter.config import DEMO_DIR, load_settings
from charter.content.actions import create_entry, publish_entry
from charter.content.actions.approve import approve_release
from charter.content.actions.release import ItemSpec, create_release, submit_release
from charter.content.actions.release_publish import publish_release
from charter.runtime import Runtime

N = 100
RUNS = 5
ROOT = Path(__file__).resolve().parents[2]


def plan(slug: str, price: int) -> dict[str, object]:
    return {
        "en": {"id": slug, "name": slug, "price": price, "currency": "EUR", "features": ["x"]},
        "de-DE": {"name": slug, "features": ["x"]},
    }


def release_run(rt: Runtime, tag: str) -> float:
    ed, a, b = Actor("ed", Role.EDITOR), Actor("a", Role.PUBLISHER), Actor("b", Role.PUBLISHER)
    items = [ItemSpec("create", type="pricing-plan", data=plan(f"r{tag}-{i}", i)) for i in range(N)]
    rel = create_release(rt, ed, "bench", items=items)
    submit_release(rt, ed, rel.id)
    approve_release(rt, a, rel.id)
    approve_release(rt, b, rel.id)
    start = time.perf_counter()
    publish_release(rt, a, rel.id)
    return time.perf_counter() - start


def peer_run(rt: Runtime, tag: str) -> float:
    start = time.perf_counter()
    for i in range(N):
        entry = create_entry(rt, SYSTEM, "pricing-plan", plan(f"p{tag}-{i}", i))
        publish_entry(rt, SYSTEM, entry.id)
    return time.perf_counter() - start


def measure(url: str, project: Path) -> tuple[float, float]:
    rt = Runtime.open(load_settings(project, database_url=url, worker=False, log_level="ERROR"))
    try:
        rel, peer = [], []
        for run in range(RUNS):
            rel.append(release_run(rt, f"{run}"))
            peer.append(peer_run(rt, f"{run}"))
        return statistics.median(rel), statistics.median(peer)
    finally:
        rt.close()


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    project = tmp / "project"
    shutil.copytree(DEMO_DIR, project, ignore=shutil.ignore_patterns("__pycache__", "*.py", ".charter*"))
    rows = [("SQLite (embedded)", *measure(f"sqlite:///{tmp / 'bench.db'}", project))]
    pg = os.environ.get("CHARTER_BENCH_POSTGRES_URL")
    if pg:
        rows.append(("PostgreSQL", *measure(pg, project)))
    shutil.rmtree(tmp, ignore_errors=True)
    lines = [
        "<!-- bench:releases -->",
        "## Release publish (`bench/releases/`)",
        "",
        f"Putting {N} new pricing plans live; median of {RUNS} runs, same process, same database.",
        "",
        "| database | one release (atomic) | peer: one by one | release / peer |",
        "| --- | --- | --- | --- |",
    ]
    for name, rel, peer in rows:
        lines.append(f"| {name} | {rel * 1000:.0f} ms | {peer * 1000:.0f} ms | {rel / peer:.2f} |")
    lines += ["", "Produced by `bench/releases/run`.", "<!-- /bench:releases -->"]
    section = "\n".join(lines)
    print(section)
    bench = ROOT / "BENCHMARKS.md"
    text = bench.read_text(encoding="utf-8")
    pattern = re.compile(r"<!-- bench:releases -->.*?<!-- /bench:releases -->", re.S)
    text = pattern.sub(section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
    bench.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
