"""Load token sources into themes: one :class:`Theme` per resolver input (or one ``default``).

Sources may be a resolver document (``*.resolver.json``, or any JSON with ``resolutionOrder``),
token files (DTCG or the seed's short form) merged in the order given, or a folder: a folder with
one resolver document uses it; otherwise every ``*.tokens.json``, ``*.tokens`` and ``*.json`` in
it (sorted, recursively, skipping hidden folders and the reserved files ``contrast.json``,
``release.json`` and ``package.json``) is merged into one set.

Theme names: with one modifier, the context (``dark``); with several, the contexts joined by
``-`` in resolution order (``acme-dark``); without modifiers, ``default``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from charter.tokens.aliases import resolve
from charter.tokens.merge import merge_sources
from charter.tokens.model import Problems, TokenSet
from charter.tokens.parser import load_json, parse_document, walk_token_objects
from charter.tokens.resolver import (
    CONTRAST_EXTENSION,
    ResolverDocument,
    compose,
    is_resolver,
    load_resolver,
    permutations,
    validate_input,
)
from charter.tokens.shortform import is_short_form, to_dtcg

RESERVED_FILES = frozenset({"contrast.json", "release.json", "package.json", "package-lock.json"})
_TOKEN_SUFFIXES = (".tokens.json", ".tokens", ".json")


# Plain classes rather than dataclasses, as everywhere on the build path (see model.TokenSet).
class Theme:
    """One resolved theme: its ``name``, the resolver ``inputs`` that made it, its tokens."""

    __slots__ = ("inputs", "name", "tokens")

    def __init__(self, name: str, inputs: dict[str, str], tokens: TokenSet) -> None:
        self.name = name
        self.inputs = inputs
        self.tokens = tokens

    def __repr__(self) -> str:
        return f"Theme({self.name!r}, {self.inputs!r}, {len(self.tokens)} tokens)"


class Sources:
    """What a build reads: the themes' inputs plus where the sources live."""

    __slots__ = ("base_dir", "compat", "contrast", "contrast_file", "files", "inputs", "resolver", "warnings")

    def __init__(
        self,
        base_dir: Path,
        files: list[Path],
        resolver: ResolverDocument | None = None,
        inputs: list[dict[str, str]] | None = None,
        contrast: list[dict[str, Any]] | None = None,
        contrast_file: str | None = None,
    ) -> None:
        self.base_dir = base_dir
        self.files = files
        self.resolver = resolver
        self.inputs: list[dict[str, str]] = [] if inputs is None else inputs
        self.contrast: list[dict[str, Any]] = [] if contrast is None else contrast
        self.contrast_file = contrast_file
        #: lenient reading (:mod:`charter.tokens.compat`) and the deviations it mapped, once each
        self.compat = False
        self.warnings: list[Any] = []

    def __repr__(self) -> str:
        return f"Sources({str(self.base_dir)!r}, files={[str(f) for f in self.files]!r})"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "default"


def theme_name(inputs: dict[str, str]) -> str:
    return _slug("-".join(inputs.values())) if inputs else "default"


def discover(paths: list[Path]) -> Sources:
    """Work out what ``paths`` are (resolver, token files, folders); raise on anything unusable."""
    problems = Problems()
    if not paths:
        problems.add(None, "", "no token sources given", "sources")
        problems.raise_if_any("token sources")
    files: list[Path] = []
    resolvers: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(
                f
                for f in p.rglob("*")
                if f.is_file()
                and f.name.endswith(_TOKEN_SUFFIXES)
                and f.name not in RESERVED_FILES
                and not any(part.startswith(".") or part == "node_modules" for part in f.relative_to(p).parts)
            )
            rs = [f for f in found if f.name.endswith(".resolver.json") or f.name == "resolver.json"]
            if rs:
                resolvers.extend(rs)
            else:
                files.extend(found)
        elif p.is_file():
            if p.name.endswith(".resolver.json") or p.name == "resolver.json":
                resolvers.append(p)
            else:
                files.append(p)
        else:
            problems.add(str(p), "", "no such file or folder", "sources")
    problems.raise_if_any("token sources")
    if len(resolvers) > 1:
        problems.add(
            str(resolvers[1]),
            "",
            f"several resolver documents found ({', '.join(map(str, resolvers))}); pass one",
            "sources",
        )
    if resolvers and files:
        problems.add(str(files[0]), "", "pass either a resolver document or token files, not both", "sources")
    if not resolvers and not files:
        problems.add(str(paths[0]), "", "no token files found (*.tokens.json, *.tokens, *.json)", "sources")
    problems.raise_if_any("token sources")
    base = (resolvers[0] if resolvers else files[0]).parent
    src = Sources(base_dir=base, files=files)
    if resolvers:
        src.resolver = load_resolver(resolvers[0])
        src.files = [resolvers[0]]
        contrast = src.resolver.extensions.get(CONTRAST_EXTENSION)
        if contrast is not None:
            src.contrast = contrast if type(contrast) is list else []
            src.contrast_file = str(resolvers[0])
    contrast_path = base / "contrast.json"
    if not src.contrast and contrast_path.is_file():
        data = load_json(contrast_path)
        src.contrast = data.get("pairs", []) if type(data) is dict else data
        src.contrast_file = str(contrast_path)
    return src


def select_inputs(src: Sources, wanted: list[str] | None) -> list[dict[str, str]]:
    """All permutations, or the listed ones: each item ``theme-name`` or ``mod=ctx,mod=ctx``."""
    if src.resolver is None:
        if wanted and any(w != "default" for w in wanted):
            problems = Problems()
            problems.add(None, "", f"themes {wanted} need a resolver document with modifiers", "input")
            problems.raise_if_any("themes")
        return [{}]
    doc = src.resolver
    every = permutations(doc)
    if not wanted:
        return every
    by_name = {theme_name(i): i for i in every}
    chosen: list[dict[str, str]] = []
    for item in wanted:
        if "=" in item:
            given = dict(part.split("=", 1) for part in item.split(",") if part)
            chosen.append(validate_input(doc, {k.strip(): v.strip() for k, v in given.items()}))
        elif item in by_name:
            chosen.append(by_name[item])
        else:
            problems = Problems()
            problems.add(str(doc.path), "/modifiers", f"unknown theme {item!r} (known: {', '.join(by_name)})", "input")
            problems.raise_if_any("themes")
    return chosen


def load_document(files: list[Path], problems: Problems, origins: dict[int, str]) -> dict[str, Any]:
    """Merge plain token files (DTCG or short form) into one document, later files winning."""
    merged: dict[str, Any] = {}
    for f in files:
        data = load_json(f)
        if type(data) is not dict:
            problems.add(str(f), "", "a token document must be a JSON object", "document")
            continue
        if is_resolver(data):
            problems.add(str(f), "", "this is a resolver document; name it *.resolver.json or pass it alone", "sources")
            continue
        if is_short_form(data):
            data = to_dtcg(data, str(f), problems)
        if len(files) > 1:
            walk_token_objects(data, str(f), origins)
            merged = merge_sources(merged, data, problems, origins, str(f))
        else:
            merged = data
    return merged


def build_theme(src: Sources, inputs: dict[str, str]) -> Theme:
    """Compose, parse and resolve one theme; raise every problem found, naming file and path."""
    problems = Problems()
    origins: dict[int, str] = {}
    if src.resolver is not None:
        document = compose(src.resolver, inputs, problems, origins)
        default_file = None
    else:
        document = load_document(src.files, problems, origins)
        default_file = str(src.files[0]) if len(src.files) == 1 else None
    problems.raise_if_any("token sources")
    found: list[Any] | None = [] if src.compat else None
    tokens = parse_document(document, default_file, problems, origins, found)
    checks = None
    if found is not None:
        from charter.tokens.compat import lenient, lenient_checks

        lenient(tokens, found)
        seen = {(w.file, w.pointer, w.message) for w in src.warnings}
        src.warnings.extend(w for w in found if (w.file, w.pointer, w.message) not in seen)
        checks = lenient_checks()
    resolve(tokens, document, problems, checks)
    name = theme_name(inputs)
    problems.raise_if_any(f"design tokens (theme {name})" if inputs else "design tokens")
    return Theme(name=name, inputs=inputs, tokens=TokenSet(tokens=tokens, document=document, name=name))


def load_themes(
    paths: list[Path], wanted: list[str] | None = None, compat: bool = False
) -> tuple[Sources, list[Theme]]:
    """Every theme asked for (default: all); ``compat`` reads deviations from DTCG 2025.10
    leniently, recording them in ``Sources.warnings``."""
    src = discover(paths)
    src.compat = compat
    src.inputs = select_inputs(src, wanted)
    return src, [build_theme(src, inputs) for inputs in src.inputs]
