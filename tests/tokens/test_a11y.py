"""WCAG 2.2 contrast at the semantic layer: declared pairs, checked in every theme, failing the
build with the pair, the theme and the ratio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from charter.exceptions import ValidationFailed
from charter.tokens.build import BuildOptions, build
from charter.tokens.check import check_tokens
from tests.tokens.conftest import srgb, write


def _hex(h: str, alpha: float = 1) -> dict[str, Any]:
    v = [int(h[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    return srgb(*v, **({"alpha": alpha} if alpha != 1 else {}))


def _project(tmp: Path, dark_text: str = "#f8fafc", pairs: list[dict[str, Any]] | None = None) -> Path:
    d = tmp / "tokens"
    write(
        d / "base.json",
        {"color": {"$type": "color", "text": {"$value": _hex("#111827")}, "surface": {"$value": _hex("#ffffff")}}},
    )
    write(
        d / "dark.json",
        {"color": {"$type": "color", "text": {"$value": _hex(dark_text)}, "surface": {"$value": _hex("#111827")}}},
    )
    write(
        d / "tokens.resolver.json",
        {
            "version": "2025.10",
            "modifiers": {
                "mode": {
                    "contexts": {
                        "light": [{"$ref": "base.json"}],
                        "dark": [{"$ref": "base.json"}, {"$ref": "dark.json"}],
                    },
                    "default": "light",
                }
            },
            "resolutionOrder": [{"$ref": "#/modifiers/mode"}],
        },
    )
    write(d / "contrast.json", {"pairs": pairs or [{"foreground": "color.text", "background": "color.surface"}]})
    return d


def test_passing_pairs_are_reported_per_theme(tmp_path: Path) -> None:
    result = build(BuildOptions(sources=[_project(tmp_path)]))
    assert [(r.theme, r.passed) for r in result.contrast] == [("light", True), ("dark", True)]
    assert result.contrast[0].ratio == pytest.approx(17.74, abs=0.01)


def test_a_failing_pair_fails_the_build_naming_pair_theme_and_ratio(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(ValidationFailed) as info:
        build(BuildOptions(sources=[_project(tmp_path, dark_text="#4b5563")], out=out))
    (err,) = info.value.errors
    assert err.message == (
        "color.text on color.surface in theme 'dark': contrast 2.35:1 is below AA normal text (4.5:1)"
    )
    assert err.file and err.file.endswith("contrast.json")
    assert not out.exists(), "nothing is written when contrast fails"
    assert info.value.extra["contrast"][0]["passed"] is True


@pytest.mark.parametrize(
    ("fg", "pair", "passes"),
    [
        ("#767676", {}, True),  # 4.54:1 on white: AA normal
        ("#777777", {}, False),  # 4.48:1
        ("#777777", {"size": "large"}, True),  # AA large text needs 3:1
        ("#767676", {"level": "AAA"}, False),  # AAA needs 7:1
        ("#595959", {"level": "AAA"}, True),  # 7.0:1
        ("#767676", {"level": "AAA", "size": "large"}, True),  # AAA large needs 4.5:1
    ],
)
def test_wcag_levels_and_sizes(tmp_path: Path, fg: str, pair: dict[str, Any], passes: bool) -> None:
    d = tmp_path / "t"
    write(
        d / "tokens.json",
        {"fg": {"$type": "color", "$value": _hex(fg)}, "bg": {"$type": "color", "$value": _hex("#ffffff")}},
    )
    write(d / "contrast.json", {"pairs": [{"foreground": "fg", "background": "bg", **pair}]})
    check = check_tokens([d])
    assert check.ok is passes, check.detail


def test_translucent_foreground_is_composited_over_the_background(tmp_path: Path) -> None:
    d = tmp_path / "t"
    write(
        d / "tokens.json",
        {"fg": {"$type": "color", "$value": _hex("#000000", 0.5)}, "bg": {"$type": "color", "$value": _hex("#ffffff")}},
    )
    write(d / "contrast.json", [{"foreground": "{fg}", "background": "{bg}"}])
    (r,) = check_tokens([d]).contrast
    assert r.ratio == pytest.approx(3.98, abs=0.01)  # 50% black over white = sRGB 0.5 grey


def test_aaa_flag_checks_every_pair_at_aaa(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as info:
        build(BuildOptions(sources=[_project(tmp_path, dark_text="#9ca3af")], aaa=True))
    assert "below AAA normal text (7:1)" in info.value.errors[0].message


def test_pairs_may_be_limited_to_themes(tmp_path: Path) -> None:
    d = _project(
        tmp_path,
        dark_text="#4b5563",
        pairs=[{"foreground": "color.text", "background": "color.surface", "themes": ["light"]}],
    )
    assert [r.theme for r in build(BuildOptions(sources=[d])).contrast] == ["light"]


@pytest.mark.parametrize(
    ("pair", "words"),
    [
        (
            {"foreground": "color.nope", "background": "color.surface"},
            "foreground 'color.nope' in theme 'light': no such token",
        ),
        ({"foreground": "color.text"}, "needs 'foreground' and 'background'"),
        ({"foreground": "color.text", "background": "color.surface", "level": "A"}, "level must be AA or AAA"),
    ],
)
def test_bad_pairs_are_errors(tmp_path: Path, pair: dict[str, Any], words: str) -> None:
    check = check_tokens([_project(tmp_path, pairs=[pair])])
    assert not check.ok
    assert any(words in e.message and (e.file or "").endswith("contrast.json") for e in check.errors), check.errors


def test_a_non_colour_token_in_a_pair_is_an_error(tmp_path: Path) -> None:
    d = tmp_path / "t"
    write(
        d / "tokens.json", {"fg": {"$type": "number", "$value": 1}, "bg": {"$type": "color", "$value": _hex("#ffffff")}}
    )
    write(d / "contrast.json", {"pairs": [{"foreground": "fg", "background": "bg"}]})
    check = check_tokens([d])
    assert not check.ok and "a number token, not a colour" in check.errors[0].message


def test_pairs_can_live_in_the_resolver_extensions(tmp_path: Path) -> None:
    d = _project(tmp_path)
    (d / "contrast.json").unlink()
    resolver = d / "tokens.resolver.json"
    import json

    doc = json.loads(resolver.read_text())
    doc["$extensions"] = {"dev.charter.contrast": [{"foreground": "color.text", "background": "color.surface"}]}
    resolver.write_text(json.dumps(doc))
    assert len(build(BuildOptions(sources=[d])).contrast) == 2


def test_check_tokens_gives_swatches_and_contrast_per_theme(tmp_path: Path) -> None:
    check = check_tokens([_project(tmp_path)])
    assert check.ok, check.detail
    light, dark = check.themes
    assert (light.name, dark.name) == ("light", "dark")
    assert [(s.path, s.hex) for s in dark.swatches] == [("color.text", "#f8fafc"), ("color.surface", "#111827")]
    assert dark.contrast[0].to_dict()["ratio"] == pytest.approx(16.96, abs=0.01)
    data = check.to_dict()
    assert data["ok"] is True and data["themes"][0]["swatches"][0]["css"] == "#111827"


def test_check_tokens_reports_bad_input_as_data(tmp_path: Path) -> None:
    write(tmp_path / "t" / "tokens.json", {"a": {"$type": "color", "$value": "#fff"}})
    check = check_tokens([tmp_path / "t"])
    assert not check.ok and check.themes == []
    assert check.errors[0].pointer == "/a/$value"
