"""Assets benchmark: image transforms and cached delivery, with nginx as the peer in the same run.

* ``first transform``: ``GET /v1/assets/{id}/photo.jpg?w=800&fm=webp`` on a 12-megapixel JPEG
  (4000 x 3000, a noisy gradient so it decodes like a photo) whose transform is not cached yet:
  one request per distinct image, p50 over ``--images`` images (each its own upload, so every
  request decodes, resizes and encodes); also the in-process ``render`` time of the same work.
* ``cached``: wrk on loopback cycling through the cached transforms (every image at 320, 640 and
  800 px WebP), against nginx serving the same bytes as static files (``sendfile``, ETags).

Each round runs both servers once (interleaved); the medians of ``--rounds`` rounds go into
BENCHMARKS.md between ``<!-- bench:assets -->`` markers, with the command and the load average.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from charter.config import DEMO_DIR  # noqa: E402
from tests.services import free_port  # noqa: E402


def _delivery_bench() -> Any:
    """bench/delivery/bench.py (its wrk runner, process starter and BENCHMARKS.md writer): loaded
    from its file, since this script's own name shadows the ``bench`` folder on sys.path."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("delivery_bench", ROOT / "bench" / "delivery" / "bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_delivery = _delivery_bench()
process, write_section, wrk = _delivery.process, _delivery.write_section, _delivery.wrk
HERE = Path(__file__).parent
WORK = HERE / "work"
RESULTS = HERE / "results"
WIDTHS = (320, 640, 800)
SECRET = "bench-" + "k" * 32


def photo(seed: int, size: tuple[int, int] = (4000, 3000)) -> bytes:
    """A 12-megapixel JPEG that costs what a photo costs to decode: noise over a gradient."""
    from PIL import Image, ImageChops

    w, h = size
    gradient = Image.linear_gradient("L").resize((w, h)).convert("RGB")
    noise = Image.effect_noise((w, h), 40 + seed).convert("RGB")
    tint = Image.new("RGB", (w, h), ((37 * seed) % 256, (91 * seed) % 256, (53 * seed) % 256))
    img = ImageChops.add(ImageChops.multiply(gradient, tint), noise, scale=1.6)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def project(images: int) -> tuple[Path, list[dict[str, Any]]]:
    """A project with the demo's content types and ``images`` distinct 12-MP JPEG assets."""
    from charter.assets.actions import upload_asset
    from charter.auth.roles import SYSTEM
    from charter.config import load_settings
    from charter.runtime import Runtime

    folder = WORK / "project"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "content-types").mkdir(parents=True)
    for path in (DEMO_DIR / "content-types").glob("*.schema.json"):
        shutil.copy(path, folder / "content-types" / path.name)
    (folder / "charter.toml").write_text("[charter]\n", encoding="utf-8")
    assets = []
    with Runtime.open(load_settings(folder, worker=False, log_level="WARNING")) as rt:
        for i in range(images):
            asset, _ = upload_asset(rt, SYSTEM, photo(i), f"photo-{i}.jpg", {"alt": {"en": f"Photo {i}"}})
            assets.append({"id": asset.id, "bytes": asset.bytes, "path": asset.path, "width": asset.width})
    return folder, assets


def in_process_render(folder: Path, assets: list[dict[str, Any]]) -> list[float]:
    """Milliseconds per ``render`` (decode + resize + WebP encode) of each image to 800 px."""
    from charter.assets.actions import get_asset
    from charter.assets.settings import asset_settings
    from charter.assets.storage import blob_key, store_for
    from charter.assets.transforms import Transform, render
    from charter.config import load_settings
    from charter.runtime import Runtime

    times = []
    with Runtime.open(load_settings(folder, worker=False, log_level="WARNING"), migrate=False) as rt:
        config = asset_settings(rt.settings)
        for item in assets:
            with rt.read() as conn:
                asset = get_asset(conn, item["id"])
            original = store_for(rt).get(blob_key(asset.sha256))
            start = time.perf_counter()
            render(original, asset, Transform(w=800, fm="webp"), config)
            times.append((time.perf_counter() - start) * 1000)
    return times


def charter_server(folder: Path, port: int) -> Any:
    env = {"CHARTER_WORKER": "false", "CHARTER_SECRET_KEY": SECRET, "CHARTER_LOG_LEVEL": "WARNING"}
    args = [sys.executable, "-m", "charter", "serve", "--project", str(folder), "--port", str(port)]
    return process(args, env=env, ready=f"http://127.0.0.1:{port}/readyz")


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
  types {{ image/webp webp; }}
  server {{
    listen 127.0.0.1:{port};
    root {static};
    location / {{ etag on; add_header Cache-Control "public, max-age=31536000, immutable"; }}
  }}
}}
""",
        encoding="utf-8",
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return process([nginx, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"], ready=f"http://127.0.0.1:{port}/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--images", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite the BENCHMARKS.md section from results/latest.json"
    )
    args = parser.parse_args()
    if args.render_only:
        write_section(render_section(json.loads((RESULTS / "latest.json").read_text())), "assets")
        return
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "delivery" / "work").mkdir(parents=True, exist_ok=True)  # wrk's paths file
    folder, assets = project(args.images)
    render_ms = in_process_render(folder, assets)
    ports = {"charter": free_port(), "nginx": free_port()}
    static = WORK / "static"
    shutil.rmtree(static, ignore_errors=True)
    charter_paths, nginx_paths, first_ms, sizes = [], [], [], []
    with (
        charter_server(folder, ports["charter"]),
        httpx.Client(base_url=f"http://127.0.0.1:{ports['charter']}", timeout=120) as client,
    ):
        for item in assets:
            start = time.perf_counter()
            response = client.get(f"{item['path']}?v=1&w=800&fm=webp")
            first_ms.append((time.perf_counter() - start) * 1000)
            response.raise_for_status()
            for width in WIDTHS:
                path = f"{item['path']}?v=1&w={width}&fm=webp"
                body = client.get(path).content
                sizes.append(len(body))
                charter_paths.append(path)
                name = f"{item['id']}-{width}.webp"
                (static / name).parent.mkdir(parents=True, exist_ok=True)
                (static / name).write_bytes(body)
                nginx_paths.append(f"/{name}")
    runs: dict[str, list[dict[str, float]]] = {"charter": [], "nginx": []}
    targets = {
        "charter": (lambda: charter_server(folder, ports["charter"]), ports["charter"], charter_paths),
        "nginx": (lambda: nginx_server(static, ports["nginx"]), ports["nginx"], nginx_paths),
    }
    for round_no in range(args.rounds):
        for name, (start_server, port, paths) in targets.items():
            with start_server() as proc:
                url = f"http://127.0.0.1:{port}"
                with httpx.Client(base_url=url) as client:
                    for path in paths:
                        client.get(path).raise_for_status()
                result = wrk(url, paths, seconds=args.seconds, connections=args.connections, pid=proc.pid)
                result["load1"] = os.getloadavg()[0]
                runs[name].append(result)
                print(f"round {round_no + 1} {name}: {result['rps']:.0f} req/s", flush=True)
    medians = {
        name: {key: statistics.median(r[key] for r in results) for key in results[0]} for name, results in runs.items()
    }
    report = {
        "command": "bench/assets/run " + " ".join(sys.argv[1:]),
        "images": args.images,
        "original_bytes_median": statistics.median(a["bytes"] for a in assets),
        "transform_bytes_median": statistics.median(sizes),
        "first_transform_ms": first_ms,
        "first_transform_p50_ms": statistics.median(first_ms),
        "render_ms": render_ms,
        "render_p50_ms": statistics.median(render_ms),
        "runs": runs,
        "medians": medians,
        "load_average": os.getloadavg()[1],
        "cpus": os.cpu_count(),
        "seconds": args.seconds,
        "connections": args.connections,
    }
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(render_section(report))
    if not args.no_write:
        write_section(render_section(report), "assets")


def render_section(report: dict[str, Any]) -> str:
    m = report["medians"]
    charter, nginx = m["charter"], m["nginx"]
    ratio = charter["rps"] / nginx["rps"]
    return "\n".join(
        [
            "## Assets (`bench/assets/`)",
            "",
            f"Produced by `{report['command']}` on {report['cpus']} cores, load average (5 min) "
            f"{report['load_average']:.2f} at the end; the machine was shared, so read the ratio, not the "
            "absolute numbers. Originals: 12-megapixel JPEGs (4000 × 3000, median "
            f"{report['original_bytes_median'] / 1e6:.1f} MB).",
            "",
            "| Measure | Median |",
            "| --- | --- |",
            f"| first transform to 800 px WebP, HTTP (p50 of {report['images']} images) | "
            f"{report['first_transform_p50_ms']:.0f} ms |",
            f"| the same `render` in process (decode with JPEG draft scaling, resize, encode) | "
            f"{report['render_p50_ms']:.0f} ms |",
            "",
            f"Cached transforms (WebP at {', '.join(map(str, WIDTHS))} px, median "
            f"{report['transform_bytes_median'] / 1000:.1f} KB), wrk on loopback, 1 thread, "
            f"{report['connections']} connections, {report['seconds']} s, medians of "
            f"{len(report['runs']['charter'])} interleaved rounds:",
            "",
            "| Server | req/s | p50 | p99 | server CPU per request |",
            "| --- | --- | --- | --- | --- |",
            *(
                f"| {label} | {r['rps']:.0f} | {r.get('p50_ms', 0):.2f} ms | {r.get('p99_ms', 0):.2f} ms | "
                f"{r['server_cpu_us']:.0f} µs |"
                for label, r in (("Charter (`charter serve`, disk cache)", charter), ("nginx, same bytes", nginx))
            ),
            "",
            f"Charter serves cached transforms at {ratio:.2f}× nginx's rate. A versioned transform URL "
            "(`v`, `fm`: what the delivery envelope's `srcset` gives) whose file is cached is answered by "
            "a raw ASGI front door (`charter.assets.fastpath`): no routing, no parameter models, no "
            "database read, the request id, span, metrics and access log kept. Deploy a CDN in front: "
            "every answer is `immutable` with a `Surrogate-Key`, so the origin sees each transform "
            "about once.",
            "",
            "Round by round, Charter did "
            + " / ".join(f"{r['rps']:.0f}" for r in report["runs"]["charter"])
            + " req/s against nginx's "
            + " / ".join(f"{r['rps']:.0f}" for r in report["runs"]["nginx"])
            + " (1-minute load "
            + " / ".join(f"{r['load1']:.1f}" for r in report["runs"]["charter"])
            + ").",
        ]
    )


if __name__ == "__main__":
    main()
