"""Delivery benchmark: GET /v1/pages/{slug} over 1,000 published ~2 KB pages, with wrk on loopback.

Targets measured in the same run, one server process each (the machine has 2 cores; wrk takes one):

* ``charter-cached``     Charter, in-process response cache, tracing on (ratio 1.0), on the default
                         server of ``charter serve`` (granian, RSGI interface)
* ``charter-cached-asgi``  the same on granian's ASGI interface (``--interface asgi``)
* ``charter-cached-uvicorn``  the same on uvicorn (``--server uvicorn``: uvloop, httptools, corked writes)
* ``varnish``            Varnish (the VCL of ``charter edge varnish``) in front of ``charter-cached``
* ``charter-cached-notrace``  the same with tracing off (ratio 0): the tracing overhead
* ``charter-uncached``   Charter with ``cache = "off"``: every request reads SQLite and renders
* ``nginx``              nginx serving the same JSON bytes as static files
* ``wagtail``            Wagtail 8's API v2 (gunicorn, one sync worker) serving the same pages

``--otlp`` measures instead what exporting spans to a collector costs a cached hit: Charter with
OTLP/HTTP export on (batched, ``parentbased_traceidratio`` at 10 %) to a receiver process
(``charter.observability.receiver``) against tracing off, server CPU per request under wrk and
CPU per request inside the app, written to the ``<!-- bench:delivery-otlp -->`` section.

Each round runs every target once (interleaved, so machine noise hits all alike); the medians of
``--rounds`` rounds are written to BENCHMARKS.md between ``<!-- bench:delivery -->`` markers.
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
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from charter.config import DEMO_DIR  # noqa: E402
from tests.delivery_wagtail import site  # noqa: E402
from tests.services import free_port  # noqa: E402

HERE = Path(__file__).parent
WORK = HERE / "work"
RESULTS = HERE / "results"
PAGES = 1000
NAMESPACE = uuid.UUID("6f1c2d4e-0000-4000-8000-00000000be9c")


def page_rows(n: int) -> list[dict[str, Any]]:
    """``n`` published pages whose delivery envelope is about 2 KB, deterministic."""
    rows = []
    for i in range(n):
        slug = f"guide-{i:04d}"
        features = [
            {
                "title": f"Feature {j} of guide {i}",
                "body": f"Explains step {j} of the workflow for team {i % 17} in detail.",
            }
            for j in range(6)
        ]
        doc = {
            "slug": slug,
            "title": f"Guide {i}: getting more from your dashboards",
            "description": "A practical guide with the steps, the pitfalls and the questions teams ask most.",
            "sections": [
                {
                    "intent": "hero",
                    "title": f"Guide number {i}",
                    "subtitle": "Everything you need, nothing you do not.",
                    "cta": {"label": "Start free", "href": "/signup"},
                },
                {"intent": "feature-grid", "title": "What you get", "features": features},
                {
                    "intent": "faq",
                    "items": [
                        {
                            "question": f"Does guide {i} apply to the free plan?",
                            "answer": "Yes, every step works on every plan.",
                        },
                        {"question": "How long does it take?", "answer": "About twenty minutes for a team of five."},
                    ],
                },
                {"intent": "rich-text", "body": "Lumen keeps your data in the EU and never sells it. " * 4},
            ],
        }
        rows.append(
            {"id": str(uuid.uuid5(NAMESPACE, slug)), "type": "page", "status": "published", "data": {"en": doc}}
        )
    return rows


def charter_project(rows: list[dict[str, Any]]) -> Path:
    """A project folder with the demo's content types and a SQLite store holding ``rows``."""
    from charter.auth.roles import SYSTEM
    from charter.config import load_settings
    from charter.content.transfer import import_entries
    from charter.runtime import Runtime

    project = WORK / "project"
    marker = project / ".charter" / f"pages-{_digest(rows)}"
    if marker.exists():
        return project
    shutil.rmtree(project, ignore_errors=True)
    (project / "content-types").mkdir(parents=True)
    for path in (DEMO_DIR / "content-types").glob("*.schema.json"):
        shutil.copy(path, project / "content-types" / path.name)
    (project / "charter.toml").write_text("[charter]\n", encoding="utf-8")
    rt = Runtime.open(load_settings(project, worker=False, log_level="WARNING"))
    try:
        import_entries(rt, SYSTEM, list(enumerate(rows, 1)))
    finally:
        rt.close()
    marker.write_text("ok")
    return project


def _digest(rows: list[dict[str, Any]]) -> str:
    """Names the cached stores after the content, so changed pages are never measured stale."""
    import hashlib

    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:12]


@contextmanager
def process(
    args: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None, ready: str
) -> Iterator[None]:
    proc = subprocess.Popen(
        args, env={**os.environ, **(env or {})}, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(ready, timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{args[0]} did not come up ({ready})")
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def charter_server(
    project: Path,
    port: int,
    *,
    cache: str,
    trace_ratio: float,
    otlp: dict[str, str] | None = None,
    server: str = "granian",
    interface: str | None = None,
) -> Any:
    env = {
        "CHARTER_CACHE": cache,
        "CHARTER_TRACE_SAMPLE_RATIO": str(trace_ratio),
        "CHARTER_WORKER": "false",
        "CHARTER_SECRET_KEY": "bench-" + "k" * 32,  # a non-demo server refuses the development key
        **(otlp or {}),
    }
    args = [str(ROOT / ".venv" / "bin" / "charter"), "serve", "--project", str(project), "--port", str(port)]
    args += ["--server", server, "--log-level", "warning"]
    if interface:
        args += ["--interface", interface]
    return process(args, env=env, ready=f"http://127.0.0.1:{port}/readyz")


@contextmanager
def varnish_server(project: Path, origin_port: int, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """varnishd (the VCL ``charter edge varnish`` writes) in front of a cached Charter; yields
    varnishd (its CPU is the row's: the origin is idle once Varnish holds every page)."""
    from charter.edge.vcl import Backend, render

    folder = WORK / "varnish"
    folder.mkdir(parents=True, exist_ok=True)
    vcl = folder / "charter.vcl"
    vcl.write_text(render([Backend("127.0.0.1", origin_port)], "bench-purge-secret-" + "s" * 24), encoding="utf-8")
    varnishd = shutil.which("varnishd") or "/usr/sbin/varnishd"
    args = [varnishd, "-F", "-j", "none", "-a", f"127.0.0.1:{port}", "-f", str(vcl), "-n", str(folder / "state")]
    args += ["-s", "malloc,256m", *os.environ.get("CHARTER_BENCH_VARNISHD_ARGS", "").split()]
    with (
        charter_server(project, origin_port, cache="memory", trace_ratio=1.0),
        process(args, ready=f"http://127.0.0.1:{port}/healthz") as proc,
    ):
        yield proc


def nginx_server(static: Path, port: int) -> Any:
    prefix = WORK / "nginx"
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"""worker_processes 1;
error_log {prefix}/logs/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  types {{ application/json json; }}
  server {{
    listen 127.0.0.1:{port};
    root {static};
    location /v1/pages/ {{ default_type application/json; try_files $uri.json =404; etag on; }}
  }}
}}
""",
        encoding="utf-8",
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return process(
        [nginx, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
        ready=f"http://127.0.0.1:{port}/v1/pages/guide-0000",
    )


def wagtail_server(rows: list[dict[str, Any]], port: int) -> tuple[Any, list[str]]:
    """gunicorn serving the Wagtail site seeded with ``rows`` (seeded once, cached in work/)."""
    from charter.schemas.registry import Registry

    python = site.ensure_venv(print)
    db = WORK / f"wagtail-{_digest(rows)}.sqlite3"
    ids_file = db.with_suffix(".ids.json")
    if not (db.exists() and ids_file.exists()):
        building = db.with_suffix(".building")
        site.migrated_database(python, building)
        seed = site.seed_from_charter(rows, Registry.load(DEMO_DIR / "content-types"), ("en",))
        ids = site.seed(python, building, seed)
        ids_file.write_text(json.dumps(ids))
        building.replace(db)
    ids = json.loads(ids_file.read_text())
    paths = [f"/api/v2/pages/{ids[row['id']]['en']}/" for row in rows]
    return (lambda: site.serve(python, db, port)), paths


#: OTLP export as the issue sets it: batched, parent-based 10 % sampling.
def otlp_env(endpoint: str) -> dict[str, str]:
    return {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.1",
    }


@contextmanager
def otlp_receiver() -> Iterator[str]:
    """A receiver process (charter.observability.receiver) on a free port; yields its endpoint."""
    port = free_port()
    args = [sys.executable, "-m", "charter.observability.receiver", "--http-port", str(port), "--grpc-port", "-1"]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # "listening ..."
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def received_spans(endpoint: str) -> int:
    return len(httpx.get(endpoint + "/received", timeout=10).json()["spans"])


def in_process_otlp(project: Path, paths: list[str], endpoint: str, batch: int = 5000) -> dict[str, float]:
    """CPU µs per cached hit inside the app (process time of every thread, so the batch exporter's
    thread counts too), tracing off against OTLP export at 10 %, alternated, best of 5 each."""
    import asyncio
    import gc

    from charter.app import create_app
    from charter.config import load_settings

    scope, receive, send = _asgi()
    apps = {
        "notrace_us": create_app(load_settings(project, worker=False, log_level="WARNING", trace_sample_ratio=0.0)),
        "otlp_us": create_app(
            load_settings(
                project,
                worker=False,
                log_level="WARNING",
                trace_exporter="otlp",
                telemetry={"endpoint": endpoint, "traces_sampler_arg": 0.1, "schedule_delay_ms": 200},
            )
        ),
    }

    async def run() -> dict[str, float]:
        for app in apps.values():
            for path in paths:
                await app(scope(path), receive, send)
        # As ``charter serve`` does once the app is built: start-up's objects leave the cyclic
        # collector's full passes (spans waiting in the export queue would otherwise trigger passes
        # over the whole start-up heap that a server never makes).
        gc.collect()
        gc.freeze()
        best = {name: float("inf") for name in apps}
        for _ in range(5):
            for name, app in apps.items():
                started = time.process_time()
                for i in range(batch):
                    await app(scope(paths[i % len(paths)]), receive, send)
                if name == "otlp_us":
                    app.state.runtime.telemetry.provider.force_flush()  # the export's CPU is counted
                best[name] = min(best[name], (time.process_time() - started) / batch * 1e6)
        return best

    try:
        return asyncio.run(run())
    finally:
        for app in apps.values():
            app.state.runtime.close()


def _asgi() -> tuple[Any, Any, Any]:
    def scope(path: str) -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"127.0.0.1"), (b"user-agent", b"bench")],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    return scope, receive, send


def otlp_overhead(args: argparse.Namespace, project: Path, paths: list[str]) -> None:
    """``--otlp``: tracing off against OTLP export on (10 %), interleaved rounds, plus in-app CPU."""
    ports = {"notrace": free_port(), "otlp": free_port()}
    with otlp_receiver() as endpoint:
        targets = {
            "charter-cached-notrace": (
                lambda: charter_server(project, ports["notrace"], cache="memory", trace_ratio=0.0),
                f"http://127.0.0.1:{ports['notrace']}",
            ),
            "charter-cached-otlp": (
                lambda: charter_server(
                    project, ports["otlp"], cache="memory", trace_ratio=1.0, otlp=otlp_env(endpoint)
                ),
                f"http://127.0.0.1:{ports['otlp']}",
            ),
        }
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        for round_no in range(1, args.rounds + 1):
            for name, (server, url) in targets.items():
                with server() as proc:
                    warm(url, paths, everything=True)
                    result = wrk(url, paths, seconds=args.seconds, connections=args.connections, pid=proc.pid)
                result["load1"] = os.getloadavg()[0]
                runs[name].append(result)
                print(
                    f"round {round_no} {name:24} {result['rps']:9.0f} req/s  CPU {result['server_cpu_us']:6.1f} µs/req"
                    f"  p99 {result.get('p99_ms', 0):7.2f} ms  load {result['load1']:.1f}",
                    flush=True,
                )
        spans = received_spans(endpoint)
        in_app = in_process_otlp(project, paths, endpoint)
    medians = {
        name: {key: statistics.median(r[key] for r in results) for key in results[0]} for name, results in runs.items()
    }
    report = {
        "command": f"bench/delivery/run --otlp --rounds {args.rounds} --seconds {args.seconds} "
        f"--connections {args.connections}",
        "medians": medians,
        "runs": runs,
        "in_process": in_app,
        "spans_received": spans,
        "load_average": os.getloadavg()[1],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "otlp.json").write_text(json.dumps(report, indent=2))
    section = render_otlp(report)
    print(section)
    if not args.no_write:
        write_section(section, "delivery-otlp")


def render_otlp(report: dict[str, Any]) -> str:
    m = report["medians"]
    off, otlp = m["charter-cached-notrace"], m["charter-cached-otlp"]
    cpu = report["in_process"]
    server_cost = otlp["server_cpu_us"] / off["server_cpu_us"] - 1
    app_cost = cpu["otlp_us"] / cpu["notrace_us"] - 1
    rounds = len(next(iter(report["runs"].values())))

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    return "\n".join(
        [
            "## Delivery with OTLP export (`bench/delivery/ --otlp`)",
            "",
            "A cached `GET /v1/pages/{slug}` with spans exported over OTLP/HTTP (BatchSpanProcessor, "
            "`parentbased_traceidratio` at 10 %) to a receiver process on loopback "
            "(`charter.observability.receiver`), against tracing off, in the same run: medians of "
            f"{rounds} interleaved rounds of wrk, CPU of the server process per request from /proc. "
            f"Produced by `{report['command']}`; the receiver got {report['spans_received']} spans. "
            f"5-minute load average at the end: {report['load_average']:.1f} on 2 cores.",
            "",
            "Round by round, server CPU µs/request: tracing off "
            + " / ".join(f"{r['server_cpu_us']:.1f}" for r in report["runs"]["charter-cached-notrace"])
            + ", OTLP export "
            + " / ".join(f"{r['server_cpu_us']:.1f}" for r in report["runs"]["charter-cached-otlp"])
            + " (1-minute load "
            + " / ".join(f"{r['load1']:.1f}" for r in report["runs"]["charter-cached-otlp"])
            + ").",
            "",
            "| target | req/s | p99 ms | server CPU µs/request |",
            "| --- | ---: | ---: | ---: |",
            f"| tracing off | {off['rps']:.0f} | {off.get('p99_ms', 0):.2f} | {off['server_cpu_us']:.1f} |",
            f"| OTLP export, 10 % sampled | {otlp['rps']:.0f} | {otlp.get('p99_ms', 0):.2f} "
            f"| {otlp['server_cpu_us']:.1f} |",
            "",
            "CPU per cached hit inside the app (in-process ASGI calls, every thread's process time, so the "
            "exporter's thread counts; best of 5 alternated batches; start-up objects frozen out of the "
            "cyclic collector, as `charter serve` does):",
            "",
            "| request | CPU µs |",
            "| --- | ---: |",
            f"| tracing off | {cpu['notrace_us']:.1f} |",
            f"| OTLP export, 10 % sampled | {cpu['otlp_us']:.1f} |",
            "",
            "| goal | measured | |",
            "| --- | --- | --- |",
            f"| OTLP export within 15 % of tracing off, server CPU per request | {server_cost * 100:+.1f} % "
            f"| {verdict(server_cost <= 0.15)} |",
            f"| the same, in-app CPU per request | {app_cost * 100:+.1f} % | {verdict(app_cost <= 0.15)} |",
        ]
    )


def in_process_costs(project: Path, paths: list[str], batch: int = 5000) -> dict[str, float]:
    """CPU microseconds per request inside the app (no server, no sockets; best of 5 batches of
    process time, so other work on the machine hardly counts): a cached hit without span export
    (the default, ``trace_exporter = "none"``), a hit with every span exported to an in-memory
    exporter (what a traced deployment pays in the request path), and a miss (cache off)."""
    import asyncio

    from charter.app import create_app
    from charter.config import load_settings

    scope, receive, send = _asgi()

    def measure(**options: Any) -> float:
        settings = load_settings(project, worker=False, log_level="WARNING", **options)
        app = create_app(settings)
        exporter = app.state.runtime.telemetry.exporter
        n = batch if options.get("cache") != "off" else batch // 10

        async def run() -> float:
            for path in paths:  # fill the cache, learn the targets
                await app(scope(path), receive, send)
            best = float("inf")
            for _ in range(5):
                if exporter is not None:
                    exporter.clear()  # type: ignore[attr-defined]
                started = time.process_time()
                for i in range(n):
                    await app(scope(paths[i % len(paths)]), receive, send)
                best = min(best, (time.process_time() - started) / n)
            return best * 1e6

        try:
            return asyncio.run(run())
        finally:
            app.state.runtime.close()

    return {
        "hit_us": measure(cache="memory", trace_sample_ratio=1.0),
        "hit_exported_us": measure(cache="memory", trace_sample_ratio=1.0, trace_exporter="memory"),
        "hit_notrace_us": measure(cache="memory", trace_sample_ratio=0.0),
        "miss_us": measure(cache="off", trace_sample_ratio=1.0),
    }


WRK_LINE = re.compile(r"Requests/sec:\s+([\d.]+)")
LATENCY = re.compile(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (nginx's worker, gunicorn's), from /proc."""
    total = 0.0
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        pids += [int(child) for child in task.read_text().split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def wrk(url: str, paths: list[str], *, seconds: int, connections: int, pid: int | None = None) -> dict[str, float]:
    paths_file = WORK / "paths.txt"
    paths_file.write_text("\n".join(paths) + "\n", encoding="utf-8")
    cpu_before = cpu_seconds(pid) if pid else 0.0
    result = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(HERE / "paths.lua"), url],
        env={**os.environ, "WRK_PATHS": str(paths_file)},
        capture_output=True,
        text=True,
        check=True,
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
        "server_cpu_us": cpu_us,
    }


def warm(url: str, paths: list[str], everything: bool) -> None:
    """Request every path once (fills Charter's cache) or a sample (loads the peer's code paths)."""
    with httpx.Client(base_url=url, timeout=30) as client:
        for path in paths if everything else paths[:: max(1, len(paths) // 20)]:
            r = client.get(path)
            r.raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--pages", type=int, default=PAGES)
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument("--targets", default="", help="comma-separated subset of targets (implies --no-write)")
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite the BENCHMARKS.md section from results/latest.json"
    )
    parser.add_argument("--otlp", action="store_true", help="OTLP export (10 %%) against tracing off, only")
    args = parser.parse_args()
    if args.render_only and args.otlp:
        write_section(render_otlp(json.loads((RESULTS / "otlp.json").read_text())), "delivery-otlp")
        return
    if args.render_only:
        write_section(render(json.loads((RESULTS / "latest.json").read_text())))
        return
    if args.targets:
        args.no_write = True
    WORK.mkdir(parents=True, exist_ok=True)
    rows = page_rows(args.pages)
    project = charter_project(rows)
    page_paths = [f"/v1/pages/{row['data']['en']['slug']}" for row in rows]
    if args.otlp:
        otlp_overhead(args, project, page_paths)
        return

    ports = {
        name: free_port()
        for name in ("cached", "asgi", "uvicorn", "notrace", "uncached", "nginx", "wagtail", "varnish", "origin")
    }
    chosen = args.targets.split(",") if args.targets else []
    # nginx serves the exact bytes Charter sends.
    static = WORK / "static"
    sizes = []
    with (
        charter_server(project, ports["uncached"], cache="off", trace_ratio=1.0),
        httpx.Client(base_url=f"http://127.0.0.1:{ports['uncached']}") as client,
    ):
        for path in page_paths:
            body = client.get(path).content
            sizes.append(len(body))
            target = static / (path.lstrip("/") + ".json")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
    wagtail, wagtail_paths = wagtail_server(rows, ports["wagtail"]) if not chosen or "wagtail" in chosen else (None, [])

    targets: dict[str, tuple[Any, str, list[str]]] = {
        "charter-cached": (
            lambda: charter_server(project, ports["cached"], cache="memory", trace_ratio=1.0),
            f"http://127.0.0.1:{ports['cached']}",
            page_paths,
        ),
        "charter-cached-asgi": (
            lambda: charter_server(project, ports["asgi"], cache="memory", trace_ratio=1.0, interface="asgi"),
            f"http://127.0.0.1:{ports['asgi']}",
            page_paths,
        ),
        "charter-cached-uvicorn": (
            lambda: charter_server(project, ports["uvicorn"], cache="memory", trace_ratio=1.0, server="uvicorn"),
            f"http://127.0.0.1:{ports['uvicorn']}",
            page_paths,
        ),
        "charter-cached-notrace": (
            lambda: charter_server(project, ports["notrace"], cache="memory", trace_ratio=0.0),
            f"http://127.0.0.1:{ports['notrace']}",
            page_paths,
        ),
        "varnish": (
            lambda: varnish_server(project, ports["origin"], ports["varnish"]),
            f"http://127.0.0.1:{ports['varnish']}",
            page_paths,
        ),
        "charter-uncached": (
            lambda: charter_server(project, ports["uncached"], cache="off", trace_ratio=1.0),
            f"http://127.0.0.1:{ports['uncached']}",
            page_paths,
        ),
        "nginx": (lambda: nginx_server(static, ports["nginx"]), f"http://127.0.0.1:{ports['nginx']}", page_paths),
        "wagtail": (wagtail, f"http://127.0.0.1:{ports['wagtail']}", wagtail_paths),
    }
    if chosen:
        targets = {name: target for name, target in targets.items() if name in chosen}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
    for round_no in range(1, args.rounds + 1):
        for name, (server, url, paths) in targets.items():
            with server() as proc:
                warm(url, paths, everything=name.startswith("charter-cached") or name == "varnish")
                pid = proc.pid if isinstance(proc, subprocess.Popen) else None  # Wagtail's yields its URL
                result = wrk(url, paths, seconds=args.seconds, connections=args.connections, pid=pid)
            result["load1"] = os.getloadavg()[0]
            runs[name].append(result)
            print(
                f"round {round_no} {name:24} {result['rps']:9.0f} req/s  p50 {result.get('p50_ms', 0):6.2f} ms"
                f"  p99 {result.get('p99_ms', 0):7.2f} ms  load {result['load1']:.1f}",
                flush=True,
            )
    if args.targets:
        for name, results in runs.items():
            print(name, {key: statistics.median(r[key] for r in results) for key in results[0]})
        return

    medians = {
        name: {key: statistics.median(r[key] for r in results) for key in results[0]} for name, results in runs.items()
    }
    report = {
        "command": f"make bench-delivery  (bench/delivery/run --rounds {args.rounds} --seconds {args.seconds} "
        f"--connections {args.connections})",
        "in_process": in_process_costs(project, page_paths),
        "pages": len(rows),
        "load_average": os.getloadavg()[1],
        "body_bytes_median": statistics.median(sizes),
        "medians": medians,
        "runs": runs,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2))
    section = render(report)
    print(section)
    if not args.no_write:
        write_section(section)


def render(report: dict[str, Any]) -> str:
    m = report["medians"]
    cached, notrace, uncached = m["charter-cached"], m["charter-cached-notrace"], m["charter-uncached"]
    nginx, wagtail = m["nginx"], m["wagtail"]
    uvicorn, varnish, asgi = m.get("charter-cached-uvicorn"), m.get("varnish"), m.get("charter-cached-asgi")
    rows = [
        ("Charter, cache on (granian RSGI, the default; tracing on)", cached),
        *([("Charter, cache on, `--interface asgi` (granian ASGI)", asgi)] if asgi else []),
        *([("Charter, cache on, `--server uvicorn` (uvloop, httptools)", uvicorn)] if uvicorn else []),
        ("Charter, cache on, tracing off", notrace),
        *([("Varnish (`charter edge varnish`) in front of Charter, cache on", varnish)] if varnish else []),
        ("Charter, cache off (tracing on)", uncached),
        ("nginx, same bytes as static files", nginx),
        ("Wagtail 8 API v2 (gunicorn, 1 sync worker)", wagtail),
    ]
    lines = [
        "## Delivery (`bench/delivery/`)",
        "",
        f"`GET /v1/pages/{{slug}}` over {report['pages']} published pages (median body "
        f"{report['body_bytes_median']:.0f} bytes), wrk on loopback, 1 thread, "
        f"{report['command'].split('--connections ')[1].split(')')[0]} connections, one server process each, "
        f"medians of {len(next(iter(report['runs'].values())))} interleaved rounds. Produced by "
        f"`{report['command']}`.",
        "",
        f"The 5-minute load average at the end was {report.get('load_average', 0):.1f} on 2 cores: other work "
        "shared the machine, which costs the Python servers more than nginx; read the ratios, not the "
        "absolute figures. Round by round, Charter cached did "
        + " / ".join(f"{r['rps']:.0f}" for r in report["runs"]["charter-cached"])
        + " req/s against nginx's "
        + " / ".join(f"{r['rps']:.0f}" for r in report["runs"]["nginx"])
        + " (1-minute load "
        + " / ".join(f"{r.get('load1', 0):.1f}" for r in report["runs"]["charter-cached"])
        + ").",
        "",
        "| target | req/s | p50 ms | p99 ms | server CPU µs/request | CPU × nginx |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    nginx_cpu = nginx.get("server_cpu_us") or 0.0
    for label, r in rows:
        cpu_us = f"{r['server_cpu_us']:.0f}" if r.get("server_cpu_us") else "–"
        cpu_ratio = f"{r['server_cpu_us'] / nginx_cpu:.1f}×" if r.get("server_cpu_us") and nginx_cpu else "–"
        lines.append(
            f"| {label} | {r['rps']:.0f} | {r.get('p50_ms', 0):.2f} | {r.get('p99_ms', 0):.2f} "
            f"| {cpu_us} | {cpu_ratio} |"
        )
    lines += [
        "",
        "Varnish's CPU is varnishd's alone: once it holds every page, the Charter behind it serves nothing. "
        "Wagtail's is gunicorn's and its worker's. nginx runs one worker process while varnishd serves from "
        "thread pools on both cores, so on this shared 2-core machine Varnish's req/s against nginx's flatters "
        "it; CPU per request is the like-for-like figure.",
    ]
    ratio_nginx = cached["rps"] / nginx["rps"]
    ratio_wagtail = uncached["rps"] / wagtail["rps"]
    trace_cost = 1 - cached["rps"] / notrace["rps"]
    cpu_ratio = cached["server_cpu_us"] / nginx_cpu if nginx_cpu else float("inf")
    p99_ratio = cached.get("p99_ms", 99) / nginx["p99_ms"] if nginx.get("p99_ms") else float("inf")

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    lines += [
        "",
        "| target | goal | measured | |",
        "| --- | --- | --- | --- |",
        f"| server CPU per cached request vs nginx's | ≤ 2× | {cpu_ratio:.1f}× | {verdict(cpu_ratio <= 2)} |",
        f"| cached req/s vs nginx | ≥ 0.6× | {ratio_nginx:.2f}× | {verdict(ratio_nginx >= 0.6)} |",
        f"| p99 at c=32, cached, vs nginx's p99 | ≤ 2× | {p99_ratio:.1f}× "
        f"({cached.get('p99_ms', 0):.2f} ms vs {nginx.get('p99_ms', 0):.2f} ms) | {verdict(p99_ratio <= 2)} |",
        f"| cache off vs Wagtail (uncached) | ≥ 20× | {ratio_wagtail:.1f}× | {verdict(ratio_wagtail >= 20)} |",
        f"| tracing overhead, cached (no exporter: both do the same work, the gap is noise) | < 50 % "
        f"| {trace_cost * 100:.0f} % | {verdict(trace_cost < 0.5)} |",
    ]
    if varnish:
        ratio_varnish = varnish["rps"] / nginx["rps"]
        lines.append(
            f"| through Varnish, cached req/s vs nginx | ≥ 0.9× | {ratio_varnish:.2f}× "
            f"| {verdict(ratio_varnish >= 0.9)} |"
        )
    if asgi:
        lines.append(
            f"| RSGI vs ASGI on granian, cached: req/s, CPU per request | better kept as default "
            f"| {cached['rps'] / asgi['rps']:.2f}× req/s, {cached['server_cpu_us'] / asgi['server_cpu_us']:.2f}× "
            f"CPU | {verdict(cached['server_cpu_us'] < asgi['server_cpu_us'])} |"
        )
    if uvicorn:
        lines.append(
            f"| granian vs uvicorn (the default before granian), cached: req/s, CPU per request "
            f"| better kept as default "
            f"| {cached['rps'] / uvicorn['rps']:.2f}× req/s, {cached['server_cpu_us'] / uvicorn['server_cpu_us']:.2f}× "
            f"CPU | {verdict(cached['server_cpu_us'] < uvicorn['server_cpu_us'])} |"
        )
    cpu = report.get("in_process")
    if cpu and notrace.get("server_cpu_us"):
        # Exporting every span adds its in-app CPU to what the server spends per request.
        extra = cpu["hit_exported_us"] - cpu["hit_us"]
        exported_cost = extra / (notrace["server_cpu_us"] + extra)
        lines.append(
            f"| tracing overhead, cached, every span exported (from CPU per request) | < 50 % "
            f"| {exported_cost * 100:.0f} % | {verdict(exported_cost < 0.5)} |"
        )
    if cpu:
        exported = 1 - cpu["hit_us"] / cpu["hit_exported_us"]
        lines += [
            "",
            "CPU per request inside the app (in-process ASGI calls, no server or sockets, best of 5 batches "
            "of process time, so the machine's other work hardly counts):",
            "",
            "| request | CPU µs |",
            "| --- | ---: |",
            f"| cached hit, tracing on (ratio 1.0, no exporter: spans not built) | {cpu['hit_us']:.1f} |",
            f"| cached hit, tracing off (ratio 0) | {cpu['hit_notrace_us']:.1f} |",
            f"| cached hit, every span exported (in-memory exporter) | {cpu['hit_exported_us']:.1f} |",
            f"| cache off (SQLite read, render, serialise) | {cpu['miss_us']:.1f} |",
            "",
            'The server rows above run the default configuration (`trace_exporter = "none"`). A deployment '
            f"that exports every span pays {cpu['hit_exported_us'] - cpu['hit_us']:.0f} µs more per cached hit in "
            f"the app ({exported * 100:.0f} % of its in-app cost); sample (`trace_sample_ratio`) to bound it.",
        ]
    return "\n".join(lines)


def write_section(section: str, name: str = "delivery") -> None:
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text(encoding="utf-8")
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _old, after = rest.split(end, 1)
        text = f"{before}{start}\n{section}\n{end}{after}"
    else:
        text = text.rstrip("\n") + f"\n\n{start}\n{section}\n{end}\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
