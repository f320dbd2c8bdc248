"""The demo project's tokens build clean in every theme; builds and scans are recorded as events."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from charter.config import DEMO_DIR
from charter.db.tables import events as events_table
from charter.events import TOKENS_BUILT, TOKENS_DIVERGENCE
from charter.runtime import Runtime
from charter.tokens.build import BuildOptions, build
from charter.tokens.check import check_tokens
from charter.tokens.divergence import ScanOptions, scan
from charter.tokens.metrics import record_build, record_divergence
from tests.tokens.conftest import cli, write

DEMO_TOKENS = DEMO_DIR / "tokens"
THEMES = [f"{b}-{m}-{mode}" for b in ("lumen", "nova") for m in ("global", "dach") for mode in ("light", "dark")]


def test_demo_tokens_build_clean(tmp_path: Path) -> None:
    result = build(BuildOptions(sources=[DEMO_TOKENS], out=tmp_path / "dist", name="@lumen/tokens"))
    assert result.themes == THEMES
    assert result.contrast and result.contrast_failures == 0
    assert len(result.contrast) == 12 * len(THEMES)
    css = (tmp_path / "dist" / "css" / "nova-dach-dark.css").read_text()
    assert "--color-action-primary-background: #7c3aed;" in css  # brand
    assert "--text-heading: 700 1.875rem/1.2 " in css  # market
    assert "--color-surface-default: #020617;" in css  # mode
    assert "--button-secondary-radius: 999px;" in css  # $extends
    assert "--base-space-4: 16px;" in css  # the seed's short form
    pkg = json.loads((tmp_path / "dist" / "package.json").read_text())
    assert pkg["exports"]["."]["import"] == "./js/lumen-global-light.js"


def test_demo_check_for_the_admin(tmp_path: Path) -> None:
    check = check_tokens([DEMO_TOKENS], themes=["nova-global-dark"])
    assert check.ok, check.errors
    (theme,) = check.themes
    swatch = {s.path: s for s in theme.swatches}["color.text.link"]
    assert (swatch.hex, swatch.alias) == ("#a78bfa", "brand.color.primary-light")
    assert all(r.passed for r in theme.contrast)


def test_demo_tokens_fail_when_a_pair_is_broken(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    shutil.copytree(DEMO_TOKENS, tokens)
    dark = json.loads((tokens / "modes" / "dark.tokens.json").read_text())
    dark["color"]["text"]["muted"] = {"$value": "{base.color.neutral.700}"}
    write(tokens / "modes" / "dark.tokens.json", dark)
    check = check_tokens([tokens])
    assert not check.ok
    assert {e.message.split(" in theme ")[1].split(":")[0] for e in check.errors} == {
        f"'{t}'" for t in THEMES if t.endswith("dark")
    }


def test_build_and_divergence_are_recorded_as_events(runtime: Runtime, tmp_path: Path) -> None:
    """On SQLite and PostgreSQL (the ``runtime`` fixture's backends)."""
    result = build(BuildOptions(sources=[DEMO_TOKENS], themes=["lumen-global-light"]))
    built = record_build(runtime, result)
    write(tmp_path / "web" / "a.css", ".a { color: #fff; padding: var(--space-inset-md) }")
    scanned = record_divergence(runtime, scan(ScanOptions(paths=[str(tmp_path / "web")])))
    with runtime.read() as conn:
        rows = conn.execute(
            sa.select(events_table).where(events_table.c.domain == "tokens").order_by(events_table.c.id)
        ).all()
    assert [(r.id, r.type) for r in rows] == [(built.id, TOKENS_BUILT), (scanned.id, TOKENS_DIVERGENCE)]
    assert rows[0].payload["themes"] == ["lumen-global-light"] and rows[0].payload["contrast_failures"] == 0
    assert rows[1].payload["apps"][0] | {"name": "web"} == {
        "name": "web",
        "percent": 50.0,
        "counted": 2,
        "divergent": 1,
        "hard_coded": 1,
        "base_token": 0,
        "files": 1,
        "failed": True,
    }


def test_record_flag_writes_to_the_project_database(
    project_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "project.db"
    (project_dir / "charter.toml").write_text(f'[charter]\ndatabase_url = "sqlite:///{db}"\n')
    run = cli(
        capsys,
        "build",
        "--project",
        str(project_dir),
        "-o",
        str(tmp_path / "dist"),
        "-t",
        "lumen-global-light",
        "--record",
    )
    assert run.code == 0, run.err
    assert "recorded tokens.built event" in run.err
    write(tmp_path / "web" / "a.css", ".a { color: var(--color-text) }")
    run = cli(capsys, "divergence", str(tmp_path / "web"), "--project", str(project_dir), "--record")
    assert run.code == 0 and "recorded tokens.divergence event" in run.err
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        types = [r.type for r in conn.execute(sa.select(events_table.c.type).where(events_table.c.domain == "tokens"))]
    engine.dispose()
    assert types == [TOKENS_BUILT, TOKENS_DIVERGENCE]


def test_record_needs_a_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHARTER_PROJECT", raising=False)
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "web" / "a.css", ".a { color: var(--c) }")
    run = cli(capsys, "divergence", "web", "--record")
    assert run.code == 1 and "--record needs --project DIR" in run.err
