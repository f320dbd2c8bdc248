"""Token names in outputs: name cases, CSS/Sass escaping, string quoting and the collision policy.

Every valid DTCG name (§5.1.1 forbids only a leading ``$`` and ``{``, ``}``, ``.``) must give
output that its language accepts. Names are built in two steps:

1. a *name case* turns the token path into a name (:data:`CASES`): ``kebab`` (the default,
   ``color.textDefault`` -> ``color-text-default``, the Style Dictionary convention), ``camel``
   (``colorTextDefault``), ``snake`` (``color_text_default``) or ``preserve`` (the path's names
   joined with ``-`` as written, so ``font-size`` and ``FONT-SIZE`` stay apart);
2. each format escapes the name for its language: CSS custom properties and Sass variables by the
   CSS Syntax rules (:func:`css_ident`: ``it's`` -> ``it\\'s``, ``a/b`` -> ``a\\/b``), JavaScript
   identifiers by :func:`js_name` (a normalisation: it drops what an identifier cannot hold).

Two tokens whose names come out equal *collide*. The collision policy (:data:`COLLISIONS`) is
``error`` (the default: the error names both token paths) or ``suffix`` (the token that comes
later in path order gets ``-2``, ``-3``, … — ``2``/``_2`` in camel/snake case — skipping names
already taken, so the result does not depend on file order). ``charter tokens validate`` renders
every format in memory, so it reports exactly the collisions ``build`` would.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from charter.tokens.model import Problems

if TYPE_CHECKING:
    from charter.tokens.model import Token

CASES = ("kebab", "camel", "snake", "preserve")
COLLISIONS = ("error", "suffix")
_SUFFIX_SEP = {"kebab": "-", "camel": "", "snake": "_", "preserve": "-", "js": "_"}

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|[\s_]+")
# Word boundaries for camel and snake case: lower->Upper, ACRONYMWord, and any non-alphanumeric run.
_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[\W_]+")
_PLAIN_IDENT = re.compile(r"[A-Za-z0-9_-]+")
_KEBAB: dict[str, str] = {}
_GROUPS: dict[str, str] = {}


def _kebab(part: str) -> str:
    out = _KEBAB.get(part)
    if out is None:
        # Most names (``t12``, ``500``, ``surface``) are already kebab case: skip the regex.
        plain = part.isalnum() and (part.islower() or part.isdigit())
        out = _KEBAB[part] = part if plain else _CAMEL.sub("-", part).lower()
    return out


def _group_name(group: str) -> str:
    out = _GROUPS.get(group)
    if out is None:
        out = _GROUPS[group] = "-".join([_kebab(p) for p in group.split(".") if p != "$root"])
    return out


def _kebab_name(path: str, prefix: str) -> str:
    # Group paths repeat across thousands of tokens (and every theme): memoise them.
    group, _, last = path.rpartition(".")
    head = _group_name(group) if group else ""
    tail = "" if last == "$root" else _kebab(last)
    name = f"{head}-{tail}" if head and tail else head or tail
    if "--" in name or name[:1] == "-" or name[-1:] == "-":
        name = re.sub(r"-+", "-", name).strip("-")
    return f"{prefix}-{name}" if prefix else name


def words(text: str) -> list[str]:
    """``textDefault`` -> ``["text", "Default"]``; ``a/b c`` -> ``["a", "b", "c"]``."""
    return [w for chunk in _NON_WORD.split(text) for w in _BOUNDARY.split(chunk) if w]


def _camel(ws: list[str]) -> str:
    out = ""
    for w in ws:
        if not out:
            out = w.lower()
        elif w[0].isdigit():
            out += "_" + w  # ``hue1.50`` and ``hue15.0`` stay apart
        else:
            out += w[:1].upper() + w[1:].lower()
    return out


def token_name(path: str, case: str = "kebab", prefix: str = "") -> str:
    """The (unescaped) output name of the token at ``path`` (``$root`` dropped) in ``case``."""
    if case == "kebab":
        return _kebab_name(path, prefix)
    parts = [p for p in path.split(".") if p != "$root"]
    if case == "preserve":
        return "-".join([prefix, *parts] if prefix else parts)
    ws = [w for p in ([prefix, *parts] if prefix else parts) for w in words(p)]
    if case == "camel":
        return _camel(ws)
    if case == "snake":
        return "_".join(w.lower() for w in ws)
    raise ValueError(f"unknown name case {case!r} (one of: {', '.join(CASES)})")


def css_name(path: str, prefix: str = "") -> str:
    """``color.textDefault.$root`` -> ``color-text-default`` (kebab case, unescaped)."""
    return _kebab_name(path, prefix)


def _hex_escape(ch: str) -> str:
    return f"\\{ord(ch):x} "


def css_ident(name: str, custom_property: bool = True) -> str:
    """Escape ``name`` as a CSS identifier (CSSOM "serialize an identifier", CSS Syntax §4.3.11).

    With ``custom_property`` the result follows ``--`` (a leading digit needs no escape there);
    without, it is a whole identifier (a Sass variable name after ``$``)."""
    if _PLAIN_IDENT.fullmatch(name) and (
        custom_property or not (name[0].isdigit() or (name[0] == "-" and name[1:2].isdigit()) or name == "-")
    ):
        return name
    out = []
    for i, ch in enumerate(name):
        o = ord(ch)
        if o == 0:
            out.append("\ufffd")
        elif o < 0x20 or o == 0x7F or 0xD800 <= o <= 0xDFFF:
            out.append(_hex_escape(ch) if o < 0xD800 else "\ufffd")
        elif ch.isascii() and (ch.isalnum() or ch in "-_"):
            leading_digit = ch.isdigit() and (i == 0 or (i == 1 and name[0] == "-"))
            out.append(_hex_escape(ch) if leading_digit and not custom_property else ch)
        elif o >= 0x80:
            out.append(ch)
        else:
            out.append("\\" + ch)
    if not custom_property and name == "-":
        return "\\-"
    return "".join(out)


def css_string(text: str, quote: str = "'") -> str:
    """``text`` as a quoted CSS (and Sass) string: quotes, backslashes and control characters
    escaped (CSS Syntax §4.3.5), so ``O'Brien Sans`` -> ``'O\\'Brien Sans'``."""
    out = [quote]
    for ch in text:
        o = ord(ch)
        if ch == quote or ch == "\\":
            out.append("\\" + ch)
        elif o == 0 or 0xD800 <= o <= 0xDFFF:
            out.append("\ufffd")
        elif o < 0x20 or o == 0x7F:
            out.append(_hex_escape(ch))
        else:
            out.append(ch)
    out.append(quote)
    return "".join(out)


_RESERVED = frozenset(
    [
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "enum",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "import",
        "in",
        "instanceof",
        "new",
        "null",
        "return",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "typeof",
        "var",
        "void",
        "while",
        "with",
        "yield",
        "let",
        "static",
        "implements",
        "interface",
        "package",
        "private",
        "protected",
        "public",
        "await",
        "arguments",
        "eval",
    ]
)


def js_name(name: str) -> str:
    """``color-text-default`` -> ``colorTextDefault``, ``space-1-5`` -> ``space_1_5`` (a part that
    starts with a digit is joined with ``_`` so ``hue1-150`` and ``hue11-50`` stay apart); always a
    valid JavaScript identifier (letters and digits of any script are kept, anything else splits
    words; a reserved word or a leading digit gets a ``_`` in front)."""
    parts = [p for p in _NON_WORD.split(name) if p]
    out = parts[0] if parts else "_"
    for p in parts[1:]:
        out += "_" + p if p[0].isdigit() else p[:1].upper() + p[1:]
    if out[0].isdigit() or out in _RESERVED or not out.isidentifier():
        out = "_" + out
    if not out.isidentifier():  # a character Python's identifier rules (≈ JavaScript's) refuse
        out = "_" + "".join(c if ("_" + c).isidentifier() else "_" for c in out[1:])
    return out


def label(token: Token, part: str | None) -> str:
    return f"{token.path} ({part})" if part else token.path


def assign(
    items: list[tuple[str, Token, str | None]], policy: str, what: str, case: str = "kebab", hint: str = ""
) -> list[str]:
    """Final names for ``(name, token, part)`` items under the collision ``policy``.

    ``error`` raises one ``ValidationFailed`` listing every clash with both token paths;
    ``suffix`` keeps the name of the first token in path order and numbers the others."""
    groups: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault(item[0], []).append(i)
    names = [item[0] for item in items]
    if len(groups) == len(items):
        return names
    problems = Problems()
    taken = set(groups)
    sep = _SUFFIX_SEP.get(case, "-")
    for name, idx in groups.items():
        if len(idx) < 2:
            continue
        idx.sort(key=lambda i: (items[i][1].path, items[i][2] or ""))
        first = items[idx[0]]
        for i in idx[1:]:
            _, tok, part = items[i]
            if policy == "suffix":
                n = 2
                while f"{name}{sep}{n}" in taken:
                    n += 1
                names[i] = f"{name}{sep}{n}"
                taken.add(names[i])
            else:
                where = f" ({part})" if part else ""
                problems.token(
                    tok,
                    f"{what} {name!r}{where} clashes with token {label(first[1], first[2])!r}{hint}",
                    "name",
                )
    problems.raise_if_any("token names")
    return names


def check_options(case: str, policy: str) -> None:
    problems = Problems()
    if case not in CASES:
        problems.add(None, "/name_case", f"name case must be one of {', '.join(CASES)}, not {case!r}", "options")
    if policy not in COLLISIONS:
        problems.add(
            None, "/on_collision", f"collision policy must be one of {', '.join(COLLISIONS)}, not {policy!r}", "options"
        )
    problems.raise_if_any("options")
