"""Live preview: `GET /v1/preview/events` streams a change whenever what a preview token shows
changes; the typed client's `watchPreview` re-renders a page without reloading it (Chromium)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from charter.auth.roles import SYSTEM
from charter.auth.tokens import create_token
from charter.config import DEMO_DIR, load_settings
from charter.runtime import Runtime
from tests.admin.live import CHROMIUM_ARGS, live_server
from tests.services import free_port, require_chromium


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Runtime, str, Path]]:
    from charter.demo import load_demo_content

    root = tmp_path_factory.mktemp("live-preview")
    project = root / "project"
    shutil.copytree(DEMO_DIR, project, ignore=shutil.ignore_patterns("__pycache__", "*.py", ".charter*"))
    rt = Runtime.open(load_settings(project, database_url=f"sqlite:///{root / 'charter.db'}", log_json=True))
    load_demo_content(rt)
    editor = create_token(rt, SYSTEM, "preview-editor", "editor")[0]
    package = root / "pkg"
    run = subprocess.run(
        [sys.executable, "-m", "charter", "types", "generate", "--project", str(project), "--package", "lumen",
         "--out", str(package)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    try:
        with live_server(rt, free_port()) as base:
            yield base, rt, editor, package
    finally:
        rt.close()


def _doc(base: str, editor: str) -> tuple[str, dict[str, Any], str]:
    h = {"Authorization": f"Bearer {editor}"}
    listing = httpx.get(f"{base}/v1/manage/entries", params={"type": "doc"}, headers=h).json()
    entry_id = listing["items"][0]["id"]
    r = httpx.get(f"{base}/v1/manage/entries/{entry_id}", headers=h)
    return entry_id, r.json()["data"], r.headers["etag"]


def _save(base: str, editor: str, entry_id: str, data: dict[str, Any], etag: str) -> str:
    r = httpx.put(
        f"{base}/v1/manage/entries/{entry_id}",
        json={"data": data},
        headers={"Authorization": f"Bearer {editor}", "If-Match": etag},
    )
    assert r.status_code == 200, r.text
    return r.headers["etag"]


def _preview(base: str, editor: str, entry_id: str) -> dict[str, Any]:
    r = httpx.post(
        f"{base}/v1/manage/previews", json={"entry_id": entry_id}, headers={"Authorization": f"Bearer {editor}"}
    )
    assert r.status_code == 201, r.text
    return r.json()


def _events(base: str, token: str, out: list[tuple[str, dict[str, Any]]], stop: threading.Event) -> None:
    with httpx.stream("GET", f"{base}/v1/preview/events", params={"preview": token}, timeout=30) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        name = ""
        for line in r.iter_lines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                out.append((name, json.loads(line[5:])))
                if name == "end" or stop.is_set():
                    return


def test_the_stream_reports_ready_change_and_end(served: tuple[str, Runtime, str, Path]) -> None:
    base, _rt, editor, _ = served
    entry_id, data, etag = _doc(base, editor)
    issued = _preview(base, editor, entry_id)
    events: list[tuple[str, dict[str, Any]]] = []
    stop = threading.Event()
    reader = threading.Thread(target=_events, args=(base, issued["token"], events, stop), daemon=True)
    reader.start()
    _wait(lambda: any(n == "ready" for n, _ in events))
    ready = events[0][1]
    assert ready["scope"] == "entry" and ready["id"] == entry_id
    _save(base, editor, entry_id, {**data, "en": {**data["en"], "title": "Changed for preview"}}, etag)
    _wait(lambda: any(n == "change" for n, _ in events))
    change = next(d for n, d in events if n == "change")
    assert change["version"] != ready["version"]
    revoked = httpx.delete(
        f"{base}/v1/manage/previews/{issued['token_id']}", headers={"Authorization": f"Bearer {editor}"}
    )
    assert revoked.status_code == 204
    reader.join(timeout=10)
    assert events[-1][0] == "end" and "revoked" in events[-1][1]["reason"]


@pytest.mark.parametrize("token", [None, "cpt1.e30.AAAA", "x" * 3000])
def test_a_missing_forged_or_oversized_token_is_a_problem_before_any_stream(
    served: tuple[str, Runtime, str, Path], token: str | None
) -> None:
    base = served[0]
    r = httpx.get(f"{base}/v1/preview/events", params={"preview": token} if token else {})
    assert r.status_code in (401, 422)
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.browser
def test_a_front_end_rerenders_a_saved_draft_without_reloading(served: tuple[str, Runtime, str, Path]) -> None:
    base, _rt, editor, package = served
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    entry_id, data, etag = _doc(base, editor)
    token = _preview(base, editor, entry_id)["token"]
    source = (package / "index.js").read_text()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/v1/pages/pricing")
            page.evaluate(
                """async ([source, token, id]) => {
                    const url = URL.createObjectURL(new Blob([source], {type: "text/javascript"}));
                    const { createClient } = await import(url);
                    const client = createClient({ baseUrl: location.origin, preview: token });
                    const render = async () => {
                        const doc = await client.getEntry("doc", id);
                        document.body.textContent = doc.data.title;
                    };
                    await render();
                    window.renders = 1;
                    window.marker = "not reloaded";
                    client.watchPreview(async () => { await render(); window.renders += 1; });
                }""",
                [source, token, entry_id],
            )
            page.wait_for_function("window.renders === 1")
            _save(base, editor, entry_id, {**data, "en": {**data["en"], "title": "Live preview works"}}, etag)
            page.wait_for_function("document.body.textContent === 'Live preview works'", timeout=10_000)
            assert page.evaluate("window.marker") == "not reloaded"
        finally:
            browser.close()


def _wait(cond: Any, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
