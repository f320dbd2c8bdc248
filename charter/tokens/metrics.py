"""Record token builds and divergence scans as events in a Charter project's database.

Only the ``--record`` path imports the database stack (SQLAlchemy, the runtime); a plain
``charter tokens build`` never does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def find_project(explicit: Path | None) -> Path | None:
    """``--project DIR``, else the current folder when it holds ``charter.toml``."""
    if explicit is not None:
        return explicit
    cwd = Path.cwd()
    return cwd if (cwd / "charter.toml").is_file() else None


def record(project_dir: Path, event_type: str, payload: dict[str, Any]) -> int | None:
    """Append one ``tokens`` event (``tokens.built`` / ``tokens.divergence``); return its id."""
    from charter import events
    from charter.config import load_settings
    from charter.runtime import Runtime

    rt = Runtime.open(load_settings(project_dir))
    try:
        with rt.write() as (conn, pending):
            event = events.record(conn, events.Event(type=event_type, payload=payload, domain="tokens"))
            pending.append(event)
        return event.id
    finally:
        rt.close()


def built_payload(result: Any) -> dict[str, Any]:
    return {
        "version": result.version,
        "tokens": result.tokens,
        "themes": result.themes,
        "contrast_failures": result.contrast_failures,
    }
