"""Accessibility at the semantic layer: WCAG 2.2 contrast of declared foreground/background pairs.

Pairs are declared once, next to the tokens (``contrast.json``: ``{"pairs": [...]}``, or the
resolver document's ``$extensions["dev.charter.contrast"]``), and checked in every theme:

    {"foreground": "text.default", "background": "surface.default", "level": "AA", "size": "normal"}

``level`` is ``AA`` (default) or ``AAA``; ``size`` is ``normal`` (default) or ``large`` (WCAG 2.2
SC 1.4.3 / 1.4.6: AA 4.5:1, AA large 3:1, AAA 7:1, AAA large 4.5:1). ``themes`` optionally limits
a pair to some themes. A translucent foreground is composited over the background, and a
translucent background over white, before the ratio is computed with coloraide (``wcag21``).
"""

from __future__ import annotations

from typing import Any

from charter.tokens.model import Problems

REQUIRED = {("AA", "normal"): 4.5, ("AA", "large"): 3.0, ("AAA", "normal"): 7.0, ("AAA", "large"): 4.5}


class Pair:
    """A declared foreground/background pair: checked at ``level`` for ``size`` text, in
    ``themes`` (every theme when empty)."""

    __slots__ = ("background", "foreground", "level", "size", "themes")

    def __init__(
        self, foreground: str, background: str, level: str = "AA", size: str = "normal", themes: tuple[str, ...] = ()
    ) -> None:
        self.foreground = foreground
        self.background = background
        self.level = level
        self.size = size
        self.themes = themes

    def _key(self) -> tuple[Any, ...]:
        return (self.foreground, self.background, self.level, self.size, self.themes)

    def __eq__(self, other: object) -> bool:
        return other._key() == self._key() if isinstance(other, Pair) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Pair{self._key()!r}"

    @property
    def required(self) -> float:
        return REQUIRED[(self.level, self.size)]


class ContrastResult:
    """The measured WCAG 2.2 contrast of one pair in one theme."""

    __slots__ = ("background", "foreground", "level", "ratio", "required", "size", "theme")

    def __init__(
        self, theme: str, foreground: str, background: str, level: str, size: str, ratio: float, required: float
    ) -> None:
        self.theme = theme
        self.foreground = foreground
        self.background = background
        self.level = level
        self.size = size
        self.ratio = ratio
        self.required = required

    def _key(self) -> tuple[Any, ...]:
        return (self.theme, self.foreground, self.background, self.level, self.size, self.ratio, self.required)

    def __eq__(self, other: object) -> bool:
        return other._key() == self._key() if isinstance(other, ContrastResult) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"ContrastResult{self._key()!r}"

    @property
    def passed(self) -> bool:
        return self.ratio >= self.required

    def to_dict(self) -> dict[str, Any]:
        return {
            "theme": self.theme,
            "foreground": self.foreground,
            "background": self.background,
            "level": self.level,
            "size": self.size,
            "ratio": round(self.ratio, 2),
            "required": self.required,
            "passed": self.passed,
        }

    def describe(self) -> str:
        return (
            f"{self.foreground} on {self.background} in theme {self.theme!r}: contrast "
            f"{self.ratio:.2f}:1 is below {self.level} {self.size} text ({self.required:g}:1)"
        )


def parse_pairs(raw: Any, file: str | None, force_aaa: bool = False) -> list[Pair]:
    """Validate declared pairs; raise ``ValidationFailed`` naming the file and the pair."""
    problems = Problems()
    if raw is None:
        return []
    if type(raw) is not list:
        problems.add(file, "/pairs", "contrast pairs must be an array", "contrast")
        problems.raise_if_any("contrast pairs")
    pairs = []
    for i, item in enumerate(raw):
        ptr = f"/pairs/{i}"
        if type(item) is not dict:
            problems.add(file, ptr, "a pair must be an object with foreground and background", "contrast")
            continue
        fg = item.get("foreground", item.get("fg"))
        bg = item.get("background", item.get("bg"))
        level = str(item.get("level", "AA")).upper()
        size = str(item.get("size", "normal")).lower()
        themes = item.get("themes", [])
        if not isinstance(fg, str) or not isinstance(bg, str):
            problems.add(file, ptr, "a pair needs 'foreground' and 'background' token paths", "contrast")
            continue
        if level not in ("AA", "AAA") or size not in ("normal", "large"):
            problems.add(file, ptr, "level must be AA or AAA and size normal or large", "contrast")
            continue
        if type(themes) is not list or not all(isinstance(t, str) for t in themes):
            problems.add(file, ptr + "/themes", "themes must be an array of theme names", "contrast")
            continue
        fg, bg = fg.strip("{}"), bg.strip("{}")
        pairs.append(Pair(fg, bg, "AAA" if force_aaa else level, size, tuple(themes)))
    problems.raise_if_any("contrast pairs")
    return pairs


def check(themes: list[Any], pairs: list[Pair], file: str | None = None) -> list[ContrastResult]:
    """The contrast of every pair in every theme it applies to.

    Raises ``ValidationFailed`` when a pair names a token that is missing or not a colour.
    Failing ratios are *returned* (``passed`` is False); the build decides what to do.
    """
    if not pairs:
        return []
    from coloraide import Color

    from charter.tokens.colors import to_color

    problems = Problems()
    white = Color("srgb", [1, 1, 1])
    results: list[ContrastResult] = []
    for theme in themes:
        for i, pair in enumerate(pairs):
            if pair.themes and theme.name not in pair.themes:
                continue
            colors = []
            for role, path in (("foreground", pair.foreground), ("background", pair.background)):
                tok = theme.tokens.get(path)
                if tok is None or tok.type != "color":
                    what = "no such token" if tok is None else f"a {tok.type} token, not a colour"
                    problems.add(file, f"/pairs/{i}", f"{role} {path!r} in theme {theme.name!r}: {what}", "contrast")
                    break
                colors.append(to_color(tok.resolved))
            if len(colors) != 2:
                continue
            fg, bg = colors
            if bg.alpha() < 1:
                bg = Color.layer([bg, white], space="srgb")
            if fg.alpha() < 1:
                fg = Color.layer([fg, bg], space="srgb")
            ratio = float(fg.contrast(bg, method="wcag21"))
            results.append(
                ContrastResult(
                    theme.name, pair.foreground, pair.background, pair.level, pair.size, ratio, pair.required
                )
            )
    problems.raise_if_any("contrast pairs")
    return results
