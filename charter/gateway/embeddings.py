"""``POST /v1/embeddings``: the request checks and the audit bounds (the route is in
:mod:`charter.gateway.embeddings_api`, the call in :meth:`charter.gateway.service.Gateway.embed`).

A request is an OpenAI ``CreateEmbeddingRequest``: ``model`` (an embedding route or model),
``input`` (a string or an array of 1 to :data:`MAX_INPUTS` strings, each non-empty and at most
:data:`MAX_INPUT_TOKENS` tokens, counted as the local provider counts: whitespace-separated words),
``encoding_format`` (``float``, the default, or ``base64``: little-endian float32, what the
official ``openai`` client asks for), ``dimensions`` (a positive integer, for models that can
shorten their vectors) and ``user``. Anything else is a 400 ``invalid_request_error`` naming the
parameter, as OpenAI answers. Token arrays (OpenAI's pre-tokenised input) are not accepted: the
gateway's routes reach more than one tokenizer.
"""

from __future__ import annotations

import base64
import re
import struct
from typing import Any

from charter.gateway.errors import GatewayError, bad_request
from charter.http.openapi import NOT_BLANK

#: OpenAI's own limit on the number of inputs in one request.
MAX_INPUTS = 2048
#: Tokens per input (OpenAI's text-embedding-3 context); the local model reads the first 256
#: word pieces of each input.
MAX_INPUT_TOKENS = 8192
#: What the audit record keeps of the inputs: the first inputs, each cut (the rest counted).
AUDIT_INPUTS = 20
AUDIT_INPUT_CHARS = 2000
#: The largest ``dimensions`` a request may ask for.
MAX_DIMENSIONS = 65536
KNOWN = frozenset({"model", "input", "encoding_format", "dimensions", "user"})
FORMATS = ("float", "base64")


def parse_embeddings(data: Any) -> tuple[str, list[str], dict[str, Any]]:
    """``(model, inputs, params)`` of a parsed request body, or :class:`GatewayError` 400 naming
    the offending parameter. ``params`` keeps ``encoding_format``, ``dimensions`` and ``user``."""
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object.")
    unknown = [k for k in data if k not in KNOWN]
    if unknown:
        raise bad_request(f"Unrecognized request argument supplied: {unknown[0]}", param=unknown[0])
    model = data.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("you must provide a model parameter", param="model", code="missing_required_parameter")
    if "input" not in data:
        raise bad_request("you must provide an input parameter", param="input", code="missing_required_parameter")
    raw = data["input"]
    inputs = [raw] if isinstance(raw, str) else raw
    if not isinstance(inputs, list):
        raise bad_request("input must be a string or an array of strings", param="input", code="invalid_type")
    if not inputs:
        raise bad_request("input must not be an empty array", param="input", code="empty_input")
    if len(inputs) > MAX_INPUTS:
        raise bad_request(
            f"input has {len(inputs)} items; at most {MAX_INPUTS} are allowed in one request",
            param="input",
            code="too_many_inputs",
        )
    for i, text in enumerate(inputs):
        where = "input" if isinstance(raw, str) else f"input[{i}]"
        if not isinstance(text, str):
            raise bad_request(
                f"{where} must be a string, not {_json_type(text)} (token arrays are not accepted)",
                param=where,
                code="invalid_type",
            )
        if not re.search(NOT_BLANK, text):
            raise bad_request(f"{where} must not be empty", param=where, code="empty_input")
        tokens = len(text.split())
        if tokens > MAX_INPUT_TOKENS:
            raise bad_request(
                f"{where} has {tokens} tokens; an input may have at most {MAX_INPUT_TOKENS}",
                param=where,
                code="context_length_exceeded",
            )
    params: dict[str, Any] = {}
    fmt = data.get("encoding_format", "float")
    if fmt not in FORMATS:
        raise bad_request("encoding_format must be float or base64", param="encoding_format")
    params["encoding_format"] = fmt
    dims = data.get("dimensions")
    if dims is not None:
        if isinstance(dims, float) and dims.is_integer():  # 256.0 is the integer 256 in JSON
            dims = int(dims)
        if not isinstance(dims, int) or isinstance(dims, bool) or not 1 <= dims <= MAX_DIMENSIONS:
            raise bad_request(f"dimensions must be an integer from 1 to {MAX_DIMENSIONS}", param="dimensions")
        params["dimensions"] = dims
    user = data.get("user")
    if user is not None and not isinstance(user, str):
        raise bad_request("user must be a string", param="user")
    return model, inputs, params


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def audit_inputs(inputs: Any) -> list[dict[str, Any]]:
    """What an audit record keeps of an embeddings request's ``input`` (valid or not): the first
    :data:`AUDIT_INPUTS` items as user messages, each cut to :data:`AUDIT_INPUT_CHARS`, and a
    line counting the rest."""
    items = [inputs] if isinstance(inputs, str) else inputs if isinstance(inputs, list) else [inputs]
    out: list[dict[str, Any]] = []
    for item in items[:AUDIT_INPUTS]:
        text = item if isinstance(item, str) else repr(item)
        if len(text) > AUDIT_INPUT_CHARS:
            text = text[:AUDIT_INPUT_CHARS] + f"... [{len(text) - AUDIT_INPUT_CHARS} more characters]"
        out.append({"role": "user", "content": text})
    if len(items) > AUDIT_INPUTS:
        out.append({"role": "system", "content": f"[{len(items) - AUDIT_INPUTS} more inputs not kept]"})
    return out


def encode(vector: list[float], fmt: str) -> list[float] | str:
    """A vector as the client asked for it: floats, or base64 of little-endian float32."""
    if fmt == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector


__all__ = ["MAX_INPUTS", "MAX_INPUT_TOKENS", "GatewayError", "audit_inputs", "encode", "parse_embeddings"]
