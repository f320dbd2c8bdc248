"""A Changesets-compatible release workflow for token packages (``charter tokens changeset add``,
``charter tokens version``).

Files are Changesets' own: ``.changeset/<name>.md`` with a front matter mapping package names to a
bump and the summary as the body, so the ``changeset`` CLI and its bots read them too::

    ---
    "@acme/base-tokens": minor
    "@acme/brand-tokens": patch
    ---

    Add the warning palette.

Packages: the root ``package.json``, or with ``"workspaces": ["packages/*", …]`` every package those
globs name. A *token package* says where its token sources are in ``package.json``
(``"charter": {"tokens": ["tokens"]}``, paths relative to the package; default ``tokens/`` when that
folder exists) and keeps its last released snapshot in ``release.json`` beside ``package.json``.
A brand package that builds on a base package lists the base's sources first
(``["../base/tokens", "tokens"]``) and depends on it in ``package.json``.

``version`` computes every token package's bump from its token diff (:mod:`charter.tokens.versioning`)
and compares it with the changesets: a declared bump smaller than the diff needs is refused (naming
the package, both bumps and the changes); a package whose tokens changed without any changeset is
refused too, unless a package it depends on is released in the same run (its changes flow from
there: it is bumped like Changesets bumps dependents, at least ``patch``, or more if its own diff
needs it). Then, all at once: ``package.json`` versions and the internal dependency ranges,
``CHANGELOG.md`` (Changesets' layout plus the token changes), ``release.json`` snapshots, and the
consumed changeset files are deleted. Nothing is written when anything is refused.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from charter.tokens.model import Problems
from charter.tokens.versioning import ORDER, bump_version

BUMPS = ("patch", "minor", "major")
_FRONT = re.compile(r'^\s*(?:"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([^:\s][^:]*?))\s*:\s*(\w+)\s*$')


class Package:
    """A package of the workspace (a token package when ``sources`` is not empty)."""

    __slots__ = ("data", "dir", "name", "sources", "version")

    def __init__(self, dir: Path, data: dict[str, Any], sources: list[Path]) -> None:
        self.dir = dir
        self.data = data
        self.name: str = data["name"]
        self.version: str = data["version"]
        self.sources = sources

    def __repr__(self) -> str:
        return f"Package({self.name!r} {self.version})"

    @property
    def internal_deps(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for key in ("dependencies", "peerDependencies", "devDependencies"):
            deps = self.data.get(key)
            if type(deps) is dict:
                out.update({k: str(v) for k, v in deps.items()})
        return out


class Changeset:
    __slots__ = ("bumps", "file", "summary")

    def __init__(self, file: Path, bumps: dict[str, str], summary: str) -> None:
        self.file = file
        self.bumps = bumps
        self.summary = summary


class Release:
    """What ``version`` does to one package."""

    def __init__(self, package: Package, bump: str, version: str, diff: Any, summaries: list[tuple[str, str]]) -> None:
        self.package = package
        self.bump = bump
        self.version = version
        self.diff = diff
        self.summaries = summaries  # (bump, summary)
        self.dependencies: list[tuple[str, str]] = []  # internal dependencies released too

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.package.name,
            "previous": self.package.version,
            "version": self.version,
            "bump": self.bump,
            "token_bump": self.diff.bump if self.diff else "none",
            "changes": [c.to_dict() for c in self.diff.changes] if self.diff else [],
            "dependencies": [f"{n}@{v}" for n, v in self.dependencies],
        }


def _read_json(path: Path, problems: Problems) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.add(str(path), "", f"unreadable JSON: {exc}", "package")
        return None


def packages(root: Path) -> list[Package]:
    """The workspace's packages (root ``package.json`` and its ``workspaces`` globs)."""
    problems = Problems()
    root_json = root / "package.json"
    if not root_json.is_file():
        problems.add(str(root_json), "", "no package.json: run this at the root of the token package(s)", "package")
        problems.raise_if_any("packages")
    data = _read_json(root_json, problems)
    problems.raise_if_any("packages")
    dirs = [root]
    workspaces = data.get("workspaces") if type(data) is dict else None
    if type(workspaces) is dict:
        workspaces = workspaces.get("packages")
    if type(workspaces) is list:
        dirs = sorted(
            {
                p.parent
                for pattern in workspaces
                if isinstance(pattern, str)
                for p in root.glob(f"{pattern}/package.json")
            }
        )
    out: list[Package] = []
    for d in dirs:
        pj = d / "package.json"
        pdata = _read_json(pj, problems)
        if (
            type(pdata) is not dict
            or not isinstance(pdata.get("name"), str)
            or not isinstance(pdata.get("version"), str)
        ):
            problems.add(str(pj), "", "a package.json needs a 'name' and a 'version'", "package")
            continue
        cfg = pdata.get("charter")
        listed = cfg.get("tokens") if type(cfg) is dict else None
        if listed is None:
            sources = [d / "tokens"] if (d / "tokens").is_dir() else []
        elif type(listed) is list and all(isinstance(s, str) for s in listed):
            sources = [d / s for s in listed]
        else:
            problems.add(str(pj), "/charter/tokens", "must be an array of source paths", "package")
            continue
        out.append(Package(d, pdata, sources))
    names = [p.name for p in out]
    for n in {n for n in names if names.count(n) > 1}:
        problems.add(str(root_json), "/workspaces", f"two packages are named {n!r}", "package")
    problems.raise_if_any("packages")
    return out


def _slug(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())[:5]
    return "-".join(words) or "changeset"


def add(root: Path, bumps: dict[str, str], summary: str) -> Path:
    """Write ``.changeset/<slug>.md``; package names must exist and bumps be patch/minor/major."""
    problems = Problems()
    known = {p.name for p in packages(root)}
    if not bumps:
        problems.add(None, "/packages", "name at least one package", "changeset")
    for name, bump in bumps.items():
        if name not in known:
            problems.add(
                None, "/packages", f"unknown package {name!r} (known: {', '.join(sorted(known))})", "changeset"
            )
        if bump not in BUMPS:
            problems.add(None, "/bump", f"bump must be one of {', '.join(BUMPS)}, not {bump!r}", "changeset")
    if not summary.strip():
        problems.add(None, "/summary", "a changeset needs a summary (-m)", "changeset")
    problems.raise_if_any("changeset")
    folder = root / ".changeset"
    folder.mkdir(exist_ok=True)
    path = folder / f"{_slug(summary)}-{os.urandom(3).hex()}.md"
    front = "\n".join(f"{json.dumps(n)}: {b}" for n, b in bumps.items())
    from charter.tokens.build import write_file_atomic

    write_file_atomic(path, f"---\n{front}\n---\n\n{summary.strip()}\n")
    return path


def read(root: Path, known: set[str]) -> list[Changeset]:
    """Every ``.changeset/*.md`` (not ``README.md``), parsed; problems name file and line."""
    problems = Problems()
    out: list[Changeset] = []
    folder = root / ".changeset"
    for path in sorted(folder.glob("*.md")) if folder.is_dir() else []:
        if path.name.lower() == "readme.md":
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        if not lines or lines[0].strip() != "---" or "---" not in [ln.strip() for ln in lines[1:]]:
            problems.add(str(path), "", "a changeset starts with a '---' front matter block", "changeset")
            continue
        end = 1 + [ln.strip() for ln in lines[1:]].index("---")
        bumps: dict[str, str] = {}
        for i, line in enumerate(lines[1:end], start=2):
            if not line.strip():
                continue
            m = _FRONT.match(line)
            if m is None:
                problems.add(str(path), f"/line/{i}", f"expected '\"package\": bump', not {line!r}", "changeset")
                continue
            name = (m.group(1) or m.group(2) or m.group(3) or "").strip()
            bump = m.group(4)
            if bump not in BUMPS:
                problems.add(
                    str(path), f"/line/{i}", f"bump must be one of {', '.join(BUMPS)}, not {bump!r}", "changeset"
                )
            elif name not in known:
                problems.add(str(path), f"/line/{i}", f"unknown package {name!r}", "changeset")
            else:
                bumps[name] = bump
        out.append(Changeset(path, bumps, "\n".join(lines[end + 1 :]).strip()))
    problems.raise_if_any("changesets")
    return out


def plan(root: Path, value_change: str = "patch") -> tuple[list[Release], list[Changeset]]:
    """Every release ``version`` would make (in dependency order), or ``ValidationFailed``."""
    from charter.tokens.themes import load_themes
    from charter.tokens.versioning import plan as token_plan

    pkgs = packages(root)
    by_name = {p.name: p for p in pkgs}
    changesets = read(root, set(by_name))
    declared: dict[str, str] = {}
    summaries: dict[str, list[tuple[str, str]]] = {}
    for cs in changesets:
        for name, bump in cs.bumps.items():
            if ORDER[bump] > ORDER.get(declared.get(name, "none"), 0):
                declared[name] = bump
            summaries.setdefault(name, []).append((bump, cs.summary))
    diffs: dict[str, Any] = {}
    for p in pkgs:
        if p.sources:
            _, themes = load_themes(p.sources)
            diffs[p.name], _, _ = token_plan(themes, p.dir / "release.json", value_change=value_change, name=p.name)
    # Dependency order: a package after the internal packages it depends on (cycles keep file order).
    order: list[Package] = []
    seen: set[str] = set()

    def visit(p: Package, path: tuple[str, ...] = ()) -> None:
        if p.name in seen or p.name in path:
            return
        for dep in p.internal_deps:
            if dep in by_name:
                visit(by_name[dep], (*path, p.name))
        seen.add(p.name)
        order.append(p)

    for p in pkgs:
        visit(p)
    problems = Problems()
    releases: dict[str, Release] = {}
    for p in order:
        d = diffs.get(p.name)
        needed = d.bump if d is not None and d.previous is not None else "none"
        own = declared.get(p.name, "none")
        released_deps = [n for n in p.internal_deps if n in releases]
        where = str(p.dir / "package.json")
        if own != "none" and ORDER[own] < ORDER[needed]:
            changes = d.changes if d is not None else []
            causes = ", ".join(f"{c.kind} {c.path}" for c in changes if ORDER[c.bump] > ORDER[own])[:400]
            problems.add(
                where,
                "/version",
                f"{p.name}: the changesets declare a {own} bump, but the token changes need {needed} ({causes})",
                "changeset",
            )
            continue
        if own == "none" and needed != "none" and not released_deps:
            problems.add(
                where,
                "/version",
                f"{p.name}: its tokens changed ({needed} bump) but no changeset names it: "
                f"run charter tokens changeset add --package {p.name} --bump {needed}",
                "changeset",
            )
            continue
        bump = max(own, needed, "patch" if released_deps else "none", key=lambda b: ORDER[b])
        if bump == "none":
            continue
        r = Release(p, bump, bump_version(p.version, bump), d, summaries.get(p.name, []))
        r.dependencies = [(n, releases[n].version) for n in released_deps]
        releases[p.name] = r
    problems.raise_if_any("version")
    return [releases[p.name] for p in order if p.name in releases], changesets


_HEADINGS = (("major", "Major Changes"), ("minor", "Minor Changes"), ("patch", "Patch Changes"))


def changelog_section(r: Release) -> str:
    lines = [f"## {r.version}", ""]
    for bump, heading in _HEADINGS:
        items = [f"- {s}" for b, s in r.summaries if b == bump and s]
        if bump == "patch" and r.dependencies:
            items.append("- Updated dependencies")
            items.extend(f"  - {n}@{v}" for n, v in r.dependencies)
        if items:
            lines += [f"### {heading}", "", *items, ""]
    if r.diff is not None and r.diff.changes:
        lines += ["### Token changes", ""]
        lines += [f"- {c.bump}: {c.kind} `{c.path}`" + (f" ({c.detail})" if c.detail else "") for c in r.diff.changes]
        lines.append("")
    return "\n".join(lines)


def apply(root: Path, value_change: str = "patch") -> list[Release]:
    """Plan, then write every file (package.json, CHANGELOG.md, release.json) and delete the
    consumed changesets. Everything is rendered before the first write."""
    from charter.tokens.build import write_file_atomic
    from charter.tokens.themes import load_themes
    from charter.tokens.versioning import plan as token_plan

    releases, changesets = plan(root, value_change)
    new_versions = {r.package.name: r.version for r in releases}
    writes: list[tuple[Path, str]] = []
    for r in releases:
        p = r.package
        data = dict(p.data)
        data["version"] = r.version
        for key in ("dependencies", "peerDependencies", "devDependencies"):
            deps = data.get(key)
            if type(deps) is dict:
                data[key] = {n: (f"^{new_versions[n]}" if n in new_versions else v) for n, v in deps.items()}
        writes.append((p.dir / "package.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n"))
        log = p.dir / "CHANGELOG.md"
        old = log.read_text(encoding="utf-8") if log.is_file() else f"# {p.name}\n"
        head, _, rest = old.partition("\n")
        if head.startswith("# "):
            text = f"{head}\n\n{changelog_section(r)}\n{rest.lstrip(chr(10))}"
        else:
            text = f"# {p.name}\n\n{changelog_section(r)}\n{old}"
        writes.append((log, text.rstrip("\n") + "\n"))
        if p.sources:
            _, themes = load_themes(p.sources)
            _, doc, _ = token_plan(themes, p.dir / "release.json", value_change=value_change, name=p.name)
            doc["version"] = r.version
            if doc.get("changelog"):
                doc["changelog"][0]["version"] = r.version
                doc["changelog"][0]["bump"] = r.bump
            writes.append((p.dir / "release.json", json.dumps(doc, indent=2, ensure_ascii=False) + "\n"))
    for path, text in writes:
        write_file_atomic(path, text)
    for cs in changesets:
        cs.file.unlink(missing_ok=True)
    return releases
