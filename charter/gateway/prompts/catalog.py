"""The prompt registry as use cases: what the CLI, the HTTP routes and the admin call.

Every function takes the :class:`~charter.runtime.Runtime`; moves take the acting
:class:`~charter.auth.roles.Actor` (they need the publish permission). Values returned are plain
JSON-ready dicts, documented per function; timestamps are ISO 8601 strings.
"""

from __future__ import annotations

import difflib
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import yaml

from charter.gateway import get_gateway
from charter.gateway.prompts import labels as labels_mod
from charter.gateway.tables import gateway_drafts, prompt_releases

if TYPE_CHECKING:
    from charter.auth.roles import Actor
    from charter.gateway.prompts.registry import Prompt, PromptRegistry, PromptVersion
    from charter.runtime import Runtime


def registry(rt: Runtime) -> PromptRegistry:
    """The project's prompts (``prompts/*.yaml``), checked against model.yaml and content types."""
    return get_gateway(rt).prompts


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _iso(v) for k, v in row.items()}


def _released(conn: sa.Connection, name: str) -> dict[str, dict[str, Any]]:
    rows = conn.execute(sa.select(prompt_releases).where(prompt_releases.c.name == name))
    return {r.version: _row(dict(r._mapping)) for r in rows}


def list_prompts(rt: Runtime) -> list[dict[str, Any]]:
    """One summary per prompt: ``name``, ``description``, ``versions`` (ascending), ``latest``,
    ``labels`` (label -> version), ``released`` (versions), ``modified`` (released versions whose
    file content changed since: they refuse to run until restored) and ``flags`` (names)."""
    reg = registry(rt)
    out = []
    with rt.read() as conn:
        for prompt in reg.prompts.values():
            released = labels_mod.releases_of(conn, prompt.name)
            out.append(
                {
                    "name": prompt.name,
                    "description": prompt.description,
                    "versions": list(prompt.versions),
                    "latest": prompt.latest.version,
                    "labels": labels_mod.labels_of(conn, prompt.name),
                    "released": [v for v in prompt.versions if v in released],
                    "modified": [
                        v for v, fp in released.items() if v in prompt.versions and prompt.versions[v].fingerprint != fp
                    ],
                    "flags": [f.name for f in prompt.flags],
                }
            )
    return out


def _version(pv: PromptVersion, release: dict[str, Any] | None, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "version": pv.version,
        "changelog": pv.changelog,
        "route": pv.route,
        "output": (
            {
                "schema": pv.output.schema_id,
                "locale": pv.output.locale,
                "save_draft": pv.output.save_draft,
                "auto_publish": pv.output.auto_publish,
            }
            if pv.output
            else None
        ),
        "thresholds": pv.thresholds,
        "variables": pv.variables,
        "params": pv.params,
        "messages": pv.sources,
        "fingerprint": pv.fingerprint,
        "released": release is not None,
        "released_at": release["released_at"] if release else None,
        "released_by": release["released_by"] if release else None,
        "modified_since_release": bool(release and release["fingerprint"] != pv.fingerprint),
        "labels": sorted(label for label, v in labels.items() if v == pv.version),
    }


def describe_prompt(rt: Runtime, name: str) -> dict[str, Any]:
    """Everything about one prompt: ``versions`` (each with its changelog, route, output spec,
    thresholds, variables schema, message templates, release state and labels), ``labels``,
    ``flags``, ``history`` (every label move, oldest first) and ``evals`` (every eval report
    checked for it, newest first). NotFound for an unknown prompt."""
    prompt = registry(rt).get(name)
    with rt.read() as conn:
        labels = labels_mod.labels_of(conn, name)
        releases = _released(conn, name)
        history = [_row(m) for m in labels_mod.history(conn, name)]
        evals = [_row(e) for e in labels_mod.evals_of(conn, name)]
    return {
        "name": prompt.name,
        "description": prompt.description,
        "file": str(prompt.path),
        "versions": [_version(pv, releases.get(v), labels) for v, pv in prompt.versions.items()],
        "labels": labels,
        "flags": [
            {
                "name": f.name,
                "serve": f.serve,
                "percentage": f.percentage,
                "locales": list(f.locales),
                "markets": list(f.markets),
                "cohort_size": len(f.users),
            }
            for f in prompt.flags
        ],
        "history": history,
        "evals": evals,
    }


#: A version's keys that hold its message templates; every other key is a setting (route, params,
#: output, variables, eval, risk, changelog).
MESSAGE_KEYS = frozenset({"system", "template", "messages"})
DIFF_PARTS = ("all", "messages", "settings")


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (templates) as literal blocks, so a diff shows their lines as written."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # PyYAML falls back to a quoted style by itself where a block cannot hold the string exactly.
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _str)


def version_yaml(prompt: Prompt, version: str, part: str = "all") -> str:
    """A version's definition as YAML (as written in its file, keys sorted, templates as literal
    blocks); ``part`` is ``all``, ``messages`` (its message templates) or ``settings`` (the rest)."""
    if part not in DIFF_PARTS:
        raise ValueError(part)
    raw = prompt.get(version).raw
    if part != "all":
        raw = {k: v for k, v in raw.items() if (k in MESSAGE_KEYS) == (part == "messages")}
    if not raw:
        return ""
    return yaml.dump(raw, Dumper=_Dumper, sort_keys=True, allow_unicode=True, width=100)


def diff_versions(rt: Runtime, name: str, old: str, new: str, part: str = "all") -> str:
    """A unified diff between two versions' definitions (empty when they are the same), of the
    whole definition or one ``part`` of it (see :func:`version_yaml`). NotFound for an unknown
    prompt or version."""
    prompt = registry(rt).get(name)
    a = version_yaml(prompt, old, part).splitlines(keepends=True)
    b = version_yaml(prompt, new, part).splitlines(keepends=True)
    return "".join(difflib.unified_diff(a, b, f"{name}@{old}", f"{name}@{new}"))


def promote_prompt(
    rt: Runtime,
    actor: Actor,
    name: str,
    version: str,
    label: str,
    *,
    reason: str,
    report: Any,
    report_bytes: bytes | None = None,
) -> dict[str, Any]:
    """Move ``label`` to ``version`` if the eval report meets its thresholds (see
    :func:`charter.gateway.prompts.labels.promote`); returns the label move."""
    return labels_mod.promote(
        rt, registry(rt).get(name), version, label, actor=actor, reason=reason, report=report, report_bytes=report_bytes
    )


def rollback_prompt(rt: Runtime, actor: Actor, name: str, label: str, *, reason: str) -> dict[str, Any]:
    """Move ``label`` back to the version it served before; returns the label move."""
    return labels_mod.rollback(rt, registry(rt).get(name), label, actor=actor, reason=reason)


def list_drafts(
    rt: Runtime, *, status: str | None = None, prompt: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """AI drafts, newest first: ``entry_id``, ``call_id`` (its audit record), ``prompt``,
    ``prompt_version``, ``type``, ``risk`` (low | medium | high), ``reasons`` (the matching risk
    rules), ``status`` (needs_review | draft | published) and ``created_at``."""
    q = sa.select(gateway_drafts).order_by(gateway_drafts.c.created_at.desc()).limit(limit)
    if status:
        q = q.where(gateway_drafts.c.status == status)
    if prompt:
        q = q.where(gateway_drafts.c.prompt == prompt)
    with rt.read() as conn:
        return [_row(dict(r._mapping)) for r in conn.execute(q)]


async def run(rt: Runtime, name: str, variables: dict[str, Any], **options: Any) -> dict[str, Any]:
    """Run a prompt (see :func:`charter.gateway.prompts.run.run_prompt` for ``options``)."""
    from charter.gateway.prompts.run import run_prompt

    return await run_prompt(get_gateway(rt), name, variables, **options)
