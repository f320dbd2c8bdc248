"""The built-in content-migration operations (a default plugin).

Each operation is built once from its arguments in the migration file and then applied to every
locale document of every entry. ``apply(doc, default_locale)`` changes ``doc`` in place and raises
:class:`MigrationStepError` when an entry cannot be migrated (the dry run reports it).

=============  ==================================================================================
rename         ``{from: PATH, to: NAME}``: rename a field where it is (every match of PATH)
move           ``{from: PATH, to: PATH}``: move a value; both paths share their ``[]`` prefix
set_default    ``{path: PATH, value: V}``: set V where the field is missing (default locale only)
map_values     ``{path: PATH, values: {OLD: NEW}}``: replace enum values; others stay
drop           ``{path: PATH}``: remove a field
split          ``{from: PATH, into: [NAME, ...], separator: " "}``: split a string into sibling
               fields (at most ``len(into) - 1`` splits; missing parts are left out)
=============  ==================================================================================
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Protocol

from charter.schemas.paths import FieldPath, Segment, containers, parse_path


class MigrationStepError(ValueError):
    """This entry cannot be migrated by this operation (reported per entry, never half-applied)."""


class Operation(Protocol):
    def apply(self, doc: dict[str, Any], default_locale: bool) -> None: ...


OperationFactory = Callable[[dict[str, Any]], Operation]


def _arg(args: dict[str, Any], key: str) -> Any:
    if key not in args:
        raise ValueError(f"missing argument {key!r}")
    return args[key]


def _path(args: dict[str, Any], key: str) -> FieldPath:
    try:
        return parse_path(_arg(args, key))
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None


def _name(args: dict[str, Any], key: str) -> str:
    value = _arg(args, key)
    path = parse_path(value) if isinstance(value, str) else None
    if path is None or len(path.segments) != 1 or path.last.each is not None:
        raise ValueError(f"{key} must be a plain field name (no dots or []), not {value!r}")
    return path.last.name


def _only(args: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise ValueError(f"unknown argument(s) {', '.join(unknown)}; expected {', '.join(sorted(allowed))}")


class Rename:
    def __init__(self, args: dict[str, Any]) -> None:
        _only(args, {"from", "to"})
        self.source = _path(args, "from")
        if self.source.last.each is not None:
            raise ValueError("from must end in a field, not an array filter")
        self.target = _name(args, "to")

    def apply(self, doc: dict[str, Any], default_locale: bool) -> None:
        name = self.source.last.name
        for obj in containers(doc, self.source):
            if name in obj:
                if self.target in obj:
                    raise MigrationStepError(f"cannot rename {name!r} to {self.target!r}: {self.target!r} exists")
                obj[self.target] = obj.pop(name)


def _split_prefix(path: FieldPath) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """(up to and including the last array segment, the plain rest)."""
    last_each = max((i for i, s in enumerate(path.segments) if s.each is not None), default=-1)
    return path.segments[: last_each + 1], path.segments[last_each + 1 :]


class Move:
    def __init__(self, args: dict[str, Any]) -> None:
        _only(args, {"from", "to"})
        self.source, self.target = _path(args, "from"), _path(args, "to")
        sp, self.src_rest = _split_prefix(self.source)
        tp, self.dst_rest = _split_prefix(self.target)
        if sp != tp:
            raise ValueError("from and to must share the same array prefix (e.g. sections[].a -> sections[].b)")
        if not self.src_rest or not self.dst_rest:
            raise ValueError("from and to must end in fields")
        self.prefix = FieldPath(".".join(str(s) for s in sp), sp)

    def _roots(self, doc: dict[str, Any]) -> list[dict[str, Any]]:
        if not self.prefix.segments:
            return [doc]
        out: list[dict[str, Any]] = []
        probe = FieldPath(self.prefix.text + ".x", (*self.prefix.segments, Segment("x")))
        out.extend(containers(doc, probe))
        return out

    def apply(self, doc: dict[str, Any], default_locale: bool) -> None:
        for base in self._roots(doc):
            parent: Any = base
            for seg in self.src_rest[:-1]:
                parent = parent.get(seg.name) if isinstance(parent, dict) else None
            if not isinstance(parent, dict) or self.src_rest[-1].name not in parent:
                continue
            value = parent.pop(self.src_rest[-1].name)
            dest: dict[str, Any] = base
            for seg in self.dst_rest[:-1]:
                nxt = dest.setdefault(seg.name, {})
                if not isinstance(nxt, dict):
                    raise MigrationStepError(f"cannot move into {self.target}: {seg.name!r} is not an object")
                dest = nxt
            if self.dst_rest[-1].name in dest:
                raise MigrationStepError(f"cannot move to {self.target}: a value is already there")
            dest[self.dst_rest[-1].name] = value


class SetDefault:
    def __init__(self, args: dict[str, Any]) -> None:
        _only(args, {"path", "value"})
        self.path = _path(args, "path")
        if self.path.last.each is not None:
            raise ValueError("path must end in a field")
        self.value = _arg(args, "value")

    def apply(self, doc: dict[str, Any], default_locale: bool) -> None:
        if not default_locale:
            return  # other locales fall back to the default locale's value
        name = self.path.last.name
        for obj in containers(doc, self.path):
            if obj.get(name) is None:
                obj[name] = copy.deepcopy(self.value)


class MapValues:
    def __init__(self, args: dict[str, Any]) -> None:
        _only(args, {"path", "values"})
        self.path = _path(args, "path")
        mapping = _arg(args, "values")
        if not isinstance(mapping, dict) or not mapping:
            raise ValueError("values must be a non-empty mapping {old: new}")
        self.mapping = mapping

    def apply(self, doc: dict[str, Any], default_locale: bool) -> None:
        name = self.path.last.name
        for obj in containers(doc, self.path):
            value = obj.get(name)
            if isinstance(value, list) and self.path.last.each == "":
                obj[name] = [self.mapping.get(v, v) if _hashable(v) else v for v in value]
            elif _hashable(value) and value in self.mapping:
                obj[name] = copy.deepcopy(self.mapping[value])


def _hashable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


class Drop:
    def __init__(self, args: dict[str, Any]) -> None:
        _only(args, {"path"})
        self.path = _path(args, "path")

    def apply(self, doc: dict[str, Any], default_locale: bool) -> None:
        for obj in containers(doc, self.path):
            obj.pop(self.path.last.name, None)


class Split:
    def __init__(self, args: dict[str, Any]) -> None:
        _only(args, {"from", "into", "separator"})
        self.source = _path(args, "from")
        into = _arg(args, "into")
        if not isinstance(into, list) or len(into) < 2:
            raise ValueError("into must list at least two field names")
        self.into = [_name({"n": n}, "n") for n in into]
        self.separator = args.get("separator", " ")
        if not isinstance(self.separator, str) or not self.separator:
            raise ValueError("separator must be a non-empty string")

    def apply(self, doc: dict[str, Any], default_locale: bool) -> None:
        name = self.source.last.name
        for obj in containers(doc, self.source):
            if name not in obj:
                continue
            value = obj[name]
            if not isinstance(value, str):
                raise MigrationStepError(f"cannot split {self.source}: {value!r} is not a string")
            parts = value.split(self.separator, len(self.into) - 1)
            del obj[name]
            for field, part in zip(self.into, parts, strict=False):
                if field in obj and field != name:
                    raise MigrationStepError(f"cannot split into {field!r}: it already exists")
                obj[field] = part


BUILTIN: dict[str, OperationFactory] = {
    "rename": Rename,
    "move": Move,
    "set_default": SetDefault,
    "map_values": MapValues,
    "drop": Drop,
    "split": Split,
}
