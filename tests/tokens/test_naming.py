"""Name cases, escaping and the collision policy (charter.tokens.naming), through build and validate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from charter.exceptions import ValidationFailed
from charter.tokens.build import BuildOptions, build
from charter.tokens.naming import css_ident, css_string, js_name, token_name
from tests.tokens.conftest import cli, px, write

# The spec's own example of names that differ only in case (DTCG 2025.10 §5.1.1), and a pair a large
# public design system has.
CLASHING = {
    "font-size": {"$type": "dimension", "$value": px(16)},
    "FONT-SIZE": {"$type": "dimension", "$value": px(18)},
    "api": {"$type": "number", "entityTag": {"$value": 1}, "entity-tag": {"$value": 2}},
}


@pytest.mark.parametrize(
    ("path", "case", "prefix", "expected"),
    [
        ("color.textDefault", "kebab", "", "color-text-default"),
        ("color.textDefault", "camel", "", "colorTextDefault"),
        ("color.textDefault", "snake", "", "color_text_default"),
        ("color.textDefault", "preserve", "", "color-textDefault"),
        ("color.HTTPStatus.$root", "camel", "acme", "acmeColorHttpStatus"),
        ("space.1-5", "camel", "", "space_1_5"),
        ("FONT-SIZE", "preserve", "", "FONT-SIZE"),
        ("FONT-SIZE", "kebab", "", "font-size"),
        ("size.it's", "kebab", "ds", "ds-size-it's"),
    ],
)
def test_name_cases(path: str, case: str, prefix: str, expected: str) -> None:
    assert token_name(path, case, prefix) == expected


@pytest.mark.parametrize(
    ("name", "custom", "expected"),
    [
        ("color-text", True, "color-text"),
        ("it's", True, "it\\'s"),
        ("a/b", True, "a\\/b"),
        ("2xl", True, "2xl"),
        ("2xl", False, "\\32 xl"),
        ("-2", False, "-\\32 "),
        ("-", False, "\\-"),
        ("with space", True, "with\\ space"),
        ("tab\there", True, "tab\\9 here"),
        ("größe", True, "größe"),
        ("nul\x00", True, "nul\ufffd"),
    ],
)
def test_css_identifier_escaping(name: str, custom: bool, expected: str) -> None:
    assert css_ident(name, custom_property=custom) == expected


def test_css_strings_escape_quotes_backslashes_and_newlines() -> None:
    assert css_string("O'Brien Sans") == "'O\\'Brien Sans'"
    assert css_string('a\\b"c', '"') == '"a\\\\b\\"c"'
    assert css_string("line\nbreak") == "'line\\a break'"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("color-text-default", "colorTextDefault"), ("class", "_class"), ("2xl", "_2xl"), ("__proto__", "proto")],
)
def test_js_names_are_identifiers(name: str, expected: str) -> None:
    assert js_name(name) == expected
    assert js_name(name).isidentifier()


def _sources(tmp: Path, doc: dict[str, Any]) -> list[Path]:
    return [write(tmp / "tokens.json", doc)]


def test_a_collision_is_an_error_naming_both_paths(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as info:
        build(BuildOptions(sources=_sources(tmp_path, CLASHING), out=tmp_path / "out"))
    messages = sorted(e.message for e in info.value.errors)
    assert messages == [
        "api.entityTag: CSS name 'api-entity-tag' clashes with token 'api.entity-tag' (rename one, choose another "
        "name case, or resolve collisions with a suffix)",
        "font-size: CSS name 'font-size' clashes with token 'FONT-SIZE' (rename one, choose another name case, "
        "or resolve collisions with a suffix)",
    ]
    assert [e.pointer for e in sorted(info.value.errors, key=lambda e: e.message)] == ["/api/entityTag", "/font-size"]
    assert not (tmp_path / "out").exists()


def test_validate_reports_exactly_the_collisions_build_would(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = str(_sources(tmp_path, CLASHING)[0])
    built = cli(capsys, "build", src, "--out", str(tmp_path / "out"))
    validated = cli(capsys, "validate", src)
    assert built.code == validated.code == 1
    assert built.err == validated.err and "clashes with token 'FONT-SIZE'" in built.err
    # The same options that make build pass make validate pass.
    assert cli(capsys, "validate", src, "--on-collision", "suffix").code == 0
    assert cli(capsys, "validate", src, "--name-case", "preserve", "-f", "css").code == 0
    # ... and only formats asked for are checked: "entityTag" and "entity-tag" give one JS name too.
    js = cli(capsys, "validate", src, "--name-case", "preserve")
    assert js.code == 1 and "JavaScript name 'apiEntityTag'" in js.err


def test_suffix_is_deterministic_whatever_the_file_order(tmp_path: Path) -> None:
    reordered = {"api": {"$type": "number", "entity-tag": {"$value": 2}, "entityTag": {"$value": 1}}}
    for i, doc in enumerate(({"api": CLASHING["api"]}, reordered)):
        _sources(tmp_path / str(i), doc)
    css = []
    for i in range(2):
        out = tmp_path / f"css{i}"
        build(
            BuildOptions(sources=[tmp_path / str(i) / "tokens.json"], out=out, on_collision="suffix", formats=["css"])
        )
        css.append(
            sorted(line.strip() for line in (out / "css" / "default.css").read_text().splitlines() if "--" in line)
        )
    assert css[0] == css[1] == ["--api-entity-tag-2: 1;", "--api-entity-tag: 2;"]


def test_a_suffix_skips_names_already_taken(tmp_path: Path) -> None:
    doc = {"$type": "number", "a-b": {"$value": 1}, "aB": {"$value": 2}, "a-b-2": {"$value": 3}}
    out = tmp_path / "out"
    build(BuildOptions(sources=_sources(tmp_path, doc), out=out, on_collision="suffix", formats=["css"]))
    css = (out / "css" / "default.css").read_text()
    assert "--a-b: 1;" in css and "--a-b-2: 3;" in css and "--a-b-3: 2;" in css


def test_sass_names_that_differ_only_in_dash_and_underscore_collide(tmp_path: Path) -> None:
    doc = {"$type": "number", "a-b": {"$value": 1}, "a_b": {"$value": 2}}
    with pytest.raises(ValidationFailed) as info:
        build(BuildOptions(sources=_sources(tmp_path, doc), name_case="preserve", formats=["scss"]))
    assert "Sass name 'a-b'" in info.value.errors[0].message
    build(BuildOptions(sources=_sources(tmp_path, doc), name_case="preserve", formats=["css"]))


def test_typography_keeps_letter_spacing_as_its_own_variable(tmp_path: Path) -> None:
    doc = {
        "heading": {
            "$type": "typography",
            "$value": {
                "fontFamily": "O'Brien Sans",
                "fontSize": px(32),
                "fontWeight": 700,
                "letterSpacing": px(-0.5),
                "lineHeight": 1.2,
            },
        },
        "alias": {"$type": "typography", "$value": "{heading}"},
    }
    out = tmp_path / "out"
    build(BuildOptions(sources=_sources(tmp_path, doc), out=out, css_references=True, formats=["css", "scss", "js"]))
    css = (out / "css" / "default.css").read_text()
    assert "--heading: 700 32px/1.2 'O\\'Brien Sans';" in css
    assert "--heading-letter-spacing: -0.5px;" in css
    assert "--alias-letter-spacing: var(--heading-letter-spacing);" in css
    assert "$alias-letter-spacing: $heading-letter-spacing;" in (out / "scss" / "_default.scss").read_text()
    assert 'export const headingLetterSpacing = "-0.5px";' in (out / "js" / "default.js").read_text()


@pytest.mark.parametrize(("option", "value"), [("name_case", "shouty"), ("on_collision", "ignore")])
def test_bad_naming_options_are_refused(tmp_path: Path, option: str, value: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        build(BuildOptions(sources=_sources(tmp_path, {"a": {"$type": "number", "$value": 1}}), **{option: value}))
    assert value in info.value.errors[0].message
