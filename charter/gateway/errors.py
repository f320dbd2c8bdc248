"""The gateway's error: an OpenAI error object (``type``, ``code``, ``param``) and an HTTP status."""

from __future__ import annotations

from typing import Any

from charter.exceptions import CharterError


class GatewayError(CharterError):
    """A gateway failure with an OpenAI error ``type`` and ``code`` as well as an HTTP status.
    On the OpenAI-compatible endpoints it renders as ``{"error": {...}}``; elsewhere as problem+json."""

    type_slug = "gateway"
    title = "Gateway error"

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "api_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail=message, extra={"code": code} if code else {})
        self.status = status
        self.error_type = type
        self.code = code
        self.param = param
        self.headers = headers or {}

    def to_openai(self) -> dict[str, Any]:
        return {"error": {"message": self.detail, "type": self.error_type, "param": self.param, "code": self.code}}


def bad_request(message: str, param: str | None = None, code: str | None = None) -> GatewayError:
    """A 400 ``invalid_request_error`` naming the offending parameter."""
    return GatewayError(400, message, type="invalid_request_error", param=param, code=code)
