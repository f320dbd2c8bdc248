"""Charter's error tree. Every error maps to one RFC 9457 problem type.

    CharterError                      500  (never raised directly)
    ├── BadRequest                    400  malformed input (bad JSON, odd slug, bad cursor)
    │   ├── ExclusiveParameters       400  e.g. two filters that exclude each other
    │   └── UnknownLocale             400
    ├── Unauthorized                  401  missing or bad credentials
    ├── Forbidden                     403  the role may not do this
    │   └── ApprovalRequired          403  the content type's policy needs an approved release
    ├── NotFound                      404
    ├── Conflict                      409  e.g. a duplicate slug
    ├── PreconditionFailed            412  stale If-Match (optimistic concurrency)
    ├── PayloadTooLarge               413
    ├── UnsupportedMediaType          415
    ├── ValidationFailed              422  carries ``errors``: [{pointer, message, keyword}]
    │   └── ContentInvalid            422  content against its content type (a release item's data)
    ├── PreconditionRequired          428  If-Match missing on a write that needs it
    ├── RateLimited                   429
    ├── UpstreamUnavailable           502  a content source (another CMS) failed or is unreachable
    │   └── SourceContentInvalid      502  the source's content does not validate against its content type
    └── ConfigError                   500-class for the server, exit 1 for the CLI
        └── SchemaFileError           a content-type file is not a valid contract

A caller may rely on ``status``, ``type_slug`` (the last segment of the problem ``type`` URI),
``title`` and ``detail``; ``errors`` is present on validation failures.
"""

from __future__ import annotations

from typing import Any

PROBLEM_BASE = "https://charter.dev/problems/"

# Plain classes, not dataclasses: this module is on the start-up path of every command, and
# ``dataclasses`` imports ``inspect`` (with ``ast``, ``dis`` and ``tokenize``), a measurable share of
# a short command such as ``charter tokens build`` (see bench/tokens).


class ErrorDetail:
    """One invalid thing in an input, located by an RFC 6901 JSON pointer."""

    def __init__(self, pointer: str, message: str, keyword: str | None = None, file: str | None = None) -> None:
        self.pointer = pointer
        self.message = message
        self.keyword = keyword
        self.file = file

    def __repr__(self) -> str:
        return (
            f"ErrorDetail(pointer={self.pointer!r}, message={self.message!r}, keyword={self.keyword!r}, "
            f"file={self.file!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ErrorDetail) or other.__class__ is not self.__class__:
            return NotImplemented
        return (self.pointer, self.message, self.keyword, self.file) == (
            other.pointer,
            other.message,
            other.keyword,
            other.file,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pointer": self.pointer, "message": self.message}
        if self.keyword:
            out["keyword"] = self.keyword
        if self.file:
            out["file"] = self.file
        return out


class CharterError(Exception):
    status = 500
    type_slug = "internal"
    title = "Internal error"

    def __init__(
        self, detail: str = "", errors: list[ErrorDetail] | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        self.detail = detail
        self.errors: list[ErrorDetail] = [] if errors is None else errors
        self.extra: dict[str, Any] = {} if extra is None else extra
        Exception.__init__(self, detail or self.title)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(detail={self.detail!r}, errors={self.errors!r}, extra={self.extra!r})"

    def __str__(self) -> str:
        return self.detail or self.title

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        problem: dict[str, Any] = {
            "type": PROBLEM_BASE + self.type_slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail or self.title,
        }
        if instance:
            problem["instance"] = instance
        if self.errors:
            problem["errors"] = [e.to_dict() for e in self.errors]
        problem.update(self.extra)
        return problem


class BadRequest(CharterError):
    status = 400
    type_slug = "bad-request"
    title = "Bad request"


class ExclusiveParameters(BadRequest):
    """Parameters that may not be given together (a rule a list of parameters cannot declare)."""

    type_slug = "exclusive-parameters"
    title = "Exclusive parameters"


class UnknownLocale(BadRequest):
    type_slug = "unknown-locale"
    title = "Unknown locale"


class Unauthorized(CharterError):
    status = 401
    type_slug = "unauthorized"
    title = "Authentication required"


class Forbidden(CharterError):
    status = 403
    type_slug = "forbidden"
    title = "Forbidden"


class ApprovalRequired(Forbidden):
    type_slug = "approval-required"
    title = "Approval required"


class NotFound(CharterError):
    status = 404
    type_slug = "not-found"
    title = "Not found"


class Conflict(CharterError):
    status = 409
    type_slug = "conflict"
    title = "Conflict"


class PreconditionFailed(CharterError):
    status = 412
    type_slug = "precondition-failed"
    title = "Precondition failed"


class PayloadTooLarge(CharterError):
    status = 413
    type_slug = "payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(CharterError):
    status = 415
    type_slug = "unsupported-media-type"
    title = "Unsupported media type"


class ValidationFailed(CharterError):
    status = 422
    type_slug = "validation-failed"
    title = "Validation failed"


class ContentInvalid(ValidationFailed):
    """Content that does not validate against its content type, or names entries it may not."""

    type_slug = "content-invalid"
    title = "Content does not validate"


class PreconditionRequired(CharterError):
    status = 428
    type_slug = "precondition-required"
    title = "Precondition required"


class RateLimited(CharterError):
    status = 429
    type_slug = "rate-limited"
    title = "Too many requests"


class UpstreamUnavailable(CharterError):
    status = 502
    type_slug = "upstream-unavailable"
    title = "Upstream unavailable"


class SourceContentInvalid(UpstreamUnavailable):
    """Content read from another CMS does not validate against Charter's content type: it is
    reported (``errors``, and ``source``, ``entry_id``, ``content_type``), never served half-shaped."""

    type_slug = "source-content-invalid"
    title = "Source content invalid"


class ConfigError(CharterError):
    status = 500
    type_slug = "config"
    title = "Configuration error"


class SchemaFileError(ConfigError):
    type_slug = "schema-file"
    title = "Invalid content-type file"
