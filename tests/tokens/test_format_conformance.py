"""DTCG Format Module 2025.10 conformance: one row per rule Charter implements, valid and invalid.

Valid rows give the tokens a document defines (path -> CSS value, or a predicate on the token);
invalid rows give the JSON pointer and the words every error must carry. Section numbers are the
Format Module's (https://www.designtokens.org/TR/2025.10/format/) and the Color Module's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from charter.tokens.css_values import css_value
from tests.tokens.conftest import errors_of, px, srgb, themes_of

BLUE = srgb(0, 0.4, 0.8, hex="#0066cc")
WHITE = srgb(1, 1, 1)


def color(value: Any = BLUE, **extra: Any) -> dict[str, Any]:
    return {"$type": "color", "$value": value, **extra}


def dim(v: float, unit: str = "px") -> dict[str, Any]:
    return {"$type": "dimension", "$value": {"value": v, "unit": unit}}


SHADOW = {"color": BLUE, "offsetX": px(0), "offsetY": px(2), "blur": px(4), "spread": px(0)}

# (id, document, {token path: expected CSS value})
VALID: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    # §5.1 name and value; names are case-sensitive and may contain spaces
    ("5.1 minimal token", {"token name": color()}, {"token name": "#0066cc"}),
    ("5.1 names differ only in case", {"font-size": dim(3, "rem"), "FONT-SIZE": dim(16)}, {"font-size": "3rem"}),
    # §5.2.2 type: own $type, else closest group $type, else the referenced token's type
    (
        "5.2.2 type from the closest group",
        {"g": {"$type": "dimension", "h": {"$type": "color", "t": {"$value": BLUE}}, "d": {"$value": px(4)}}},
        {"g.h.t": "#0066cc", "g.d": "4px"},
    ),
    ("5.2.2 type from the referenced token", {"a": color(), "b": {"$value": "{a}"}}, {"b": "#0066cc"}),
    # §5.2.1, 5.2.3, 5.2.4 description, extensions, deprecated
    (
        "5.2 description, extensions and deprecated are accepted",
        {
            "a": color(
                BLUE,
                **{
                    "$description": "Brand",
                    "$extensions": {"org.example": {"x": 1}},
                    "$deprecated": "Use b",
                },
            )
        },
        {"a": "#0066cc"},
    ),
    # §6.1, §6.5 groups, empty groups
    ("6.5 an empty group is valid", {"empty": {"$description": "later"}, "a": color()}, {"a": "#0066cc"}),
    # §6.2 root tokens, §6.7.2 $root stays in the path
    (
        "6.2 $root token and reference to it",
        {
            "accent": {"$type": "color", "$root": {"$value": BLUE}, "light": {"$value": WHITE}},
            "x": {"$value": "{accent.$root}"},
        },
        {"accent.$root": "#0066cc", "accent.light": "#ffffff", "x": "#0066cc"},
    ),
    # §6.4 $extends: deep merge, local tokens replace inherited ones wholesale, chains
    (
        "6.4 $extends inherits and overrides",
        {
            "button": {"$type": "color", "background": {"$value": BLUE}, "text": {"$value": WHITE}},
            "button-primary": {"$extends": "{button}", "background": {"$value": srgb(0.8, 0, 0.4)}},
        },
        {"button-primary.background": "#cc0066", "button-primary.text": "#ffffff", "button.background": "#0066cc"},
    ),
    (
        "6.4.1 $ref at group level is $extends",
        {"base": {"$type": "dimension", "a": {"$value": px(1)}}, "more": {"$ref": "#/base", "b": {"$value": px(2)}}},
        {"more.a": "1px", "more.b": "2px"},
    ),
    (
        "6.4.3 nested groups merge deeply",
        {
            "input": {"field": {"width": dim(12, "rem"), "background": color(WHITE)}},
            "input-amount": {"$extends": "{input}", "field": {"width": dim(100)}},
        },
        {"input-amount.field.width": "100px", "input-amount.field.background": "#ffffff"},
    ),
    (
        "6.4 an extended group may itself extend",
        {
            "a": {"$type": "number", "x": {"$value": 1}},
            "b": {"$extends": "{a}", "y": {"$value": 2}},
            "c": {"$extends": "{b}", "z": {"$value": 3}},
        },
        {"c.x": "1", "c.y": "2", "c.z": "3"},
    ),
    # §7.1.1 curly-brace aliases, §7.2.2 chains
    (
        "7.2.2 chained aliases",
        {
            "base": {"primary": color()},
            "semantic": {"brand": {"$value": "{base.primary}"}, "link": {"$value": "{semantic.brand}"}},
        },
        {"semantic.link": "#0066cc"},
    ),
    # §7.1.2, §6.6.2 JSON pointer references
    ("6.6.2 $ref member aliases a token", {"base": color(), "alias": {"$ref": "#/base"}}, {"alias": "#0066cc"}),
    ("7.1.2 $ref to $value equals braces", {"blue": color(), "p": {"$ref": "#/blue/$value"}}, {"p": "#0066cc"}),
    (
        "7.1.2 $ref into a value's components",
        {"blue": color(), "hue": {"$type": "number", "$ref": "#/blue/$value/components/1"}},
        {"hue": "0.4"},
    ),
    (
        "7.3.1 colour component references",
        {
            "blue": color(srgb(0.2, 0.4, 0.9)),
            "primary": color(
                {
                    "colorSpace": "srgb",
                    "components": [{"$ref": "#/blue/$value/components/0"}, {"$ref": "#/blue/$value/components/1"}, 0.7],
                }
            ),
        },
        {"primary": "#3366b3"},
    ),
    (
        "7.3.2 dimension component references",
        {
            "spacing": dim(16),
            "small": {"$type": "dimension", "$value": {"value": {"$ref": "#/spacing/$value/value"}, "unit": "rem"}},
            "large": {"$type": "dimension", "$value": {"value": 32, "unit": {"$ref": "#/spacing/$value/unit"}}},
        },
        {"small": "16rem", "large": "32px"},
    ),
    (
        "7.3.3 typography component references (and a pointer through an alias)",
        {
            "text": {
                "$type": "typography",
                "$value": {
                    "fontFamily": ["Helvetica", "Arial", "sans-serif"],
                    "fontSize": px(16),
                    "fontWeight": 400,
                    "letterSpacing": px(0),
                    "lineHeight": 1.5,
                },
            },
            "alias": {"$value": "{text}"},
            "h1": {
                "$type": "typography",
                "$value": {
                    "fontFamily": {"$ref": "#/alias/$value/fontFamily"},
                    "fontSize": px(32),
                    "fontWeight": 700,
                    "letterSpacing": px(0),
                    "lineHeight": {"$ref": "#/text/$value/lineHeight"},
                },
            },
        },
        {"h1": "700 32px/1.5 Helvetica, Arial, sans-serif"},
    ),
    # §8.1 + Color Module: colour spaces, none, alpha, hex fallback
    ("color srgb with alpha", {"c": color(srgb(0, 0, 0, alpha=0.5))}, {"c": "rgba(0, 0, 0, 0.5)"}),
    (
        "color hsl with none hue",
        {"c": color({"colorSpace": "hsl", "components": ["none", 0, 100]})},
        {"c": "hsl(none 0% 100%)"},
    ),
    (
        "color oklch",
        {"c": color({"colorSpace": "oklch", "components": [0.7, 0.15, 250]})},
        {"c": "oklch(0.7 0.15 250)"},
    ),
    (
        "color display-p3",
        {"c": color({"colorSpace": "display-p3", "components": [1, 0, 0]})},
        {"c": "color(display-p3 1 0 0)"},
    ),
    (
        "color lab with alpha",
        {"c": color({"colorSpace": "lab", "components": [60, 93.5, -60.5], "alpha": 0.8})},
        {"c": "lab(60 93.5 -60.5 / 0.8)"},
    ),
    ("color hwb", {"c": color({"colorSpace": "hwb", "components": [330, 0, 0]})}, {"c": "hwb(330 0% 0%)"}),
    (
        "color xyz-d65",
        {"c": color({"colorSpace": "xyz-d65", "components": [0.5, 0.5, 0.5]})},
        {"c": "color(xyz-d65 0.5 0.5 0.5)"},
    ),
    # §8.2 dimension, §8.5 duration, §8.3-8.7
    ("8.2 dimension rem and zero px", {"a": dim(0.5, "rem"), "b": dim(0)}, {"a": "0.5rem", "b": "0px"}),
    ("8.5 duration ms and s", {"a": {"$type": "duration", "$value": {"value": 1.5, "unit": "s"}}}, {"a": "1.5s"}),
    (
        "8.3 font family string and array",
        {"f": {"$type": "fontFamily", "a": {"$value": "Comic Sans MS"}, "b": {"$value": ["Helvetica", "sans-serif"]}}},
        {"f.a": "'Comic Sans MS'", "f.b": "Helvetica, sans-serif"},
    ),
    (
        "8.4 font weight number and names",
        {
            "w": {
                "$type": "fontWeight",
                "a": {"$value": 350},
                "b": {"$value": "extra-bold"},
                "c": {"$value": "hairline"},
            }
        },
        {"w.a": "350", "w.b": "800", "w.c": "100"},
    ),
    (
        "8.6 cubic bezier y beyond [0,1]",
        {"e": {"$type": "cubicBezier", "$value": [0.5, -2, 0.5, 3]}},
        {"e": "cubic-bezier(0.5, -2, 0.5, 3)"},
    ),
    ("8.7 number", {"n": {"$type": "number", "$value": -2.3}}, {"n": "-2.3"}),
    # §9 composite types, sub-value references, arrays
    ("9.3.1 stroke style keyword", {"s": {"$type": "strokeStyle", "$value": "dashed"}}, {"s": "dashed"}),
    (
        "9.3.2 stroke style object with referenced dashes (CSS falls back to dashed, §9.3.3)",
        {
            "dash": dim(10),
            "s": {"$type": "strokeStyle", "$value": {"dashArray": ["{dash}", px(2)], "lineCap": "round"}},
        },
        {"s": "dashed"},
    ),
    (
        "9.4 border with referenced colour",
        {"c": color(), "b": {"$type": "border", "$value": {"color": "{c}", "width": px(1), "style": "solid"}}},
        {"b": "1px solid #0066cc"},
    ),
    (
        "9.5 transition",
        {
            "t": {
                "$type": "transition",
                "$value": {
                    "duration": {"value": 200, "unit": "ms"},
                    "delay": {"value": 0, "unit": "ms"},
                    "timingFunction": [0.5, 0, 1, 1],
                },
            }
        },
        {"t": "200ms cubic-bezier(0.5, 0, 1, 1) 0ms"},
    ),
    ("9.6 shadow object", {"s": {"$type": "shadow", "$value": SHADOW}}, {"s": "0px 2px 4px 0px #0066cc"}),
    (
        "9.6 layered and inset shadows, references in the array (9.1)",
        {
            "one": {"$type": "shadow", "$value": SHADOW},
            "s": {"$type": "shadow", "$value": ["{one}", {**SHADOW, "inset": True}]},
        },
        {"s": "0px 2px 4px 0px #0066cc, inset 0px 2px 4px 0px #0066cc"},
    ),
    (
        "9.7 gradient: position references, positions clamped to [0, 1]",
        {
            "end": {"$type": "number", "$value": 42},
            "g": {
                "$type": "gradient",
                "$value": [{"color": BLUE, "position": -1}, {"color": WHITE, "position": "{end}"}],
            },
        },
        {"g": "linear-gradient(#0066cc 0%, #ffffff 100%)"},
    ),
    (
        "9.7 gradient stops from referenced gradients",
        {
            "start": {"$type": "gradient", "$value": [{"color": WHITE, "position": 0}]},
            "g": {"$type": "gradient", "$value": ["{start}", {"color": BLUE, "position": 1}]},
        },
        {"g": "linear-gradient(#ffffff 0%, #0066cc 100%)"},
    ),
    (
        "9.8 typography with referenced sub-values",
        {
            "font": {"$type": "fontFamily", "$value": "Roboto"},
            "t": {
                "$type": "typography",
                "$value": {
                    "fontFamily": "{font}",
                    "fontSize": px(42),
                    "fontWeight": 700,
                    "letterSpacing": px(0.1),
                    "lineHeight": 1.2,
                },
            },
        },
        {"t": "700 42px/1.2 Roboto"},
    ),
    (
        "9.1 an alias of a composite token",
        {"shadow": {"$type": "shadow", "$value": SHADOW}, "card": {"$value": "{shadow}"}},
        {"card": "0px 2px 4px 0px #0066cc"},
    ),
]


@pytest.mark.parametrize(("doc", "expected"), [pytest.param(d, e, id=i) for i, d, e in VALID])
def test_valid(tmp_path: Path, doc: dict[str, Any], expected: dict[str, str]) -> None:
    (theme,) = themes_of(tmp_path, doc)
    got = {t.path: css_value(t.type, t.resolved) for t in theme.tokens}
    for path, css in expected.items():
        assert got[path] == css, path


def test_group_type_and_deprecation_are_inherited(tmp_path: Path) -> None:
    """§6.3.1: group $deprecated applies to children unless a token sets false."""
    (theme,) = themes_of(
        tmp_path,
        {
            "old": {
                "$type": "color",
                "$deprecated": "Use new",
                "a": {"$value": BLUE},
                "b": {"$value": BLUE, "$deprecated": False},
            }
        },
    )
    assert theme.tokens["old.a"].deprecated == "Use new"
    assert theme.tokens["old.b"].deprecated is False
    assert theme.tokens["old.a"].type == "color"


def test_extensions_are_kept_as_is(tmp_path: Path) -> None:
    """§5.2.3: tools must preserve extension data they do not understand."""
    ext = {"org.example.tool-a": 42, "org.example.tool-b": {"turn-up-to-11": True}}
    (theme,) = themes_of(tmp_path, {"a": color(BLUE, **{"$extensions": ext})})
    assert theme.tokens["a"].extensions == ext


def test_paths_keep_root_and_aliases_keep_their_target(tmp_path: Path) -> None:
    """§6.7.2 and §7.2: the path is exposed; references are preserved until output."""
    (theme,) = themes_of(tmp_path, {"a": {"$root": color()}, "b": {"$value": "{a.$root}"}})
    assert [t.path for t in theme.tokens] == ["a.$root", "b"]
    assert theme.tokens["b"].alias == "a.$root"


# (id, document, [(pointer, words the message must contain)])
INVALID: list[tuple[str, Any, list[tuple[str, str]]]] = [
    ("4 a document is a JSON object", [1, 2], [("", "must be a JSON object")]),
    ("5.1.1 names must not start with $", {"$color": color()}, [("/$color", "unknown group property")]),
    ("5.1.1 names must not contain .", {"a.b": color()}, [("/a.b", "must not contain")]),
    ("5.1.1 names must not contain braces", {"a{b}": color()}, [("/a{b}", "must not contain")]),
    (
        "5.2.1 description must be a string",
        {"a": color(BLUE, **{"$description": 3})},
        [("/a/$description", "must be a string")],
    ),
    ("5.2.2 unknown $type", {"a": {"$type": "colour", "$value": BLUE}}, [("/a/$type", "unknown $type 'colour'")]),
    (
        "5.2.2 $type is case-sensitive",
        {"a": {"$type": "Color", "$value": BLUE}},
        [("/a/$type", "unknown $type 'Color'")],
    ),
    (
        "5.2.2 unknown group $type",
        {"g": {"$type": "size", "a": {"$value": px(1)}}},
        [("/g/$type", "unknown $type 'size'")],
    ),
    ("5.2.2 missing $type", {"a": {"$value": 3}}, [("/a", "missing $type")]),
    (
        "5.2.3 extensions must be an object",
        {"a": color(BLUE, **{"$extensions": []})},
        [("/a/$extensions", "must be an object")],
    ),
    (
        "5.2.4 deprecated must be bool or string",
        {"a": color(BLUE, **{"$deprecated": 1})},
        [("/a/$deprecated", "true, false or a string")],
    ),
    ("5.1 $value must not be null", {"a": {"$type": "color", "$value": None}}, [("/a/$value", "must not be null")]),
    (
        "5.2 unknown token property",
        {"a": color(BLUE, **{"$comment": "x"})},
        [("/a", "unknown token property '$comment'")],
    ),
    (
        "6.1 a token cannot also be a group",
        {"a": {**color(), "b": color()}},
        [("/a", "cannot also hold the group member 'b'")],
    ),
    ("6.1 a group member must be an object", {"t": color(), "a": 3}, [("/a", "must be a token")]),
    ("6.2 $root must be a token", {"g": {"$root": {"x": color()}}}, [("/g/$root", "$root must be a token")]),
    (
        "6.4.4 $extends of a parent group is circular",
        {"button": {"color": color(), "secondary": {"$extends": "{button}"}}},
        [("/button/secondary/$extends", "circular $extends")],
    ),
    (
        "6.7.4 a -> b -> c -> a $extends cycle names the cycle",
        {"a": {"$extends": "{b}"}, "b": {"$extends": "{c}"}, "c": {"$extends": "{a}"}},
        [("/a/$extends", "circular $extends: a -> b -> c -> a")],
    ),
    ("6.4.6 $extends target missing", {"a": {"$extends": "{nope}"}}, [("/a/$extends", "'nope' does not exist")]),
    (
        "6.4 $extends must not reference a token",
        {"t": color(), "g": {"$extends": "{t}"}},
        [("/g/$extends", "is a token")],
    ),
    ("6.4.5 $extends must be a reference", {"g": {"$extends": "base"}}, [("/g/$extends", "must be a reference")]),
    (
        "7.1.1 unresolved reference",
        {"a": {"$value": "{missing.token}"}},
        [("/a", "unresolved reference {missing.token}")],
    ),
    (
        "7.1.1 braces cannot target a group",
        {"g": {"$root": color()}, "a": {"$value": "{g}"}},
        [("/a", "{g} is a group, not a token; its root token is {g.$root}")],
    ),
    (
        "7.1.1 a reference must be the whole value",
        {"a": {"$type": "fontFamily", "$value": "{f} sans"}},
        [("/a/$value", "must be the whole value")],
    ),
    (
        "7.4.5 malformed reference",
        {"a": {"$type": "color", "$value": "{a..b}"}},
        [("/a/$value", "malformed reference")],
    ),
    (
        "7.2.3 circular aliases name the cycle",
        {"a": {"$type": "color", "$value": "{b}"}, "b": {"$value": "{c}"}, "c": {"$value": "{a}"}},
        [("/a", "circular reference: a -> b -> c -> a")],
    ),
    (
        "7.2.3 a token referencing itself",
        {"a": {"$type": "color", "$value": "{a}"}},
        [("/a", "circular reference: a -> a")],
    ),
    ("7.4.5 unresolvable JSON pointer", {"a": {"$ref": "#/nowhere"}}, [("/a", "unresolved reference {nowhere}")]),
    (
        "7.4.5 pointer to a missing property",
        {"b": color(), "a": {"$type": "number", "$ref": "#/b/$value/nope"}},
        [("/a", "no such property")],
    ),
    (
        "7.4.5 $ref must be a pointer",
        {"a": {"$type": "color", "$value": {"$ref": "other.json"}}},
        [("/a/$value", "same-document JSON pointer")],
    ),
    (
        "7.4.5 alias type mismatch with declared $type",
        {"c": color(), "a": {"$type": "dimension", "$value": "{c}"}},
        [("/a", "mismatched $type")],
    ),
    (
        "9 sub-value alias of the wrong type",
        {"d": dim(1), "b": {"$type": "border", "$value": {"color": "{d}", "width": px(1), "style": "solid"}}},
        [("/b", "'dimension' where a 'color' is expected")],
    ),
    # §8.1 colour: non-colours in colour tokens, ranges, hex, alpha, components
    ("8.1 a colour string is not a colour value", {"a": color("#ff0000")}, [("/a/$value", "not the string '#ff0000'")]),
    ("8.1 a number is not a colour", {"a": color(7)}, [("/a/$value", "must be an object with colorSpace")]),
    (
        "8.1 unknown colour space",
        {"a": color({"colorSpace": "cmyk", "components": [0, 0, 0]})},
        [("/a/$value", "unknown colorSpace 'cmyk'")],
    ),
    ("8.1 three components", {"a": color({"colorSpace": "srgb", "components": [0, 0]})}, [("/a/$value", "3 numbers")]),
    (
        "8.1 srgb components in [0, 1]",
        {"a": color(srgb(0, 255, 0))},
        [("/a/$value", "components/1 = 255 is out of range")],
    ),
    (
        "8.1 hue is [0, 360)",
        {"a": color({"colorSpace": "hsl", "components": [360, 50, 50]})},
        [("/a/$value", "components/0 = 360")],
    ),
    (
        "8.1 components are numbers or none",
        {"a": color({"colorSpace": "srgb", "components": ["1", 0, 0]})},
        [("/a/$value", "number or 'none'")],
    ),
    ("8.1 alpha in [0, 1]", {"a": color(srgb(0, 0, 0, alpha=2))}, [("/a/$value", "alpha must be a number in [0, 1]")]),
    ("8.1 hex is 6-digit CSS hex", {"a": color(srgb(0, 0, 0, hex="#000"))}, [("/a/$value", "6-digit CSS hex")]),
    (
        "8.1 unknown colour properties",
        {"a": color(srgb(0, 0, 0, name="black"))},
        [("/a/$value", "unknown colour properties: name")],
    ),
    # §8.2-8.7
    (
        "8.2 dimension is an object",
        {"a": {"$type": "dimension", "$value": "12px"}},
        [("/a/$value", "must be an object {value, unit}")],
    ),
    ("8.2.1 dimension unit px or rem", {"a": dim(1, "em")}, [("/a/$value", "unit must be one of px, rem")]),
    (
        "8.2.1 unit required even for 0",
        {"a": {"$type": "dimension", "$value": {"value": 0}}},
        [("/a/$value", "unit must be one of")],
    ),
    (
        "8.5.1 duration unit ms or s",
        {"a": {"$type": "duration", "$value": {"value": 1, "unit": "min"}}},
        [("/a/$value", "unit must be one of ms, s")],
    ),
    (
        "8.3 font family array of strings",
        {"a": {"$type": "fontFamily", "$value": ["Arial", 3]}},
        [("/a/$value", "non-empty string or an array")],
    ),
    ("8.4 font weight range", {"a": {"$type": "fontWeight", "$value": 1001}}, [("/a/$value", "outside [1, 1000]")]),
    (
        "8.4 font weight names are case-sensitive",
        {"a": {"$type": "fontWeight", "$value": "Bold"}},
        [("/a/$value", "named weights")],
    ),
    (
        "8.6 cubic bezier x in [0, 1]",
        {"a": {"$type": "cubicBezier", "$value": [1.5, 0, 1, 1]}},
        [("/a/$value", "x coordinates")],
    ),
    (
        "8.6 cubic bezier has four numbers",
        {"a": {"$type": "cubicBezier", "$value": [0, 0, 1]}},
        [("/a/$value", "4 numbers")],
    ),
    (
        "8.7 number must be a JSON number",
        {"a": {"$type": "number", "$value": "2"}},
        [("/a/$value", "must be a number")],
    ),
    # §9
    (
        "9.3.1 unknown stroke style",
        {"a": {"$type": "strokeStyle", "$value": "wavy"}},
        [("/a/$value", "unknown stroke style 'wavy'")],
    ),
    (
        "9.3.2 stroke style lineCap",
        {"a": {"$type": "strokeStyle", "$value": {"dashArray": [px(1)], "lineCap": "flat"}}},
        [("/a/$value", "lineCap must be")],
    ),
    (
        "9.4 border is missing style",
        {"a": {"$type": "border", "$value": {"color": BLUE, "width": px(1)}}},
        [("/a/$value", "border is missing style")],
    ),
    (
        "9.2 composite with extra sub-values",
        {"a": {"$type": "shadow", "$value": {**SHADOW, "opacity": 1}}},
        [("/a/$value", "unknown shadow properties: opacity")],
    ),
    (
        "9.6 shadow inset must be boolean",
        {"a": {"$type": "shadow", "$value": {**SHADOW, "inset": "yes"}}},
        [("/a/$value", "inset must be true or false")],
    ),
    (
        "9.7 gradient stops need positions",
        {"a": {"$type": "gradient", "$value": [{"color": BLUE}]}},
        [("/a/$value", "missing position")],
    ),
    (
        "9.8 typography sub-value types",
        {
            "a": {
                "$type": "typography",
                "$value": {
                    "fontFamily": "A",
                    "fontSize": px(1),
                    "fontWeight": 400,
                    "letterSpacing": px(0),
                    "lineHeight": "1.5",
                },
            }
        },
        [("/a/$value", "lineHeight: must be a number")],
    ),
]


@pytest.mark.parametrize(("doc", "expected"), [pytest.param(d, e, id=i) for i, d, e in INVALID])
def test_invalid(tmp_path: Path, doc: Any, expected: list[tuple[str, str]]) -> None:
    errors = errors_of(tmp_path, doc)
    for pointer, words in expected:
        assert any(e.startswith(f"tokens.json#{pointer}: ") and words in e for e in errors), (pointer, words, errors)


def test_broken_json_names_file_line_and_column(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, '{"a": {"$type": "color",,}}')
    assert errors == [
        "tokens.json#: invalid JSON at line 1 column 25: Expecting property name enclosed in double quotes"
    ]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, {"a": {"$value": 1}, "b": {"$type": "colour", "$value": 1}, "c": {"$value": "{zz}"}})
    assert len(errors) == 3


def test_unresolved_reference_suggests_a_close_name(tmp_path: Path) -> None:
    (error,) = errors_of(tmp_path, {"color": {"primary": color()}, "a": {"$value": "{color.primray}"}})
    assert "did you mean {color.primary}?" in error


def test_errors_of_merged_files_name_the_file_that_holds_the_token(tmp_path: Path) -> None:
    from charter.exceptions import ValidationFailed
    from charter.tokens.themes import load_themes
    from tests.tokens.conftest import write

    a = write(tmp_path / "a.tokens.json", {"base": {"blue": color()}})
    b = write(tmp_path / "b.tokens.json", {"semantic": {"link": {"$value": "{base.bleu}"}}})
    with pytest.raises(ValidationFailed) as info:
        load_themes([a, b])
    (err,) = info.value.errors
    assert Path(err.file or "").name == "b.tokens.json" and err.pointer == "/semantic/link"


def test_long_alias_chains_resolve_without_recursion(tmp_path: Path) -> None:
    """Style Dictionary's perf shape: deep chains must not hit the recursion limit."""
    doc: dict[str, Any] = {"l0": color()}
    for i in range(1, 3000):
        doc[f"l{i}"] = {"$value": "{l" + str(i - 1) + "}"}
    (theme,) = themes_of(tmp_path, dict(reversed(list(doc.items()))))
    assert theme.tokens["l2999"].resolved == BLUE


# The seed's short form: (id, document, {path: CSS value}) and (id, document, [(pointer, words)]).
SHORT_VALID: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    (
        "hex colours, px by group name, aliases",
        {
            "base": {
                "space": {"0": 0, "1": 4},
                "radius": {"sm": 6},
                "color": {"neutral": {"0": "#fff", "9": "#11182780"}},
            },
            "semantic": {"surface": {"default": "{base.color.neutral.0}"}, "gap": "{base.space.1}"},
        },
        {
            "base.space.1": "4px",
            "base.radius.sm": "6px",
            "base.color.neutral.9": "rgba(17, 24, 39, 0.502)",
            "semantic.surface.default": "#ffffff",
            "semantic.gap": "4px",
        },
    ),
    (
        "measures, weights, durations, numbers and font families",
        {
            "size": {"md": "1.5rem"},
            "weight": {"bold": 700, "regular": "regular"},
            "duration": {"fast": 120, "slow": "0.3s"},
            "ratio": 1.5,
            "font": {"body": "Inter", "mono": ["JetBrains Mono", "monospace"]},
        },
        {
            "size.md": "1.5rem",
            "weight.bold": "700",
            "weight.regular": "400",
            "duration.fast": "120ms",
            "duration.slow": "0.3s",
            "ratio": "1.5",
            "font.body": "Inter",
            "font.mono": "'JetBrains Mono', monospace",
        },
    ),
]


@pytest.mark.parametrize(("doc", "expected"), [pytest.param(d, e, id=i) for i, d, e in SHORT_VALID])
def test_short_form(tmp_path: Path, doc: dict[str, Any], expected: dict[str, str]) -> None:
    (theme,) = themes_of(tmp_path, doc)
    got = {t.path: css_value(t.type, t.resolved) for t in theme.tokens}
    assert {p: got[p] for p in expected} == expected


@pytest.mark.parametrize(
    ("doc", "pointer", "words"),
    [
        ({"brand": {"tagline": "Be bold"}}, "/brand/tagline", "cannot infer a token type from 'Be bold'"),
        ({"flags": {"beta": True}}, "/flags/beta", "cannot infer a token type from True"),
        ({"a": "{b}"}, "/a", "unresolved reference {b}"),
    ],
)
def test_short_form_errors(tmp_path: Path, doc: dict[str, Any], pointer: str, words: str) -> None:
    errors = errors_of(tmp_path, doc)
    assert any(e.startswith(f"tokens.json#{pointer}: ") and words in e for e in errors), errors
