"""Token divergence: hard-coded values and base-token use against token usage, per app and file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from charter.exceptions import ValidationFailed
from charter.tokens.divergence import ScanOptions, scan
from charter.tokens.divergence.classify import AppContext, TokenIndex, classify_css
from tests.tokens.conftest import cli, srgb, write


def kinds(tmp: Path, name: str, text: str, **opts: Any) -> list[tuple[str, str]]:
    """(property, kind) of every counted, divergent or ignored declaration in one file."""
    write(tmp / "app" / name, text)
    report = scan(ScanOptions(paths=[str(tmp / "app")], **opts))
    (app,) = report.apps
    found = [(o.property, o.kind) for o in app.offenders]
    return sorted(found) + [("*", f"{k}={v}") for k, v in sorted(app.by_kind.items())]


# (id, file name, source, offenders (property, kind), counts by kind)
CASES: list[tuple[str, str, str, list[tuple[str, str]], dict[str, int]]] = [
    (
        "css: literals, tokens, exempt values",
        "a.css",
        """.a { color: #ff0000; background: var(--color-surface); margin: 0 auto; width: 100%;
              padding: 8px var(--space-2); border-radius: var(--radius-md); z-index: 0; opacity: 1 }""",
        [("color", "hard-coded"), ("padding", "hard-coded")],
        {"hard-coded": 2, "token": 2, "exempt": 3},
    ),
    (
        "css: selectors, at-rules and comments are not declarations",
        "a.css",
        """/* color: red; */ a:hover, b:focus-visible { color: var(--c); }
           @media (max-width: 600px) { .x { gap: 12px } }""",
        [("gap", "hard-coded")],
        {"hard-coded": 1, "token": 1},
    ),
    (
        "css: shadows, borders, fonts, motion, named colours",
        "a.css",
        """.a { box-shadow: 0 1px 2px rgba(0,0,0,.2); border: 1px solid var(--c); font-weight: 600;
              font-family: Inter, sans-serif; transition: opacity 200ms ease; background: white;
              outline: none; line-height: normal; letter-spacing: -0.02em }""",
        [
            ("background", "hard-coded"),
            ("border", "hard-coded"),
            ("box-shadow", "hard-coded"),
            ("font-family", "hard-coded"),
            ("font-weight", "hard-coded"),
            ("letter-spacing", "hard-coded"),
            ("transition", "hard-coded"),
        ],
        {"hard-coded": 7, "exempt": 2},
    ),
    (
        "css: base tokens used directly are divergence",
        "a.css",
        ".a { color: var(--base-color-blue-500); padding: var(--space-inset-md) }",
        [("color", "base-token")],
        {"base-token": 1, "token": 1},
    ),
    (
        "css: an app-local palette is divergence, and using it is not a token use",
        "a.css",
        ":root { --brand: #f06; --alias: var(--color-action) } .a { color: var(--brand); fill: var(--alias) }",
        [("--brand", "hard-coded")],
        {"hard-coded": 1, "token": 1, "dynamic": 2},
    ),
    (
        "css: the ignore comment",
        "a.css",
        ".a {\n  /* charter-tokens-ignore: legacy logo */\n  color: #123456;\n"
        "  margin: 4px; /* charter-tokens-ignore */\n  gap: 2px;\n}",
        [("gap", "hard-coded")],
        {"hard-coded": 1, "ignored": 2},
    ),
    (
        "scss: variables, namespaced token variables, line comments",
        "a.scss",
        """@use '@acme/tokens/themes/light' as t;
           $local: #abcdef;
           // margin: 3px;
           .a { color: $local; border-radius: t.$radius-md; margin: 12px; padding: $space-inset-sm; }""",
        [("$local", "hard-coded"), ("margin", "hard-coded")],
        {"hard-coded": 2, "token": 2, "dynamic": 1},
    ),
    (
        "jsx/tsx: style objects, imports, numbers as px",
        "Button.tsx",
        """import { colorTextDefault, baseColorBlue500 as blue } from '@acme/tokens';
           import * as t from '@acme/tokens/themes/dark';
           // { color: '#fff' }
           const re = /color: '#fff'/g;
           export const B = (p: { color: string }) => <b style={{ color: colorTextDefault, backgroundColor: '#fff',
             padding: 8, margin: 0, borderColor: blue, fontSize: t.base.font.size.md, gap: t.space.md,
             zIndex: p.z, lineHeight: 1.5, opacity: p.dim ? 0.5 : 1 }} />;""",
        [
            ("backgroundColor", "hard-coded"),
            ("borderColor", "base-token"),
            ("fontSize", "base-token"),
            ("lineHeight", "hard-coded"),
            ("padding", "hard-coded"),
        ],
        {"hard-coded": 3, "base-token": 2, "token": 2, "exempt": 1, "dynamic": 3},
    ),
    (
        "js: styled-components templates and element.style",
        "styles.js",
        """const tokens = require('@acme/tokens');
           export const Card = styled.div`
             color: ${tokens.color.text.default};
             padding: 4px;
             gap: ${(p) => p.gap};
             box-shadow: ${tokens.base.shadow.sm};
           `;
           el.style.color = "#333";
           el.style.marginTop = tokens.space.sm;""",
        [("box-shadow", "base-token"), ("color", "hard-coded"), ("padding", "hard-coded")],
        {"hard-coded": 2, "base-token": 1, "token": 2, "dynamic": 1},
    ),
    (
        "vue: template style attributes, :style, <script> and <style lang=scss>",
        "Card.vue",
        """<template>
             <div style="color: #333; padding: var(--space-3)"
                  :style="{ margin: '4px', color: active ? '#000' : 'var(--c)' }">
               <!-- <p style="color: red"> -->
             </div>
           </template>
           <script setup lang="ts">
           import t from '@acme/tokens'
           const s = { gap: t.space.md }
           </script>
           <style lang="scss" scoped>
           .card { border-radius: t.$radius-md; margin: 12px; }
           </style>""",
        [("color", "hard-coded"), ("color", "hard-coded"), ("margin", "hard-coded"), ("margin", "hard-coded")],
        {"hard-coded": 4, "token": 3},
    ),
    (
        "html: style attributes and <style> blocks",
        "index.html",
        """<html><head><style>body { font-family: Arial, sans-serif; }</style></head>
           <body style="background: white; margin: 0"><p style='color: var(--color-text-muted)'>x</p></body></html>""",
        [("background", "hard-coded"), ("font-family", "hard-coded")],
        {"hard-coded": 2, "token": 1, "exempt": 1},
    ),
]


@pytest.mark.parametrize(("name", "text", "offenders", "counts"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_declarations_are_classified(
    tmp_path: Path, name: str, text: str, offenders: list[tuple[str, str]], counts: dict[str, int]
) -> None:
    got = kinds(tmp_path, name, text)
    assert [g for g in got if g[0] != "*"] == sorted(offenders)
    assert [g for g in got if g[0] == "*"] == [("*", f"{k}={v}") for k, v in sorted(counts.items())]


def test_percentages_are_summed_over_declarations_per_file_and_app(tmp_path: Path) -> None:
    # a.css: 1 of 1 divergent (100%); b.css: 0 of 9 (0%). The app is 1/10 = 10%, not the 50%
    # an average of the files would give.
    write(tmp_path / "web" / "a.css", ".a { color: #fff }")
    write(
        tmp_path / "web" / "b.css",
        ".b {" + " ".join(f"margin-{i}: var(--s);" for i in range(9)).replace("margin-", "padding-") + "}",
    )
    write(tmp_path / "admin" / "x.css", ".x { color: var(--c) }")
    report = scan(ScanOptions(paths=[str(tmp_path / "web"), f"back-office={tmp_path / 'admin'}"]))
    web, admin = report.apps
    assert (web.name, web.counted, web.divergent, web.percent) == ("web", 10, 1, 10.0)
    assert {f.path: f.percent for f in web.files} == {"a.css": 100.0, "b.css": 0.0}
    assert (admin.name, admin.percent, admin.failed) == ("back-office", 0.0, False)
    assert web.failed and report.failed
    assert report.total_percent == pytest.approx(100 / 11, abs=0.01)
    offender = web.offenders[0]
    assert (offender.file, offender.line, offender.column, offender.value) == ("a.css", 1, 6, "#fff")


def test_token_sources_make_names_exact(tmp_path: Path) -> None:
    tokens = write(
        tmp_path / "tokens" / "tokens.json",
        {
            "base": {"blue": {"$type": "color", "$value": srgb(0, 0, 1)}},
            "color": {"link": {"$value": "{base.blue}"}},
        },
    )
    write(
        tmp_path / "app" / "a.css",
        ".a { color: var(--color-link); background: var(--base-blue); border-color: var(--not-a-token) }",
    )
    write(
        tmp_path / "app" / "b.js",
        "import { colorLink, baseBlue } from '@acme/ui-kit';\nx = { color: colorLink, fill: baseBlue };",
    )
    report = scan(ScanOptions(paths=[str(tmp_path / "app")], tokens=tokens.parent, packages=["@acme/ui-kit"]))
    (app,) = report.apps
    assert report.tokens_known == 2
    assert app.by_kind == {"token": 2, "base-token": 2, "dynamic": 1}
    assert {(o.file, o.token) for o in app.offenders} == {("a.css", "base.blue"), ("b.js", "base.blue")}


def test_prefixed_custom_properties(tmp_path: Path) -> None:
    ctx = AppContext(TokenIndex(prefix="acme"))
    assert classify_css("color", "var(--acme-color-text)", ctx) == ("token", None)
    assert classify_css("color", "var(--acme-base-blue)", ctx) == ("base-token", None)
    assert classify_css("color", "var(--other-thing)", ctx) == ("dynamic", None)


def test_generated_token_package_files_and_default_excludes_are_skipped(tmp_path: Path) -> None:
    write(
        tmp_path / "app" / "tokens.css",
        "/**\n * x 1.0.0\n * Generated by charter tokens build; do not edit.\n */\n:root { --a: #fff; }",
    )
    write(tmp_path / "app" / "node_modules" / "lib" / "x.css", ".x { color: red }")
    write(tmp_path / "app" / "dist" / "bundle.css", ".x { color: red }")
    write(tmp_path / "app" / "vendor.min.css", ".x { color: red }")
    write(tmp_path / "app" / "ok.css", ".x { color: var(--c) }")
    (app,) = scan(ScanOptions(paths=[str(tmp_path / "app")])).apps
    assert app.skipped == ["tokens.css"] and app.percent == 0.0 and [f.path for f in app.files] == ["ok.css"]
    (everything,) = scan(ScanOptions(paths=[str(tmp_path / "app")], default_excludes=False, exclude=["lib"])).apps
    assert sorted(f.path for f in everything.files) == ["dist/bundle.css", "ok.css", "vendor.min.css"]


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        (lambda p: None, "no such file or folder"),
        (
            lambda p: write(p / "app" / "bad.css", b"\xff\xfe color: red".decode("latin-1")).write_bytes(
                b"\xff\xfe\x00"
            ),
            "not UTF-8 text",
        ),
        (lambda p: write(p / "app.txt", "x"), "unsupported file type .txt"),
    ],
    ids=["missing", "undecodable", "unsupported"],
)
def test_bad_paths_are_errors_naming_the_file(tmp_path: Path, setup: Any, words: str) -> None:
    setup(tmp_path)
    target = tmp_path / ("app.txt" if words.startswith("unsupported") else "app")
    with pytest.raises(ValidationFailed) as info:
        scan(ScanOptions(paths=[str(target)]))
    (err,) = info.value.errors
    assert words in err.message and err.file and Path(err.file).is_relative_to(tmp_path)


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_a_file_that_cannot_be_read_is_an_error(tmp_path: Path) -> None:
    """``/proc/self/mem`` cannot be read from offset 0 (EIO), even by root; chmod 000 would not stop root."""
    write(tmp_path / "app" / "ok.css", ".a { color: var(--c) }")
    (tmp_path / "app" / "locked.css").symlink_to("/proc/self/mem")
    with pytest.raises(ValidationFailed) as info:
        scan(ScanOptions(paths=[str(tmp_path / "app")]))
    (err,) = info.value.errors
    assert err.file and err.file.endswith("locked.css") and err.message.startswith("cannot read file:")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_a_file_without_read_permission_is_an_error(tmp_path: Path) -> None:
    locked = write(tmp_path / "app" / "locked.css", ".a { color: red }")
    locked.chmod(0)
    try:
        with pytest.raises(ValidationFailed) as info:
            scan(ScanOptions(paths=[str(tmp_path / "app")]))
        assert "Permission denied" in info.value.errors[0].message
    finally:
        locked.chmod(0o644)


def test_divergence_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "web" / "a.css", ".a { color: #fff; padding: var(--space-1) }")
    write(tmp_path / "admin" / "a.css", ".a { color: var(--c) }")
    out = tmp_path / "report.json"
    run = cli(capsys, "divergence", str(tmp_path / "web"), str(tmp_path / "admin"), "--output", str(out))
    assert run.code == 1
    assert run.out.splitlines()[0] == "FAIL web: 50.0% divergent (1 of 2 declarations in 1 files; 1 use tokens)"
    assert "       a.css:1:6: color: #fff  [hard-coded color]" in run.out
    assert "ok   admin: 0.0% divergent" in run.out
    data = json.loads(out.read_text())
    assert data["failed"] is True and [a["percent"] for a in data["apps"]] == [50.0, 0.0]
    assert cli(capsys, "divergence", str(tmp_path / "web"), "--threshold", "60").code == 0
    assert json.loads(cli(capsys, "divergence", str(tmp_path / "admin"), "--json").out)["percent"] == 0.0


def test_divergence_command_bad_input_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "bad.css").write_bytes(b"\xff\xfe\x00")
    out = tmp_path / "report.json"
    run = cli(capsys, "divergence", str(tmp_path / "web"), "--output", str(out))
    assert run.code == 1 and not out.exists()
    assert run.err.startswith("error: 1 problem in divergence scan\n")
    assert f"{tmp_path / 'web' / 'bad.css'}#: cannot read file: not UTF-8 text" in run.err
    assert cli(capsys, "divergence", str(tmp_path / "web"), "--threshold", "200").code == 1


def test_event_payload_has_the_per_app_figures(tmp_path: Path) -> None:
    write(tmp_path / "web" / "a.css", ".a { color: #fff; padding: var(--space-1) }")
    payload = scan(ScanOptions(paths=[str(tmp_path / "web")])).event_payload()
    assert payload == {
        "threshold": 5.0,
        "failed": True,
        "percent": 50.0,
        "counted": 2,
        "divergent": 1,
        "apps": [
            {
                "name": "web",
                "percent": 50.0,
                "counted": 2,
                "divergent": 1,
                "hard_coded": 1,
                "base_token": 0,
                "files": 1,
                "failed": True,
            }
        ],
    }
