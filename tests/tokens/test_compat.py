"""``--compat``: lenient reading of published systems that bend DTCG 2025.10; strict stays the default."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from charter.exceptions import ValidationFailed
from charter.tokens.build import BuildOptions, build
from tests.tokens.conftest import cli, px, write

BENT: dict[str, Any] = {
    "color": {"$type": "color", "brand": {"$value": "#0af"}, "ink": {"$value": "#112233cc"}},
    "space": {
        "$type": "dimension",
        "sm": {"$value": "0.5em"},
        "full": {"$value": {"value": 100, "unit": "vw"}},
        "none": {"$value": 0},
    },
    "motion": {"fade": {"$type": "transition", "$value": {"duration": "200ms", "timingFunction": [0.4, 0, 0.2, 1]}}},
    "text": {
        "body": {
            "$type": "typography",
            "$value": {
                "fontFamily": "Inter",
                "fontSize": px(16),
                "fontWeight": "SemiBold",
                "lineHeight": "24px",
                "textCase": "none",
            },
        }
    },
    "shadow": {
        "sm": {"$type": "shadow", "$value": {"color": "#0000001a", "offsetX": "0px", "offsetY": "1px", "blur": "2px"}}
    },
}

# (pointer, words in the warning, CSS line) for every deviation in BENT.
MAPPED = [
    ("/color/brand/$value", "hex string '#0af'", "--color-brand: #00aaff;"),
    ("/color/ink/$value", "hex string '#112233cc'", "--color-ink: rgba(17, 34, 51, 0.8);"),
    ("/space/sm/$value", "unit 'em' is not a DTCG 2025.10 dimension unit", "--space-sm: 0.5em;"),
    ("/space/full/$value", "unit 'vw'", "--space-full: 100vw;"),
    ("/space/none/$value", "bare number 0; read as 0px", "--space-none: 0px;"),
    (
        "/motion/fade/$value",
        "transition without a delay; read as 0ms",
        "--motion-fade: 200ms cubic-bezier(0.4, 0, 0.2, 1) 0ms;",
    ),
    ("/text/body/$value/fontWeight", "'SemiBold' read as 'semi-bold'", "--text-body: 600 16px/1.5 Inter;"),
    ("/text/body/$value/textCase", "field 'textCase' is not in DTCG 2025.10; left out", None),
    ("/text/body/$value", "without letterSpacing; read as 0px", "--text-body-letter-spacing: 0px;"),
    ("/text/body/$value/lineHeight", "lineHeight '24px' read as the ratio 1.5", None),
    ("/shadow/sm/$value", "shadow without a spread; read as 0px", "--shadow-sm: 0px 1px 2px 0px rgba(0, 0, 0, 0.102);"),
]


def test_strict_is_the_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path / "bent.tokens.json", BENT)
    run = cli(capsys, "validate", str(src))
    assert run.code == 1 and "#/color/brand/$value" in run.err and "warning" not in run.err


def test_compat_maps_each_deviation_and_warns_with_its_pointer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = write(tmp_path / "bent.tokens.json", BENT)
    out = tmp_path / "out"
    run = cli(capsys, "build", str(src), "--compat", "-o", str(out), "-f", "css")
    assert run.code == 0, run.err
    warnings = [line for line in run.err.splitlines() if line.startswith("warning: ")]
    css = (out / "css" / "default.css").read_text()
    for pointer, words, line in MAPPED:
        assert any(f"bent.tokens.json#{pointer}: " in w and words in w for w in warnings), (pointer, warnings)
        if line:
            assert line in css
    # Every warning points at a member that exists in the file.
    for w in warnings:
        pointer = w.split("#", 1)[1].split(": ", 1)[0]
        node: Any = BENT
        for part in pointer.strip("/").split("/"):
            node = node[part]


def test_compat_warnings_are_in_the_json_result_once_per_deviation(tmp_path: Path) -> None:
    src = write(tmp_path / "bent.tokens.json", BENT)
    result = build(BuildOptions(sources=[src], compat=True))
    pointers = [w.pointer for w in result.warnings]
    assert len(pointers) == len({(w.pointer, w.message) for w in result.warnings})
    assert result.to_dict()["warnings"][0]["keyword"] == "compat"
    assert json.dumps(result.to_dict())


def test_what_compat_cannot_map_is_still_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = {"c": {"$type": "color", "x": {"$value": "rebeccapurple"}}, "d": {"$type": "dimension", "y": {"$value": 12}}}
    run = cli(capsys, "validate", str(write(tmp_path / "t.tokens.json", doc)), "--compat")
    assert run.code == 1 and "#/c/x/$value" in run.err and "#/d/y/$value" in run.err


def test_compat_reads_what_published_systems_in_dtcg_examples_bend(tmp_path: Path) -> None:
    doc: dict[str, Any] = {
        "black": {"$type": "color", "$value": {"colorSpace": "srgb", "components": [0, 0, 0], "hex": "#000"}},
        "stack": {"$type": "fontFamily", "$value": ["'Mona Sans VF', -apple-system, 'Segoe UI', sans-serif"]},
        "odd": {"$type": "custom-string", "$value": "0 0 0 1px"},
        "muted": {"$type": "color", "$value": "#aabbcc", "alpha": {"$value": 0.5}},
        "code": {
            "$type": "typography",
            "$value": {"fontFamily": "monospace", "fontSize": {"value": 0.9, "unit": "em"}, "fontWeight": 400},
        },
        "gap": {"$type": "dimension", "$value": {"value": 0, "unit": ""}},
    }
    src = write(tmp_path / "published.tokens.json", doc)
    result = build(BuildOptions(sources=[src], out=tmp_path / "out", formats=["css"], compat=True))
    css = (tmp_path / "out" / "css" / "default.css").read_text()
    assert "--black: #000000;" in css
    assert "--stack: 'Mona Sans VF', -apple-system, 'Segoe UI', sans-serif;" in css
    assert "--odd" not in css and "--muted: #aabbcc;" in css
    assert "--code: 400 0.9em monospace;" in css and "--gap: 0px;" in css
    warned = {w.pointer: w.message for w in result.warnings}
    assert "hex '#000' read as '#000000'" in warned["/black/$value/hex"]
    assert "CSS list in one string" in warned["/stack/$value"]
    assert "not a DTCG 2025.10 type; token left out" in warned["/odd/$type"]
    assert "group member 'alpha'; left out" in warned["/muted/alpha"]
    assert any(w.pointer == "/code/$value" and "without lineHeight" in w.message for w in result.warnings)
    # Strict reading refuses every one of them.
    with pytest.raises(ValidationFailed) as info:
        build(BuildOptions(sources=[src]))
    assert len(info.value.errors) >= 5


def test_compat_infers_a_missing_type_from_a_plain_value_and_reads_dp_as_px(tmp_path: Path) -> None:
    doc = {
        "brown": {"$value": {"colorSpace": "srgb", "components": [0.6, 0.5, 0.4]}},
        "elevation": {"$type": "dimension", "$value": {"value": 4, "unit": "dp"}},
        "unknowable": {"$value": "12"},
    }
    src = write(tmp_path / "t.tokens.json", doc)
    with pytest.raises(ValidationFailed) as info:
        build(BuildOptions(sources=[src], compat=True))
    assert [e.pointer for e in info.value.errors] == ["/unknowable"]  # no type to infer: still an error
    del doc["unknowable"]
    result = build(BuildOptions(sources=[write(tmp_path / "t.tokens.json", doc)], out=tmp_path / "o", compat=True))
    css = (tmp_path / "o" / "css" / "default.css").read_text()
    assert "--brown: #998066;" in css and "--elevation: 4px;" in css
    messages = {w.pointer: w.message for w in result.warnings}
    assert "read as color from its value" in messages["/brown"]
    assert "unit 'dp' read as px" in messages["/elevation/$value"]
