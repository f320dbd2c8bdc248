"""One strict JSON gate: what Charter accepts is what it can store and serve back.

Every JSON text Charter takes in (request bodies, the gateway's chat requests, ``charter content
import`` lines, project JSON files) goes through :func:`loads`; every value built another way (YAML
files, admin form fields, AI drafts) goes through :func:`check` before it is used; the database
engine runs :func:`check_stored` on every JSON value it writes (``charter.db.engine``), so no path
can store what a read could not serve. The rules are those of I-JSON (RFC 7493):

* §2.1: strings (and member names) are valid Unicode: no lone UTF-16 surrogate, written raw or as
  a ``\\ud800`` escape;
* §2.2: numbers are finite IEEE 754 doubles (no ``NaN``, ``Infinity``, nor a literal such as
  ``1e400`` that overflows), and integers lie within ±(2**53 - 1), where every client parses
  them exactly;
* member names contain no NUL character (no store keeps one; PostgreSQL refuses it anywhere in a
  JSON text, so :func:`check_stored` refuses NUL in values too).

A refusal is an :class:`InvalidJSON` (400) naming the RFC 6901 JSON pointer of the first bad value.
The common case costs one ``orjson.loads`` and one walk over the parsed value, without building
pointers; pointers are computed only for a value that is refused.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

from charter.exceptions import BadRequest, Conflict, ErrorDetail, ValidationFailed

#: The largest integer every JSON client reads exactly (RFC 7493 §2.2).
MAX_SAFE_INTEGER = 2**53 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")
#: orjson itself refuses lone surrogates, NaN, Infinity and overflowing literals; what it lets
#: through needs one of these in the text: a NUL (only as the escape ``\u0000``: a raw control
#: character is refused) or an integer of 16 digits or more (15 digits stay below 2**53).
_NUL_ESCAPE = b"\\u0000"
#: Digits to "0", every other byte to " ": a run of 16 digits is then a plain substring search
#: (a regular expression trying every position costs ten times the parse).
_DIGITS = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_SIXTEEN_DIGITS = b"0" * 16

__all__ = [
    "MAX_SAFE_INTEGER",
    "InvalidJSON",
    "UnservableRecord",
    "UnservableValue",
    "check",
    "check_stored",
    "first_problem",
    "json_type",
    "loads",
    "servable",
    "unservable_record",
]


class InvalidJSON(BadRequest):
    """A JSON text (or a value meant to become one) that Charter refuses; ``errors`` names where."""

    type_slug = "invalid-json"
    title = "Invalid JSON"


class UnservableValue(ValidationFailed):
    """The store refused, inside the write transaction, a value it could not serve back."""

    type_slug = "unservable-value"
    title = "Value cannot be stored"


class UnservableRecord(Conflict):
    """A stored record holds a value Charter cannot serve (written by an older version, or behind
    Charter's back): the read of that record answers 409 instead of failing; ``charter doctor``
    lists such records and ``charter doctor --quarantine`` repairs them."""

    type_slug = "unservable-record"
    title = "Record cannot be served"


def _pointer(path: tuple[Any, ...]) -> str:
    """RFC 6901, with a lone surrogate in a name written as its escape (``\\ud800``): the
    pointer goes into the problem document, which must itself be servable."""
    text = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text) if not text.isascii() else text


def _bad_string(s: str, nul: bool) -> str | None:
    if nul and "\x00" in s:
        return "contains a NUL character"
    if not s.isascii() and _SURROGATE.search(s):
        return "contains a lone UTF-16 surrogate (not valid Unicode)"
    return None


def _bad_number(v: Any, json_floats: bool) -> str | None:
    if type(v) is float:
        if not math.isfinite(v):
            return "is not finite (NaN, Infinity, or a literal that overflows a double)"
        if json_floats and abs(v) > MAX_SAFE_INTEGER and v.is_integer():
            # orjson reads an integer literal beyond 64 bits as a float: the caller re-reads the
            # text to tell ``1e23`` (a double, accepted) from ``100000000000000000000000``.
            return "maybe-big-integer"
        return None
    if abs(v) > MAX_SAFE_INTEGER:
        return f"is an integer outside ±{MAX_SAFE_INTEGER} (RFC 7493 §2.2)"
    return None


def _clean(value: Any, nul_in_values: bool, json_floats: bool) -> bool:
    """True when ``value`` breaks no rule (the fast walk: no pointers)."""
    stack = [value]
    pop = stack.pop
    while stack:
        v = pop()
        t = type(v)
        if t is str:
            if (nul_in_values and "\x00" in v) or (not v.isascii() and _SURROGATE.search(v)):
                return False
        elif t is dict:
            for k in v:
                if type(k) is not str or "\x00" in k or (not k.isascii() and _SURROGATE.search(k)):
                    return False
            stack.extend(v.values())
        elif t is list or t is tuple:
            stack.extend(v)
        elif t is float or t is int:
            if _bad_number(v, json_floats):
                return False
        elif v is None or t is bool:
            continue
        else:
            return False  # a subclass (a str enum, an IntEnum) or not JSON: the careful walk decides
    return True


def _kind(v: Any) -> type:
    """The JSON kind of ``v``: subclasses (a str enum, an IntEnum) count as their base."""
    for kind in (bool, str, int, float, dict, list, tuple):
        if isinstance(v, kind):
            return kind
    return type(v)


def json_type(value: Any) -> str:
    """The JSON Schema type name of a parsed JSON ``value``: null, boolean, integer, number,
    string, array or object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list | tuple) else "object"


def first_problem(value: Any, *, nul_in_values: bool = False, json_floats: bool = False) -> ErrorDetail | None:
    """The first value in ``value`` (depth first) that breaks a rule, with its JSON pointer; None if
    it is clean. ``json_floats`` flags integral doubles beyond 2**53 as ``maybe-big-integer``."""
    if _clean(value, nul_in_values, json_floats):
        return None
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while stack:
        v, path = stack.pop()
        t = _kind(v)
        if t is str:
            why = _bad_string(v, nul_in_values)
            if why:
                return ErrorDetail(_pointer(path), f"string {why}", "i-json")
        elif t is dict:
            items = list(v.items())
            for k, _ in items:
                if not isinstance(k, str):
                    return ErrorDetail(_pointer(path), f"member name {k!r} is not a string", "i-json")
                why = _bad_string(k, True)
                if why:
                    return ErrorDetail(_pointer((*path, k)), f"member name {why}", "i-json")
            stack.extend((item, (*path, k)) for k, item in reversed(items))
        elif t is list or t is tuple:
            stack.extend((item, (*path, i)) for i, item in reversed(list(enumerate(v))))
        elif t is float or t is int:
            why = _bad_number(float(v) if t is float else int(v), json_floats)
            if why:
                return ErrorDetail(_pointer(path), why if why == "maybe-big-integer" else f"number {why}", "i-json")
        elif v is None or t is bool:
            continue
        else:
            return ErrorDetail(_pointer(path), f"a {t.__name__} is not a JSON value", "i-json")
    return None  # only subclasses of JSON types, which are fine


def check(value: Any, *, what: str = "JSON value", file: str | None = None) -> Any:
    """``value`` itself when it breaks no rule (a value parsed from YAML, a form field), else
    :class:`InvalidJSON` naming the first bad value."""
    problem = first_problem(value)
    if problem is not None:
        problem.file = file
        raise InvalidJSON(f"{what} refused at {problem.pointer or '/'}: {problem.message}", errors=[problem])
    return value


def check_stored(value: Any) -> None:
    """The store's rule (defence in depth): :class:`UnservableValue` for a value a read could not
    serve back, NUL in a string value included (PostgreSQL cannot keep one in JSON)."""
    problem = first_problem(value, nul_in_values=True)
    if problem is not None:
        raise UnservableValue(f"value not stored: {problem.pointer or '/'} {problem.message}", errors=[problem])


def servable(value: Any) -> ErrorDetail | None:
    """None when a stored ``value`` can be served back, else its first problem (the read side of
    :func:`check_stored`: a record an older version wrote must not turn a read into a 500)."""
    return first_problem(value, nul_in_values=True)


def unservable_record(what: str, problem: ErrorDetail) -> UnservableRecord:
    """The 409 for a read of a stored record that :func:`servable` refused."""
    return UnservableRecord(
        f"{what} holds a value Charter cannot serve ({problem.pointer or '/'} {problem.message}); "
        "an operator can repair it with `charter doctor --quarantine`",
        errors=[problem],
    )


def _lenient(data: bytes | str) -> Any:
    """The standard library's reading (NaN, Infinity, lone surrogates, big integers allowed), only
    to locate what :func:`loads` refused; raises ``ValueError`` for text that is not JSON at all."""
    try:
        return json.loads(data)
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc


def loads(data: bytes | str, *, what: str = "JSON body", file: str | None = None) -> Any:
    """Parse a JSON text under the I-JSON rules above; :class:`InvalidJSON` (400) otherwise."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        try:
            lenient = _lenient(data)
        except (ValueError, UnicodeDecodeError):
            lenient = exc
        problem = first_problem(lenient) if not isinstance(lenient, Exception) else None
        if problem is None:
            problem = ErrorDetail("", f"malformed JSON: {exc}", "syntax")
            problem.file = file
            raise InvalidJSON(f"malformed {what}: {exc}", errors=[problem]) from None
        problem.file = file
        raise InvalidJSON(f"{what} refused at {problem.pointer or '/'}: {problem.message}", errors=[problem]) from None
    # orjson accepted it, so a str holds no lone surrogate and encodes as UTF-8.
    raw = data.encode() if isinstance(data, str) else bytes(data)
    if _NUL_ESCAPE not in raw and _SIXTEEN_DIGITS not in raw.translate(_DIGITS):
        return value  # nothing orjson accepts and the rules refuse can be in this text: no walk
    problem = first_problem(value, json_floats=True)
    if problem is not None and problem.message == "maybe-big-integer":
        problem = first_problem(_lenient(data))
    if problem is not None:
        problem.file = file
        raise InvalidJSON(f"{what} refused at {problem.pointer or '/'}: {problem.message}", errors=[problem])
    return value
