"""Token checks as data, for gates and dashboards (``charter ci``, the admin's token pages).

:func:`check_tokens` never raises for bad tokens or failing contrast: it returns a
:class:`TokenCheck` whose ``ok`` says whether a build would pass, with every error (file +
JSON pointer + message), every contrast result (pair, theme, ratio, required, passed) and, per
theme, the colour swatches a UI can render.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charter.exceptions import ErrorDetail, ValidationFailed


@dataclass
class Swatch:
    path: str
    css: str
    #: sRGB ``#rrggbb`` (gamut-mapped when the colour is wider than sRGB)
    hex: str
    alpha: float
    description: str | None = None
    deprecated: bool | str = False
    alias: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "css": self.css,
            "hex": self.hex,
            "alpha": self.alpha,
            "description": self.description,
            "deprecated": self.deprecated,
            "alias": self.alias,
        }


@dataclass
class ThemeSummary:
    name: str
    inputs: dict[str, str]
    tokens: int
    swatches: list[Swatch]
    contrast: list[Any]  # ContrastResult for this theme

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "inputs": self.inputs,
            "tokens": self.tokens,
            "swatches": [s.to_dict() for s in self.swatches],
            "contrast": [r.to_dict() for r in self.contrast],
        }


@dataclass
class TokenCheck:
    ok: bool
    detail: str
    errors: list[ErrorDetail] = field(default_factory=list)
    themes: list[ThemeSummary] = field(default_factory=list)
    contrast: list[Any] = field(default_factory=list)

    @property
    def contrast_failures(self) -> list[Any]:
        return [r for r in self.contrast if not r.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "detail": self.detail,
            "errors": [e.to_dict() for e in self.errors],
            "contrast_failures": len(self.contrast_failures),
            "themes": [t.to_dict() for t in self.themes],
        }


def _swatches(theme: Any) -> list[Swatch]:
    from charter.tokens.colors import css_color, srgb_string

    out = []
    for t in theme.tokens:
        if t.type != "color":
            continue
        value = t.resolved
        srgb = srgb_string({**value, "alpha": 1})
        alpha = value.get("alpha", 1)
        out.append(
            Swatch(
                t.path,
                css_color(value),
                srgb,
                float(alpha) if alpha != "none" else 1.0,
                t.description,
                t.deprecated,
                t.alias,
            )
        )
    return out


def check_tokens(
    sources: list[Path],
    *,
    themes: list[str] | None = None,
    contrast_file: Path | None = None,
    aaa: bool = False,
    swatches: bool = True,
) -> TokenCheck:
    """Validate token sources and contrast in every theme; the result says what a build would do."""
    from charter.tokens.build import contrast_error, load

    try:
        loaded = load(sources, themes, contrast_file, aaa)
    except ValidationFailed as exc:
        return TokenCheck(ok=False, detail=exc.detail, errors=list(exc.errors))
    summaries = [
        ThemeSummary(
            t.name,
            t.inputs,
            len(t.tokens),
            _swatches(t) if swatches else [],
            [r for r in loaded.contrast if r.theme == t.name],
        )
        for t in loaded.themes
    ]
    if loaded.failures:
        err = contrast_error(loaded)
        return TokenCheck(False, err.detail, list(err.errors), summaries, loaded.contrast)
    n = sum(len(t.tokens) for t in loaded.themes)
    detail = f"{n} tokens in {len(loaded.themes)} theme(s), {len(loaded.contrast)} contrast checks passed"
    return TokenCheck(True, detail, [], summaries, loaded.contrast)
