"""Lenient reading (``--compat``) of published design systems that bend DTCG 2025.10.

Strict reading stays the default. With ``compat``, each deviation below is mapped to its 2025.10
form where it can be, and reported as a warning with the file and JSON pointer of the value:

* colours written as hex strings (``#abc``, ``#abcd``, ``#aabbcc``, ``#aabbccdd``) -> sRGB objects;
* dimensions and durations written as strings (``"16px"``, ``"1.5rem"``, ``"200ms"``) or bare
  numbers (``0``; durations in ms) -> ``{value, unit}``;
* the Android unit ``dp`` -> ``px`` (one density-independent pixel is one CSS px);
* dimension units outside 2025.10 (``em``, ``ex``, ``ch``, ``vw``, ``vh``, ``vmin``, ``vmax``, ``%``,
  ``pt``): kept as they are (no exact px/rem equivalent exists) and warned;
* a font family written as a CSS list in one string (``"'Mona Sans', Arial, sans-serif"``) -> the
  list of names;
* font weights written with other spellings (``"Bold"``, ``"SemiBold"``, ``"700"``) -> the named
  weight or the number; numbers written as strings -> numbers;
* a token without any ``$type`` whose value is plainly a colour object or a measure with a unit gets
  that type; tokens of a ``$type`` outside 2025.10 are left out; a token that also holds group members keeps
  its value, the members are left out;
* colour objects whose ``hex`` has 3, 4 or 8 digits -> 6 digits; ``{value: 0, unit: ""}`` -> ``0px``;
* typography: fields outside 2025.10 (``textCase``, ``textDecoration``, ``paragraphSpacing``…)
  dropped; a missing ``letterSpacing`` -> ``0px``; a missing ``lineHeight`` -> the ``font``
  shorthand without one; a ``lineHeight`` written as a percentage or as
  a dimension in the font size's unit -> the ratio;
* transitions without ``delay`` -> ``0ms``; shadows without ``spread`` -> ``0px``.

What cannot be mapped stays as it is, and the strict value rules then report it as an error.
"""

from __future__ import annotations

import re
from typing import Any

from charter.exceptions import ErrorDetail
from charter.tokens.model import Alias, Pointer, Token
from charter.tokens.values import (
    CHECKS,
    COMPOSITE_FIELDS,
    DIMENSION_UNITS,
    FONT_WEIGHTS,
    Checks,
    _check_measure,
    check_border,
    check_gradient,
    check_shadow,
    check_transition,
    check_typography,
)

EXTRA_DIMENSION_UNITS = ("em", "ex", "ch", "vw", "vh", "vmin", "vmax", "%", "pt")
_HEX = re.compile(r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
_MEASURE = re.compile(r"\s*(-?(?:\d+(?:\.\d*)?|\.\d+))\s*([a-z%]+)\s*")
_NUMBER = re.compile(r"\s*-?(?:\d+(?:\.\d*)?|\.\d+)\s*")
_WEIGHTS = {k.replace("-", ""): k for k in FONT_WEIGHTS}


def _dimension(v: Any) -> str | None:
    return _check_measure(v, DIMENSION_UNITS + EXTRA_DIMENSION_UNITS, "dimension")


def lenient_checks() -> Checks:
    """The value rules with the extra dimension units allowed (composites included)."""
    checks: Checks = dict(CHECKS)
    checks["dimension"] = _dimension
    checks["border"] = lambda v: check_border(v, checks)
    checks["transition"] = lambda v: check_transition(v, checks)
    # A typography value without lineHeight is read as the font shorthand without one.
    checks["typography"] = lambda v: check_typography(
        {**v, "lineHeight": 1} if type(v) is dict and "lineHeight" not in v else v, checks
    )
    checks["shadow"] = lambda v: check_shadow(v, checks)
    checks["gradient"] = lambda v: check_gradient(v, checks)
    return checks


def _num(text: str) -> int | float:
    f = float(text)
    return int(f) if f.is_integer() and "." not in text else f


def _hex_color(text: str) -> dict[str, Any]:
    h = text[1:]
    if len(h) in (3, 4):
        h = "".join(c * 2 for c in h)
    out: dict[str, Any] = {
        "colorSpace": "srgb",
        "components": [round(int(h[i : i + 2], 16) / 255, 4) for i in (0, 2, 4)],
    }
    if len(h) == 8:
        out["alpha"] = round(int(h[6:8], 16) / 255, 4)
    out["hex"] = "#" + h[:6].lower()
    return out


class _Lenient:
    def __init__(self, warnings: list[ErrorDetail]) -> None:
        self.warnings = warnings

    def warn(self, token: Token, suffix: str, message: str) -> None:
        self.warnings.append(
            ErrorDetail(
                pointer=token.pointer + suffix, message=f"{token.path}: {message}", keyword="compat", file=token.file
            )
        )

    def fix(self, v: Any, type_: str | None, token: Token, ptr: str) -> Any:
        """``v`` mapped to its 2025.10 form (the same object when nothing changed)."""
        if type_ is None or type(v) is Alias or type(v) is Pointer:
            return v
        if type_ == "color" and isinstance(v, str) and _HEX.fullmatch(v.strip()):
            self.warn(token, ptr, f"colour written as the hex string {v!r}; read as an sRGB colour")
            return _hex_color(v.strip())
        if type_ == "color" and type(v) is dict and isinstance(v.get("hex"), str):
            hx = v["hex"].strip()
            if _HEX.fullmatch(hx) and len(hx) != 7:
                self.warn(token, f"{ptr}/hex", f"hex {hx!r} read as {_hex_color(hx)['hex']!r} (2025.10 wants 6 digits)")
                return {**v, "hex": _hex_color(hx)["hex"]}
            return v
        if type_ in ("dimension", "duration"):
            return self.measure(v, type_, token, ptr)
        if type_ == "fontFamily" and (
            (isinstance(v, str) and "," in v) or (type(v) is list and any(isinstance(n, str) and "," in n for n in v))
        ):
            names = [
                n.strip() for item in ([v] if isinstance(v, str) else v) for n in str(item).split(",") if n.strip()
            ]
            self.warn(token, ptr, f"font family written as a CSS list in one string; read as {len(names)} names")
            return names
        if type_ == "number" and isinstance(v, str) and _NUMBER.fullmatch(v):
            self.warn(token, ptr, f"number written as the string {v!r}")
            return _num(v.strip())
        if type_ == "fontWeight" and isinstance(v, str) and v not in FONT_WEIGHTS:
            key = re.sub(r"[\s_-]+", "", v).lower()
            if key in _WEIGHTS:
                self.warn(token, ptr, f"font weight {v!r} read as {_WEIGHTS[key]!r}")
                return _WEIGHTS[key]
            if _NUMBER.fullmatch(v):
                self.warn(token, ptr, f"font weight written as the string {v!r}")
                return _num(v.strip())
            return v
        if type_ in ("shadow", "gradient") and type(v) is list:
            out = [self.fix(item, type_, token, f"{ptr}/{i}") for i, item in enumerate(v)]
            return out if any(a is not b for a, b in zip(out, v, strict=True)) else v
        if type_ in COMPOSITE_FIELDS and type(v) is dict:
            return self.composite(v, type_, token, ptr)
        return v

    def measure(self, v: Any, type_: str, token: Token, ptr: str) -> Any:
        if isinstance(v, str):
            m = _MEASURE.fullmatch(v)
            if m is None:
                return v
            self.warn(token, ptr, f"{type_} written as the string {v!r}")
            v = {"value": _num(m.group(1)), "unit": m.group(2)}
        elif type(v) in (int, float) and not isinstance(v, bool):
            unit = "ms" if type_ == "duration" else "px"
            if type_ == "dimension" and v != 0:
                return v  # a bare non-zero length has no unit to assume
            self.warn(token, ptr, f"{type_} written as the bare number {v!r}; read as {v}{unit}")
            return {"value": v, "unit": unit}
        if type_ == "dimension" and type(v) is dict and v.get("unit") == "dp":
            # Android's density-independent pixel is the CSS px (both 1/160 in at 1x).
            self.warn(token, ptr, "unit 'dp' read as px (1dp = 1px at 1x)")
            return {**v, "unit": "px"}
        if type_ == "dimension" and type(v) is dict and v.get("unit") == "" and v.get("value") == 0:
            self.warn(token, ptr, "dimension 0 without a unit; read as 0px")
            return {"value": 0, "unit": "px"}
        if type_ == "dimension" and type(v) is dict and v.get("unit") in EXTRA_DIMENSION_UNITS:
            self.warn(token, ptr, f"unit {v['unit']!r} is not a DTCG 2025.10 dimension unit (px, rem); kept as it is")
        return v

    def composite(self, v: dict[str, Any], type_: str, token: Token, ptr: str) -> Any:
        fields = COMPOSITE_FIELDS[type_]
        out = dict(v)
        for key, sub in v.items():
            if key in fields:
                out[key] = self.fix(sub, fields[key], token, f"{ptr}/{key}")
            elif not (type_ == "shadow" and key == "inset"):
                self.warn(token, f"{ptr}/{key}", f"{type_} field {key!r} is not in DTCG 2025.10; left out")
                del out[key]
        if type_ == "typography":
            self.typography(out, token, ptr)
        elif type_ == "transition" and "delay" not in out:
            self.warn(token, ptr, "transition without a delay; read as 0ms")
            out["delay"] = {"value": 0, "unit": "ms"}
        elif type_ == "shadow" and "spread" not in out:
            self.warn(token, ptr, "shadow without a spread; read as 0px")
            out["spread"] = {"value": 0, "unit": "px"}
        return out if out != v else v

    def typography(self, out: dict[str, Any], token: Token, ptr: str) -> None:
        if "lineHeight" not in out:
            self.warn(token, ptr, "typography without lineHeight; the font shorthand is written without one")
        if "letterSpacing" not in out:
            self.warn(token, ptr, "typography without letterSpacing; read as 0px")
            out["letterSpacing"] = {"value": 0, "unit": "px"}
        lh = out.get("lineHeight")
        size = out.get("fontSize")
        if isinstance(lh, str) and lh.strip().endswith("%") and _NUMBER.fullmatch(lh.strip()[:-1]):
            out["lineHeight"] = round(float(lh.strip()[:-1]) / 100, 4)
            self.warn(token, f"{ptr}/lineHeight", f"lineHeight {lh!r} read as the ratio {out['lineHeight']}")
        elif isinstance(lh, str) and _NUMBER.fullmatch(lh):
            out["lineHeight"] = _num(lh.strip())
            self.warn(token, f"{ptr}/lineHeight", f"lineHeight written as the string {lh!r}")
        elif isinstance(lh, str) or type(lh) is dict:
            m = self.measure(lh, "dimension", token, f"{ptr}/lineHeight")
            if (
                type(m) is dict
                and type(size) is dict
                and m.get("unit") == size.get("unit")
                and isinstance(m.get("value"), int | float)
                and isinstance(size.get("value"), int | float)
                and size["value"]
            ):
                out["lineHeight"] = round(m["value"] / size["value"], 4)
                self.warn(token, f"{ptr}/lineHeight", f"lineHeight {lh!r} read as the ratio {out['lineHeight']}")


def _infer(v: Any) -> str | None:
    """The type a value without ``$type`` plainly has: a colour object or a measure with a unit."""
    if type(v) is not dict:
        return None
    if "colorSpace" in v and "components" in v:
        return "color"
    unit = v.get("unit")
    if "value" in v and unit in ("ms", "s"):
        return "duration"
    if "value" in v and unit in DIMENSION_UNITS + EXTRA_DIMENSION_UNITS:
        return "dimension"
    return None


def lenient(tokens: dict[str, Token], warnings: list[ErrorDetail]) -> None:
    """Map every literal value's deviations in place (see the module docstring); each mapping adds
    a warning."""
    fixer = _Lenient(warnings)
    for token in tokens.values():
        if token.alias is not None:
            continue
        type_ = token.declared_type or token.group_type
        if type_ is None:
            type_ = _infer(token.value)
            if type_ is not None:
                fixer.warn(token, "", f"no $type on the token or its groups; read as {type_} from its value")
                token.declared_type = type_
        new = fixer.fix(token.value, type_, token, "/$value")
        if new is not token.value:
            token.value = new
