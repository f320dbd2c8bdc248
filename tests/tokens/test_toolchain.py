"""Every output compiled by the real tools: lightningcss (CSS), Dart Sass (SCSS), ``tsc --strict``
(the declarations against the module) and Node (the module itself), on tokens with every kind of
name DTCG allows and strings that need escaping.

The tools are npm packages pinned in ``tests/tokens/toolchain/package.json``, installed on first use
into its git-ignored ``node_modules/``. Without Node and npm (or the registry) the tests skip with
the reason, unless CHARTER_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from charter.tokens.build import BuildOptions, build
from tests.services import unavailable
from tests.tokens.conftest import px, srgb, write

TOOLCHAIN = Path(__file__).parent / "toolchain"

# Names DTCG 2025.10 allows (§5.1.1 forbids only a leading "$" and "{", "}", ".").
ODD_NAMES = [
    "it's",
    "a/b",
    "2xl",
    "-lead",
    "_under",
    "with space",
    "semi;colon",
    "paren(",
    'quote"d',
    "back\\slash",
    "größe",
    "emoji😀",
    "__proto__",
    "constructor",
    "hasOwnProperty",
    "toString",
    "class",
    "#hash",
    "50%",
]


def odd_document() -> dict[str, Any]:
    size: dict[str, Any] = {"$type": "dimension"}
    for i, name in enumerate(ODD_NAMES):
        size[name] = {"$value": px(i + 1), "$description": f"size {name} */ still a comment"}
    return {
        "size": size,
        "__proto__": {"polluted": {"$type": "number", "$value": 1}},
        "color": {
            "$type": "color",
            "brand": {"$value": srgb(0, 0.4, 0.8)},
            "link": {"$value": "{color.brand}", "$deprecated": "use */ brand"},
            "wide": {"$value": {"colorSpace": "display-p3", "components": [1, 0.2, 0.1]}},
        },
        "font": {
            "$type": "fontFamily",
            "brand": {"$value": ["O'Brien Sans", 'Back\\slash "Font"', "Inter", "sans-serif"]},
        },
        "type": {
            "heading": {
                "$type": "typography",
                "$value": {
                    "fontFamily": "{font.brand}",
                    "fontSize": {"value": 2, "unit": "rem"},
                    "fontWeight": "bold",
                    "letterSpacing": px(-0.5),
                    "lineHeight": 1.2,
                },
            }
        },
        "motion": {
            "fade": {
                "$type": "transition",
                "$value": {
                    "duration": {"value": 200, "unit": "ms"},
                    "delay": {"value": 0, "unit": "ms"},
                    "timingFunction": [0.4, 0, 0.2, 1],
                },
            }
        },
        "shadow": {
            "raised": {
                "$type": "shadow",
                "$value": [
                    {
                        "color": srgb(0, 0, 0, alpha=0.2),
                        "offsetX": px(0),
                        "offsetY": px(1),
                        "blur": px(2),
                        "spread": px(0),
                    },
                    {
                        "color": srgb(0, 0, 0, alpha=0.1),
                        "offsetX": px(0),
                        "offsetY": px(4),
                        "blur": px(8),
                        "spread": px(-2),
                        "inset": True,
                    },
                ],
            }
        },
        "border": {
            "$type": "border",
            "dashed": {
                "$value": {
                    "color": "{color.brand}",
                    "width": px(1),
                    "style": {"dashArray": [px(2), px(4)], "lineCap": "round"},
                }
            },
        },
        "gradient": {
            "$type": "gradient",
            "sky": {"$value": [{"color": srgb(1, 1, 1), "position": 0}, {"color": "{color.brand}", "position": 1}]},
        },
        "misc": {
            "weight": {"$type": "fontWeight", "$value": 650},
            "ease": {"$type": "cubicBezier", "$value": [0.5, 0, 1, 1]},
            "stroke": {"$type": "strokeStyle", "$value": "dotted"},
            "ratio": {"$type": "number", "$value": 1.5},
            "slow": {"$type": "duration", "$value": {"value": 1.5, "unit": "s"}},
        },
    }


@pytest.fixture(scope="module")
def tools() -> Path:
    """The toolchain's ``node_modules/.bin``, installed with ``npm ci`` on first use."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        unavailable("node and npm", "not on PATH")
    bin_dir = TOOLCHAIN / "node_modules" / ".bin"
    if (
        not all((bin_dir / tool).exists() for tool in ("sass", "tsc"))
        or not (TOOLCHAIN / "node_modules" / "lightningcss").is_dir()
    ):
        run = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=TOOLCHAIN,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if run.returncode != 0:
            unavailable("the npm toolchain (lightningcss, sass, typescript)", run.stderr.strip()[-500:])
    return bin_dir


def _build(tmp: Path, *, references: bool = False, case: str = "kebab", prefix: str = "") -> Path:
    src = write(tmp / "tokens.json", odd_document())
    out = tmp / ("dist-refs" if references else "dist")
    build(
        BuildOptions(
            sources=[src],
            out=out,
            css_references=references,
            name_case=case,
            prefix=prefix,
            on_collision="suffix",
            name="@acme/odd-tokens",
        )
    )
    return out


def _node(script: str, cwd: Path, *args: str) -> Any:
    run = subprocess.run(
        ["node", "--input-type=module", "-e", script, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


LIGHTNING = """
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const require = createRequire(process.argv[1] + '/');
const { transform } = require('lightningcss');
const file = process.argv[2];
const names = [];
const result = transform({
  filename: file, code: readFileSync(file), errorRecovery: false,
  visitor: { Declaration: { custom(p) { names.push(p.name); } } },
});
console.log(JSON.stringify({ names, warnings: result.warnings }));
"""


@pytest.mark.parametrize("references", [False, True], ids=["values", "references"])
@pytest.mark.parametrize("case", ["kebab", "camel", "preserve"])
def test_css_parses_with_every_name_intact(tools: Path, tmp_path: Path, references: bool, case: str) -> None:
    out = _build(tmp_path, references=references, case=case)
    flat = json.loads((out / "json" / "default.flat.json").read_text())
    got = _node(LIGHTNING, tmp_path, str(TOOLCHAIN / "node_modules"), str(out / "css" / "default.css"))
    assert got["warnings"] == []
    names = got["names"]
    # One custom property per token, plus a letter spacing per typography token; none dropped or
    # merged by the parser.
    assert len(names) == len(set(names)) == len(flat) + 1
    if case == "kebab":
        for odd in ("it's", "a/b", "2xl", "-lead", "with space", 'quote"d', "back\\slash", "größe", "50%"):
            assert f"--size-{odd.lower().replace(' ', '-').lstrip('-')}" in names or f"--size-{odd}" in names
        assert "--type-heading-letter-spacing" in names
    if case == "preserve":
        assert "--size-with space" in names and "--size-it's" in names


def test_font_family_strings_survive_a_css_parser(tools: Path, tmp_path: Path) -> None:
    out = _build(tmp_path)
    css = out / "css" / "default.css"
    rule = f".x {{ font-family: var(--font-brand); font: var(--type-heading); }}\n{css.read_text()}"
    probe = write(tmp_path / "probe.css", rule)
    script = """
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const require = createRequire(process.argv[1] + '/');
const { transform } = require('lightningcss');
const values = {};
transform({
  filename: 'probe.css', code: readFileSync(process.argv[2]), errorRecovery: false,
  visitor: { Declaration: { custom(p) {
    values[p.name] = p.value.filter(t => t.type === 'token' && t.value.type === 'string').map(t => t.value.value);
  } } },
});
console.log(JSON.stringify(values));
"""
    values = _node(script, tmp_path, str(TOOLCHAIN / "node_modules"), str(probe))
    assert values["--font-brand"] == ["O'Brien Sans", 'Back\\slash "Font"']
    assert values["--type-heading"] == ["O'Brien Sans", 'Back\\slash "Font"']


SASS_CHECK = """@use "sass:map";
@use "default" as t;
"""


def _sass_probe(out: Path, tmp: Path) -> tuple[str, list[tuple[str, str]]]:
    text = (out / "scss" / "_default.scss").read_text()
    variables = [v for v in re.findall(r"^\$((?:\\.|[^:\\])+): ", text, re.M) if v != "tokens"]
    entries = re.findall(r'^  ("(?:\\.|[^"\\])*"): \$(.+),$', text, re.M)
    assert sorted(variables) == sorted(var for _, var in entries) and len(set(variables)) == len(variables) > 0
    lines = [SASS_CHECK, ".check {"]
    for key, var in entries:
        lines.append(f"  v: t.${var};\n  m: map.get(t.$tokens, {key});")
    lines.append("}")
    probe = write(tmp / "check.scss", "\n".join(lines) + "\n")
    shutil.copy(out / "scss" / "_default.scss", tmp / "_default.scss")
    return str(probe), entries


@pytest.mark.parametrize("references", [False, True], ids=["values", "references"])
@pytest.mark.parametrize("case", ["kebab", "snake"])
def test_scss_compiles_with_dart_sass_and_every_variable_is_public(
    tools: Path, tmp_path: Path, references: bool, case: str
) -> None:
    out = _build(tmp_path, references=references, case=case)
    probe, pairs = _sass_probe(out, tmp_path)
    run = subprocess.run(
        [str(tools / "sass"), "--no-source-map", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    decls = re.findall(r"^\s+([vm]): (.*);$", run.stdout, re.M)
    assert len(decls) == 2 * len(pairs)
    # Each variable, read through @use, equals its map entry.
    for (_, via_var), (_, via_map) in zip(decls[::2], decls[1::2], strict=True):
        assert via_var == via_map
    assert any("O'Brien Sans" in v for _, v in decls)


TS_CHECK = """import tokens, * as named from "./dist/js/default.js";

const { default: nested, ...rest } = named;
const all: Record<string, string> = rest;
// @ts-expect-error: the module has no named export "tokens$" (only the default)
const internal = named.tokens$;
const proto: string = tokens["__proto__"].polluted;
const ctor: string = tokens.size["constructor"];
const odd: string = tokens.size["it's"];
const heading: string = named.typeHeadingLetterSpacing;
export { all, proto, ctor, odd, heading, nested, internal };
"""


def test_declarations_type_check_with_tsc_strict(tools: Path, tmp_path: Path) -> None:
    _build(tmp_path)
    check = write(tmp_path / "check.ts", TS_CHECK)
    run = subprocess.run(
        [
            str(tools / "tsc"),
            "--strict",
            "--noEmit",
            "--target",
            "es2022",
            "--module",
            "es2022",
            "--moduleResolution",
            "bundler",
            str(check),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stdout + run.stderr


NODE_CHECK = """
const mod = await import(process.argv[1]);
const tokens = mod.default;
const paths = [];
const walk = (node, prefix) => {
  for (const key of Object.keys(node)) {
    const value = node[key];
    if (typeof value === 'string') paths.push([prefix.concat(key).join('.'), value]);
    else walk(value, prefix.concat(key));
  }
};
walk(tokens, []);
console.log(JSON.stringify({
  named: Object.keys(mod).filter(k => k !== 'default').sort(),
  paths,
  protoIsObject: Object.getPrototypeOf(tokens) === Object.prototype,
  ownProto: Object.prototype.hasOwnProperty.call(tokens, '__proto__'),
}));
"""


def test_the_module_and_its_declarations_agree(tools: Path, tmp_path: Path) -> None:
    out = _build(tmp_path)
    got = _node(NODE_CHECK, tmp_path, str(out / "js" / "default.js"))
    flat = json.loads((out / "json" / "default.flat.json").read_text())
    # Every token is in the default export at its path (``__proto__`` and ``constructor`` included).
    assert dict(got["paths"]) == flat
    assert got["ownProto"] and got["protoIsObject"]
    dts = (out / "js" / "default.d.ts").read_text()
    declared = sorted(re.findall(r"export declare const (\S+): string;", dts))
    assert got["named"] == declared
    assert len(declared) == len(flat) + 1  # plus the typography token's letter spacing


EMAIL_CHECK = """
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const require = createRequire(process.argv[1] + '/');
const { transform } = require('lightningcss');
const classes = [];
const result = transform({
  filename: 'email.css', code: readFileSync(process.argv[2]), errorRecovery: false,
  visitor: { Selector(selector) { for (const c of selector) if (c.type === 'class') classes.push(c.name); } },
});
console.log(JSON.stringify({ classes, warnings: result.warnings }));
"""


def test_email_css_parses_with_every_class_intact(tools: Path, tmp_path: Path) -> None:
    src = write(tmp_path / "tokens.json", odd_document())
    out = tmp_path / "dist"
    build(BuildOptions(sources=[src], out=out, formats=["email"], on_collision="suffix"))
    got = _node(EMAIL_CHECK, tmp_path, str(TOOLCHAIN / "node_modules"), str(out / "email" / "default.css"))
    assert got["warnings"] == []
    assert len(got["classes"]) == len(set(got["classes"])) > 5
    assert "color-brand" in got["classes"] and "bg-color-brand" in got["classes"]
