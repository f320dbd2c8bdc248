"""The typed delivery client (`charter types generate --package`) against a running Charter: Node's
test runner drives it over HTTP, `tsc --strict` checks code written against its types, and Chromium
runs the same module in a page."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from charter.config import DEMO_DIR, load_settings
from charter.runtime import Runtime
from tests.admin.live import CHROMIUM_ARGS, live_server
from tests.node import require_node, typecheck
from tests.services import free_port, require_chromium

NODE_TESTS = Path(__file__).with_name("client.test.mjs")

TYPED_USAGE = """\
import { createClient, CharterError } from "@lumen/content";
import type { PricingPlanV1Envelope } from "@lumen/content";

const client = createClient({ baseUrl: "http://127.0.0.1:1" });
export async function prices(): Promise<number[]> {
  const list = await client.listEntries("pricing-plan", { limit: 10 });
  const plan: PricingPlanV1Envelope = await client.getEntry("pricing-plan", "pro");
  const page = await client.getPage("pricing");
  const hero = page.data.sections.find((s) => s.intent === "hero");
  return [plan.data.price, ...list.items.map((p) => p.data.price), hero ? 1 : 0];
}
export function explain(e: unknown): string {
  return e instanceof CharterError ? `${e.status} ${e.problem.title}` : "unknown";
}
// @ts-expect-error: not a content type of this project
export const wrong = client.getEntry("no-such-type", "x");
// @ts-expect-error: a plan's price is a number
export const s: Promise<string> = client.getEntry("pricing-plan", "pro").then((p) => p.data.price);
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    from charter.demo import load_demo_content

    root = tmp_path_factory.mktemp("client")
    project = root / "project"
    shutil.copytree(DEMO_DIR, project, ignore=shutil.ignore_patterns("__pycache__", "*.py", ".charter*"))
    rt = Runtime.open(load_settings(project, database_url=f"sqlite:///{root / 'charter.db'}", log_json=True))
    load_demo_content(rt)
    package = root / "app" / "node_modules" / "@lumen" / "content"
    run = subprocess.run(
        [sys.executable, "-m", "charter", "types", "generate", "--project", str(project), "--package",
         "@lumen/content", "--package-version", "1.2.3", "--out", str(package)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    try:
        with live_server(rt, free_port()) as base:
            yield base, root / "app"
    finally:
        rt.close()


def test_the_client_against_a_running_charter_with_nodes_test_runner(served: tuple[str, Path]) -> None:
    base, app = served
    node = require_node()
    plans = httpx.get(f"{base}/v1/entries/pricing-plan", params={"limit": 100}).json()["items"]
    shutil.copy(NODE_TESTS, app / "client.test.mjs")
    env = {**os.environ, "CHARTER_URL": base, "PLAN_IDS": json.dumps([p["data"]["id"] for p in plans])}
    run = subprocess.run(
        [node, "--test", "--test-reporter=spec", "client.test.mjs"], cwd=app, env=env, capture_output=True,
        text=True, timeout=180,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "ℹ pass 8" in run.stdout and "ℹ fail 0" in run.stdout


def test_code_written_against_the_package_typechecks_strictly(served: tuple[str, Path]) -> None:
    _, app = served
    manifest = json.loads((app / "node_modules/@lumen/content/package.json").read_text())
    assert manifest["version"] == "1.2.3" and manifest["type"] == "module" and "dependencies" not in manifest
    (app / "usage.ts").write_text(TYPED_USAGE)
    result = typecheck([app / "usage.ts"], app)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.browser
def test_the_same_module_runs_in_chromium(served: tuple[str, Path]) -> None:
    base, app = served
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    source = (app / "node_modules/@lumen/content/index.js").read_text()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/v1/pages/pricing")
            result: dict[str, Any] = page.evaluate(
                """async (source) => {
                    const url = URL.createObjectURL(new Blob([source], {type: "text/javascript"}));
                    const { createClient, CharterError } = await import(url);
                    const client = createClient({ baseUrl: location.origin });
                    const page = await client.getPage("pricing", { locale: "de-DE" });
                    let status = 0;
                    try { await client.getEntry("pricing-plan", "no-such-plan"); }
                    catch (e) { status = e instanceof CharterError ? e.status : -1; }
                    return { title: page.data.title, resolved: page.locale.resolved, status };
                }""",
                source,
            )
        finally:
            browser.close()
    assert result == {"title": "Preise", "resolved": "de-DE", "status": 404}
