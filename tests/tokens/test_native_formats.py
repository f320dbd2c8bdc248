"""The Android (XML resources, Compose), iOS (Swift) and e-mail formats, on tokens with every kind of
name DTCG allows.

No Kotlin or Swift compiler installs here (neither is on PyPI, npm or Debian's archive for this
machine), so those files get a structural check: every declaration line parses, identifiers are
valid and unique, string literals decode back to the token's text, braces balance. The XML is parsed
by the standard library's XML parser and checked against Android's resource rules; the e-mail CSS by
lightningcss in test_toolchain.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from charter.exceptions import ValidationFailed
from charter.tokens.build import BuildOptions, build
from charter.tokens.formats.android import KOTLIN_KEYWORDS
from charter.tokens.formats.ios import SWIFT_KEYWORDS
from tests.tokens.conftest import px, write
from tests.tokens.test_toolchain import odd_document

NATIVE = ["android-xml", "compose", "ios", "email"]


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("native")
    src = write(tmp / "odd.tokens.json", odd_document())
    dist = tmp / "dist"
    build(BuildOptions(sources=[src], out=dist, formats=NATIVE, on_collision="suffix"))
    return dist


def test_android_resources_parse_and_follow_the_resource_rules(out: Path) -> None:
    root = ElementTree.parse(out / "android" / "default" / "values" / "tokens.xml").getroot()
    assert root.tag == "resources"
    names = [el.get("name") for el in root]
    assert len(names) == len(set(names)) > 20
    assert all(re.fullmatch(r"[a-z_][a-z0-9_]*", n or "") for n in names)
    by_name = {el.get("name"): el for el in root}
    assert by_name["color_brand"].tag == "color" and by_name["color_brand"].text == "#FF0066CC"
    assert by_name["size_it_s"].text == "1dp" and by_name["type_heading_letter_spacing"].text == "-0.5dp"
    assert by_name["misc_slow"].tag == "integer" and by_name["misc_slow"].text == "1500"
    assert by_name["font_brand"].text == "O\\'Brien Sans"  # Android's own escape for a quote
    for el in root:
        if el.tag == "color":
            assert re.fullmatch(r"#[0-9A-F]{8}", el.text or "")
        elif el.tag == "dimen":
            assert re.fullmatch(r"-?\d+(\.\d+)?dp", el.text or "")


KOTLIN_LINE = re.compile(r"    val (\S+) = (.+)")
KOTLIN_VALUE = re.compile(
    r'Color\(0x[0-9A-F]{8}\)|-?[\d.]+\.(dp|sp)|\d+L|-?[\d.]+f|FontWeight\(\d+\)|"(?:[^"\\$]|\\.)*"'
    r"|CubicBezierEasing\((-?[\d.]+f, ){3}-?[\d.]+f\)|TextStyle\(fontSize = [\d.]+\.sp, fontWeight = FontWeight\(\d+\)"
    r"(, lineHeight = [\d.]+\.sp)?(, letterSpacing = -?[\d.]+\.sp)?\)"
)


def _body(text: str, opener: str) -> list[str]:
    assert text.count("{") == text.count("}")
    start = text.index(opener)
    return [line for line in text[start:].splitlines()[1:] if line.strip() and line != "}"]


def test_compose_object_is_well_formed_kotlin(out: Path) -> None:
    text = (out / "android" / "default" / "DefaultTokens.kt").read_text()
    assert text.count("package designtokens") == 1
    names = []
    for line in _body(text, "object DefaultTokens {"):
        m = KOTLIN_LINE.fullmatch(line)
        assert m, line
        name, value = m.groups()
        assert name.isidentifier() and name not in KOTLIN_KEYWORDS
        assert KOTLIN_VALUE.fullmatch(value), value
        names.append(name)
    assert len(names) == len(set(names))
    assert 'val fontBrand = "O\'Brien Sans"' in text
    assert "val typeHeading = TextStyle(fontSize = 32.sp" in text


SWIFT_LINE = re.compile(r"    public static let (\S+): ([\w.]+) = (.+)")


def test_swift_enum_is_well_formed(out: Path) -> None:
    text = (out / "ios" / "default" / "DefaultTokens.swift").read_text()
    names = []
    for line in _body(text, "public enum DefaultTokens {"):
        m = SWIFT_LINE.fullmatch(line)
        assert m, line
        name, type_, value = m.groups()
        assert name.isidentifier() and name not in SWIFT_KEYWORDS
        assert type_ in ("Color", "CGFloat", "TimeInterval", "Font.Weight", "Double", "String", "Font")
        if type_ == "String":
            assert json.loads(value) == "O'Brien Sans"
        names.append(name)
    assert len(names) == len(set(names))
    assert 'public static let typeHeading: Font = Font.custom("O\'Brien Sans", size: 32).weight(.bold)' in text


@pytest.mark.parametrize(
    ("text", "kotlin", "swift"),
    [
        ('say "hi" \\ $x', '"say \\"hi\\" \\\\ \\$x"', '"say \\"hi\\" \\\\ $x"'),
        ("a\nb\x01", '"a\\nb\\u0001"', '"a\\nb\\u{1}"'),
        ("\\(interp)", '"\\\\(interp)"', '"\\\\(interp)"'),
    ],
)
def test_string_literals_escape_what_their_language_needs(text: str, kotlin: str, swift: str) -> None:
    from charter.tokens.formats.android import kotlin_string
    from charter.tokens.formats.ios import swift_string

    assert kotlin_string(text) == kotlin
    assert swift_string(text) == swift


def test_email_css_has_only_resolved_mail_safe_values(out: Path) -> None:
    text = (out / "email" / "default.css").read_text()
    assert "var(" not in text and "rem" not in text and "rgba(" not in text and "--" not in text
    assert ".color-brand { color: #0066cc; }" in text
    assert ".bg-color-brand { background-color: #0066cc; }" in text
    assert "letter-spacing: -0.5px" in text and "font-size: 32px" in text


def test_email_composites_translucent_colours_over_white(tmp_path: Path) -> None:
    doc = {"c": {"$type": "color", "$value": {"colorSpace": "srgb", "components": [0, 0, 0], "alpha": 0.5}}}
    dist = tmp_path / "dist"
    build(BuildOptions(sources=[write(tmp_path / "t.json", doc)], out=dist, formats=["email"]))
    assert ".c { color: #808080; }" in (dist / "email" / "default.css").read_text()


def test_native_names_are_collision_checked(tmp_path: Path) -> None:
    doc = {"$type": "dimension", "a-b": {"$value": px(1)}, "a_b": {"$value": px(2)}}
    with pytest.raises(ValidationFailed) as info:
        build(BuildOptions(sources=[write(tmp_path / "t.json", doc)], name_case="preserve", formats=["android-xml"]))
    assert "Android resource name 'a_b'" in info.value.errors[0].message


def test_email_classes_are_collision_checked(tmp_path: Path) -> None:
    doc = {"$type": "color", "x": {"$value": {"colorSpace": "srgb", "components": [0, 0, 0]}}}
    doc["bg-x"] = {"$value": {"colorSpace": "srgb", "components": [1, 1, 1]}}
    with pytest.raises(ValidationFailed) as info:
        build(BuildOptions(sources=[write(tmp_path / "t.json", doc)], formats=["email"]))
    assert "e-mail class 'bg-x'" in info.value.errors[0].message


def test_native_formats_are_registered_plugins() -> None:
    from charter.tokens.formats import get_formats

    assert set(get_formats(NATIVE)) == set(NATIVE)


@pytest.mark.parametrize("space", ["hsl", "hwb"])
def test_hsl_and_hwb_convert_without_the_colour_library_as_it_would(space: str) -> None:
    from charter.tokens.colors import css_color, direct_srgb, to_color

    for h in range(0, 360, 23):
        for a in range(0, 101, 17):
            for b in range(0, 101, 19):
                value = {"colorSpace": space, "components": [h, a, b]}
                direct = direct_srgb(value)
                assert direct is not None
                library = [0.0 if c != c else c for c in to_color(value).convert("srgb").coords()]
                srgb = {"colorSpace": "srgb", "components": direct}
                assert css_color(srgb) == css_color({"colorSpace": "srgb", "components": library}), value
