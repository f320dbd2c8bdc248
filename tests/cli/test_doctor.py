"""``charter doctor`` against records written behind Charter's back (raw SQL): reads degrade to
a clear 409 for the record (or leave it out of a list) instead of a 500; the doctor lists the
records and ``--quarantine`` repairs them, keeping the originals in the audit log."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from charter.audit import list_audit
from charter.cli.errors import run_cli
from charter.cli.main import _build
from charter.db.tables import audit_log, revisions
from charter.runtime import Runtime


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        run_cli(_build(), list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_doctor_finds_and_quarantines_records_written_behind_charters_back(
    client: TestClient,
    runtime: Runtime,
    tokens: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = client.get("/v1/pages/about").json()
    entry_id, number = page["id"], page["revision"]
    assert page["type"] == "page"
    backend = runtime.engine.dialect.name
    # What an older version could have stored: on SQLite the JSON text itself; PostgreSQL's jsonb
    # refuses lone surrogates and NaN, but keeps numbers no double can hold.
    with runtime.engine.begin() as conn:
        stored = conn.execute(
            sa.select(sa.cast(revisions.c.data, sa.Text)).where(
                revisions.c.entry_id == entry_id, revisions.c.number == number
            )
        ).scalar_one()
        data = json.loads(stored)
        bad = r'"\ud800"' if backend == "sqlite" else "1e400"
        text = json.dumps(data).replace(json.dumps(data["en"]["title"]), bad, 1)
        value = ":d" if backend == "sqlite" else "CAST(:d AS jsonb)"
        conn.execute(
            sa.text(f"UPDATE revisions SET data = {value} WHERE entry_id = :e AND number = :n"),
            {"d": text, "e": entry_id, "n": number},
        )
        audit_bad = '{"price": NaN}' if backend == "sqlite" else '{"price": 99999999999999999999999}'
        conn.execute(
            sa.text(
                "INSERT INTO audit_log (actor, action, subject_type, subject_id, detail, at) "
                f"VALUES ('sql:x', 'raw.write', 'entry', :e, {value}, CURRENT_TIMESTAMP)"
            ),
            {"e": entry_id, "d": audit_bad},
        )
    runtime.cache.clear()  # the page may have been cached before the raw write
    admin = {"Authorization": f"Bearer {tokens['admin']}"}

    # Reads degrade: 409 naming the record for it, left out of lists, never a 500.
    r = client.get(f"/v1/entries/page/{entry_id}")
    assert r.status_code == 409, r.text
    assert r.json()["type"].endswith("/unservable-record") and "charter doctor --quarantine" in r.json()["detail"]
    assert r.json()["errors"][0]["pointer"] == "/en/title"
    listed = client.get("/v1/entries/page?limit=100")
    assert listed.status_code == 200 and entry_id not in [e["id"] for e in listed.json()["items"]]
    assert client.get(f"/v1/manage/entries/{entry_id}/revisions", headers=admin).status_code == 200
    audit = client.get("/v1/manage/audit", headers=admin)
    assert audit.status_code == 200
    assert any("unservable" in (a["detail"] or {}) for a in audit.json()), audit.json()

    project = str(runtime.settings.project_dir)
    monkeypatch.setenv("CHARTER_DATABASE_URL", runtime.settings.resolved_database_url())
    code, out, _ = cli(capsys, "doctor", "--project", project, "--json")
    assert code == 1
    findings = json.loads(out)["findings"]
    assert {(f["table"], f["pointer"]) for f in findings} == {("revisions", "/en/title"), ("audit_log", "/price")}

    code, out, err = cli(capsys, "doctor", "--project", project, "--quarantine")
    assert code == 0 and "quarantined 2 record(s)" in out, (out, err)
    code, out, err = cli(capsys, "doctor", "--project", project)
    assert code == 0 and "every stored value can be served" in out, (out, err)

    r = client.get(f"/v1/entries/page/{entry_id}")
    assert r.status_code == 200, r.text
    with runtime.read() as conn:
        notes = [a for a in list_audit(conn, subject_type="revisions") if a["action"] == "doctor.quarantine"]
        assert notes and notes[0]["detail"]["replaced"][0]["pointer"] == "/en/title"
        original = notes[0]["detail"]["replaced"][0]["original"]
        # PostgreSQL keeps 1e400 as an exact numeric and gives it back as 401 digits.
        assert (original == r'"\ud800"') if backend == "sqlite" else (json.loads(original) == 10**400)
        assert conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one() > 0
