"""Token builds and divergence scans as domain events (``tokens.built``, ``tokens.divergence``).

The metrics domain computes token divergence per app (the seed's "< 5% overrides per app") from
these events; the payloads are documented next to the constants in :mod:`charter.events`.
:func:`record_build` and :func:`record_divergence` take an open :class:`~charter.runtime.Runtime`
and append the event in one write transaction (published on the bus after commit);
:func:`record_in_project` opens a project's runtime for the CLI's ``--record``.

Only these functions import the database stack; a plain ``charter tokens build`` never does.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from charter.events import Event
    from charter.runtime import Runtime
    from charter.tokens.build import BuildResult
    from charter.tokens.divergence import DivergenceReport


def built_payload(result: BuildResult) -> dict[str, Any]:
    """The ``tokens.built`` payload for a build result."""
    return {
        "name": result.name,
        "version": result.version,
        "previous": result.previous,
        "bump": result.bump,
        "released": result.released,
        "themes": result.themes,
        "tokens": result.tokens,
        "files": len(result.files),
        "contrast_checks": len(result.contrast),
        "contrast_failures": result.contrast_failures,
    }


def _record(rt: Runtime, event_type: str, payload: dict[str, Any]) -> Event:
    from charter import events

    with rt.write() as (conn, pending):
        event = events.record(conn, events.Event(type=event_type, payload=payload, domain="tokens"))
        pending.append(event)
    return event


def record_build(rt: Runtime, result: BuildResult) -> Event:
    """Append a ``tokens.built`` event for ``result``; returns it with its id."""
    from charter.events import TOKENS_BUILT

    return _record(rt, TOKENS_BUILT, built_payload(result))


def record_divergence(rt: Runtime, report: DivergenceReport) -> Event:
    """Append a ``tokens.divergence`` event for ``report``; returns it with its id."""
    from charter.events import TOKENS_DIVERGENCE

    return _record(rt, TOKENS_DIVERGENCE, report.event_payload())


def find_project(explicit: Path | None) -> Path | None:
    """``--project DIR``, else ``$CHARTER_PROJECT``, else the current folder when it holds
    ``charter.toml``."""
    import os

    if explicit is not None:
        return explicit
    env = os.environ.get("CHARTER_PROJECT")
    if env:
        return Path(env)
    cwd = Path.cwd()
    return cwd if (cwd / "charter.toml").is_file() else None


def record_in_project(project_dir: Path, what: BuildResult | DivergenceReport) -> Event:
    """Open the project's runtime (its configured database, migrated), record, close."""
    from charter.config import load_settings
    from charter.runtime import Runtime
    from charter.tokens.divergence import DivergenceReport

    rt = Runtime.open(load_settings(project_dir, worker=False))
    try:
        if isinstance(what, DivergenceReport):
            return record_divergence(rt, what)
        return record_build(rt, what)
    finally:
        rt.close()
