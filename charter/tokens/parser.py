"""Parse DTCG 2025.10 token documents into :class:`~charter.tokens.model.Token` objects.

Implements the Format Module rules: tokens are objects with ``$value`` (§5.1); names must not
start with ``$`` nor contain ``{``, ``}`` or ``.`` (§5.1.1); ``$type``, ``$description``,
``$deprecated`` and ``$extensions`` on tokens and groups (§5.2, §6.3), with group ``$type`` and
``$deprecated`` inherited by descendants; ``$root`` tokens (§6.2); ``$extends`` group inheritance
as a deep merge where a local token replaces an inherited one wholesale (§6.4), cycles rejected;
``$ref`` JSON pointers at a member position (a group: same as ``$extends``; a token or a
``$value``: an alias) and inside values (property-level references, §7.3).

Parsing does not resolve aliases; :mod:`charter.tokens.aliases` does. Every problem is collected
with the file and the JSON pointer of the token, and raised together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from charter.tokens.model import MAX_DEPTH, TYPES, Alias, Pointer, Problems, Token, pointer_of, too_deep

TOKEN_PROPS = frozenset({"$value", "$type", "$description", "$deprecated", "$extensions"})
_PLAIN_TOKEN = frozenset({"$value", "$type"})
GROUP_PROPS = frozenset({"$type", "$description", "$deprecated", "$extensions", "$extends", "$ref"})
#: Keys tolerated (and ignored) at the root of a document: JSON Schema and tool metadata.
ROOT_IGNORED = frozenset({"$schema", "$metadata", "$themes", "$defs"})


def load_json(path: Path, problems: Problems | None = None) -> Any:
    """Read a JSON file; a syntax error becomes a ``ValidationFailed`` naming the file and line."""
    # The standard library's parser, not orjson: orjson's import (it pulls in uuid, datetime and
    # more) costs more than its faster parsing saves on token files of a few MB, and this runs
    # on the start-up path of ``charter tokens build``.
    import json

    try:
        text = path.read_bytes()
    except OSError as exc:
        p = Problems()
        p.add(str(path), "", f"cannot read file: {exc.strerror or exc}", "file")
        p.raise_if_any(str(path))
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        if isinstance(exc, RecursionError):
            message = f"objects and arrays nested too deeply to parse (Charter's limit is {MAX_DEPTH} levels)"
        elif isinstance(exc, json.JSONDecodeError):
            message = f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        else:
            message = f"invalid JSON: {exc}"
        p = problems or Problems()
        p.add(str(path), "", message, "json")
        p.raise_if_any(str(path))
    return None  # unreachable


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value (RFC 8259 has no NaN or Infinity)")


def split_pointer(ref: str) -> list[str] | None:
    """``#/a/b~1c`` -> ``["a", "b/c"]`` (RFC 6901); ``None`` when not a same-document pointer."""
    if not ref.startswith("#"):
        return None
    body = ref[1:]
    if body in ("", "/"):
        return []
    if not body.startswith("/"):
        return None
    return [p.replace("~1", "/").replace("~0", "~") for p in body[1:].split("/")]


def lookup(doc: Any, parts: list[str]) -> Any:
    """Follow ``parts`` through objects and arrays; raise ``KeyError`` when a step is missing."""
    node = doc
    for part in parts:
        if type(node) is dict:
            node = node[part]
        elif type(node) is list and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(part)
    return node


def _convert_str(value: str) -> tuple[Any, str | None]:
    if value[0] == "{" and value[-1] == "}":
        inner = value[1:-1]
        if "{" not in inner and "}" not in inner:
            if not inner or inner[0] == "." or inner[-1] == "." or ".." in inner:
                return value, f"malformed reference {value!r}"
            return Alias(inner), None
    return value, f'a reference must be the whole value, e.g. "{{group.token}}", not {value!r}'


def convert_value(value: Any, depth: int = 0) -> tuple[Any, str | None]:
    """Turn ``"{a.b}"`` strings into :class:`Alias` and ``{"$ref": …}`` objects into
    :class:`Pointer` anywhere in a value. Returns ``(value, error)``; unchanged parts are shared;
    a value nested deeper than :data:`MAX_DEPTH` is an error."""
    if depth > MAX_DEPTH:
        return value, too_deep("values")
    t = type(value)
    if t is str:
        if "{" in value or "}" in value:
            return _convert_str(value)
        return value, None
    if t is dict:
        if "$ref" in value:
            ref = value["$ref"]
            if not isinstance(ref, str) or split_pointer(ref) is None:
                return value, f"$ref must be a same-document JSON pointer like '#/a/b', not {ref!r}"
            if len(value) != 1:
                return value, "a $ref inside a value must stand alone"
            return Pointer(ref), None
        out = None
        for k, v in value.items():
            tv = type(v)
            # Scalars (the bulk of any value: numbers, units, colour spaces) need no conversion.
            if tv is str:
                if "{" not in v and "}" not in v:
                    continue
                nv, err = _convert_str(v)
            elif tv is dict or tv is list:
                nv, err = convert_value(v, depth + 1)
            else:
                continue
            if err:
                return value, f"{k}: {err}"
            if nv is not v:
                if out is None:
                    out = dict(value)
                out[k] = nv
        return (out if out is not None else value), None
    if t is list:
        outl = None
        for i, v in enumerate(value):
            tv = type(v)
            if tv is str:
                if "{" not in v and "}" not in v:
                    continue
                nv, err = _convert_str(v)
            elif tv is dict or tv is list:
                nv, err = convert_value(v, depth + 1)
            else:
                continue
            if err:
                return value, f"{i}: {err}"
            if nv is not v:
                if outl is None:
                    outl = list(value)
                outl[i] = nv
        return (outl if outl is not None else value), None
    return value, None


class _Walker:
    def __init__(
        self,
        doc: dict[str, Any],
        file: str | None,
        problems: Problems,
        origins: dict[int, str] | None,
        warnings: list[Any] | None = None,
    ):
        #: with ``--compat``, where tolerated deviations go (else they are errors)
        self.warnings = warnings
        self.doc = doc
        self.file = file
        self.problems = problems
        self.origins = origins or {}
        self.tokens: dict[str, Token] = {}
        self.active_extends: list[str] = []
        self.outer_kw = "$extends"

    def err(self, parts: list[str], message: str, node: Any = None, keyword: str = "tokens") -> None:
        file = self.origins.get(id(node), self.file) if node is not None else self.file
        where = ".".join(parts) or "(root)"
        self.problems.add(file, pointer_of(parts), f"{where}: {message}", keyword)

    # -- groups ---------------------------------------------------------------------------
    def group(self, node: dict[str, Any], parts: list[str], gtype: str | None, gdep: bool | str) -> None:
        if "$extends" in node or "$ref" in node:
            extended = self.extend(node, parts, node.get("$extends", node.get("$ref")))
            if extended is None:
                return
            # Members inherited from the target are walked while it is "active", so one that
            # extends the target again is reported as a cycle instead of recursing forever.
            merged, tpath = extended
            if merged.get("$type") in TYPES:
                gtype = merged["$type"]
            self.active_extends.append(tpath)
            try:
                self.members(merged, parts, gtype, gdep)
            finally:
                self.active_extends.pop()
            return
        self.members(node, parts, gtype, gdep)

    def members(self, node: dict[str, Any], parts: list[str], gtype: str | None, gdep: bool | str) -> None:
        if len(parts) > MAX_DEPTH:
            self.err(parts, too_deep(), node, "depth")
            return
        prefix = ".".join(parts) + "." if parts else ""
        for key, child in node.items():
            if key[0] == "$":
                if key == "$root":
                    if type(child) is dict and "$value" in child:
                        self.token(child, parts, key, prefix, gtype, gdep)
                    else:
                        self.err([*parts, key], "$root must be a token (an object with $value)", child)
                    continue
                if key in GROUP_PROPS:
                    continue
                if not parts and key in ROOT_IGNORED:
                    continue
                self.err([*parts, key], f"unknown group property {key!r}", node)
                continue
            if "{" in key or "}" in key or "." in key:
                self.err([*parts, key], "names must not contain '{', '}' or '.'", node, "name")
                continue
            if type(child) is not dict:
                self.err([*parts, key], "a group member must be a token (an object with $value) or a group", node)
                continue
            if "$value" in child:
                self.token(child, parts, key, prefix, gtype, gdep)
            elif "$ref" in child and self._ref_is_token(child["$ref"]):
                self.ref_token(child, [*parts, key], gtype, gdep)
            else:
                ctype, cdep = gtype, gdep
                if "$type" in child:
                    t = child["$type"]
                    if t not in TYPES:
                        self.err([*parts, key, "$type"], f"unknown $type {t!r}", child, "type")
                    else:
                        ctype = t
                if "$deprecated" in child:
                    cdep = self._deprecated(child["$deprecated"], [*parts, key], child, gdep)
                self._group_meta(child, [*parts, key])
                self.group(child, [*parts, key], ctype, cdep)

    def unknown_type(self, parts: list[str], declared: Any, node: Any) -> None:
        """A token of a ``$type`` outside 2025.10: an error, or with ``--compat`` left out, warned."""
        if self.warnings is None:
            self.err([*parts, "$type"], f"unknown $type {declared!r}", node, "type")
            return
        from charter.exceptions import ErrorDetail

        self.warnings.append(
            ErrorDetail(
                pointer_of([*parts, "$type"]),
                f"{'.'.join(parts)}: $type {declared!r} is not a DTCG 2025.10 type; token left out",
                "compat",
                self.origins.get(id(node), self.file),
            )
        )

    def _group_meta(self, node: dict[str, Any], parts: list[str]) -> None:
        if "$description" in node and not isinstance(node["$description"], str):
            self.err([*parts, "$description"], "$description must be a string", node)
        if "$extensions" in node and type(node["$extensions"]) is not dict:
            self.err([*parts, "$extensions"], "$extensions must be an object", node)

    def _deprecated(self, value: Any, parts: list[str], node: Any, default: bool | str) -> bool | str:
        if isinstance(value, bool | str):
            return value
        self.err([*parts, "$deprecated"], "$deprecated must be true, false or a string", node)
        return default

    def _ref_is_token(self, ref: Any) -> bool:
        parts = split_pointer(ref) if isinstance(ref, str) else None
        if parts is None:
            return True  # let ref_token report the malformed pointer
        if "$value" in parts:
            return True
        try:
            target = lookup(self.doc, parts)
        except KeyError:
            return True  # reported as unresolvable by ref_token
        return type(target) is dict and "$value" in target

    def extend(
        self, node: dict[str, Any], parts: list[str], ref: Any, chain: list[str] | None = None
    ) -> tuple[dict[str, Any], str] | None:
        """Deep-merge the group named by ``$extends`` (or a group ``$ref``) under ``node``.

        ``chain`` is the groups whose extension is being resolved, outermost first; a target
        already in it, already being walked, or an ancestor of the group is a cycle (§6.4.4),
        reported on the outermost group with the whole cycle (``a -> b -> c -> a``). Errors point
        at the member the outermost group really has (``$extends`` or ``$ref``) and name it."""
        outer = chain is None
        chain = [".".join(parts)] if chain is None else chain
        kw = "$extends" if "$extends" in node else "$ref"
        if outer:
            self.outer_kw = kw
        okw = self.outer_kw
        where = [*chain[0].split("."), okw] if chain[0] else [okw]
        if isinstance(ref, str) and ref.startswith("{") and ref.endswith("}"):
            tparts = ref[1:-1].split(".")
        elif isinstance(ref, str) and split_pointer(ref) is not None:
            tparts = split_pointer(ref) or []
        else:
            self.err(
                where if outer else [*parts, kw],
                f'{kw} must be a reference like "{{group}}" or "#/group", not {ref!r}',
                node,
            )
            return None
        tpath = ".".join(tparts)
        if len(chain) > MAX_DEPTH:
            self.err(where, f"{okw} chained more than {MAX_DEPTH} times (Charter's limit)", node, "depth")
            return None
        if tpath in chain or tpath in self.active_extends or parts[: len(tparts)] == tparts:
            cycle = chain[chain.index(tpath) :] if tpath in chain else chain
            self.err(where, f"circular {okw}: {' -> '.join([*cycle, tpath])}", node, "cycle")
            return None
        try:
            target = lookup(self.doc, tparts)
        except KeyError:
            self.err(where, f"{okw} target {tpath!r} does not exist", node, "reference")
            return None
        if type(target) is not dict or "$value" in target:
            self.err(where, f"{okw} must name a group, and {tpath!r} is a token", node, "reference")
            return None
        if "$extends" in target or ("$ref" in target and "$value" not in target):
            inner = self.extend(target, tparts, target.get("$extends", target.get("$ref")), [*chain, tpath])
            if inner is None:
                return None
            target = inner[0]
        local = {k: v for k, v in node.items() if k not in ("$extends", "$ref")}
        return _deep_merge(target, local), tpath

    # -- tokens ---------------------------------------------------------------------------
    def token(
        self,
        node: dict[str, Any],
        group: list[str],
        key: str,
        prefix: str,
        gtype: str | None,
        gdep: bool | str,
    ) -> None:
        """The token ``key`` of the group at ``group`` (whose path plus ``.`` is ``prefix``)."""
        path = prefix + key
        file = self.origins.get(id(node), self.file) if self.origins else self.file
        if not _PLAIN_TOKEN.issuperset(node):
            self._token_meta(node, [*group, key], path, file, gtype, gdep)
            return
        # The common case: only $value and maybe $type (the path above checks the rest).
        declared = node.get("$type")
        if declared is not None and declared not in TYPES:
            self.unknown_type([*group, key], declared, node)
            return
        raw = node["$value"]
        t = type(raw)
        if t is str:
            value, error = _convert_str(raw) if ("{" in raw or "}" in raw) else (raw, None)
        elif t is dict or t is list:
            value, error = convert_value(raw)
        elif raw is None:
            self.err([*group, key, "$value"], "$value must not be null", node, "value")
            return
        else:
            value, error = raw, None
        if error:
            self.err([*group, key, "$value"], error, node, "reference")
            return
        self.tokens[path] = Token(path, value, declared, gtype, None, gdep, None, file, value is not raw)

    def _token_meta(
        self, node: dict[str, Any], parts: list[str], path: str, file: str | None, gtype: str | None, gdep: bool | str
    ) -> None:
        declared = None
        if not TOKEN_PROPS.issuperset(node):
            for key in node:
                if key not in TOKEN_PROPS:
                    if key[0] == "$":
                        self.err(parts, f"unknown token property {key!r}", node)
                    elif self.warnings is not None:
                        from charter.exceptions import ErrorDetail

                        file = self.origins.get(id(node), self.file)
                        self.warnings.append(
                            ErrorDetail(
                                pointer_of([*parts, key]),
                                f"{path}: a token cannot also hold the group member {key!r}; left out",
                                "compat",
                                file,
                            )
                        )
                    else:
                        # §6.1: an object cannot be a token and a group at once.
                        self.err(parts, f"a token (it has $value) cannot also hold the group member {key!r}", node)
        if "$type" in node:
            declared = node["$type"]
            if declared not in TYPES:
                self.unknown_type(parts, declared, node)
                return
        desc = node.get("$description")
        if desc is not None and not isinstance(desc, str):
            self.err([*parts, "$description"], "$description must be a string", node)
        dep = self._deprecated(node["$deprecated"], parts, node, gdep) if "$deprecated" in node else gdep
        ext = node.get("$extensions")
        if ext is not None and type(ext) is not dict:
            self.err([*parts, "$extensions"], "$extensions must be an object", node)
            ext = None
        raw = node["$value"]
        if raw is None:
            self.err([*parts, "$value"], "$value must not be null", node, "value")
            return
        value, error = convert_value(raw)
        if error:
            self.err([*parts, "$value"], error, node, "reference")
            return
        self.tokens[path] = Token(path, value, declared, gtype, desc, dep, ext, file, value is not raw)

    def ref_token(self, node: dict[str, Any], parts: list[str], gtype: str | None, gdep: bool | str) -> None:
        """A member ``{"$ref": "#/…"}``: a token alias (to a token or into a ``$value``)."""
        ref = node["$ref"]
        tparts = split_pointer(ref) if isinstance(ref, str) else None
        if tparts is None:
            self.err([*parts, "$ref"], f"$ref must be a same-document JSON pointer like '#/a/b', not {ref!r}", node)
            return
        local = {k: v for k, v in node.items() if k != "$ref"}
        if "$value" in tparts and tparts[-1] != "$value":
            local["$value"] = {"$ref": ref}
        else:
            tpath = tparts[:-1] if tparts and tparts[-1] == "$value" else tparts
            local["$value"] = "{" + ".".join(tpath) + "}"
        self.origins.setdefault(id(local), self.origins.get(id(node), self.file or ""))
        self.token(local, parts[:-1], parts[-1], "".join(p + "." for p in parts[:-1]), gtype, gdep)


def _deep_merge(base: dict[str, Any], local: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """§6.4.3: local members override inherited ones at the same path; a token (``$value``)
    replaces wholesale; groups merge recursively (to :data:`MAX_DEPTH`: the walk reports deeper
    groups)."""
    out = dict(base)
    for key, value in local.items():
        old = out.get(key)
        if (
            type(value) is dict
            and type(old) is dict
            and "$value" not in value
            and "$value" not in old
            and not key.startswith("$")
            and depth < MAX_DEPTH
        ):
            out[key] = _deep_merge(old, value, depth + 1)
        else:
            out[key] = value
    return out


def parse_document(
    doc: Any,
    file: str | None,
    problems: Problems,
    origins: dict[int, str] | None = None,
    warnings: list[Any] | None = None,
) -> dict[str, Token]:
    """All tokens of a (merged) DTCG document, keyed by path, in document order.

    Errors are added to ``problems``; the caller raises them. With a ``warnings`` list (``--compat``),
    a token that also holds group members keeps its value and the members are left out, warned.
    """
    if type(doc) is not dict:
        problems.add(file, "", "a token document must be a JSON object", "document")
        return {}
    walker = _Walker(doc, file, problems, origins, warnings)
    gtype = doc.get("$type") if doc.get("$type") in TYPES else None
    if "$type" in doc and gtype is None:
        walker.err(["$type"], f"unknown $type {doc['$type']!r}", doc, "type")
    gdep = walker._deprecated(doc["$deprecated"], [], doc, False) if "$deprecated" in doc else False
    walker.group(doc, [], gtype, gdep)
    return walker.tokens


def walk_token_objects(doc: Any, file: str, origins: dict[int, str]) -> None:
    """Record which file each token object came from (used when several files are merged)."""
    stack = [doc]
    while stack:
        node = stack.pop()
        if type(node) is not dict:
            continue
        if "$value" in node:
            origins[id(node)] = file
            continue
        origins[id(node)] = file
        for key, child in node.items():
            if type(child) is dict or key == "$root":
                stack.append(child)
