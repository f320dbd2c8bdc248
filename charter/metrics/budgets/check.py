"""Measure budgets: file sizes in a build folder and latency under a bounded load on a live server.

The load is bounded three ways: the budget's ``requests`` (at most 1000), its ``concurrency`` (at
most 32) and ``timeout_seconds`` per request; before loading an endpoint one probe request must
succeed, so an unreachable server fails fast with a clear message instead of timing out N times.
A budget that measures nothing (a glob matching no file) fails: it never passes silently.
"""

from __future__ import annotations

import asyncio
import fnmatch
import gzip
import os
import time
from pathlib import Path
from typing import Any

from charter.exceptions import BadRequest
from charter.metrics.budgets.config import Budgets, FileBudget, LatencyBudget
from charter.metrics.budgets.pages import measure_pages
from charter.metrics.budgets.results import BudgetReport, BudgetResult, Status, format_bytes
from charter.metrics.model import format_duration
from charter.metrics.stats import median, percentile


class UnreachableServer(BadRequest):
    type_slug = "unreachable-server"
    title = "Server unreachable"


def check_budgets(
    budgets: Budgets,
    *,
    dist: Path | None = None,
    api: str | None = None,
    token: str | None = None,
    llm_key: str | None = None,
    only: tuple[str, ...] = (),
    url: str | None = None,
    chromium: str | None = None,
) -> BudgetReport:
    """Measure every budget whose input is given: file budgets need ``dist``, latency budgets need
    ``api`` (the base URL of a running Charter), asset budgets ``api`` and ``token``
    (charter.metrics.budgets.assets), page budgets with a path need ``url`` (the front end's base
    URL; charter.metrics.budgets.pages), those with an absolute URL need nothing.
    Budgets without their input are ``skipped``, and say so. ``only`` limits the kinds (bundle,
    image, api, llm, page, asset). Raises :class:`BadRequest` for a missing ``dist`` folder and
    :class:`UnreachableServer` when ``api`` does not answer; a page that does not load is an
    ``error`` result naming the URL and the error."""
    if dist is not None and not dist.is_dir():
        raise BadRequest(f"--dist {dist}: no such folder")
    if api is not None and not api.startswith(("http://", "https://")):
        raise BadRequest(f"--api {api!r}: expected an http:// or https:// URL")
    if url is not None and not url.startswith(("http://", "https://")):
        raise BadRequest(f"--url {url!r}: expected an http:// or https:// URL")
    results: list[BudgetResult] = []
    for fb in [*budgets.bundles, *budgets.images]:
        if only and fb.kind not in only:
            continue
        if dist is None:
            results.append(BudgetResult(fb.kind, fb.name, "bytes", fb.max_bytes, None, "skipped", "no --dist given"))
        else:
            results.extend(_files(fb, dist))
    latency = [b for b in [*budgets.api, *budgets.llm] if not only or b.kind in only]
    if latency:
        if api is None:
            results += [
                BudgetResult(b.kind, b.name, "ms", b.p95_ms, None, "skipped", "no --api given") for b in latency
            ]
        else:
            results += asyncio.run(_latencies(latency, api.rstrip("/"), token, llm_key))
    if budgets.assets and (not only or "asset" in only):
        from charter.metrics.budgets.assets import measure_assets

        results += measure_assets(budgets.assets, api, token)
    if budgets.pages and (not only or "page" in only):
        # absolute URLs are measured as they are; paths need --url (else they are skipped, saying so)
        results += measure_pages(budgets.pages, url, chromium)
    return BudgetReport(budgets.source, results)


def _match(dist: Path, patterns: tuple[str, ...]) -> list[Path]:
    found: dict[str, Path] = {}
    for root, _dirs, files in os.walk(dist):
        for name in files:
            path = Path(root) / name
            rel = path.relative_to(dist).as_posix()
            for pattern in patterns:
                # "**/" also matches files at the top of dist, as in most bundlers' globs
                if fnmatch.fnmatchcase(rel, pattern) or (
                    pattern.startswith("**/") and fnmatch.fnmatchcase(rel, pattern[3:])
                ):
                    found[rel] = path
                    break
    return [found[k] for k in sorted(found)]


def _files(fb: FileBudget, dist: Path) -> list[BudgetResult]:
    paths = _match(dist, fb.files)
    if not paths:
        return [
            BudgetResult(
                fb.kind,
                fb.name,
                "bytes",
                fb.max_bytes,
                None,
                "error",
                f"no file in {dist} matches {', '.join(fb.files)}",
            )
        ]
    out = []
    total = 0
    for path in paths:
        raw = path.read_bytes()
        size = len(gzip.compress(raw, compresslevel=9, mtime=0)) if fb.compression == "gzip" else len(raw)
        total += size
        rel = path.relative_to(dist).as_posix()
        label = fb.name if len(paths) == 1 else f"{fb.name}: {rel}"
        detail = f"{rel} ({fb.compression}{', raw ' + format_bytes(len(raw)) if fb.compression == 'gzip' else ''})"
        out.append(
            BudgetResult(fb.kind, label, "bytes", fb.max_bytes, size, "ok" if size <= fb.max_bytes else "over", detail)
        )
    if fb.max_total_bytes is not None:
        out.append(
            BudgetResult(
                fb.kind,
                f"{fb.name} (total)",
                "bytes",
                fb.max_total_bytes,
                total,
                "ok" if total <= fb.max_total_bytes else "over",
                f"{len(paths)} files",
            )
        )
    return out


async def _latencies(
    budgets: list[LatencyBudget], base: str, token: str | None, llm_key: str | None
) -> list[BudgetResult]:
    import httpx

    from charter import egress

    try:  # the operator names --api, so its host is allowed; nothing else internal is
        client_ = egress.async_client(egress.Policy().trusting(base), base_url=base)
    except egress.Refused as exc:
        raise BadRequest(f"--api {base[:200]!r} is refused: {exc}") from None
    async with client_ as client:
        try:
            await client.get("/healthz", timeout=5)
        except httpx.HTTPError as exc:
            raise UnreachableServer(f"cannot reach {base}: {type(exc).__name__}: {exc}") from None
        return [await _measure(client, b, token, llm_key) for b in budgets]


async def _measure(client: Any, b: LatencyBudget, token: str | None, llm_key: str | None) -> BudgetResult:
    import httpx

    headers = {}
    secret = llm_key if b.kind == "llm" else token
    if b.auth:
        if not secret:
            what = "--llm-key (or $CHARTER_LLM_KEY)" if b.kind == "llm" else "--token (or $CHARTER_TOKEN)"
            return BudgetResult(b.kind, b.name, "ms", b.p95_ms, None, "error", f"needs {what}")
        headers["Authorization"] = f"Bearer {secret}"
    timings: list[float] = []
    failures: dict[str, int] = {}
    semaphore = asyncio.Semaphore(b.load.concurrency)

    async def one(record: bool) -> None:
        async with semaphore:
            start = time.perf_counter()
            try:
                r = await client.request(b.method, b.path, json=b.body, headers=headers, timeout=b.load.timeout_seconds)
                await r.aread()
            except httpx.HTTPError as exc:
                if record:
                    failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
                return
            elapsed = (time.perf_counter() - start) * 1000
            if not record:
                return
            if r.status_code >= 400:
                failures[f"HTTP {r.status_code}"] = failures.get(f"HTTP {r.status_code}", 0) + 1
            else:
                timings.append(elapsed)

    started = time.perf_counter()
    for _ in range(b.load.warmup):
        await one(False)
    await asyncio.gather(*(one(True) for _ in range(b.load.requests)))
    wall = time.perf_counter() - started
    extra = {
        "requests": b.load.requests,
        "concurrency": b.load.concurrency,
        "median_ms": median(timings),
        "max_ms": max(timings, default=None),
        "failures": failures,
        "wall": format_duration(wall),
    }
    label = f"{b.method} {b.path}" if b.kind == "api" else f"route {b.route}"
    if failures:
        summary = ", ".join(f"{n}× {k}" for k, n in sorted(failures.items()))
        return BudgetResult(
            b.kind,
            b.name,
            "ms",
            b.p95_ms,
            percentile(timings, 95) if timings else None,
            "error",
            f"{label}: {summary} of {b.load.requests} requests",
            extra,
        )
    p95 = percentile(timings, 95)
    assert p95 is not None
    status: Status = "ok" if p95 <= b.p95_ms else "over"
    return BudgetResult(
        b.kind,
        b.name,
        "ms",
        b.p95_ms,
        p95,
        status,
        f"{label}: p95 of {len(timings)} requests, concurrency {b.load.concurrency}",
        extra,
    )
