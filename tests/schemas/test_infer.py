"""Schemas inferred from values (``charter schema import --from wagtail``): the narrowest schema the
inference knows that accepts every value, formats only when every value has one, StreamField blocks
as one branch per intent; every inferred schema accepts the values it came from."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from charter.delivery.schema_infer import infer, infer_document


def test_kinds_merge_and_null_is_a_kind() -> None:
    assert infer([1, 2]) == {"type": "integer"}
    assert infer([1, 2.5]) == {"type": "number"}
    assert infer([True, False]) == {"type": "boolean"}  # bool is not read as an integer
    assert infer(["a", 1]) == {"type": ["integer", "string"]}
    assert infer([None, "a"]) == {"type": ["null", "string"]}
    assert infer([None]) == {"type": "null"} and infer([]) == {}
    assert infer([None, "2026-12-07"]) == {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]}


def test_a_format_only_when_every_value_has_it() -> None:
    assert infer(["2026-12-07T16:50:00Z", "2026-01-01T00:00:00.5+02:00"]) == {"type": "string", "format": "date-time"}
    assert infer(["2026-12-07", "2026-12-08"]) == {"type": "string", "format": "date"}
    assert infer(["https://example.com/a", "http://x.org"]) == {"type": "string", "format": "uri"}
    assert infer(["a@example.com"]) == {"type": "string", "format": "email"}
    assert infer(["2026-12-07", "soon"]) == {"type": "string"}


def test_documents_arrays_and_stream_blocks() -> None:
    docs = [
        {"title": "A", "tags": ["x"], "body": [{"intent": "hero", "title": "Hi"}, {"intent": "faq", "items": []}]},
        {"title": "B", "tags": [], "summary": None, "body": [{"intent": "hero", "title": "Yo", "subtitle": "s"}]},
    ]
    schema = infer_document(docs)
    assert schema["required"] == ["title", "tags", "body"]  # summary: null on the one page that has it
    assert schema["properties"]["summary"] == {"type": "null"}
    assert schema["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}
    blocks = schema["properties"]["body"]["items"]["oneOf"]
    assert [b["properties"]["intent"] for b in blocks] == [{"const": "faq"}, {"const": "hero"}]
    hero = blocks[1]
    assert hero["required"] == ["intent", "title"] and hero["properties"]["subtitle"] == {"type": "string"}
    assert infer([[], []]) == {"type": "array"}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from("abcd"), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["a", "b", "intent", "c"]), JSON, max_size=4), min_size=1, max_size=5))
def test_an_inferred_schema_accepts_every_document_it_came_from(docs: list[dict[str, Any]]) -> None:
    validator = Draft202012Validator(infer_document(docs), format_checker=FormatChecker())
    for doc in docs:
        assert not list(validator.iter_errors(doc)), doc
