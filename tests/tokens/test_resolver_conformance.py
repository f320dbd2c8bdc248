"""DTCG Resolver Module 2025.10 conformance: sets, modifiers, contexts, resolution order, inputs.

Each row writes a resolver document (plus token files) and either lists the themes it resolves
to (theme -> {token: CSS value}) or the error pointer and words it must produce.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from charter.exceptions import ValidationFailed
from charter.tokens.css_values import css_value
from charter.tokens.themes import load_themes
from tests.tokens.conftest import srgb, write

RED, GREEN, BLUE = srgb(1, 0, 0), srgb(0, 1, 0), srgb(0, 0, 1)


def tok(value: Any, type_: str = "color") -> dict[str, Any]:
    return {"$type": type_, "$value": value}


FILES: dict[str, Any] = {
    "base.json": {"color": {"brand": tok(RED), "text": tok(BLUE)}},
    "light.json": {"color": {"surface": tok(srgb(1, 1, 1))}},
    "dark.json": {"color": {"surface": tok(srgb(0, 0, 0))}},
    "acme.json": {"color": {"brand": tok(GREEN)}},
    "semantic.json": {"button": {"background": {"$value": "{color.brand}"}, "on": {"$value": "{color.surface}"}}},
    "short.json": {"space": {"sm": 4}},
}


def resolver(**body: Any) -> dict[str, Any]:
    return {"version": "2025.10", **body}


MODES = {"contexts": {"light": [{"$ref": "light.json"}], "dark": [{"$ref": "dark.json"}]}, "default": "light"}
BRANDS = {"contexts": {"plain": [], "acme": [{"$ref": "acme.json"}]}, "default": "plain"}

# (id, resolver document, {theme name: {token path: CSS value}})
VALID: list[tuple[str, dict[str, Any], dict[str, dict[str, str]]]] = [
    (
        "sets merge sources in array order",
        resolver(
            sets={"all": {"sources": [{"$ref": "base.json"}, {"$ref": "acme.json"}]}},
            resolutionOrder=[{"$ref": "#/sets/all"}],
        ),
        {"default": {"color.brand": "#00ff00", "color.text": "#0000ff"}},
    ),
    (
        "inline tokens in a set's sources",
        resolver(
            sets={"all": {"sources": [{"$ref": "base.json"}, {"color": {"text": tok(RED)}}]}},
            resolutionOrder=[{"$ref": "#/sets/all"}],
        ),
        {"default": {"color.text": "#ff0000"}},
    ),
    (
        "one modifier: a theme per context, named by the context",
        resolver(
            sets={"base": {"sources": [{"$ref": "base.json"}]}},
            modifiers={"mode": MODES},
            resolutionOrder=[{"$ref": "#/sets/base"}, {"$ref": "#/modifiers/mode"}],
        ),
        {"light": {"color.surface": "#ffffff"}, "dark": {"color.surface": "#000000"}},
    ),
    (
        "every permutation of two modifiers, later entries override earlier ones",
        resolver(
            sets={"base": {"sources": [{"$ref": "base.json"}]}, "semantic": {"sources": [{"$ref": "semantic.json"}]}},
            modifiers={"brand": BRANDS, "mode": MODES},
            resolutionOrder=[
                {"$ref": "#/sets/base"},
                {"$ref": "#/modifiers/brand"},
                {"$ref": "#/modifiers/mode"},
                {"$ref": "#/sets/semantic"},
            ],
        ),
        {
            "plain-light": {"button.background": "#ff0000", "button.on": "#ffffff"},
            "plain-dark": {"button.background": "#ff0000", "button.on": "#000000"},
            "acme-light": {"button.background": "#00ff00", "button.on": "#ffffff"},
            "acme-dark": {"button.background": "#00ff00", "button.on": "#000000"},
        },
    ),
    (
        "aliases resolve after composition (a set may refer to tokens of a later modifier)",
        resolver(
            sets={"semantic": {"sources": [{"$ref": "semantic.json"}]}, "base": {"sources": [{"$ref": "base.json"}]}},
            modifiers={"mode": MODES},
            resolutionOrder=[{"$ref": "#/sets/semantic"}, {"$ref": "#/sets/base"}, {"$ref": "#/modifiers/mode"}],
        ),
        {"light": {"button.on": "#ffffff"}, "dark": {"button.on": "#000000"}},
    ),
    (
        "inline set and modifier in resolutionOrder",
        resolver(
            resolutionOrder=[
                {"type": "set", "name": "base", "sources": [{"$ref": "base.json"}]},
                {"type": "modifier", "name": "mode", **MODES},
            ]
        ),
        {"light": {"color.text": "#0000ff", "color.surface": "#ffffff"}, "dark": {"color.surface": "#000000"}},
    ),
    (
        "a modifier context may reference a set",
        resolver(
            sets={"base": {"sources": [{"$ref": "base.json"}]}},
            modifiers={
                "mode": {
                    "contexts": {"a": [{"$ref": "#/sets/base"}], "b": [{"$ref": "#/sets/base"}, {"$ref": "acme.json"}]}
                }
            },
            resolutionOrder=[{"$ref": "#/modifiers/mode"}],
        ),
        {"a": {"color.brand": "#ff0000"}, "b": {"color.brand": "#00ff00"}},
    ),
    (
        "a source may point into a file (file.json#/pointer)",
        resolver(
            sets={"s": {"sources": [{"$ref": "base.json"}, {"$ref": "acme.json#/color"}]}},
            resolutionOrder=[{"$ref": "#/sets/s"}],
        ),
        {"default": {"color.brand": "#ff0000", "brand": "#00ff00"}},
    ),
    (
        "token files in the seed's short form",
        resolver(sets={"s": {"sources": [{"$ref": "short.json"}]}}, resolutionOrder=[{"$ref": "#/sets/s"}]),
        {"default": {"space.sm": "4px"}},
    ),
    (
        "an alias may replace a token of any type",
        resolver(
            sets={"s": {"sources": [{"$ref": "base.json"}, {"color": {"text": {"$value": "{color.brand}"}}}]}},
            resolutionOrder=[{"$ref": "#/sets/s"}],
        ),
        {"default": {"color.text": "#ff0000"}},
    ),
]


def _load(tmp: Path, doc: dict[str, Any], themes: list[str] | None = None) -> dict[str, dict[str, str]]:
    for name, body in FILES.items():
        write(tmp / name, body)
    path = write(tmp / "tokens.resolver.json", doc)
    _, loaded = load_themes([path], themes)
    return {t.name: {x.path: css_value(x.type, x.resolved) for x in t.tokens} for t in loaded}


@pytest.mark.parametrize(("doc", "expected"), [pytest.param(d, e, id=i) for i, d, e in VALID])
def test_valid(tmp_path: Path, doc: dict[str, Any], expected: dict[str, dict[str, str]]) -> None:
    got = _load(tmp_path, doc)
    assert list(got) == list(expected), "themes, in resolution order"
    for theme, tokens in expected.items():
        for path, css in tokens.items():
            assert got[theme][path] == css, (theme, path)


TWO = resolver(
    sets={"base": {"sources": [{"$ref": "base.json"}]}},
    modifiers={"brand": BRANDS, "mode": MODES},
    resolutionOrder=[{"$ref": "#/sets/base"}, {"$ref": "#/modifiers/brand"}, {"$ref": "#/modifiers/mode"}],
)


@pytest.mark.parametrize(
    ("wanted", "themes"),
    [
        (["acme-dark"], ["acme-dark"]),
        (["brand=acme,mode=dark"], ["acme-dark"]),
        (["mode=dark"], ["plain-dark"]),  # missing modifiers take their default
        (["BRAND=Acme,Mode=DARK"], ["acme-dark"]),  # inputs are case-insensitive
        (["plain-light", "acme-light"], ["plain-light", "acme-light"]),
    ],
)
def test_listed_themes(tmp_path: Path, wanted: list[str], themes: list[str]) -> None:
    assert list(_load(tmp_path, TWO, wanted)) == themes


@pytest.mark.parametrize(
    ("wanted", "words"),
    [
        (["brand=globex"], "invalid context 'globex' for modifier 'brand' (one of: plain, acme)"),
        (["size=large"], "unknown modifier 'size'"),
        (["acme-sepia"], "unknown theme 'acme-sepia'"),
    ],
)
def test_invalid_inputs(tmp_path: Path, wanted: list[str], words: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        _load(tmp_path, TWO, wanted)
    assert any(words in e.message for e in info.value.errors), info.value.errors


def test_a_modifier_without_default_needs_an_input(tmp_path: Path) -> None:
    doc = resolver(
        modifiers={"mode": {"contexts": MODES["contexts"]}, "brand": BRANDS},
        resolutionOrder=[{"$ref": "#/modifiers/mode"}, {"$ref": "#/modifiers/brand"}],
    )
    with pytest.raises(ValidationFailed) as info:
        _load(tmp_path, doc, ["brand=acme"])
    assert any("missing modifier 'mode' (no default)" in e.message for e in info.value.errors)
    assert list(_load(tmp_path, doc)) == ["light-plain", "light-acme", "dark-plain", "dark-acme"]


# (id, resolver document, [(pointer, words)])
INVALID: list[tuple[str, Any, list[tuple[str, str]]]] = [
    ("version is required", {"resolutionOrder": []}, [("/version", "version must be '2025.10'")]),
    (
        "version must be 2025.10",
        resolver(version="2025-10-01", resolutionOrder=[]),
        [("/version", "must be '2025.10'")],
    ),
    ("resolutionOrder is required", resolver(sets={}), [("/resolutionOrder", "resolutionOrder is required")]),
    (
        "a set needs sources",
        resolver(sets={"s": {}}, resolutionOrder=[{"$ref": "#/sets/s"}]),
        [("/sets/s/sources", "needs a 'sources' array")],
    ),
    (
        "inline items need type and name",
        resolver(resolutionOrder=[{"sources": []}]),
        [("/resolutionOrder/0", "needs 'type' (set or modifier) and a 'name'")],
    ),
    (
        "inline names are unique",
        resolver(
            resolutionOrder=[{"type": "set", "name": "a", "sources": []}, {"type": "set", "name": "a", "sources": []}]
        ),
        [("/resolutionOrder/1", "duplicate name 'a'")],
    ),
    (
        "a modifier must have contexts",
        resolver(modifiers={"m": {"contexts": {}}}, resolutionOrder=[{"$ref": "#/modifiers/m"}]),
        [("/modifiers/m/contexts", "non-empty 'contexts'")],
    ),
    (
        "a modifier with one context is an error",
        resolver(modifiers={"m": {"contexts": {"only": []}}}, resolutionOrder=[{"$ref": "#/modifiers/m"}]),
        [("/modifiers/m/contexts", "has one context; use a set")],
    ),
    (
        "default must be one of the contexts",
        resolver(modifiers={"m": {**MODES, "default": "sepia"}}, resolutionOrder=[{"$ref": "#/modifiers/m"}]),
        [("/modifiers/m/default", "default 'sepia' is not one of the contexts")],
    ),
    (
        "sets must not reference a modifier",
        resolver(
            sets={"s": {"sources": [{"$ref": "#/modifiers/m"}]}},
            modifiers={"m": MODES},
            resolutionOrder=[{"$ref": "#/sets/s"}],
        ),
        [("/sets/s/sources/0/$ref", "must not reference a modifier")],
    ),
    (
        "a modifier must not reference a modifier",
        resolver(
            modifiers={"m": MODES, "n": {"contexts": {"a": [{"$ref": "#/modifiers/m"}], "b": []}}},
            resolutionOrder=[{"$ref": "#/modifiers/n"}],
        ),
        [("/modifiers/n/contexts/a/0/$ref", "must not reference a modifier")],
    ),
    (
        "nothing may point into resolutionOrder",
        resolver(sets={"s": {"sources": [{"$ref": "#/resolutionOrder/0"}]}}, resolutionOrder=[{"$ref": "#/sets/s"}]),
        [("/sets/s/sources/0/$ref", "nothing may reference '#/resolutionOrder'")],
    ),
    (
        "resolutionOrder references sets or modifiers",
        resolver(resolutionOrder=[{"$ref": "#/elsewhere/x"}]),
        [("/resolutionOrder/0", "must reference '#/sets/<name>' or '#/modifiers/<name>'")],
    ),
    (
        "a missing set in resolutionOrder",
        resolver(resolutionOrder=[{"$ref": "#/sets/core"}]),
        [("/resolutionOrder/0", "'#/sets/core' does not exist")],
    ),
    (
        "a missing set referenced from a modifier",
        resolver(
            modifiers={"m": {"contexts": {"a": [{"$ref": "#/sets/nope"}], "b": []}}},
            resolutionOrder=[{"$ref": "#/modifiers/m"}],
        ),
        [("/modifiers/m/contexts/a/0", "missing set '#/sets/nope'")],
    ),
    (
        "a missing source file",
        resolver(sets={"s": {"sources": [{"$ref": "nope.json"}]}}, resolutionOrder=[{"$ref": "#/sets/s"}]),
        [("/sets/s/sources/0", "missing source file 'nope.json'")],
    ),
    (
        "remote sources are not fetched",
        resolver(
            sets={"s": {"sources": [{"$ref": "https://cdn.example/t.json"}]}}, resolutionOrder=[{"$ref": "#/sets/s"}]
        ),
        [("/sets/s/sources/0", "Charter reads local files only")],
    ),
    (
        "circular set references",
        resolver(
            sets={"a": {"sources": [{"$ref": "#/sets/b"}]}, "b": {"sources": [{"$ref": "#/sets/a"}]}},
            resolutionOrder=[{"$ref": "#/sets/a"}],
        ),
        [("/sets/b/sources/0", "circular reference: #/sets/a -> #/sets/b -> #/sets/a")],
    ),
    (
        "a token and a group at the same path",
        resolver(
            sets={"s": {"sources": [{"$ref": "base.json"}, {"color": {"brand": {"light": tok(RED)}}}]}},
            resolutionOrder=[{"$ref": "#/sets/s"}],
        ),
        [("/color/brand", "a group here but a token in")],
    ),
    (
        "incompatible types at the same path",
        resolver(
            sets={
                "s": {
                    "sources": [
                        {"$ref": "base.json"},
                        {"color": {"brand": tok({"value": 1, "unit": "px"}, "dimension")}},
                    ]
                }
            },
            resolutionOrder=[{"$ref": "#/sets/s"}],
        ),
        [("/color/brand", "redefined as a 'dimension' token, but it is a 'color' token in")],
    ),
    (
        "token errors name the source file",
        resolver(sets={"s": {"sources": [{"$ref": "bad.json"}]}}, resolutionOrder=[{"$ref": "#/sets/s"}]),
        [("/x/$type", "unknown $type 'colour'")],
    ),
]


@pytest.mark.parametrize(("doc", "expected"), [pytest.param(d, e, id=i) for i, d, e in INVALID])
def test_invalid(tmp_path: Path, doc: Any, expected: list[tuple[str, str]]) -> None:
    write(tmp_path / "bad.json", {"x": {"$type": "colour", "$value": 1}})
    with pytest.raises(ValidationFailed) as info:
        _load(tmp_path, doc)
    errors = [(e.file or "", e.pointer, e.message) for e in info.value.errors]
    for pointer, words in expected:
        assert any(p == pointer and words in m and f for f, p, m in errors), (pointer, words, errors)


def test_errors_in_a_source_name_that_file(tmp_path: Path) -> None:
    write(tmp_path / "bad.json", {"x": {"$type": "colour", "$value": 1}})
    with pytest.raises(ValidationFailed) as info:
        _load(
            tmp_path, resolver(sets={"s": {"sources": [{"$ref": "bad.json"}]}}, resolutionOrder=[{"$ref": "#/sets/s"}])
        )
    assert [Path(e.file or "").name for e in info.value.errors] == ["bad.json"]


def test_a_resolver_document_must_be_json(tmp_path: Path) -> None:
    path = write(tmp_path / "tokens.resolver.json", '{"version": "2025.10", "resolutionOrder": [')
    with pytest.raises(ValidationFailed) as info:
        load_themes([path])
    (err,) = info.value.errors
    assert err.file == str(path) and "invalid JSON at line 1" in err.message


def test_permutation_count_is_the_product_of_contexts(tmp_path: Path) -> None:
    """Resolver Module "Resolution count": 2 x 2 x 3 modifiers -> 12 resolutions."""
    three = {"contexts": {"s": [], "m": [], "l": []}, "default": "m"}
    doc = resolver(
        sets={"base": {"sources": [{"$ref": "base.json"}]}},
        modifiers={"brand": BRANDS, "mode": MODES, "size": three},
        resolutionOrder=[
            {"$ref": "#/sets/base"},
            {"$ref": "#/modifiers/brand"},
            {"$ref": "#/modifiers/mode"},
            {"$ref": "#/modifiers/size"},
        ],
    )
    assert len(_load(tmp_path, doc)) == 12
