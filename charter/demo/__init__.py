"""The bundled demo project: Lumen, a fictional analytics SaaS company (English and German)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from charter.auth.roles import SYSTEM
from charter.db.tables import entries
from charter.runtime import Runtime

DEMO_DIR = Path(__file__).parent


def load_demo_content(rt: Runtime) -> int:
    """Import the demo entries into an empty store; returns how many were imported (0 if not empty)."""
    from charter.content.transfer import import_entries, read_lines

    with rt.read() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one():
            return 0
    rows = read_lines(DEMO_DIR / "content" / "entries.jsonl")
    counts = import_entries(rt, SYSTEM, rows, source="demo")
    return counts["created"]
