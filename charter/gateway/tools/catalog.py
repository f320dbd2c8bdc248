"""What ``charter tools`` shows and checks: the registry's tools, one tool's versions, the
classified difference between two versions, and the semver check of every file.

Versions are classified with the content types' classifier (:func:`charter.schemas.compat.classify_release`).
The tool consumes its arguments, so they follow the BACKWARD policy: a change that can make
arguments valid under the old version invalid under the new one (a new required argument, a
narrower type, a removed enum value) is breaking and needs a major; an added optional argument is a
minor. The model and the client consume the result, so it follows FORWARD: a result valid under the
new version must still be understood by a reader of the old one. Descriptions are patches.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from charter.exceptions import ConfigError
from charter.gateway.tools.registry import Tool, ToolRegistry
from charter.schemas.compat import Version, bump_between, classify_release
from charter.schemas.compat.semver import bump_rank

PARTS = ("arguments", "result")
#: The compatibility policy of each part (see the module docstring).
POLICY = {"arguments": "BACKWARD", "result": "FORWARD"}


def load(project_dir: Path) -> ToolRegistry:
    return ToolRegistry.load(project_dir / "tools")


def summary(tool: Tool) -> dict[str, Any]:
    return {
        "name": tool.name,
        "description": tool.description,
        "risk": tool.risk,
        "latest": tool.latest.version,
        "versions": list(tool.versions),
        "offer": {"keys": list(tool.keys), "routes": list(tool.routes), "prompts": list(tool.prompts)},
        "file": str(tool.path) if tool.path else None,
    }


def describe(tool: Tool) -> dict[str, Any]:
    return {
        **summary(tool),
        "max_argument_bytes": tool.max_argument_bytes,
        "history": [
            {"version": v.version, "changelog": v.changelog, "arguments": v.arguments, "result": v.result}
            for v in tool.versions.values()
        ],
    }


def diff_versions(registry: ToolRegistry, name: str, old: str, new: str) -> dict[str, Any]:
    """Every change from ``old`` to ``new`` of a tool's argument and result schemas, classified,
    with the bump it needs and the bump the versions declare."""
    a, b = registry.version(name, old), registry.version(name, new)
    parts: dict[str, dict[str, Any]] = {}
    for part in PARTS:
        before, after = getattr(a, part), getattr(b, part)
        report = classify_release(before or {}, after or {}, POLICY[part])
        parts[part] = {
            "policy": report.policy,
            "required_bump": report.required_bump,
            "changes": [c.to_dict(report.policy) for c in report.changes],
        }
    required: str = max((str(p["required_bump"]) for p in parts.values()), key=bump_rank)
    declared = bump_between(Version.parse(old), Version.parse(new))
    return {
        "tool": name,
        "old": old,
        "new": new,
        "required_bump": required,
        "declared_bump": declared,
        "ok": declared == "downgrade" or bump_rank(declared) >= bump_rank(required),
        **parts,
    }


@dataclass
class CheckReport:
    tools: list[dict[str, Any]]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "tools": self.tools, "problems": self.problems}


def check(project_dir: Path) -> CheckReport:
    """Load and check every tool (files, keys and routes named, semver of each step between
    consecutive versions); a report, never an exception for a problem in the files."""
    from charter.gateway.config import load_config

    try:
        registry = load(project_dir)
        registry.check(load_config(project_dir))
    except ConfigError as exc:
        return CheckReport([], [f"{e.file or 'tools/'}#{e.pointer}: {e.message}" for e in exc.errors] or [str(exc)])
    tools, problems = [], []
    for tool in registry.tools.values():
        steps = []
        numbers = list(tool.versions)
        for old, new in pairwise(numbers):
            step = diff_versions(registry, tool.name, old, new)
            steps.append({k: step[k] for k in ("old", "new", "required_bump", "declared_bump", "ok")})
            if not step["ok"]:
                problems.append(
                    f"{tool.name} {old} -> {new}: the changes need a {step['required_bump']} version,"
                    f" {new} is a {step['declared_bump']} ({_first_breaking(step)})"
                )
        tools.append({"name": tool.name, "versions": numbers, "steps": steps})
    return CheckReport(tools, problems)


def _first_breaking(step: dict[str, Any]) -> str:
    for part in PARTS:
        for change in step[part]["changes"]:
            if change["level"] == step["required_bump"]:
                return f"{part}{change['pointer']}: {change['message']}"
    return "see charter tools diff"
