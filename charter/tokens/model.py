"""The token model: :class:`Token`, :class:`TokenSet`, aliases and the error collector.

A token is addressed by its *path*: group names and the token name joined with ``.`` (DTCG 2025.10
§6.7.2; the reserved name ``$root`` stays in the path). Values keep aliases as :class:`Alias`
(curly-brace ``{a.b}``) or :class:`Pointer` (JSON-pointer ``$ref``) markers until resolution.

This module imports nothing heavy: it sits on the start-up path of ``charter tokens build``.
"""

from __future__ import annotations

from typing import Any

from charter.exceptions import ErrorDetail, ValidationFailed

#: The token types of the DTCG Format Module 2025.10 (§8, §9).
TYPES = frozenset(
    {
        "color",
        "dimension",
        "fontFamily",
        "fontWeight",
        "duration",
        "cubicBezier",
        "number",
        "strokeStyle",
        "border",
        "transition",
        "shadow",
        "gradient",
        "typography",
    }
)

#: How deep groups and values may nest (DTCG sets no limit; real systems use under ten levels). Deeper
#: input is refused with a clear error naming where, instead of exhausting the interpreter's stack.
MAX_DEPTH = 100

#: Errors collected before giving up (a file with 10,000 broken tokens should not print them all).
MAX_ERRORS = 200


class Alias:
    """A curly-brace reference to a whole token, ``{group.token}`` (§7.1.1)."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def __repr__(self) -> str:
        return "{" + self.path + "}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Alias) and other.path == self.path

    def __hash__(self) -> int:
        return hash(("alias", self.path))


class Pointer:
    """A JSON-pointer reference, ``{"$ref": "#/a/b/$value/components/0"}`` (§7.1.2, RFC 6901)."""

    __slots__ = ("ref",)

    def __init__(self, ref: str) -> None:
        self.ref = ref

    def __repr__(self) -> str:
        return f"$ref:{self.ref}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pointer) and other.ref == self.ref

    def __hash__(self) -> int:
        return hash(("pointer", self.ref))


class Token:
    """One design token. ``value`` is the raw value (aliases kept); ``resolved`` is filled by
    :func:`charter.tokens.aliases.resolve` (the same object as ``value`` when it holds no
    reference). ``alias`` names the target when the whole value is a
    reference (so outputs can keep it as ``var(--…)``)."""

    __slots__ = (
        "alias",
        "declared_type",
        "deprecated",
        "description",
        "extensions",
        "file",
        "group_type",
        "path",
        "refs",
        "resolved",
        "type",
        "value",
    )

    def __init__(
        self,
        path: str,
        value: Any,
        declared_type: str | None = None,
        group_type: str | None = None,
        description: str | None = None,
        deprecated: bool | str = False,
        extensions: dict[str, Any] | None = None,
        file: str | None = None,
        refs: bool = True,
    ) -> None:
        self.path = path
        self.value = value
        self.declared_type = declared_type
        self.group_type = group_type
        self.type: str | None = declared_type
        self.description = description
        self.deprecated = deprecated
        self.extensions = extensions
        self.file = file
        self.alias: str | None = value.path if type(value) is Alias else None
        #: False when ``value`` holds no reference at all (the parser knows): resolving it is a no-op.
        self.refs = refs
        self.resolved: Any = None

    @property
    def parts(self) -> list[str]:
        return self.path.split(".")

    @property
    def pointer(self) -> str:
        """RFC 6901 pointer of the token in its document."""
        return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in self.parts)

    def __repr__(self) -> str:
        return f"Token({self.path!r}, {self.type!r}, {self.value!r})"


class TokenSet:
    """The tokens of one resolution (one theme), in document order, plus the merged document
    (needed to follow JSON pointers)."""

    # A plain class, as every record on the build path: ``dataclasses`` costs ``inspect`` at
    # import and a few milliseconds per class at start-up (see bench/tokens).
    __slots__ = ("document", "name", "tokens")

    def __init__(self, tokens: dict[str, Token], document: dict[str, Any] | None = None, name: str = "default"):
        self.tokens = tokens
        self.document: dict[str, Any] = {} if document is None else document
        self.name = name

    def __repr__(self) -> str:
        return f"TokenSet({self.name!r}, {len(self.tokens)} tokens)"

    def __len__(self) -> int:
        return len(self.tokens)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.tokens.values())

    def __getitem__(self, path: str) -> Token:
        return self.tokens[path]

    def get(self, path: str) -> Token | None:
        return self.tokens.get(path)


class Problems:
    """Collects errors (file, pointer, message) and raises them together as one
    :class:`~charter.exceptions.ValidationFailed` so a user fixes a file in one pass."""

    def __init__(self) -> None:
        self.errors: list[ErrorDetail] = []

    def add(self, file: str | None, pointer: str, message: str, keyword: str = "tokens") -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(ErrorDetail(pointer=pointer, message=message, keyword=keyword, file=file))

    def token(self, token: Token, message: str, keyword: str = "tokens", suffix: str = "") -> None:
        self.add(token.file, token.pointer + suffix, f"{token.path}: {message}", keyword)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self, what: str = "design tokens") -> None:
        if self.errors:
            n = len(self.errors)
            more = "+" if n >= MAX_ERRORS else ""
            raise ValidationFailed(
                detail=f"{n}{more} problem{'s' if n != 1 else ''} in {what}", errors=list(self.errors)
            )


def too_deep(what: str = "groups") -> str:
    return f"{what} nested more than {MAX_DEPTH} levels deep (Charter's limit)"


def pointer_of(parts: list[str] | tuple[str, ...]) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)
