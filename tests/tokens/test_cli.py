"""``charter tokens build|validate|diff|divergence`` through the real console script and in-process:
exit codes, messages naming file and pointer, and no partial output on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from charter.tokens.build import MARKER
from tests.tokens.conftest import charter, cli, srgb, write

GOOD = {"color": {"$type": "color", "text": {"$value": srgb(0, 0, 0)}, "surface": {"$value": srgb(1, 1, 1)}}}


def test_build_through_the_console_script(tmp_path: Path) -> None:
    src = write(tmp_path / "tokens" / "tokens.json", GOOD)
    run = charter("tokens", "build", str(src.parent), "--out", str(tmp_path / "dist"), "--name", "@acme/tokens")
    assert run.code == 0, run.err
    assert run.out.startswith("built 2 tokens in 1 theme(s) [default] -> ")
    assert "@acme/tokens 1.0.0" in run.out
    assert (tmp_path / "dist" / "css" / "default.css").is_file()


def test_default_sources_are_the_tokens_folder(tmp_path: Path) -> None:
    write(tmp_path / "tokens" / "tokens.json", GOOD)
    run = charter("tokens", "validate", cwd=tmp_path)
    assert (run.code, run.out) == (0, "ok: 2 tokens in 1 theme(s), 0 contrast checks passed\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    run = charter("tokens", "build", cwd=empty)
    assert run.code == 1 and "no token sources given and tokens does not exist" in run.err


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{"a": {"$type": "color", "$value": ', "#: invalid JSON at line 1 column 36: Expecting value"),
        ({"a": {"$type": "colour", "$value": 1}}, "#/a/$type: a.$type: unknown $type 'colour'"),
        ({"a": {"$type": "color", "$value": "#ff0000"}}, "#/a/$value: a: invalid color value"),
        ({"a": {"$type": "color", "$value": "{b}"}, "b": {"$value": "{a}"}}, "#/a: a: circular reference: a -> b -> a"),
    ],
    ids=["broken-json", "unknown-type", "non-colour", "cycle"],
)
def test_bad_input_exits_1_naming_file_and_pointer_and_writes_nothing(
    tmp_path: Path, content: object, words: str
) -> None:
    src = write(tmp_path / "tokens.json", content)
    out = tmp_path / "dist"
    run = charter("tokens", "build", str(src), "--out", str(out))
    assert run.code == 1
    assert run.err.startswith("error: ")
    assert f"{src}{words}" in run.err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".dist")], "no temporary folder left"


_RESOLVER = {"version": "2025.10"}


@pytest.mark.parametrize(
    ("files", "source", "words"),
    [
        pytest.param(
            {"tokens.resolver.json": {**_RESOLVER, "resolutionOrder": [{"$ref": "#/sets/core"}]}},
            "tokens.resolver.json",
            "#/resolutionOrder/0: '#/sets/core' does not exist",
            id="resolver-missing-set",
        ),
        pytest.param(
            {
                "tokens.resolver.json": {
                    **_RESOLVER,
                    "sets": {"core": {"sources": [{"$ref": "core.tokens.json"}]}},
                    "resolutionOrder": [{"$ref": "#/sets/core"}],
                }
            },
            "tokens.resolver.json",
            "#/sets/core/sources/0: missing source file 'core.tokens.json'",
            id="resolver-missing-source-file",
        ),
        pytest.param(
            {
                "tokens.resolver.json": {
                    **_RESOLVER,
                    "sets": {"core": {"sources": [{"$ref": "core.tokens.json"}]}},
                    "resolutionOrder": [{"$ref": "#/sets/core"}],
                },
                "core.tokens.json": '{"a": {"$type": "color", "$value": ',
            },
            "core.tokens.json",
            "#: invalid JSON at line 1 column 36: Expecting value",
            id="resolver-source-broken-json",
        ),
        pytest.param(
            {"tokens.json": '{"a": {"$type": "number", "$value": NaN}}'},
            "tokens.json",
            "#: invalid JSON: NaN is not a JSON value",
            id="nan-is-not-json",
        ),
        pytest.param(
            {"tokens.json": b'{"a": {"$type": "number", "$value": 1, "$description": "\xff"}}'},
            "tokens.json",
            "#: invalid JSON: 'utf-8' codec can't decode byte 0xff",
            id="not-utf-8",
        ),
    ],
)
def test_bad_sources_exit_1_naming_file_and_pointer_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, object], source: str, words: str
) -> None:
    src = tmp_path / "tokens"
    for name, content in files.items():
        if isinstance(content, bytes):
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_bytes(content)
        else:
            write(src / name, content)
    out = tmp_path / "dist"
    run = cli(capsys, "build", str(src), "--out", str(out), "--release")
    assert run.code == 1 and run.out == ""
    assert run.err.startswith("error: ")
    assert f"  {src / source}{words}" in run.err, run.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokens"], "no output, no temporary folder"
    assert sorted(p.name for p in src.iterdir()) == sorted(files), "no release snapshot written"


def test_a_failed_rebuild_leaves_the_previous_output_in_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = write(tmp_path / "tokens.json", GOOD)
    out = tmp_path / "dist"
    assert cli(capsys, "build", str(src), "-o", str(out)).code == 0
    before = {p.relative_to(out): p.read_text() for p in out.rglob("*") if p.is_file()}
    write(src, {"color": {"$type": "color", "text": {"$value": "{nope}"}}})
    run = cli(capsys, "build", str(src), "-o", str(out))
    assert run.code == 1 and "unresolved reference {nope}" in run.err
    assert {p.relative_to(out): p.read_text() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist", "tokens.json"]


def test_a_rebuild_replaces_the_folder_as_a_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path / "tokens.json", GOOD)
    out = tmp_path / "dist"
    cli(capsys, "build", str(src), "-o", str(out))
    (out / "stale.txt").write_text("x")
    assert cli(capsys, "build", str(src), "-o", str(out), "-f", "css").code == 0
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "css"]


def test_build_refuses_to_replace_a_folder_it_did_not_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path / "tokens.json", GOOD)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.js").write_text("keep me")
    run = cli(capsys, "build", str(src), "-o", str(tmp_path / "src"))
    assert run.code == 1 and "refusing to replace a non-empty folder" in run.err
    assert (tmp_path / "src" / "app.js").read_text() == "keep me"


def test_build_json_and_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path / "tokens.json", {**GOOD, "alias": {"$value": "{color.text}"}})
    run = cli(
        capsys,
        "build",
        str(src),
        "-o",
        str(tmp_path / "d"),
        "-f",
        "css,json",
        "--references",
        "--prefix",
        "x",
        "--json",
    )
    data = json.loads(run.out)
    assert data["files"] == ["css/default.css", "json/default.flat.json", "json/default.json"]
    assert "--x-alias: var(--x-color-text);" in (tmp_path / "d" / "css" / "default.css").read_text()


def test_contrast_failure_exits_1_with_the_ratio(tmp_path: Path) -> None:
    d = tmp_path / "tokens"
    write(
        d / "tokens.json",
        {"c": {"$type": "color", "fg": {"$value": srgb(0.6, 0.6, 0.6)}, "bg": {"$value": srgb(1, 1, 1)}}},
    )
    write(d / "contrast.json", {"pairs": [{"foreground": "c.fg", "background": "c.bg"}]})
    run = charter("tokens", "validate", str(d))
    assert run.code == 1
    assert "c.fg on c.bg in theme 'default': contrast 2.85:1 is below AA normal text (4.5:1)" in run.err


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    run = charter("tokens", "build", "--color-format", "rgb")
    assert run.code == 2 and "invalid choice: 'rgb'" in run.err


def test_help_of_the_group_lists_design_and_api_token_commands() -> None:
    run = charter("tokens", "--help")
    assert run.code == 0
    for command in ("build", "validate", "diff", "divergence", "create", "list", "revoke"):
        assert command in run.out
    sub = charter("tokens", "divergence", "--help")
    assert sub.code == 0 and "--threshold" in sub.out and "NAME=PATH" in sub.out


def test_typer_group_forwards_to_the_same_commands(tmp_path: Path) -> None:
    """``charter.cli.commands.tokens`` (API tokens) mounts the design-token commands too."""
    from typer.testing import CliRunner

    from charter.cli.commands import tokens

    src = write(tmp_path / "tokens.json", GOOD)
    result = CliRunner().invoke(tokens.app, ["validate", str(src)])
    assert result.exit_code == 0 and "ok: 2 tokens" in result.output
    bad = write(tmp_path / "bad.json", {"a": {"$type": "colour", "$value": 1}})
    assert CliRunner().invoke(tokens.app, ["validate", str(bad)]).exit_code == 1


def test_the_build_path_imports_no_web_or_database_stack(tmp_path: Path) -> None:
    """``charter tokens build`` is benchmarked as a whole process (bench/tokens): through the real
    entry point it must not import the CLI or web stack, nor modules whose import alone is a
    noticeable share of a build (dataclasses brings inspect, argparse's sizing shutil)."""
    src = write(tmp_path / "tokens.json", GOOD)
    code = (
        "import sys\n"
        "from charter.cli.main import main\n"
        f"sys.argv = ['charter', 'tokens', 'build', {str(src)!r}, '-o', {str(tmp_path / 'd')!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "heavy = {'typer', 'click', 'rich', 'sqlalchemy', 'pydantic', 'fastapi', 'coloraide', 'pluggy', 'orjson',\n"
        "         'dataclasses', 'inspect', 'shutil', 'datetime', 'uuid'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert run.stdout.startswith("built 2 tokens")
    assert run.stdout.strip().splitlines()[-1] == "[]"


def test_the_user_guide_covers_every_option() -> None:
    """docs/tokens.md documents every option of every ``charter tokens`` design-token command."""
    import argparse

    from charter.cli.commands.design_tokens import COMMANDS, parser

    doc = (Path(__file__).parents[2] / "docs" / "tokens.md").read_text(encoding="utf-8")
    sub = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == set(COMMANDS)
    missing = [
        f"{name} {opt}"
        for name, command in sub.choices.items()
        for action in command._actions
        for opt in action.option_strings
        if opt.startswith("--") and opt != "--help" and f"`{opt}" not in doc
    ]
    assert not missing
