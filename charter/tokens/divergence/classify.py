"""Classifying one declaration's value: a token use, a base token, a hard-coded literal, or neither.

See :mod:`charter.tokens.divergence.scan` for the rules, in order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from charter.tokens.divergence import extract
from charter.tokens.divergence.properties import hard_coded, number_is_hard_coded, strip_references


@dataclass
class TokenIndex:
    """Names the token package exports (CSS custom properties, SCSS variables, JS bindings) ->
    token paths. Empty when no token sources were given: then names are judged by prefix."""

    css: dict[str, str] = field(default_factory=dict)
    js: dict[str, str] = field(default_factory=dict)
    paths: set[str] = field(default_factory=set)
    base_prefixes: tuple[str, ...] = ("base",)
    prefix: str = ""

    @property
    def known(self) -> bool:
        return bool(self.paths)

    def is_base_path(self, path: str) -> bool:
        return path.split(".", 1)[0] in self.base_prefixes

    def css_ref(self, name: str) -> tuple[str, str | None] | None:
        """``(kind, token path)`` for a custom property / SCSS variable name, or None if unknown."""
        if self.known:
            path = self.css.get(name)
            if path is None:
                return None
            return ("base-token" if self.is_base_path(path) else "token"), path
        bare = name[len(self.prefix) + 1 :] if self.prefix and name.startswith(self.prefix + "-") else name
        if self.prefix and bare == name:
            return None
        first = bare.split("-", 1)[0]
        return ("base-token" if first in self.base_prefixes else "token"), None

    def js_ref(self, name: str) -> tuple[str, str | None]:
        if self.known:
            path = self.js.get(name)
            if path is not None:
                return ("base-token" if self.is_base_path(path) else "token"), path
        first = re.split(r"(?<=[a-z0-9])(?=[A-Z])|_", name, maxsplit=1)[0]
        return ("base-token" if first in self.base_prefixes else "token"), None

    def js_member(self, chain: list[str]) -> tuple[str, str | None]:
        path = ".".join(chain)
        if chain and chain[0] in self.base_prefixes:
            return "base-token", path or None
        return "token", path or None


def load_index(tokens: Path | None, base_prefixes: Iterable[str], prefix: str) -> TokenIndex:
    index = TokenIndex(base_prefixes=tuple(base_prefixes), prefix=prefix)
    if tokens is None:
        return index
    from charter.tokens.css_values import css_name
    from charter.tokens.formats.base import js_name
    from charter.tokens.themes import load_themes

    _, themes = load_themes([tokens])
    for theme in themes:
        for t in theme.tokens:
            if t.path in index.paths:
                continue
            index.paths.add(t.path)
            name = css_name(t.path, prefix)
            index.css[name] = t.path
            index.js[js_name(css_name(t.path))] = t.path
    return index


# -- classification --------------------------------------------------------------------------

_CSS_VAR = re.compile(r"var\(\s*--([\w-]+)")
_SCSS_VAR = re.compile(r"(?:([\w-]+)\.)?\$([\w-]+)")
_JS_STRING = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|`(?:[^`\\]|\\.)*`")
_JS_NUMBER = re.compile(r"^-?(?:\d+(?:\.\d*)?|\.\d+)$")
_JS_CHAIN = re.compile(
    r"(?<![\w$.])([A-Za-z_$][\w$]*)((?:\s*(?:\?\.|\.)\s*[A-Za-z_$][\w$]*|\[\s*['\"][^'\"]+['\"]\s*\])*)"
)
_JS_WORDS = frozenset({"true", "false", "null", "undefined", "new", "typeof", "void", "this", "await"})


@dataclass
class AppContext:
    index: TokenIndex
    #: custom properties / SCSS variables the app defines itself (not tokens, whatever their name)
    local_css: set[str] = field(default_factory=set)
    local_scss: set[str] = field(default_factory=set)


def _refs_kind(kinds: list[tuple[str, str | None]]) -> tuple[str, str | None] | None:
    for want in ("base-token", "token"):
        for kind, path in kinds:
            if kind == want:
                return kind, path
    return None


def classify_css(
    cat: str, value: str, ctx: AppContext, imports: extract.Imports | None = None
) -> tuple[str, str | None]:
    """``(kind, token path)`` for a CSS value of a property of category ``cat``; with
    ``imports``, ``${…}`` interpolations (CSS in JS) are read as JavaScript expressions."""
    if hard_coded(cat, strip_references(value)):
        return "hard-coded", None
    refs: list[tuple[str, str | None]] = []
    dynamic = False
    if imports is not None and "${" in value:
        for a, b in extract.interpolations(value):
            in_js, dyn = _js_refs(value[a + 2 : b - 1], ctx, imports)
            refs.extend(in_js)
            dynamic = dynamic or dyn
        value = re.sub(r"\$\{", "(", value)
    for m in _CSS_VAR.finditer(value):
        name = m.group(1)
        found = None if name in ctx.local_css and name not in ctx.index.css else ctx.index.css_ref(name)
        if found is None:
            dynamic = True
        else:
            refs.append(found)
    for m in _SCSS_VAR.finditer(value):
        namespace, name = m.group(1), m.group(2)
        if namespace is None and name in ctx.local_scss and name not in ctx.index.css:
            dynamic = True
            continue
        found = ctx.index.css_ref(name)
        if found is None:
            dynamic = True
        else:
            refs.append(found)
    kind = _refs_kind(refs)
    if kind is not None:
        return kind
    if dynamic or "${" in value or "#{" in value:
        return "dynamic", None
    return "exempt", None


def _js_refs(expr: str, ctx: AppContext, imports: extract.Imports) -> tuple[list[tuple[str, str | None]], bool]:
    """Token references in a JavaScript expression (string literals removed), and whether it
    also reads anything else."""
    refs: list[tuple[str, str | None]] = []
    dynamic = False
    rest = _JS_STRING.sub(" ", expr) if "'" in expr or '"' in expr or "`" in expr else expr
    for m in _JS_CHAIN.finditer(rest):
        root = m.group(1)
        if root in _JS_WORDS:
            continue
        chain = [p.strip("'\"") for p in re.split(r"\s*(?:\?\.|\.|\[|\])\s*", m.group(2)) if p]
        if root in imports.named:
            refs.append(ctx.index.js_ref(imports.named[root]))
        elif root in imports.namespaces:
            refs.append(ctx.index.js_member(chain))
        else:
            dynamic = True
    return refs, dynamic


def classify_js(cat: str, expr: str, ctx: AppContext, imports: extract.Imports) -> tuple[str, str | None]:
    """``(kind, token path)`` for a JavaScript expression used as the value of ``cat``."""
    e = expr.strip().rstrip(",;").strip()
    if e.endswith(("as const",)):
        e = e[: -len("as const")].strip()
    if _JS_NUMBER.match(e):
        return ("hard-coded" if number_is_hard_coded(cat, float(e)) else "exempt"), None
    refs: list[tuple[str, str | None]] = []
    dynamic = False
    rest = e
    for m in _JS_STRING.finditer(e):
        literal = m.group(0)[1:-1]
        if literal.startswith("${") is False and hard_coded(cat, strip_references(literal)):
            return "hard-coded", None
        inner = classify_css(cat, literal, ctx)
        if inner[0] in ("token", "base-token"):
            refs.append(inner)
        elif inner[0] == "dynamic":
            dynamic = True
        for sub in re.finditer(r"\$\{([^}]*)\}", literal):
            rest += " " + sub.group(1)
    found, dyn = _js_refs(rest, ctx, imports)
    refs.extend(found)
    kind = _refs_kind(refs)
    dynamic = dynamic or dyn
    if kind is not None:
        return kind
    return ("dynamic" if dynamic else "exempt"), None
