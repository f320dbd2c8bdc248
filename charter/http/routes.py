"""``CharterRoute``: the ``APIRoute`` of every Charter router (API and admin).

Before FastAPI reads a body, the route

* reads it whole, so the body-size limit of :mod:`charter.observability.middleware` applies to
  chunked bodies too and answers 413 (inside FastAPI's own body reading any failure is a 400);
* for a route that takes a JSON body, refuses any other ``Content-Type`` with 415
  (RFC 9110 §15.5.16): a cross-site ``text/plain`` or form post never reaches a JSON route;
* parses any JSON body with the strict gate (:func:`charter.strictjson.loads`), so a lone
  surrogate, ``NaN``, an overflowing number, an unsafe integer or a NUL in a member name is a 400
  naming its JSON pointer before any handler runs. The value FastAPI then parses is the same.

The OpenAI-compatible gateway routes (:class:`charter.rawroutes.RawRoute`) parse their bodies
themselves with the same gate and answer in the OpenAI error shape.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import params
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from charter import strictjson
from charter.exceptions import UnsupportedMediaType

#: Methods whose request may carry a body Charter reads.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def media_type(content_type: str | None) -> str:
    """``application/json`` from ``Application/JSON; charset=utf-8``; empty when absent."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json(media: str) -> bool:
    """JSON media types: ``application/json`` and any ``application/*+json`` (RFC 6839 §3.1)."""
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class CharterRoute(APIRoute):
    """An ``APIRoute`` that applies the body rules of the module docstring."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        takes_json = self.body_field is not None and not isinstance(self.body_field.field_info, params.Form)

        async def strict_handler(request: Request) -> Response:
            if request.method in BODY_METHODS:
                body = await request.body()
                media = media_type(request.headers.get("content-type"))
                if takes_json and body and not is_json(media):
                    raise UnsupportedMediaType(
                        f"send JSON (Content-Type: application/json), not {media or 'no Content-Type'!r}"
                    )
                if body and is_json(media):
                    strictjson.loads(body)
            return await handler(request)

        return strict_handler
