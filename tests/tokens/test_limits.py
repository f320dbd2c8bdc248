"""Deep and large inputs end in a clear error, never a traceback; resolver references and their errors
name members that exist (DTCG 2025.10 Format and Resolver Modules)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from charter.tokens.model import MAX_DEPTH
from tests.tokens.conftest import cli, errors_of, px, srgb, themes_of, write


def nested_groups(depth: int) -> dict[str, Any]:
    doc: dict[str, Any] = {"leaf": {"$type": "number", "$value": 1}}
    for i in range(depth):
        doc = {f"g{i}": doc}
    return doc


def nested_value(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [500, 5000])
def test_deep_groups_are_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], depth: int) -> None:
    # Written by hand: the standard library's encoder cannot write 5,000 levels either.
    text = "".join(f'{{"g{i}": ' for i in range(depth)) + '{"$type": "number", "$value": 1}' + "}" * depth
    src = write(tmp_path / "deep.tokens.json", text)
    run = cli(capsys, "build", str(src), "--out", str(tmp_path / "out"))
    assert run.code == 1
    assert "nested" in run.err and f"{MAX_DEPTH} levels" in run.err
    assert "Traceback" not in run.err and not (tmp_path / "out").exists()


def test_groups_up_to_the_limit_build(tmp_path: Path) -> None:
    [theme] = themes_of(tmp_path, nested_groups(MAX_DEPTH - 1))
    assert len(theme.tokens) == 1


def test_json_deeper_than_the_parser_can_go_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = write(tmp_path / "deep.tokens.json", '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    run = cli(capsys, "validate", str(src))
    assert run.code == 1 and "nested too deeply to parse" in run.err and "Traceback" not in run.err


def test_deep_values_are_a_clear_error(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, {"a": {"$type": "cubicBezier", "$value": nested_value(500)}})
    assert len(errors) == 1 and f"values nested more than {MAX_DEPTH} levels deep" in errors[0]


def test_deep_groups_across_merged_files_are_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write(tmp_path / "a.tokens.json", nested_groups(500))
    b = write(tmp_path / "b.tokens.json", nested_groups(500))
    run = cli(capsys, "validate", str(a), str(b))
    assert run.code == 1 and "nested more than" in run.err and "Traceback" not in run.err


def test_long_extends_chains_are_a_clear_error(tmp_path: Path) -> None:
    doc: dict[str, Any] = {"g0": {"x": {"$type": "number", "$value": 1}}}
    for i in range(1, 400):
        doc[f"g{i}"] = {"$extends": f"{{g{i - 1}}}"}
    errors = errors_of(tmp_path, doc)
    assert errors and all("chained more than" in e for e in errors)


def _border_chain(n: int, reverse: bool) -> dict[str, Any]:
    """Borders whose colour is the colour of the border before it (``$ref`` into its ``$value``)."""
    doc: dict[str, Any] = {"$type": "border"}
    order = range(n - 1, 0, -1) if reverse else range(1, n)
    for i in order:
        colour = {"$ref": f"#/b{i - 1}/$value/color"}
        doc[f"b{i}"] = {"$value": {"color": colour, "width": px(1), "style": "solid"}}
    doc["b0"] = {"$value": {"color": srgb(0, 0, 0), "width": px(1), "style": "solid"}}
    return doc


def test_references_inside_values_nested_too_deep_are_a_clear_error(tmp_path: Path) -> None:
    # Listed last-first, each border's colour needs the one before it resolved first: 600 levels.
    errors = errors_of(tmp_path, _border_chain(600, reverse=True))
    assert errors and all("nested more than" in e for e in errors)


def test_long_chains_of_references_inside_values_resolve_in_document_order(tmp_path: Path) -> None:
    [theme] = themes_of(tmp_path, _border_chain(600, reverse=False))
    assert theme.tokens["b599"].resolved["color"] == srgb(0, 0, 0)


def test_many_tokens_and_long_alias_chains_build(tmp_path: Path) -> None:
    doc: dict[str, Any] = {"c": {"$type": "color", "t0": {"$value": srgb(0, 0, 0)}}}
    for i in range(1, 5000):
        doc["c"][f"t{i}"] = {"$value": f"{{c.t{i - 1}}}"}
    [theme] = themes_of(tmp_path, doc)
    assert theme.tokens["c.t4999"].resolved == srgb(0, 0, 0)


# -- resolver references --------------------------------------------------------------------


def _resolver(tmp: Path, ref: str) -> Path:
    write(tmp / "colors.json", {"orange": {"$type": "color", "$value": srgb(1, 0.5, 0)}})
    return write(
        tmp / "theme.resolver.json",
        {"version": "2025.10", "resolutionOrder": [{"type": "set", "name": "base", "sources": [{"$ref": ref}]}]},
    )


def test_a_fragment_that_is_not_a_json_pointer_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = cli(capsys, "validate", str(_resolver(tmp_path, "colors.json#orange")))
    assert run.code == 1
    assert (
        "#/resolutionOrder/0/sources/0/$ref: the fragment '#orange' of 'colors.json#orange' is not a JSON pointer"
        in (run.err)
    )


def test_a_json_pointer_fragment_takes_that_part(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = cli(capsys, "validate", str(_resolver(tmp_path, "colors.json#/orange")), "--json")
    assert run.code == 1  # a token, not a group of tokens: the source must hold a token object
    run = cli(capsys, "validate", str(_resolver(tmp_path, "colors.json")), "--json")
    assert run.code == 0 and json.loads(run.out)["tokens"] == 1


def test_a_group_ref_cycle_is_reported_as_a_ref_cycle_at_the_ref(tmp_path: Path) -> None:
    doc = {"a": {"$ref": "#/b"}, "b": {"$ref": "#/a"}}
    errors = errors_of(tmp_path, doc)
    assert errors
    for e in errors:
        pointer = e.split(": ", 1)[0].split("#", 1)[1]
        assert pointer in ("/a/$ref", "/b/$ref") and "circular $ref" in e


def test_a_reference_to_a_token_of_unknown_type_says_so(tmp_path: Path) -> None:
    doc = {"a": {"$type": "colour", "$value": "#fff"}, "b": {"$value": "{a}"}}
    errors = errors_of(tmp_path, doc)
    assert "tokens.json#/a/$type: a.$type: unknown $type 'colour'" in errors
    assert "tokens.json#/b: b: unresolved reference {a}: {a} has an unknown $type 'colour'" in errors
    assert not any("is a group" in e for e in errors)


def test_every_error_pointer_names_a_member_that_exists(tmp_path: Path) -> None:
    docs: list[dict[str, Any]] = [
        {"a": {"$ref": "#/b"}, "b": {"$ref": "#/a"}},
        {"a": {"$extends": "{b}"}, "b": {"$extends": "{a}"}},
        {"a": {"$ref": "#/missing"}},
        {"a": {"$type": "colour", "$value": 1}, "b": {"$value": "{a}"}},
        {"a": {"$extends": "{t}"}, "t": {"$type": "number", "$value": 1}},
    ]
    for i, doc in enumerate(docs):
        for e in errors_of(tmp_path, doc, name=f"d{i}.json"):
            pointer = e.split(": ", 1)[0].split("#", 1)[1]
            node: Any = doc
            for part in pointer.strip("/").split("/"):
                assert isinstance(node, dict) and part in node, (doc, e)
                node = node[part]
