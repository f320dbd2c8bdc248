"""Page budgets (charter.metrics.budgets.pages): Core Web Vitals, bytes by type and image oversize of the
example front end (examples/frontend) measured in headless Chromium against a running Charter, through
`charter budgets check --url` and the `charter ci` gate; an unreachable URL fails naming the URL and the
error; budgets.yaml's pages section validated whole; web-vitals is the npm package's own bytes."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from charter.config import DEMO_DIR, load_settings
from charter.metrics.budgets import BudgetError, check_budgets, load_budgets, parse_budgets
from charter.metrics.budgets.pages import VENDOR
from charter.runtime import Runtime
from tests.admin.live import live_server
from tests.frontend.example_site import EXAMPLE, build_example, static_server
from tests.services import free_port, require_chromium


def test_web_vitals_is_the_npm_packages_own_bytes() -> None:
    manifest = json.loads((VENDOR / "manifest.json").read_text())
    for name, info in manifest["files"].items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == info["sha256"], name
        assert info["package"] == "web-vitals" and info["license"] == "Apache-2.0"
    assert (VENDOR / "web-vitals.LICENSE.txt").read_text().startswith("\n                                 Apache")


def test_the_examples_budgets_parse() -> None:
    budgets = load_budgets(EXAMPLE / "budgets.yaml")
    assert [p.name for p in budgets.pages] == ["home", "pricing"]
    home = budgets.pages[0]
    assert home.throttling == "mobile" and home.network["cpu_slowdown"] == 4 and home.viewport["width"] == 412


@pytest.mark.parametrize(
    ("page", "pointer", "message"),
    [
        ({"url": "index.html", "lcp_ms": 1}, "/pages/0/url", "absolute http(s) URL or a path"),
        ({"url": "/", "lcp_ms": -1}, "/pages/0/lcp_ms", "from 1"),
        ({"url": "/"}, "/pages/0", "at least one of"),
        ({"url": "/", "bytes": {"scripts": "1 KB"}}, "/pages/0/bytes/scripts", "unknown resource type"),
        ({"url": "/", "bytes": {"script": "lots"}}, "/pages/0/bytes/script", "not a size"),
        ({"url": "/", "cls": 0.1, "throttling": "3g"}, "/pages/0/throttling", "mobile, desktop, none"),
        ({"url": "/", "cls": 0.1, "throttling": {"latency": 5}}, "/pages/0/throttling/latency", "unknown key"),
        ({"url": "/", "cls": 0.1, "viewport": {"width": 0}}, "/pages/0/viewport/width", "positive"),
        ({"url": "/", "cls": 0.1, "runs": 0}, "/pages/0/runs", "1 to 20"),
        ({"url": "/", "cls": 0.1, "fid_ms": 5}, "/pages/0/fid_ms", "unknown key"),
    ],
)
def test_bad_page_budgets_are_refused_with_a_pointer(page: dict[str, Any], pointer: str, message: str) -> None:
    with pytest.raises(BudgetError) as info:
        parse_budgets({"pages": [page]})
    assert any(e.pointer == pointer and message in e.message for e in info.value.errors), info.value.errors


def test_a_path_without_url_is_skipped_saying_so() -> None:
    report = check_budgets(parse_budgets({"pages": [{"name": "home", "url": "/", "lcp_ms": 2500, "cls": 0.1}]}))
    assert [(r.name, r.status, r.detail) for r in report.results] == [
        ("home: LCP", "skipped", "/ is a path and no --url was given"),
        ("home: CLS", "skipped", "/ is a path and no --url was given"),
    ]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The example front end on one port, reading a running Charter on another (CORS allowed)."""
    from charter.demo import load_demo_content

    require_chromium()
    root = tmp_path_factory.mktemp("page-budgets")
    project = root / "project"
    shutil.copytree(DEMO_DIR, project, ignore=shutil.ignore_patterns("__pycache__", "*.py", ".charter*"))
    site_port = free_port()
    rt = Runtime.open(
        load_settings(
            project,
            database_url=f"sqlite:///{root / 'charter.db'}",
            log_json=True,
            cors={"allow_origins": [f"http://127.0.0.1:{site_port}"]},
        )
    )
    load_demo_content(rt)
    site = build_example(root / "site", project)
    try:
        with live_server(rt, free_port()) as charter:
            # the site reads this Charter: point its <meta name="charter-url"> at it
            for page in ("index.html", "pricing.html"):
                html = (site / page).read_text()
                (site / page).write_text(html.replace("http://127.0.0.1:8000", charter))
            with static_server(site, site_port) as base:
                yield base, root
    finally:
        rt.close()


@pytest.mark.browser
@pytest.mark.slow
def test_the_example_front_end_meets_its_budgets(served: tuple[str, Path]) -> None:
    base, root = served
    spec = yaml.safe_load((EXAMPLE / "budgets.yaml").read_text())
    for page in spec["pages"]:
        page["runs"] = 1  # the committed file takes the median of 3; one run keeps the suite short
    path = root / "budgets.yaml"
    path.write_text(yaml.safe_dump(spec))
    run = subprocess.run(
        [sys.executable, "-m", "charter", "budgets", "check", "--budgets", str(path), "--url", base,
         "--chromium", require_chromium(), "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    report = json.loads(run.stdout)
    figures = {r["name"]: (r["measured"], r["budget"], r["status"], r["detail"]) for r in report["results"]}
    print(json.dumps(figures, indent=1))  # the figures, for the record (pytest -s)
    # Timings (LCP, TBT, INP) are measured but their verdict is not asserted: on a loaded machine they
    # move (no timed assertions in tests). What the page is made of is deterministic, and must pass.
    timed = ("LCP", "TBT", "INP")
    over = [name for name, (_, _, status, _) in figures.items() if status != "ok"]
    assert all(name.endswith(timed) for name in over), figures
    assert run.returncode == (1 if over else 0), run.stderr
    for page in ("home", "pricing"):
        for figure in ("LCP", "CLS", "TBT", "INP", "script bytes", "stylesheet bytes", "image bytes", "total bytes"):
            measured, _budget, status, _ = figures[f"{page}: {figure}"]
            assert measured is not None and status in ("ok", "over"), (page, figure, figures[f"{page}: {figure}"])
        assert figures[f"{page}: CLS"][2] == "ok"
        # the 56 px logo covers 32 CSS px at 1.75 device pixels each: one image pixel per device pixel
        assert figures[f"{page}: image oversize"][0] == pytest.approx(1.0, rel=0.01)
        assert "logo.png: 56x56 shown at 32x32 CSS px (x1.75)" in figures[f"{page}: image oversize"][3]
        assert figures[f"{page}: script bytes"][0] > 5_000  # app.js and the client, compressed or not
    assert "LCP element" in figures["home: LCP"][3]


@pytest.mark.browser
@pytest.mark.slow
def test_an_over_budget_and_an_unreachable_page_fail_the_ci_gate(served: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = served
    dead = f"http://127.0.0.1:{free_port()}/nothing.html"
    project = tmp_path / "project"
    project.mkdir()
    (project / "charter.toml").write_text('[charter]\nname = "budgets"\n')
    (project / "budgets.yaml").write_text(
        yaml.safe_dump(
            {
                "pages": [
                    {"name": "home", "url": "/index.html", "bytes": {"image": 10}, "max_image_oversize": 1,
                     "throttling": "none", "runs": 1},
                    {"name": "gone", "url": dead, "lcp_ms": 2500, "runs": 1},
                ]
            }
        )
    )  # fmt: skip
    run = subprocess.run(
        [sys.executable, "-m", "charter", "ci", "--project", str(project), "--only", "budgets", "--url", base,
         "--summary", str(tmp_path / "ci.json"), "--markdown", str(tmp_path / "ci.md")],
        capture_output=True, text=True, timeout=300, env={**_env(), "CHARTER_CHROMIUM": require_chromium()},
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    gate = next(g for g in json.loads((tmp_path / "ci.json").read_text())["gates"] if g["gate"] == "budgets")
    assert gate["status"] == "failed", gate
    results = {r["name"]: r for r in gate["data"]["results"]}
    assert results["home: image bytes"]["status"] == "over"
    oversize = results["home: image oversize"]  # at 1 device pixel per CSS pixel the 56 px logo is 3x too big
    assert oversize["status"] == "over" and oversize["measured"] == pytest.approx((56 / 32) ** 2, rel=0.01)
    assert "logo.png: 56x56 shown at 32x32 CSS px (x1)" in oversize["detail"]
    gone = results["gone: LCP"]
    assert gone["status"] == "error" and dead in gone["detail"] and "ERR_CONNECTION_REFUSED" in gone["detail"]
    assert dead in (tmp_path / "ci.md").read_text()


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_a_fresh_project_passes_charter_ci(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "charter", "init", "fresh"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    project = tmp_path / "fresh"
    run = subprocess.run(
        [sys.executable, "-m", "charter", "ci", "--summary", "ci.json", "--markdown", "ci.md"],
        cwd=project, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    gates = {g["gate"]: g for g in json.loads((project / "ci.json").read_text())["gates"]}
    assert gates["budgets"]["status"] in ("skipped", "not_applicable", "passed"), gates["budgets"]
    for gate in gates.values():
        assert gate["status"] in ("passed", "skipped", "not_applicable"), gate
        if gate["status"] != "passed":
            assert gate["summary"], gate  # a reason, never a silent skip
