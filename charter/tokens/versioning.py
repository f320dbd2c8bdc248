"""Versioning against the last released token set: diff, semver bump, changelog.

The last release is a snapshot file (``release.json`` next to the sources by default):

    {"name": "@acme/tokens", "version": "1.4.0",
     "themes": {"light": {"color.text.default": {"$type": "color", "$value": {…}}}},
     "changelog": [{"version": "1.4.0", "date": "2026-11-20", "bump": "minor", "changes": [...]}]}

Rules (semver for a token package): a removed token, a renamed token (a removal plus an addition
with the same type and value in the same theme) or a changed ``$type`` is **major**, and so is a
removed theme (its exports disappear); a new token or a new theme is **minor**; a changed value
is **patch** or **minor** by policy (``value_change``); newly deprecating a token is **minor**.
Building with ``--release`` writes the new snapshot with the bumped version and the changelog
entry; building without it only computes the version, so repeated builds are reproducible.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from charter.tokens.model import Problems

ORDER = {"none": 0, "patch": 1, "minor": 2, "major": 3}


class Change:
    """One difference from the last release. ``kind``: removed | renamed | type | added | value |
    deprecated | theme-removed | theme-added; ``bump``: the semver part it requires."""

    __slots__ = ("bump", "detail", "kind", "path", "themes")

    def __init__(self, kind: str, path: str, bump: str, themes: list[str] | None = None, detail: str = "") -> None:
        self.kind = kind
        self.path = path
        self.bump = bump
        self.themes: list[str] = [] if themes is None else themes
        self.detail = detail

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Change):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return f"Change({self.kind!r}, {self.path!r}, {self.bump!r}, {self.themes!r}, {self.detail!r})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": self.path,
            "bump": self.bump,
            "themes": list(self.themes),
            "detail": self.detail,
        }


class Diff:
    """The changes since ``previous`` (None: nothing released yet), the ``bump`` they need and
    the resulting ``version``."""

    __slots__ = ("bump", "changes", "previous", "version")

    def __init__(self, previous: str | None, bump: str, version: str, changes: list[Change]) -> None:
        self.previous = previous
        self.bump = bump
        self.version = version
        self.changes = changes

    def __repr__(self) -> str:
        return f"Diff({self.previous!r} -> {self.version!r}, {self.bump}, {len(self.changes)} changes)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "previous": self.previous,
            "bump": self.bump,
            "version": self.version,
            "changes": [c.to_dict() for c in self.changes],
        }


def snapshot(themes: list[Any]) -> dict[str, dict[str, Any]]:
    """``{theme: {path: {"$type", "$value"[, "$deprecated"]}}}`` of resolved tokens."""
    out: dict[str, dict[str, Any]] = {}
    for theme in themes:
        entries: dict[str, Any] = {}
        for t in theme.tokens:
            e: dict[str, Any] = {"$type": t.type, "$value": t.resolved}
            if t.deprecated:
                e["$deprecated"] = t.deprecated
            entries[t.path] = e
        out[theme.name] = entries
    return out


def load_release(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    import json

    problems = Problems()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.add(str(path), "", f"unreadable release snapshot: {exc}", "release")
        problems.raise_if_any(str(path))
    if type(data) is not dict or type(data.get("themes")) is not dict or not isinstance(data.get("version"), str):
        problems.add(str(path), "", "a release snapshot needs 'version' and 'themes'", "release")
        problems.raise_if_any(str(path))
    return data


def bump_version(version: str, bump: str) -> str:
    core = version.split("-")[0].split("+")[0]
    try:
        major, minor, patch = (int(x) for x in core.split("."))
    except ValueError:
        problems = Problems()
        problems.add(None, "/version", f"{version!r} is not a semantic version", "release")
        problems.raise_if_any("release snapshot")
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    if bump == "patch":
        return f"{major}.{minor}.{patch + 1}"
    return version


def _short(value: Any) -> str:
    import json

    text = json.dumps(value, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def diff(
    old: dict[str, Any] | None, new: dict[str, dict[str, Any]], value_change: str = "patch", initial: str = "1.0.0"
) -> Diff:
    """Compare a new snapshot with the last release; the proposed version comes with it."""
    if old is None:
        return Diff(None, "none", initial, [])
    changes: dict[tuple[str, str], Change] = {}

    def add(kind: str, path: str, bump: str, theme: str, detail: str = "") -> None:
        c = changes.setdefault((kind, path), Change(kind, path, bump, [], detail))
        c.themes.append(theme)

    old_themes: dict[str, dict[str, Any]] = old["themes"]
    for theme in old_themes.keys() - new.keys():
        add("theme-removed", theme, "major", theme)
    for theme in new.keys() - old_themes.keys():
        add("theme-added", theme, "minor", theme)
    for theme in sorted(old_themes.keys() & new.keys()):
        o, n = old_themes[theme], new[theme]
        removed = [p for p in o if p not in n]
        added = [p for p in n if p not in o]
        for p in removed:
            match = next(
                (a for a in added if n[a]["$type"] == o[p]["$type"] and n[a]["$value"] == o[p]["$value"]), None
            )
            if match is not None:
                added.remove(match)
                add("renamed", p, "major", theme, f"{p} -> {match}")
            else:
                add("removed", p, "major", theme)
        for p in added:
            add("added", p, "minor", theme)
        for p in o.keys() & n.keys():
            if o[p]["$type"] != n[p]["$type"]:
                add("type", p, "major", theme, f"{o[p]['$type']} -> {n[p]['$type']}")
            elif o[p]["$value"] != n[p]["$value"]:
                add("value", p, value_change, theme, f"{_short(o[p]['$value'])} -> {_short(n[p]['$value'])}")
            if n[p].get("$deprecated") and not o[p].get("$deprecated"):
                add(
                    "deprecated", p, "minor", theme, str(n[p]["$deprecated"]) if n[p]["$deprecated"] is not True else ""
                )
    ordered = sorted(changes.values(), key=lambda c: (-ORDER[c.bump], c.kind, c.path))
    bump = max((c.bump for c in ordered), key=ORDER.__getitem__, default="none")
    return Diff(old["version"], bump, bump_version(old["version"], bump), ordered)


_HEADINGS = [
    ("major", "Breaking changes (major)"),
    ("minor", "Additions (minor)"),
    ("patch", "Value changes (patch)"),
]
_VERBS = {
    "removed": "Removed",
    "renamed": "Renamed",
    "type": "Changed the type of",
    "added": "Added",
    "value": "Changed the value of",
    "deprecated": "Deprecated",
    "theme-removed": "Removed theme",
    "theme-added": "Added theme",
}


def _today() -> str:
    import time  # not datetime: its import is a noticeable share of a whole build

    return time.strftime("%Y-%m-%d", time.gmtime())


def changelog_entry(d: Diff, date: str | None = None) -> dict[str, Any]:
    return {
        "version": d.version,
        "date": date or _today(),
        "bump": d.bump if d.previous else "initial",
        "changes": [c.to_dict() for c in d.changes],
    }


def render_changelog(entries: list[dict[str, Any]]) -> str:
    """Markdown, newest first."""
    lines = ["# Changelog", ""]
    for entry in entries:
        lines += [f"## {entry['version']} ({entry['date']})", ""]
        changes = entry.get("changes") or []
        if not changes:
            lines += ["- First release." if entry.get("bump") == "initial" else "- No token changes.", ""]
            continue
        for bump, heading in _HEADINGS:
            group = [c for c in changes if c["bump"] == bump]
            if not group:
                continue
            lines += [f"### {heading}", ""]
            for c in group:
                themes = (
                    f" (themes: {', '.join(c['themes'])})"
                    if c.get("themes") and c["kind"] not in ("theme-added", "theme-removed")
                    else ""
                )
                detail = f": {c['detail']}" if c.get("detail") else ""
                lines.append(f"- {_VERBS.get(c['kind'], c['kind'])} `{c['path']}`{detail}{themes}")
            lines.append("")
    return "\n".join(lines)


def plan(
    themes: list[Any],
    release_path: Path,
    *,
    value_change: str = "patch",
    initial: str = "1.0.0",
    name: str | None = None,
    need_snapshot: bool = True,
) -> tuple[Diff, dict[str, Any], str]:
    """(diff, the snapshot to write on release, CHANGELOG.md text) for a build. Without a last
    release and without ``need_snapshot`` the snapshot is not computed (its ``themes`` is empty)."""
    if value_change not in ("patch", "minor"):
        problems = Problems()
        problems.add(None, "/value_change", "value-change policy must be 'patch' or 'minor'", "release")
        problems.raise_if_any("versioning")
    old = load_release(release_path)
    new = snapshot(themes) if old is not None or need_snapshot else {}
    d = diff(old, new, value_change, initial)
    history = list(old.get("changelog") or []) if old else []
    if old is None or d.bump != "none":
        history = [changelog_entry(d), *history]
    release = {"name": name or (old or {}).get("name"), "version": d.version, "themes": new, "changelog": history}
    return d, release, render_changelog(history)
