"""Outputs per theme: CSS custom properties, SCSS, JS ESM, TypeScript declarations, JSON nested
and flat, and an npm package folder that ``npm pack`` accepts and Node can import."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from charter.exceptions import ValidationFailed
from charter.tokens.build import MARKER, BuildOptions, build
from tests.tokens.conftest import px, srgb, write

DOC: dict[str, Any] = {
    "base": {
        "color": {
            "$type": "color",
            "blue": {"$value": srgb(0, 0.4, 0.8, hex="#0066cc"), "$description": "Brand */ blue"},
            "white": {"$value": srgb(1, 1, 1)},
        },
        "space": {"$type": "dimension", "$root": {"$value": px(16)}, "sm": {"$value": px(8)}},
    },
    "semantic": {
        "text": {"$value": "{base.color.blue}"},
        "link": {"$value": "{semantic.text}", "$extensions": {"org.example": {"figma": "1:2"}}},
        "gap": {"$value": "{base.space.$root}"},
        "old": {"$value": "{base.color.white}", "$deprecated": "Use semantic.text"},
        "weight": {"$type": "fontWeight", "$value": "bold"},
    },
}


def _build(tmp: Path, doc: dict[str, Any] = DOC, **opts: Any) -> Path:
    out = tmp / "out"
    build(BuildOptions(sources=[write(tmp / "tokens.json", doc)], out=out, **opts))
    return out


def test_css_custom_properties(tmp_path: Path) -> None:
    css = (_build(tmp_path) / "css" / "default.css").read_text()
    assert ":root {\n" in css
    assert "  --base-color-blue: #0066cc; /* Brand * / blue */\n" in css
    assert "  --base-space: 16px;\n" in css  # $root is dropped from the name
    assert "  --semantic-link: #0066cc;\n" in css
    assert "  --semantic-old: #ffffff; /* deprecated: Use semantic.text */\n" in css
    assert "  --semantic-weight: 700;\n" in css


def test_css_keeps_references_as_var_when_asked(tmp_path: Path) -> None:
    out = _build(tmp_path, css_references=True, prefix="acme", selector='[data-theme="{theme}"]')
    css = (out / "css" / "default.css").read_text()
    assert '[data-theme="default"] {' in css
    assert "  --acme-semantic-text: var(--acme-base-color-blue);\n" in css
    assert "  --acme-semantic-link: var(--acme-semantic-text);\n" in css
    assert "  --acme-semantic-gap: var(--acme-base-space);\n" in css


def test_scss_variables_and_map(tmp_path: Path) -> None:
    scss = (_build(tmp_path, css_references=True) / "scss" / "_default.scss").read_text()
    lines = scss.splitlines()
    # With references a Sass variable is defined before any use of it.
    assert lines.index("$semantic-text: $base-color-blue;") > lines.index("$base-color-blue: #0066cc;")
    assert lines.index("$semantic-link: $semantic-text;") > lines.index("$semantic-text: $base-color-blue;")
    assert '  "semantic-gap": $semantic-gap,' in lines
    assert scss.rstrip().endswith(");")


def test_js_module_and_typescript_declarations(tmp_path: Path) -> None:
    out = _build(tmp_path)
    js = (out / "js" / "default.js").read_text()
    assert 'export const baseColorBlue = "#0066cc";' in js
    assert "/** @deprecated Use semantic.text */\nexport const semanticOld" in js
    default = json.loads(js.split("export default ", 1)[1].rstrip().rstrip(";"))
    assert default["base"]["space"]["$root"] == "16px" and default["semantic"]["text"] == "#0066cc"
    dts = (out / "js" / "default.d.ts").read_text()
    assert "/** Brand * / blue */ export declare const baseColorBlue: string;" in dts
    assert 'readonly "semantic": {' in dts and "export default tokens$;" in dts


def test_json_nested_keeps_metadata_and_flat_has_css_values(tmp_path: Path) -> None:
    out = _build(tmp_path)
    nested = json.loads((out / "json" / "default.json").read_text())
    link = nested["semantic"]["link"]
    assert link["$type"] == "color" and link["$value"]["components"] == [0, 0.4, 0.8]
    assert link["$extensions"] == {"org.example": {"figma": "1:2"}}
    assert nested["semantic"]["old"]["$deprecated"] == "Use semantic.text"
    flat = json.loads((out / "json" / "default.flat.json").read_text())
    assert flat["semantic.gap"] == "16px" and flat["base.space.$root"] == "16px"


def test_wide_gamut_colours_keep_their_space_unless_hex_is_asked(tmp_path: Path) -> None:
    doc = {"c": {"$type": "color", "$value": {"colorSpace": "display-p3", "components": [1, 0, 0]}}}
    auto = (_build(tmp_path, doc) / "css" / "default.css").read_text()
    assert "--c: color(display-p3 1 0 0);" in auto
    shutil.rmtree(tmp_path / "out")
    hexed = (_build(tmp_path, doc, color_mode="hex") / "css" / "default.css").read_text()
    assert "--c: #ff3428;" in hexed  # gamut-mapped into sRGB (CSS Color 4 method), not clipped to #ff0000


def test_names_that_clash_in_css_are_an_error(tmp_path: Path) -> None:
    doc = {"a-b": {"$type": "number", "$value": 1}, "a": {"b": {"$type": "number", "$value": 2}}}
    with pytest.raises(ValidationFailed) as info:
        _build(tmp_path, doc)
    assert "CSS name 'a-b' clashes with token 'a-b'" in info.value.errors[0].message
    assert not (tmp_path / "out").exists()


def test_package_json_exports_every_theme(tmp_path: Path) -> None:
    tokens = write(tmp_path / "t" / "base.json", {"c": {"$type": "color", "$value": srgb(0, 0, 0)}})
    write(tmp_path / "t" / "dark.json", {"c": {"$type": "color", "$value": srgb(1, 1, 1)}})
    write(
        tmp_path / "t" / "tokens.resolver.json",
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
    out = tmp_path / "out"
    result = build(BuildOptions(sources=[tokens.parent], out=out, name="@acme/tokens"))
    pkg = json.loads((out / "package.json").read_text())
    assert pkg["name"] == "@acme/tokens" and pkg["version"] == "1.0.0" and pkg["type"] == "module"
    assert pkg["exports"]["."] == {"types": "./js/light.d.ts", "import": "./js/light.js", "default": "./js/light.js"}
    for theme in ("light", "dark"):
        assert pkg["exports"][f"./themes/{theme}.css"] == f"./css/{theme}.css"
        assert pkg["exports"][f"./themes/{theme}"]["import"] == f"./js/{theme}.js"
        assert pkg["exports"][f"./themes/{theme}.json"] == f"./json/{theme}.json"
    assert set(pkg["files"]) == {"css", "js", "json", "scss", "CHANGELOG.md", "README.md"}
    assert result.themes == ["light", "dark"]
    assert (out / MARKER).is_file() and (out / "README.md").is_file() and (out / "CHANGELOG.md").is_file()


@pytest.mark.parametrize(("name", "words"), [("Bad Name", "valid npm package name"), ("ok", None)])
def test_package_name_is_checked(tmp_path: Path, name: str, words: str | None) -> None:
    if words is None:
        _build(tmp_path, name=name)
        return
    with pytest.raises(ValidationFailed) as info:
        _build(tmp_path, name=name)
    assert words in info.value.errors[0].message


def test_only_the_formats_asked_for(tmp_path: Path) -> None:
    out = _build(tmp_path, formats=["css", "json"])
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "css", "json"]


def test_unknown_format_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as info:
        _build(tmp_path, formats=["css", "swift"])
    assert "unknown token format 'swift'" in info.value.errors[0].message


needs_node = pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None, reason="needs npm + node")


@needs_node
@pytest.mark.slow
def test_npm_pack_accepts_the_package_and_node_imports_it(tmp_path: Path) -> None:
    out = _build(tmp_path, name="@acme/tokens")
    packed = subprocess.run(
        ["npm", "pack", "--json", "--pack-destination", str(tmp_path)],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    info = json.loads(packed.stdout)[0]
    assert info["name"] == "@acme/tokens" and info["version"] == "1.0.0"
    names = {f["path"] for f in info["files"]}
    assert {"package.json", "css/default.css", "js/default.js", "js/default.d.ts", "json/default.json"} <= names
    assert MARKER not in names
    # Install the tarball like a consumer would (no registry: a local folder) and import it.
    app = tmp_path / "app"
    (app / "node_modules" / "@acme").mkdir(parents=True)
    with tarfile.open(tmp_path / info["filename"]) as tar:
        tar.extractall(app / "node_modules" / "@acme", filter="data")
    (app / "node_modules" / "@acme" / "package").rename(app / "node_modules" / "@acme" / "tokens")
    script = (
        "import tokens, { semanticText } from '@acme/tokens';"
        "import dark from '@acme/tokens/themes/default';"
        "import { createRequire } from 'node:module';"
        "const req = createRequire(import.meta.url);"
        "console.log(JSON.stringify([semanticText, tokens.base.space.$root, dark.semantic.gap,"
        " req.resolve('@acme/tokens/themes/default.css').endsWith('css/default.css')]));"
    )
    (app / "main.mjs").write_text(script)
    run = subprocess.run(["node", "main.mjs"], cwd=app, capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(run.stdout) == ["#0066cc", "16px", "16px", True]


class _TextFormat:
    """A third-party format: one line per token."""

    name = "txt"
    description = "plain text"

    def render(self, ctx: Any) -> dict[str, str]:
        return {f"txt/{t.name}.txt": "".join(f"{e.name}={e.value}\n" for e in ctx.entries(t)) for t in ctx.themes}


def test_formats_are_plugins_on_the_apps_plugin_manager(tmp_path: Path) -> None:
    from charter.hookspecs import hookimpl
    from charter.plugins import make_plugin_manager

    class Plugin:
        @hookimpl
        def register_token_formats(self, register: Any) -> None:
            register("txt", _TextFormat)

    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(Plugin(), "txt-format")
    out = _build(tmp_path, formats=["css", "txt"], plugins=pm)
    assert (out / "txt" / "default.txt").read_text().startswith("base-color-blue=#0066cc\n")
    assert (out / "css" / "default.css").is_file()
