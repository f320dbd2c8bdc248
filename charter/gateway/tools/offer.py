"""What one chat request offers and sends back, checked against the tool registry.

:func:`offer_tools` runs before the call is routed: every offered tool is registered (or the
route allows unregistered tools), matches one registered version exactly, and may be offered by
this key, on this route, for this prompt; the conversation's earlier tool calls have valid
arguments and every ``role: tool`` message answers a tool call of the conversation, with a result
valid against the tool's result schema. :meth:`ToolOffer.problems` checks the tool calls a model
returns. Everything refused is a :class:`~charter.gateway.errors.GatewayError` (400 or 403).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from charter.gateway.errors import GatewayError, bad_request
from charter.gateway.providers.base import text_of
from charter.gateway.tools.registry import MAX_ARGUMENT_BYTES, RISKS, ToolRegistry, ToolVersion
from charter.schemas.validation import iter_errors

#: Tool arguments and results kept in an audit record are cut to this many characters.
AUDIT_CHARS = 4_096
#: Tool results (``role: tool`` content) larger than this are refused.
MAX_RESULT_BYTES = 262_144


def bounded(text: str, limit: int = AUDIT_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"... [{len(text) - limit} more characters]"


@dataclass(frozen=True)
class Offered:
    name: str
    version: ToolVersion | None  # None: an unregistered tool on a route that allows them
    risk: str | None
    max_argument_bytes: int = MAX_ARGUMENT_BYTES


@dataclass
class ToolOffer:
    """The tools one request offers (by name) and the tool results it sends back."""

    offered: dict[str, Offered] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def registered(self) -> bool:
        return any(o.version is not None for o in self.offered.values())

    @property
    def risk(self) -> str | None:
        """The highest risk level among the offered registered tools."""
        levels = [o.risk for o in self.offered.values() if o.risk]
        return max(levels, key=RISKS.index) if levels else None

    def audit(self) -> list[dict[str, Any]]:
        return [
            {"name": o.name, "version": o.version.version if o.version else None, "risk": o.risk}
            for o in self.offered.values()
        ]

    def problems(self, tool_calls: list[dict[str, Any]]) -> list[str]:
        """What is wrong with the tool calls a model returned (empty when every call is sound)."""
        out: list[str] = []
        for call in tool_calls:
            fn = call.get("function") or {}
            name = fn.get("name")
            offered = self.offered.get(str(name))
            if offered is None:
                out.append(f"the tool {name!r} was not offered (offered: {', '.join(self.offered) or 'none'})")
                continue
            out += [f"{name}: {p}" for p in arguments_problems(fn.get("arguments"), offered)]
        return out


def arguments_problems(arguments: Any, offered: Offered) -> list[str]:
    """Why a tool call's ``arguments`` (a JSON string) are not acceptable for ``offered``."""
    if not isinstance(arguments, str):
        return ["arguments must be a JSON string"]
    if len(arguments.encode()) > offered.max_argument_bytes:
        return [f"arguments exceed {offered.max_argument_bytes} bytes"]
    try:
        doc = orjson.loads(arguments)
    except orjson.JSONDecodeError as exc:
        return [f"arguments are not valid JSON ({exc})"]
    if not isinstance(doc, dict):
        return ["arguments must be a JSON object"]
    version = offered.version
    if version is None or version.arguments_fast.is_valid(doc):
        return []
    return [f"{e.pointer or '/'}: {e.message}" for e in iter_errors(version.arguments_validator, doc)] or [
        "arguments do not match the schema"
    ]


def _lookup(registry: ToolRegistry, name: str, offer: ToolOffer) -> Offered | None:
    if name in offer.offered:
        return offer.offered[name]
    tool = registry.tools.get(name)
    return Offered(name, tool.latest, tool.risk, tool.max_argument_bytes) if tool else None


def offer_tools(
    registry: ToolRegistry,
    data: dict[str, Any],
    *,
    key: str,
    route: str,
    allow_unregistered: bool,
    prompt: str | None = None,
) -> ToolOffer:
    """Check the ``tools`` a request offers and the tool traffic of its ``messages``."""
    offer = ToolOffer()
    for i, tool in enumerate(data.get("tools") or []):
        fn = tool["function"]
        name = fn["name"]
        registered = registry.tools.get(name)
        if registered is None:
            if not allow_unregistered:
                raise bad_request(
                    f"the tool {name!r} is not registered (add tools/{name}.yaml, or allow unregistered tools"
                    f" on the route {route!r})",
                    param=f"tools[{i}]",
                    code="unregistered_tool",
                )
            offer.offered[name] = Offered(name, None, None)
            continue
        version = registered.match(fn.get("parameters"))
        if version is None:
            raise bad_request(
                f"the definition of tool {name!r} matches none of its registered versions"
                f" ({', '.join(registered.versions)}); offer the registered parameters"
                f" (charter tools show {name} --openai)",
                param=f"tools[{i}].function.parameters",
                code="tool_definition_mismatch",
            )
        refusal = registered.refusal(key, route, prompt)
        if refusal:
            raise GatewayError(403, refusal, type="invalid_request_error", param=f"tools[{i}]", code="tool_not_allowed")
        offer.offered[name] = Offered(name, version, registered.risk, registered.max_argument_bytes)
    _check_history(registry, data["messages"], offer)
    return offer


def _check_history(registry: ToolRegistry, messages: list[dict[str, Any]], offer: ToolOffer) -> None:
    calls: dict[str, str] = {}  # tool_call_id -> tool name
    for i, m in enumerate(messages):
        role = m.get("role")
        if role == "assistant" and m.get("tool_calls") is not None:
            if not isinstance(m["tool_calls"], list):
                raise bad_request(f"messages[{i}].tool_calls must be an array", param=f"messages[{i}].tool_calls")
            for j, call in enumerate(m["tool_calls"]):
                where = f"messages[{i}].tool_calls[{j}]"
                fn = call.get("function") if isinstance(call, dict) else None
                if not isinstance(call, dict) or not isinstance(call.get("id"), str) or not isinstance(fn, dict):
                    raise bad_request(f"{where} must have an id and a function", param=where)
                name = str(fn.get("name"))
                calls[call["id"]] = name
                known = _lookup(registry, name, offer)
                problems = arguments_problems(fn.get("arguments"), known or Offered(name, None, None))
                if problems:
                    raise bad_request(
                        f"{where}: the arguments of {name!r} are invalid: {'; '.join(problems[:5])}",
                        param=f"{where}.function.arguments",
                        code="invalid_tool_arguments",
                    )
        elif role == "tool":
            call_id = m.get("tool_call_id")
            if not isinstance(call_id, str) or call_id not in calls:
                raise bad_request(
                    f"messages[{i}].tool_call_id {call_id!r} answers no tool call of an earlier assistant message",
                    param=f"messages[{i}].tool_call_id",
                    code="unknown_tool_call_id",
                )
            name = calls[call_id]
            content = text_of(m.get("content"))
            _check_result(registry, name, content, offer, i)
            offer.results.append({"tool_call_id": call_id, "name": name, "content": bounded(content)})


def _check_result(registry: ToolRegistry, name: str, content: str, offer: ToolOffer, i: int) -> None:
    where = f"messages[{i}].content"
    if len(content.encode()) > MAX_RESULT_BYTES:
        raise bad_request(
            f"the result of {name!r} exceeds {MAX_RESULT_BYTES} bytes", param=where, code="tool_result_too_large"
        )
    known = _lookup(registry, name, offer)
    if known is None or known.version is None or known.version.result_validator is None:
        return
    try:
        doc = orjson.loads(content)
    except orjson.JSONDecodeError:
        raise bad_request(
            f"the result of {name!r} must be JSON valid against its result schema (version {known.version.version})",
            param=where,
            code="invalid_tool_result",
        ) from None
    if known.version.result_fast is not None and known.version.result_fast.is_valid(doc):
        return
    errors = iter_errors(known.version.result_validator, doc)
    if errors:
        raise bad_request(
            f"the result of {name!r} does not match its result schema (version {known.version.version}): "
            + "; ".join(f"{e.pointer or '/'}: {e.message}" for e in errors[:5]),
            param=where,
            code="invalid_tool_result",
        )


def refused_offer(tools: Any) -> ToolOffer | None:
    """What a refused request offered, as far as it names its tools (versions unknown)."""
    names = (
        [
            t["function"]["name"]
            for t in tools or []
            if isinstance(t, dict)
            and isinstance(t.get("function"), dict)
            and isinstance(t["function"].get("name"), str)
        ]
        if isinstance(tools, list)
        else []
    )
    return ToolOffer({n[:64]: Offered(n[:64], None, None) for n in names[:128]}) if names else None


def audit_calls(tool_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool calls as an audit record keeps them: id, name and (bounded) arguments."""
    out = []
    for t in tool_calls:
        fn = t.get("function") or {}
        args = fn.get("arguments")
        out.append(
            {"id": t.get("id"), "name": fn.get("name"), "arguments": bounded(args) if isinstance(args, str) else args}
        )
    return out


def merge_deltas(acc: dict[int, dict[str, Any]], deltas: list[dict[str, Any]]) -> None:
    """Fold streamed tool-call fragments (OpenAI chunks: by ``index``; the id and name come
    first, the arguments in pieces) into complete calls."""
    for d in deltas:
        index = d.get("index", len(acc))
        call = acc.setdefault(index, {"id": None, "type": "function", "function": {"name": None, "arguments": ""}})
        if d.get("id"):
            call["id"] = d["id"]
        fn = d.get("function") or {}
        if fn.get("name"):
            call["function"]["name"] = fn["name"]
        if fn.get("arguments"):
            call["function"]["arguments"] += fn["arguments"]
