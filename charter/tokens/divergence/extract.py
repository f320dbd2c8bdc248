"""Find style declarations in source files: CSS/SCSS/Less, JavaScript/TypeScript (style objects,
``el.style.x = …``, CSS in template literals), Vue/Svelte single-file components and HTML.

Everything here is lexical (regular expressions over text whose comments are blanked out, so
offsets and line numbers stay true): fast, dependency-free, and good enough to *measure*. A
:class:`Declaration` keeps the property, the raw value and where it is; deciding whether it is a
token usage or a hard-coded value is :mod:`charter.tokens.divergence.scan`'s job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Declaration:
    prop: str
    value: str
    offset: int
    #: ``css`` (a CSS value string) or ``js`` (a JavaScript expression).
    syntax: str = "css"
    #: A custom property / SCSS variable *definition* (``--x: …``, ``$x: …``).
    definition: bool = False


@dataclass
class Imports:
    """Bindings a JavaScript module imports from a token package."""

    named: dict[str, str] = field(default_factory=dict)  # local name -> exported name
    namespaces: set[str] = field(default_factory=set)  # default / namespace / destructured-object bindings


# -- CSS -------------------------------------------------------------------------------------

_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_LINE_COMMENT = re.compile(r"(^|[\s;{}])//[^\n]*")


def _blank(match: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


def mask_css_comments(text: str, line_comments: bool) -> str:
    text = _BLOCK_COMMENT.sub(_blank, text)
    if line_comments:
        text = _LINE_COMMENT.sub(lambda m: m.group(1) + _blank(m)[len(m.group(1)) :], text)
    return text


# A declaration starts a statement (after `{`, `;`, `}` or at the start) and ends at `;` or `}`;
# a selector such as `a:hover {` never matches because its "value" would run into `{`.
_CSS_DECL = re.compile(
    r"(?:(?<=[{;}])|^)[ \t\r\n]*(--[\w-]+|\$[\w-]+|-?[A-Za-z][\w-]*)[ \t\r\n]*:(?!:)([^;{}]*)(?=[;}]|\Z)",
    re.MULTILINE,
)


def css_declarations(text: str, base: int = 0, *, line_comments: bool = False) -> list[Declaration]:
    """Declarations in CSS/SCSS text (``base`` is added to every offset)."""
    masked = mask_css_comments(text, line_comments)
    out = []
    for m in _CSS_DECL.finditer(masked):
        prop, value = m.group(1), m.group(2).strip()
        if not value or value.startswith("{"):
            continue
        out.append(Declaration(prop, value, base + m.start(1), "css", definition=prop.startswith(("--", "$"))))
    return out


# -- JavaScript ------------------------------------------------------------------------------

_REGEX_PRECEDERS = set("(,=:[!&|?{};+-*%<>~^") | {""}


@dataclass
class Lexed:
    """A JavaScript source with comments blanked, plus its template literals and strings."""

    code: str  # comments blanked
    #: code with comments *and template-literal contents* blanked (for object-literal scanning)
    flat: str
    templates: list[tuple[int, int]]  # (start, end) of each template literal's raw text


def lex_js(text: str) -> Lexed:
    n = len(text)
    code = list(text)
    flat = list(text)
    templates: list[tuple[int, int]] = []
    i = 0
    last = ""  # last significant character outside strings and comments
    # Stack of template literals: each entry is the brace depth inside its current ${…}.
    tmpl_stack: list[int] = []
    tmpl_starts: list[int] = []
    brace_depth = 0

    def blank(a: int, b: int, both: bool = True) -> None:
        for k in range(a, b):
            if text[k] != "\n":
                flat[k] = " "
                if both:
                    code[k] = " "

    while i < n:
        c = text[i]
        if tmpl_stack and tmpl_stack[-1] == -1:
            # Inside the literal text of a template.
            j = i
            while j < n and text[j] not in "`$\\":
                j += 1
            if j >= n:
                blank(i, n, both=False)
                break
            if text[j] == "\\":
                blank(i, min(j + 2, n), both=False)
                i = j + 2
                continue
            if text[j] == "$" and j + 1 < n and text[j + 1] == "{":
                blank(i, j, both=False)
                tmpl_stack[-1] = brace_depth
                brace_depth += 1
                i = j + 2
                last = "{"
                continue
            if text[j] == "$":
                blank(i, j + 1, both=False)
                i = j + 1
                continue
            # closing backtick
            blank(i, j, both=False)
            tmpl_stack.pop()
            templates.append((tmpl_starts.pop(), j))
            i = j + 1
            last = "`"
            continue
        if c == "/" and i + 1 < n and text[i + 1] == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
            continue
        if c == "/" and i + 1 < n and text[i + 1] == "*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            blank(i, j)
            i = j
            continue
        if c in "'\"":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            last = c
            continue
        if c == "`":
            tmpl_stack.append(-1)
            tmpl_starts.append(i + 1)
            i += 1
            continue
        if c == "/" and last in _REGEX_PRECEDERS:
            # A regular-expression literal: skip it (its body may hold quotes or slashes).
            j = i + 1
            in_class = False
            while j < n and text[j] != "\n":
                if text[j] == "\\":
                    j += 2
                    continue
                if text[j] == "[":
                    in_class = True
                elif text[j] == "]":
                    in_class = False
                elif text[j] == "/" and not in_class:
                    break
                j += 1
            blank(i, min(j + 1, n))
            i = j + 1
            last = "/"
            continue
        if c == "{":
            brace_depth += 1
        elif c == "}":
            brace_depth -= 1
            if tmpl_stack and tmpl_stack[-1] == brace_depth:
                tmpl_stack[-1] = -1  # back to the template's literal text
                i += 1
                continue
        if not c.isspace():
            last = c if not (c.isalnum() or c in "_$") else "a"
        i += 1
    return Lexed("".join(code), "".join(flat), templates)


_OBJ_KEY = re.compile(
    r"(?:(?<=[{,])|^)[ \t\r\n]*(?:(['\"])([\w-]+)\1|([A-Za-z_$][\w$]*))[ \t\r\n]*:(?!:)", re.MULTILINE
)
_STYLE_ASSIGN = re.compile(r"\.style\.([A-Za-z]+)[ \t]*=(?!=)")
_CLOSE = {"(": ")", "[": "]", "{": "}"}


def expression_end(code: str, start: int, stops: str = ",};") -> int:
    """Where the expression starting at ``start`` ends: the first ``stops`` character (or a
    newline after a complete expression, for statements) at nesting depth 0, outside strings."""
    depth: list[str] = []
    i, n = start, len(code)
    while i < n:
        c = code[i]
        if c in "'\"`":
            j = i + 1
            while j < n and code[j] != c:
                j += 2 if code[j] == "\\" else 1
            i = j + 1
            continue
        if c in _CLOSE:
            depth.append(_CLOSE[c])
        elif depth and c == depth[-1]:
            depth.pop()
        elif not depth and (c in stops or c in ")]}"):
            return i
        i += 1
    return n


def js_declarations(lexed: Lexed, base: int = 0) -> list[Declaration]:
    """Style-object members (``{ backgroundColor: '#fff' }``) and ``el.style.color = …`` in JS."""
    out: list[Declaration] = []
    flat = lexed.flat
    for m in _OBJ_KEY.finditer(flat):
        key = m.group(2) or m.group(3)
        start = m.end()
        end = expression_end(flat, start)
        value = lexed.code[start:end].strip()
        if value:
            out.append(Declaration(key, value, base + (m.start(2) if m.group(2) else m.start(3)), "js"))
    for m in _STYLE_ASSIGN.finditer(flat):
        start = m.end()
        end = expression_end(flat, start, ";\n")
        value = lexed.code[start:end].strip()
        if value:
            out.append(Declaration(m.group(1), value, base + m.start(1), "js"))
    return out


def interpolations(body: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each ``${…}`` in a template literal's text (nested braces allowed)."""
    spans = []
    i = body.find("${")
    while i >= 0:
        depth, j = 0, i + 1
        while j < len(body):
            c = body[j]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    break
            elif c in "'\"`":
                k = body.find(c, j + 1)
                j = len(body) if k < 0 else k
            j += 1
        spans.append((i, min(j + 1, len(body))))
        i = body.find("${", j + 1)
    return spans


def template_declarations(text: str, lexed: Lexed, base: int = 0) -> list[Declaration]:
    """CSS declarations inside template literals (styled-components, emotion, lit ``css``).
    Their values keep ``${…}`` interpolations (syntax ``css-js``)."""
    out: list[Declaration] = []
    for start, end in lexed.templates:
        body = text[start:end]
        if ":" not in body:
            continue
        # Interpolations may hold braces and semicolons: hide them from the declaration pattern
        # (same length, so offsets hold), then read values from the original text.
        masked = list(mask_css_comments(body, True))
        for a, b in interpolations(body):
            masked[a:b] = "$(" + "_" * (b - a - 3) + ")"
        for m in _CSS_DECL.finditer("".join(masked)):
            value = body[m.start(2) : m.end(2)].strip()
            if value:
                prop = m.group(1)
                out.append(Declaration(prop, value, base + start + m.start(1), "css-js", prop.startswith(("--", "$"))))
    return out


_IMPORT = re.compile(r"\bimport\s+(?!type\b)([\w$*{}\s,]+?)\s+from\s*(['\"])([^'\"]+)\2")
_REQUIRE = re.compile(r"\b(?:const|let|var)\s+(\{[^}]*\}|[\w$]+)\s*=\s*require\(\s*(['\"])([^'\"]+)\2\s*\)")
_DYNAMIC_IMPORT = re.compile(r"\b(?:const|let|var)\s+(\{[^}]*\}|[\w$]+)\s*=\s*await\s+import\(\s*(['\"])([^'\"]+)\2")


def _named(clause: str, imports: Imports, sep: str) -> None:
    for part in clause.strip("{} \n\t").split(","):
        part = part.strip()
        if not part or part.startswith("type "):
            continue
        bits = re.split(r"\s+as\s+" if sep == "as" else r"\s*:\s*", part)
        exported, local = (bits[0], bits[-1]) if len(bits) > 1 else (part, part)
        imports.named[local.strip()] = exported.strip()


def token_imports(code: str, is_token_module: object) -> Imports:
    """Bindings imported from modules ``is_token_module(specifier)`` accepts."""
    imports = Imports()
    for m in _IMPORT.finditer(code):
        if not is_token_module(m.group(3)):  # type: ignore[operator]
            continue
        clause = m.group(1).strip()
        brace = clause.find("{")
        head = clause[:brace] if brace >= 0 else clause
        for part in head.split(","):
            part = part.strip()
            if part.startswith("*"):
                imports.namespaces.add(part.split()[-1])
            elif part:
                imports.namespaces.add(part)
        if brace >= 0:
            _named(clause[brace:], imports, "as")
    for rx in (_REQUIRE, _DYNAMIC_IMPORT):
        for m in rx.finditer(code):
            if not is_token_module(m.group(3)):  # type: ignore[operator]
                continue
            binding = m.group(1)
            if binding.startswith("{"):
                _named(binding, imports, ":")
            else:
                imports.namespaces.add(binding)
    return imports


# -- HTML, Vue, Svelte -----------------------------------------------------------------------

_BLOCK = re.compile(r"<(style|script)\b([^>]*)>(.*?)</\1\s*>", re.DOTALL | re.IGNORECASE)
_STYLE_ATTR = re.compile(r"""[\s"'](:style|v-bind:style|style)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_LANG = re.compile(r"""\blang\s*=\s*["']?(\w+)""", re.IGNORECASE)


@dataclass
class Block:
    kind: str  # style | script
    lang: str
    start: int
    text: str


def markup_blocks(text: str) -> tuple[list[Block], str]:
    """``<style>``/``<script>`` blocks and the markup with them blanked (for attribute scanning)."""
    blocks = []
    markup = list(text)
    for m in _BLOCK.finditer(text):
        lang_m = _LANG.search(m.group(2))
        lang = (lang_m.group(1).lower() if lang_m else "").strip()
        blocks.append(Block(m.group(1).lower(), lang, m.start(3), m.group(3)))
        for k in range(m.start(3), m.end(3)):
            if text[k] != "\n":
                markup[k] = " "
    return blocks, "".join(markup)


def style_attributes(markup: str) -> list[tuple[str, int, str]]:
    """``(attribute, offset of its value, value)`` for every style / :style attribute."""
    masked = re.sub(r"<!--.*?-->", _blank, markup, flags=re.DOTALL)
    out = []
    for m in _STYLE_ATTR.finditer(masked):
        group = 2 if m.group(2) is not None else 3
        out.append((m.group(1).lower(), m.start(group), m.group(group)))
    return out
