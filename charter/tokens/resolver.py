"""DTCG Resolver Module 2025.10: sets, modifiers with contexts, and the resolution order.

A resolver document (``*.resolver.json``) names token *sets* (lists of sources: ``$ref`` objects
to files or to ``#/sets/…``, or inline tokens) and *modifiers* (a ``contexts`` map from a context
name to sources, an optional ``default``). ``resolutionOrder`` lists sets and modifiers (by
``$ref`` or inline with ``type`` + ``name``); later entries override earlier ones token by token.
An *input* (``{"theme": "dark", "brand": "acme"}``) picks one context per modifier; Charter
builds every permutation (the product of all contexts) or the listed ones.

Rules enforced (Resolver Module "Syntax", "Inputs", "Resolution logic"): ``version`` must be
``2025.10``; ``resolutionOrder`` is required; a modifier needs contexts (one alone is rejected
too, as the spec advises) and its ``default`` must be one of them; sets and modifiers may not
reference a modifier; nothing may point into ``#/resolutionOrder``; inline items need a unique
``name`` and a ``type``; reference objects may not be circular; keys beside ``$ref`` override
the referenced object shallowly; inputs must name known modifiers with known (case-insensitive)
contexts, as strings, and every modifier without a default must be given. Aliases are resolved
only after composition.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from charter.tokens.merge import merge_sources
from charter.tokens.model import Problems, pointer_of
from charter.tokens.parser import load_json, lookup, split_pointer, walk_token_objects
from charter.tokens.shortform import is_short_form, to_dtcg

VERSION = "2025.10"
CONTRAST_EXTENSION = "dev.charter.contrast"


# Plain classes rather than dataclasses, as everywhere on the build path (see model.TokenSet).
class Modifier:
    """A resolver modifier: ``contexts`` maps each context name to its sources."""

    __slots__ = ("contexts", "default", "description", "name")

    def __init__(
        self, name: str, contexts: dict[str, list[Any]], default: str | None = None, description: str = ""
    ) -> None:
        self.name = name
        self.contexts = contexts
        self.default = default
        self.description = description

    def __repr__(self) -> str:
        return f"Modifier({self.name!r}, contexts={list(self.contexts)!r}, default={self.default!r})"


class SetEntry:
    """A resolver set: its ``sources``, the JSON ``pointer`` of that array (for error messages)
    and, when the set is referenced, its ``ref`` ``#/sets/<name>`` (so a source pointing back to
    it is a cycle)."""

    __slots__ = ("pointer", "ref", "sources")

    def __init__(self, sources: list[Any], pointer: str, ref: str | None = None) -> None:
        self.sources = sources
        self.pointer = pointer
        self.ref = ref

    def __repr__(self) -> str:
        return f"SetEntry({self.pointer!r}, {len(self.sources)} sources)"


class ResolverDocument:
    """A validated resolver document. ``order`` holds ``("set", name, SetEntry)`` and
    ``("modifier", name, Modifier)`` items in resolution order."""

    __slots__ = ("description", "extensions", "modifiers", "name", "order", "path", "raw")

    def __init__(
        self,
        path: Path,
        name: str,
        description: str,
        order: list[tuple[str, str, Any]],
        modifiers: dict[str, Modifier],
        raw: dict[str, Any],
        extensions: dict[str, Any] | None = None,
    ) -> None:
        self.path = path
        self.name = name
        self.description = description
        self.order = order
        self.modifiers = modifiers
        self.raw = raw
        self.extensions: dict[str, Any] = {} if extensions is None else extensions

    def __repr__(self) -> str:
        return f"ResolverDocument({str(self.path)!r}, modifiers={list(self.modifiers)!r})"


def is_resolver(doc: Any) -> bool:
    return type(doc) is dict and "resolutionOrder" in doc


def load_resolver(path: Path) -> ResolverDocument:
    """Read and validate a resolver document; every problem is raised together."""
    raw = load_json(path)
    problems = Problems()
    file = str(path)
    if type(raw) is not dict:
        problems.add(file, "", "a resolver document must be a JSON object", "resolver")
        problems.raise_if_any(file)
    if raw.get("version") != VERSION:
        problems.add(file, "/version", f"version must be {VERSION!r}, not {raw.get('version')!r}", "resolver")
    order_raw = raw.get("resolutionOrder")
    if type(order_raw) is not list:
        problems.add(file, "/resolutionOrder", "resolutionOrder is required and must be an array", "resolver")
        problems.raise_if_any(file)
    for key in ("sets", "modifiers"):
        if key in raw and type(raw[key]) is not dict:
            problems.add(file, f"/{key}", f"{key} must be an object", "resolver")
    problems.raise_if_any(file)

    modifiers: dict[str, Modifier] = {}
    order: list[tuple[str, str, Any]] = []
    names: set[str] = set()
    name: str
    for i, item in enumerate(order_raw):
        ptr = f"/resolutionOrder/{i}"
        if type(item) is not dict:
            problems.add(file, ptr, "a resolutionOrder item must be an object", "resolver")
            continue
        if "$ref" in item:
            parts = split_pointer(item["$ref"]) if isinstance(item["$ref"], str) else None
            if not parts or len(parts) != 2 or parts[0] not in ("sets", "modifiers"):
                problems.add(
                    file,
                    ptr,
                    f"must reference '#/sets/<name>' or '#/modifiers/<name>', not {item['$ref']!r}",
                    "resolver",
                )
                continue
            kind, name = ("set" if parts[0] == "sets" else "modifier"), parts[1]
            try:
                body = lookup(raw, parts)
            except KeyError:
                problems.add(file, ptr, f"{item['$ref']!r} does not exist", "reference")
                continue
            body = {**body, **{k: v for k, v in item.items() if k != "$ref"}} if type(body) is dict else body
            body_ptr = "/" + "/".join(parts)
        else:
            raw_kind, raw_name = item.get("type"), item.get("name")
            if raw_kind not in ("set", "modifier") or not isinstance(raw_name, str) or not raw_name:
                problems.add(file, ptr, "an inline item needs 'type' (set or modifier) and a 'name'", "resolver")
                continue
            kind, name = str(raw_kind), raw_name
            body, body_ptr = item, ptr
        if name in names:
            problems.add(file, ptr, f"duplicate name {name!r} in resolutionOrder", "resolver")
            continue
        names.add(name)
        if type(body) is not dict:
            problems.add(file, body_ptr, f"{kind} {name!r} must be an object", "resolver")
            continue
        if kind == "set":
            sources = body.get("sources")
            if type(sources) is not list:
                problems.add(file, body_ptr + "/sources", f"set {name!r} needs a 'sources' array", "resolver")
                continue
            _check_sources(sources, body_ptr + "/sources", file, problems)
            ref = item.get("$ref") if isinstance(item.get("$ref"), str) else None
            order.append(("set", name, SetEntry(sources, body_ptr + "/sources", ref)))
        else:
            mod = _modifier(name, body, body_ptr, file, problems)
            if mod is not None:
                modifiers[name] = mod
                order.append(("modifier", name, mod))
    ext = raw.get("$extensions", {})
    if type(ext) is not dict:
        problems.add(file, "/$extensions", "$extensions must be an object", "resolver")
        ext = {}
    problems.raise_if_any(file)
    return ResolverDocument(
        path=path,
        name=str(raw.get("name") or path.name.split(".")[0]),
        description=str(raw.get("description") or ""),
        order=order,
        modifiers=modifiers,
        raw=raw,
        extensions=ext,
    )


def _check_sources(sources: list[Any], ptr: str, file: str, problems: Problems) -> None:
    for j, src in enumerate(sources):
        if type(src) is not dict:
            problems.add(file, f"{ptr}/{j}", 'a source must be a {"$ref": …} object or inline tokens', "resolver")
            continue
        ref = src.get("$ref")
        if ref is None:
            continue
        if not isinstance(ref, str) or not ref:
            problems.add(file, f"{ptr}/{j}/$ref", "$ref must be a non-empty string", "resolver")
        elif "#" in ref and split_pointer(ref[ref.index("#") :]) is None:
            frag = ref[ref.index("#") :]
            problems.add(
                file,
                f"{ptr}/{j}/$ref",
                f"the fragment {frag!r} of {ref!r} is not a JSON pointer (RFC 6901): write '#/group/token', "
                "or leave the fragment out to take the whole file",
                "resolver",
            )
        elif ref.startswith("#/modifiers"):
            problems.add(file, f"{ptr}/{j}/$ref", "sets and modifiers must not reference a modifier", "resolver")
        elif ref.startswith("#/resolutionOrder"):
            problems.add(file, f"{ptr}/{j}/$ref", "nothing may reference '#/resolutionOrder'", "resolver")


def _modifier(name: str, body: dict[str, Any], ptr: str, file: str, problems: Problems) -> Modifier | None:
    contexts = body.get("contexts")
    if type(contexts) is not dict or not contexts:
        problems.add(file, ptr + "/contexts", f"modifier {name!r} needs a non-empty 'contexts' object", "resolver")
        return None
    if len(contexts) == 1:
        problems.add(file, ptr + "/contexts", f"modifier {name!r} has one context; use a set instead", "resolver")
        return None
    for ctx, sources in contexts.items():
        if type(sources) is not list:
            problems.add(file, f"{ptr}/contexts/{ctx}", "a context must be an array of sources", "resolver")
            return None
        _check_sources(sources, f"{ptr}/contexts/{ctx}", file, problems)
    default = body.get("default")
    if default is not None and default not in contexts:
        problems.add(file, ptr + "/default", f"default {default!r} is not one of the contexts of {name!r}", "resolver")
        return None
    return Modifier(name, contexts, default, str(body.get("description") or ""))


def permutations(doc: ResolverDocument) -> list[dict[str, str]]:
    """Every input the document can take: the product of all modifiers' contexts, in order."""
    mods = list(doc.modifiers.values())
    return [
        dict(zip([m.name for m in mods], combo, strict=True))
        for combo in itertools.product(*(list(m.contexts) for m in mods))
    ]


def validate_input(doc: ResolverDocument, given: dict[str, Any]) -> dict[str, str]:
    """Check an input against the modifiers (Resolver Module "Inputs"); fill in defaults."""
    problems = Problems()
    file = str(doc.path)
    by_lower = {m.lower(): m for m in doc.modifiers}
    out: dict[str, str] = {}
    for key, value in given.items():
        name = by_lower.get(str(key).lower())
        if name is None:
            problems.add(
                file, "/modifiers", f"unknown modifier {key!r} (known: {', '.join(doc.modifiers) or 'none'})", "input"
            )
            continue
        if not isinstance(value, str):
            problems.add(file, f"/modifiers/{name}", f"input for {name!r} must be a string, not {value!r}", "input")
            continue
        contexts = {c.lower(): c for c in doc.modifiers[name].contexts}
        ctx = contexts.get(value.lower())
        if ctx is None:
            problems.add(
                file,
                f"/modifiers/{name}/contexts",
                f"invalid context {value!r} for modifier {name!r} (one of: {', '.join(doc.modifiers[name].contexts)})",
                "input",
            )
            continue
        out[name] = ctx
    for name, mod in doc.modifiers.items():
        if name not in out:
            if mod.default is None:
                problems.add(file, f"/modifiers/{name}", f"missing modifier {name!r} (no default)", "input")
            else:
                out[name] = mod.default
    problems.raise_if_any(f"resolver input for {doc.path.name}")
    # In resolution order, whatever order the input named them in (theme names depend on it).
    return {name: out[name] for name in doc.modifiers}


class _Composer:
    def __init__(self, doc: ResolverDocument, problems: Problems, origins: dict[int, str]) -> None:
        self.doc = doc
        self.problems = problems
        self.origins = origins
        self.file = str(doc.path)
        self.files: dict[str, Any] = {}

    def load_file(self, rel: str, ptr: str) -> Any:
        path = (self.doc.path.parent / rel).resolve()
        key = str(path)
        if key not in self.files:
            if not path.is_file():
                self.problems.add(self.file, ptr, f"missing source file {rel!r} ({path})", "reference")
                self.files[key] = None
                return None
            data = load_json(path)
            if is_short_form(data):
                data = to_dtcg(data, key, self.problems)
            walk_token_objects(data, key, self.origins)
            self.files[key] = data
        return self.files[key]

    def source(self, src: dict[str, Any], ptr: str, seen: tuple[str, ...]) -> list[tuple[Any, str]]:
        """``(token structure, where it came from)`` for each structure a source contributes (a
        set reference expands to its sources)."""
        ref = src.get("$ref")
        here = f"{self.file}#{ptr}"
        if ref is None:
            walk_token_objects(src, self.file, self.origins)
            return [(src, here)]
        if ref in seen:
            self.problems.add(self.file, ptr, f"circular reference: {' -> '.join([*seen, ref])}", "cycle")
            return []
        local = {k: v for k, v in src.items() if k != "$ref"}
        if ref.startswith("#"):
            parts = split_pointer(ref)
            try:
                target = lookup(self.doc.raw, parts or [])
            except KeyError:
                what = "set" if parts and parts[0] == "sets" else "location"
                self.problems.add(self.file, ptr, f"missing {what} {ref!r}: not defined in this resolver", "reference")
                return []
            if parts and parts[0] == "sets" and len(parts) == 2 and type(target) is dict:
                out: list[tuple[Any, str]] = []
                for j, inner in enumerate(target.get("sources") or []):
                    if type(inner) is dict:
                        out.extend(self.source(inner, f"/sets/{parts[1]}/sources/{j}", (*seen, ref)))
                return out + ([(local, here)] if local else [])
            return [({**target, **local}, here)] if type(target) is dict else []
        if "://" in ref:
            self.problems.add(
                self.file, ptr, f"remote source {ref!r}: Charter reads local files only; vendor it", "reference"
            )
            return []
        rel, _, frag = ref.partition("#")
        data = self.load_file(rel, ptr)
        if data is None:
            return []
        label = str((self.doc.path.parent / rel).resolve())
        if frag:
            parts = split_pointer("#" + frag)
            if parts is None:  # refused by load_resolver; kept so no path takes the whole file
                self.problems.add(self.file, ptr, f"{ref!r}: the fragment is not a JSON pointer", "reference")
                return []
            try:
                data = lookup(data, parts)
            except KeyError:
                self.problems.add(self.file, ptr, f"{ref!r}: no such location in {rel}", "reference")
                return []
        return [({**data, **local} if local and type(data) is dict else data, label)]


def compose(
    doc: ResolverDocument, inputs: dict[str, str], problems: Problems, origins: dict[int, str]
) -> dict[str, Any]:
    """The merged token structure for one (validated) input (Resolver Module "Composition")."""
    composer = _Composer(doc, problems, origins)
    merged: dict[str, Any] = {}
    for kind, name, body in doc.order:
        seen: tuple[str, ...] = ()
        if kind == "set":
            sources, ptr = body.sources, body.pointer
            seen = (body.ref,) if body.ref else ()
        else:
            ctx = inputs[name]
            sources, ptr = body.contexts[ctx], pointer_of(["modifiers", name, "contexts", ctx])
        for j, src in enumerate(sources):
            for structure, label in composer.source(src, f"{ptr}/{j}", seen):
                if type(structure) is dict:
                    merged = merge_sources(merged, structure, problems, origins, label)
                else:
                    problems.add(composer.file, f"{ptr}/{j}", "a source must hold a token object", "resolver")
    return merged
