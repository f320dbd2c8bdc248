"""Sources benchmark: ``GET /v1/pages/{slug}`` through each content source, cached and uncached, with
each vendor's own REST API serving the same pages in the same run (wrk on loopback).

The demo's published pages (home, pricing, about) in every locale (none, en, de-DE, de-AT: 12 paths)
are seeded into a real Wagtail 8, Directus 11 and Strapi 5 (SQLite, started on loopback as the
tests start them). Targets, one server process each:

* ``<source> cached``    ``charter serve`` delivering from the source, in-process response cache
* ``<source> uncached``  the same with ``cache = "off"``: every request reads the vendor and renders
* ``<vendor> REST``      the vendor's own API for the same pages: Directus ``/items/<collection>``
                         with a slug and locale filter, Strapi ``/api/pages`` with ``filters`` and
                         ``locale``, Wagtail ``/api/v2/pages/?type=…&slug=…&locale=…``
* ``embedded cached`` / ``embedded uncached``: Charter's own store, for reference

Each round runs every target once (interleaved); the medians of ``--rounds`` rounds are written
to BENCHMARKS.md between ``<!-- bench:sources -->`` markers with the command and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.delivery.bench import LATENCY, WRK_LINE, cpu_seconds, process, write_section  # noqa: E402
from charter.config import DEMO_DIR  # noqa: E402
from charter.schemas.registry import Registry  # noqa: E402
from tests.delivery_sources.conftest import LOCALES, WAGTAIL_TYPES, demo_rows  # noqa: E402
from tests.delivery_wagtail import site  # noqa: E402
from tests.services import free_port  # noqa: E402
from tests.vendors import directus, strapi  # noqa: E402

HERE = Path(__file__).parent
WORK = HERE / "work"
SLUGS = ("home", "pricing", "about")


def charter_paths() -> list[str]:
    return [f"/v1/pages/{s}" + (f"?locale={loc}" if loc else "") for s in SLUGS for loc in (None, *LOCALES)]


def project(name: str, source: str, scalars: dict[str, Any], tables: dict[str, Any]) -> Path:
    """A copy of the demo project that delivers from ``source`` (``scalars`` go into ``[charter]``,
    ``tables`` become ``[charter.<key>...]`` tables)."""
    folder = WORK / f"project-{name}"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(DEMO_DIR, folder, ignore=shutil.ignore_patterns("__pycache__", "*.py", ".charter*"))
    toml = (folder / "charter.toml").read_text()
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in {"source": source, **scalars}.items())
    toml = toml.replace("[charter]\n", "[charter]\n" + extra, 1) + "\n" + _toml(tables)
    (folder / "charter.toml").write_text(toml)
    tomllib.loads(toml)  # a bad table fails here, not in the server
    return folder


def _toml(tables: dict[str, Any], prefix: str = "charter") -> str:
    """Nested dicts as TOML tables (strings, numbers and dicts of them only)."""
    lines: list[str] = []
    scalars = {k: v for k, v in tables.items() if not isinstance(v, dict)}
    nested = {k: v for k, v in tables.items() if isinstance(v, dict)}
    if scalars:
        lines.append(f"[{prefix}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in scalars.items()]
    for key, value in nested.items():
        quoted = key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)
        lines.append(_toml(value, f"{prefix}.{quoted}"))
    return "\n".join(lines) + "\n"


def charter(folder: Path, port: int, cache: str) -> Any:
    env = {
        "CHARTER_CACHE": cache,
        "CHARTER_WORKER": "false",
        "CHARTER_SECRET_KEY": "bench-" + "k" * 32,
        "CHARTER_DATABASE_URL": f"sqlite:///{folder / 'charter.db'}",
    }
    args = [str(ROOT / ".venv" / "bin" / "charter"), "serve", "--project", str(folder), "--port", str(port)]
    # /healthz, not /readyz: readiness waits for retrieval's embedding model, which this benchmark never uses.
    return process([*args, "--log-level", "warning"], env=env, ready=f"http://127.0.0.1:{port}/healthz")


@contextmanager
def vendors(stack: ExitStack) -> Iterator[dict[str, Any]]:
    """Start and seed Wagtail, Directus and Strapi; per vendor: its Charter options and REST targets."""
    rows, registry = demo_rows(), Registry.load(DEMO_DIR / "content-types")
    found: dict[str, Any] = {}
    python = site.ensure_venv(print)
    db = site.migrated_database(python, WORK / "wagtail.sqlite3")
    site.seed(python, db, site.seed_from_charter(rows, registry, LOCALES))
    wagtail_url = stack.enter_context(site.serve(python, db, free_port()))
    found["wagtail"] = {
        "source": "wagtail",
        "scalars": {"wagtail_url": wagtail_url},
        "tables": {"wagtail": WAGTAIL_TYPES},
        "rest": (
            wagtail_url,
            [
                f"/api/v2/pages/?type=intents.IntentPage&fields=*&slug={s}&locale={loc.lower()}"
                for s in SLUGS
                for loc in LOCALES
            ],
            {},
        ),
    }
    d = stack.enter_context(directus.serve(WORK / "directus", free_port(), log=print))
    directus.seed_demo(d, rows, registry, LOCALES)
    found["directus"] = {
        "source": "directus",
        "scalars": {},
        "tables": {"sources": {"directus": {"url": d.url, "token": d.token, "types": directus.TYPES}}},
        "rest": (
            d.url,
            [f"/items/charter_pages?filter[slug][_eq]={s}&filter[locale][_eq]={loc}" for s in SLUGS for loc in LOCALES],
            {"Authorization": f"Bearer {d.token}"},
        ),
    }
    s_ = stack.enter_context(strapi.serve(WORK / "strapi", free_port(), log=print))
    strapi.seed_demo(s_, rows, registry, LOCALES)
    found["strapi"] = {
        "source": "strapi",
        "scalars": {},
        "tables": {"sources": {"strapi": {"url": s_.url, "token": s_.token, "types": strapi.TYPES}}},
        "rest": (
            s_.url,
            [f"/api/pages?filters[slug][$eq]={s}&locale={loc}" for s in SLUGS for loc in LOCALES],
            {"Authorization": f"Bearer {s_.token}"},
        ),
    }
    yield found


def run_wrk(
    url: str, paths: list[str], headers: dict[str, str], args: argparse.Namespace, pid: int
) -> dict[str, float]:
    """wrk cycling through ``paths`` (``requests.lua``, which also sends ``headers``); pid: the server's, for CPU."""
    paths_file = WORK / "paths.txt"
    paths_file.write_text("\n".join(paths) + "\n", encoding="utf-8")
    env = {**os.environ, "WRK_PATHS": str(paths_file), "WRK_HEADERS": json.dumps(headers)}
    cpu_before = cpu_seconds(pid) if pid else 0.0
    command = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", "--latency"]
    result = subprocess.run(
        [*command, "-s", str(HERE / "requests.lua"), url], env=env, capture_output=True, text=True, check=True
    )
    out = result.stdout
    rps = WRK_LINE.search(out)
    if rps is None:
        raise RuntimeError(f"cannot read wrk output:\n{out}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    latency = {f"p{m.group(1)}_ms": float(m.group(2)) * scale[m.group(3)] for m in LATENCY.finditer(out)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = re.search(r"(\d+) requests in", out)
    cpu_us = (cpu_seconds(pid) - cpu_before) * 1e6 / int(requests.group(1)) if pid and requests else 0.0
    return {
        "rps": float(rps.group(1)),
        **latency,
        "non_2xx": float(errors.group(1)) if errors else 0.0,
        "cpu_us": cpu_us,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    results: dict[str, list[dict[str, float]]] = {}
    loads: list[float] = []
    missed: list[str] = []
    with ExitStack() as stack, vendors(stack) as found:
        folders = {"embedded": project("embedded", "embedded", {}, {})}
        _import_demo(folders["embedded"])
        for name, vendor in found.items():
            folders[name] = project(name, vendor["source"], vendor["scalars"], vendor["tables"])
        paths = charter_paths()
        for round_no in range(args.rounds):
            for name, folder in folders.items():
                for cache in ("memory", "off"):
                    port = free_port()
                    label = f"{name} {'cached' if cache == 'memory' else 'uncached'}"
                    try:
                        with charter(folder, port, cache) as proc:
                            url = f"http://127.0.0.1:{port}"
                            _warm(url, paths, {})
                            results.setdefault(label, []).append(run_wrk(url, paths, {}, args, proc.pid))
                            print(round_no, label, results[label][-1], flush=True)
                    except (RuntimeError, httpx.HTTPError) as exc:  # a start that timed out on a loaded machine
                        missed.append(f"round {round_no + 1}: {label} ({exc})")
                        print(round_no, label, "MISSED", exc, flush=True)
                if name in found:
                    url, rest_paths, headers = found[name]["rest"]
                    _warm(url, rest_paths, headers)
                    label = f"{name} REST"
                    results.setdefault(label, []).append(run_wrk(url, rest_paths, headers, args, 0))
                    print(round_no, label, results[label][-1], flush=True)
            loads.append(os.getloadavg()[0])
    report = {
        "medians": {k: {m: statistics.median(r[m] for r in v) for m in v[0]} for k, v in results.items()},
        "rounds": args.rounds,
        "seconds": args.seconds,
        "connections": args.connections,
        "load": os.getloadavg(),
        "round_loads": loads,
        "missed": missed,
    }
    (WORK / "latest.json").write_text(json.dumps(report, indent=2))
    section = render(report, args)
    print(section)
    if not args.no_write:
        write_section(section, "sources")


def _import_demo(folder: Path) -> None:
    """The demo's content in the embedded project's database (``charter content import``)."""
    env = {**os.environ, "CHARTER_DATABASE_URL": f"sqlite:///{folder / 'charter.db'}", "CHARTER_WORKER": "false"}
    command = [
        str(ROOT / ".venv" / "bin" / "charter"),
        "content",
        "import",
        str(DEMO_DIR / "content" / "entries.jsonl"),
    ]
    subprocess.run([*command, "--project", str(folder)], env=env, check=True, capture_output=True, timeout=600)


def _warm(url: str, paths: list[str], headers: dict[str, str]) -> None:
    with httpx.Client(base_url=url, timeout=60, headers=headers) as client:
        for path in paths:
            client.get(path).raise_for_status()


def render(report: dict[str, Any], args: argparse.Namespace) -> str:
    m = report["medians"]
    load = report["load"]
    lines = [
        "## Content sources (`bench/sources/`)",
        "",
        f"`GET /v1/pages/{{slug}}` over the demo's 3 pages in 4 locale variants (12 paths) through each content "
        f"source, against the vendor's own REST API serving the same pages in the same run; wrk on loopback, "
        f"1 thread, {report['connections']} connections, {report['seconds']} s per target, medians of "
        f"{report['rounds']} interleaved rounds. Produced by `bench/sources/run --rounds {args.rounds} "
        f"--seconds {args.seconds} --connections {args.connections}`. Vendors on SQLite, one process each "
        "(Directus 11.3.5, Strapi 5.54.0 on Node 20, Wagtail 8 on gunicorn with 1 sync worker).",
        "",
        f"Load average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) on 2 cores; "
        f"1-minute load after each round: {' / '.join(f'{x:.1f}' for x in report['round_loads'])}. "
        "Read ratios within a row group, not absolute figures.",
        "",
        "| source | Charter cached req/s | p50 ms | Charter uncached req/s | p50 ms | vendor REST req/s | p50 ms | "
        "cached ÷ vendor | uncached ÷ vendor |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in ("embedded", "wagtail", "directus", "strapi"):
        c, u, r = m.get(f"{name} cached"), m.get(f"{name} uncached"), m.get(f"{name} REST")
        if not c or not u:
            continue
        rest = f"{r['rps']:.0f} | {r['p50_ms']:.2f}" if r else "– | –"
        ratio_c = f"{c['rps'] / r['rps']:.1f}×" if r and r["rps"] else "–"
        ratio_u = f"{u['rps'] / r['rps']:.2f}×" if r and r["rps"] else "–"
        lines.append(
            f"| {name} | {c['rps']:.0f} | {c['p50_ms']:.2f} | {u['rps']:.0f} | {u['p50_ms']:.2f} | {rest} | "
            f"{ratio_c} | {ratio_u} |"
        )
    if report.get("missed"):
        lines += ["", "Not measured (the server did not start in 120 s): " + "; ".join(report["missed"]) + "."]
    lines += [
        "",
        "Uncached, Charter makes several vendor requests per page (the page, its translations in the "
        "fallback chain, each referenced plan and its translations) and validates the result, so it is "
        "slower than one vendor call; cached, it serves the stored bytes without calling the vendor.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
