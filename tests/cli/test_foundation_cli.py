"""The foundation's CLI doors: init, serve, schema validate, content import/export, tokens.
Each runs through the real root command; bad input is a clear message and exit 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from charter.cli.errors import run_cli
from charter.cli.main import _build
from charter.config import load_settings
from charter.db.tables import entries
from charter.runtime import Runtime
from tests.services import free_port

APP = _build()


def charter(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``charter ARGS`` in process; (exit code, stdout, stderr)."""
    code = 0
    try:
        run_cli(APP, list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    target = tmp_path / "site"
    code, out, _ = charter(capsys, "init", str(target))
    assert code == 0 and "Created a Charter project" in out
    return target


def count_entries(project: Path) -> int:
    rt = Runtime.open(load_settings(project, worker=False))
    try:
        with rt.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one())
    finally:
        rt.close()


def test_init_writes_a_project_and_refuses_to_overwrite(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (project / "charter.toml").exists() and (project / "content-types" / "page.schema.json").exists()
    assert ".charter/" in (project / ".gitignore").read_text()
    code, _, err = charter(capsys, "init", str(project))
    assert code == 1 and "exists; pass --force" in err
    assert charter(capsys, "init", str(project), "--force")[0] == 0


def test_schema_validate(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = charter(capsys, "schema", "validate", "--project", str(project))
    assert code == 0 and out.count("ok") == 5
    bad = project / "content-types" / "promo.schema.json"
    bad.write_text(json.dumps({"$id": "promo.v2", "version": "1.0.0", "type": "object", "properties": {"color": {}}}))
    code, out, _ = charter(capsys, "schema", "validate", "--project", str(project))
    assert code == 1
    assert f"{bad}#/$id: $id major v2 does not match version 1.0.0" in out.replace("\n", " ") or (
        "promo.schema.json#/$id: $id major v2 does not match version 1.0.0" in out
    )
    assert "promo.schema.json#/properties/color: 'color' is a presentation field" in out
    code, out, _ = charter(capsys, "schema", "validate", "--json", str(bad))
    report = json.loads(out)
    assert (
        code == 1
        and report["valid"] == []
        and {e["pointer"] for e in report["errors"]} == {"/$id", "/properties/color"}
    )
    (project / "content-types" / "broken.schema.json").write_text('{"$id": "broken.v1",')
    code, out, _ = charter(capsys, "schema", "validate", "--project", str(project))
    assert code == 1 and "broken.schema.json#: invalid JSON at line 1" in out


def test_tokens_create_list_revoke(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = charter(
        capsys, "tokens", "create", "--role", "publisher", "--name", "ci", "--project", str(project)
    )
    assert code == 0 and out.startswith("chr_") and len(out.strip().splitlines()) == 1
    assert "created publisher token 'ci'" in err
    secret = out.strip()
    code, out, _ = charter(capsys, "tokens", "list", "--project", str(project))
    assert code == 0 and "ci" in out and "publisher" in out and secret not in out
    code, _, err = charter(capsys, "tokens", "create", "--role", "owner", "--project", str(project))
    assert code == 1 and "unknown role 'owner'; use one of viewer, editor, publisher, admin" in err
    code, _, err = charter(
        capsys, "tokens", "revoke", "00000000-0000-0000-0000-000000000000", "--project", str(project)
    )
    assert code == 1 and "no active token" in err


def test_content_export_import_round_trip(tmp_path: Path, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exported = tmp_path / "demo.jsonl"
    code, _, err = charter(capsys, "content", "export", "--demo", "--out", str(exported))
    assert code == 0 and "exported 18 entries" in err
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    assert len(lines) == 18 and {"id", "type", "status", "revision", "data"} <= set(lines[0])
    code, _, err = charter(capsys, "content", "import", str(exported), "--project", str(project))
    assert code == 0 and "created 18, updated 0, published 17" in err and "importing demo.jsonl" in err
    again = tmp_path / "again.jsonl"
    assert charter(capsys, "content", "export", "--project", str(project), "--out", str(again))[0] == 0
    strip = lambda rows: sorted((r["id"], r["type"], r["status"], json.dumps(r["data"], sort_keys=True)) for r in rows)  # noqa: E731
    assert strip(json.loads(x) for x in again.read_text().splitlines()) == strip(lines)
    code, out, _ = charter(capsys, "content", "export", "--project", str(project), "--type", "pricing-plan")
    assert code == 0 and len(out.splitlines()) == 3


def test_a_bad_import_names_every_bad_line_and_imports_nothing(
    tmp_path: Path, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = {
        "type": "pricing-plan",
        "data": {
            "en": {"id": "x", "name": "X", "price": 1, "currency": "EUR", "features": []},
            "de-DE": {"name": "X", "features": []},
        },
    }
    bad_lines = tmp_path / "bad.jsonl"
    bad_lines.write_text(json.dumps(plan) + "\n{not json\n" + json.dumps({"type": 3}) + "\n")
    code, _, err = charter(capsys, "content", "import", str(bad_lines), "--project", str(project))
    assert code == 1 and "2 bad line(s)" in err and "#/2: invalid JSON" in err and "#/3: each line needs" in err
    invalid = tmp_path / "invalid.jsonl"
    wrong = {
        **plan,
        "data": {"en": {**plan["data"]["en"], "id": "y", "price": -1}, "de-DE": {"name": "Y", "features": []}},
    }
    invalid.write_text(json.dumps(plan) + "\n" + json.dumps(wrong) + "\n")
    code, _, err = charter(capsys, "content", "import", str(invalid), "--project", str(project))
    assert code == 1 and "line 2" in err and "/2/en/price" in err
    assert count_entries(project) == 0  # the valid first line was not written either
    code, _, err = charter(capsys, "content", "import", str(tmp_path / "missing.jsonl"), "--project", str(project))
    assert code == 2 and "does not exist" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = charter(capsys, "serve", "--port", "0")
    assert code == 2 and "--port" in err
    assert charter(capsys, "no-such-command")[0] == 2


@pytest.mark.slow
def test_serve_runs_the_demo_on_the_given_port(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "CHARTER_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "charter", "serve", "--demo", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        # A file, not a pipe nobody reads: a chatty start-up must never block on a full pipe.
        stdout=(tmp_path / "serve.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 180  # the start-up loads and dates the demo; 2 busy cores take a while
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/v1/pages/home?locale=de-DE", timeout=30)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text(errors="replace")[-3000:]
                assert time.monotonic() < deadline, "charter serve did not start"
                time.sleep(0.25)
        assert r.status_code == 200 and r.json()["locale"]["resolved"] == "de-DE"
        index = httpx.get(f"http://127.0.0.1:{port}/", timeout=30).json()
        assert index["demo"] is True and index["links"]["example"].startswith("/v1/pages/home")
        assert (Path(os.environ["CHARTER_DEMO_DATA"]) / "charter.db").exists()  # not in the working folder
        assert not (tmp_path / ".charter-demo").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
