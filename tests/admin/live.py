"""A real Charter server on loopback (uvicorn in a thread) and Chromium driven by Playwright,
with axe-core injected for accessibility checks. Used by the browser tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from charter.app import create_app
from charter.runtime import Runtime

VENDOR = Path(__file__).parent / "vendor"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "admin"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def live_server(rt: Runtime, port: int) -> Iterator[str]:
    """Serve ``rt`` on 127.0.0.1:``port`` until the block ends; yields the base URL."""
    app = create_app(rt.settings, runtime=rt)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="admin-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def axe_source() -> str:
    return (VENDOR / "axe.min.js").read_text(encoding="utf-8")


def run_axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the current page (WCAG 2.0-2.2 A and AA rules, plus best practices)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }"""
    )
    return list(result)


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def page_js_bytes(page: Any) -> int:
    """Bytes of JavaScript the page loaded (decoded size of every script resource)."""
    return int(
        page.evaluate(
            """() => performance.getEntriesByType('resource')
                 .filter(e => e.initiatorType === 'script' || e.name.endsWith('.js') || e.name.includes('.js?'))
                 .reduce((n, e) => n + (e.decodedBodySize || 0), 0)"""
        )
    )


def save_report(name: str, data: Any) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / name).write_text(json.dumps(data, indent=2), encoding="utf-8")
