"""The token-format interface and what every format receives.

A format is an object with a ``name``, a one-line ``description`` and ``render(ctx) -> {relative
path: text}``; it must not touch the file system (the build writes everything at once, atomically).
Built-in formats are registered through the ``register_token_formats`` hook like any plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from charter.tokens.css_values import css_value, letter_spacing
from charter.tokens.model import Token
from charter.tokens.naming import assign, js_name, token_name

__all__ = ["BuildContext", "Entry", "FormatOptions", "TokenFormat", "alias_depth", "js_name", "nest"]

if TYPE_CHECKING:
    from charter.tokens.themes import Theme


class TokenFormat(Protocol):
    name: str
    description: str

    def render(self, ctx: BuildContext) -> dict[str, str]:
        """Files to write, by path relative to the output folder."""
        ...


# Plain classes rather than dataclasses, as everywhere on the build path (see model.TokenSet).
class FormatOptions:
    """How formats write names and values.

    * ``css_references``: keep whole-value aliases as ``var(--target)`` (CSS) / ``$target`` (SCSS);
    * ``prefix``: for CSS custom properties and SCSS variables (``acme`` -> ``--acme-color-…``);
    * ``selector``: CSS selector of each theme's block; ``{theme}`` is replaced by the theme name;
    * ``color_mode``: ``auto`` (sRGB as hex, other spaces as CSS Color 4 functions) or ``hex``
      (sRGB everywhere);
    * ``name_case``: ``kebab``, ``camel``, ``snake`` or ``preserve`` (:mod:`charter.tokens.naming`);
    * ``on_collision``: ``error`` (name both tokens) or ``suffix`` (number the later one).
    """

    __slots__ = ("color_mode", "css_references", "name_case", "on_collision", "prefix", "selector")

    def __init__(
        self,
        css_references: bool = False,
        prefix: str = "",
        selector: str = ":root",
        color_mode: str = "auto",
        name_case: str = "kebab",
        on_collision: str = "error",
    ) -> None:
        self.css_references = css_references
        self.prefix = prefix
        self.selector = selector
        self.color_mode = color_mode
        self.name_case = name_case
        self.on_collision = on_collision


class Entry:
    """A token with its output name (unescaped; each format escapes it) and CSS value. ``part`` is
    ``None`` for the token itself, or the sub-value written as a variable of its own
    (``letterSpacing`` of a typography token, which the ``font`` shorthand cannot carry)."""

    __slots__ = ("name", "part", "token", "value")

    def __init__(self, token: Token, name: str, value: str, part: str | None = None) -> None:
        self.token = token
        self.name = name
        self.value = value
        self.part = part

    def __repr__(self) -> str:
        return f"Entry({self.name!r}, {self.value!r})"

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.token.path, self.part)


_HINT = " (rename one, choose another name case, or resolve collisions with a suffix)"


class BuildContext:
    """What every format's ``render`` receives: the themes, the default theme, the options and
    the package's name, version, description, changelog and list of formats being built."""

    def __init__(
        self,
        themes: list[Theme],
        default_theme: str,
        options: FormatOptions | None = None,
        package_name: str = "design-tokens",
        version: str = "1.0.0",
        description: str = "Design tokens",
        changelog: str = "",
        formats: list[str] | None = None,
    ) -> None:
        self.themes = themes
        self.default_theme = default_theme
        self.options = FormatOptions() if options is None else options
        self.package_name = package_name
        self.version = version
        self.description = description
        self.changelog = changelog
        self.formats: list[str] = [] if formats is None else formats
        self._entries: dict[str, list[Entry]] = {}
        self._names: dict[str, dict[tuple[str, str | None], str]] = {}
        self._js: dict[str, list[tuple[str, Entry]]] = {}

    def entries(self, theme: Theme) -> list[Entry]:
        """Every token of ``theme`` with its output name and CSS value (computed once per theme),
        plus a ``letterSpacing`` entry after each typography token. Names follow the name case
        and the collision policy (:func:`charter.tokens.naming.assign`)."""
        cached = self._entries.get(theme.name)
        if cached is None:
            opts = self.options
            prefix, mode, case = opts.prefix, opts.color_mode, opts.name_case
            # Aliases share their target's resolved value object: render each (type, value) once.
            values: dict[tuple[str | None, int], str] = {}
            cached = []
            for t in theme.tokens:
                key = (t.type, id(t.resolved))
                css = values.get(key)
                if css is None:
                    css = values[key] = css_value(t.type, t.resolved, mode)
                cached.append(Entry(t, token_name(t.path, case, prefix), css))
                if t.type == "typography":
                    name = token_name(t.path + ".letterSpacing", case, prefix)
                    cached.append(Entry(t, name, letter_spacing(t.resolved), "letterSpacing"))
            final = assign([(e.name, e.token, e.part) for e in cached], opts.on_collision, "CSS name", case, _HINT)
            for e, name in zip(cached, final, strict=True):
                e.name = name
            self._entries[theme.name] = cached
        return cached

    def names(self, theme: Theme) -> dict[tuple[str, str | None], str]:
        """``(token path, part)`` -> output name, for references (``var(--target)``)."""
        cached = self._names.get(theme.name)
        if cached is None:
            cached = self._names[theme.name] = {e.key: e.name for e in self.entries(theme)}
        return cached

    def js_entries(self, theme: Theme) -> list[tuple[str, Entry]]:
        """Every entry with its JavaScript identifier (:func:`~charter.tokens.naming.js_name` of
        its output name), under the same collision policy."""
        cached = self._js.get(theme.name)
        if cached is None:
            entries = self.entries(theme)
            items = [(js_name(e.name), e.token, e.part) for e in entries]
            final = assign(items, self.options.on_collision, "JavaScript name", "js", _HINT)
            cached = self._js[theme.name] = list(zip(final, entries, strict=True))
        return cached

    def header(self, theme: Theme, open_: str = "/**", line: str = " *", close: str = " */") -> str:
        inputs = ", ".join(f"{k}={v}" for k, v in theme.inputs.items()) or "no modifiers"
        return (
            f"{open_}\n{line} {self.package_name} {self.version}, theme {theme.name} ({inputs}).\n"
            f"{line} Generated by charter tokens build; do not edit.\n{close}\n"
        )


def nest(items: list[tuple[str, Any]]) -> dict[str, Any]:
    """``[("a.b", 1)]`` -> ``{"a": {"b": 1}}``."""
    root: dict[str, Any] = {}
    for path, value in items:
        node = root
        parts = path.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return root


def alias_depth(tokens: dict[str, Token], token: Token) -> int:
    depth = 0
    cur = token
    while cur.alias is not None and depth < 10_000:
        depth += 1
        cur = tokens[cur.alias]
    return depth
