"""The shape of a chat request's tool and format parameters, checked before anything is routed.

OpenAI answers a malformed ``tools``, ``tool_choice``, ``response_format`` or ``stop`` with a 400
naming the parameter; so does Charter, whether the tools are registered or not (a route that
allows unregistered tools still refuses a tool without a name). A ``json_schema`` response format
and a function's ``parameters`` must themselves be valid JSON Schemas (2020-12 meta-schema).
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, SchemaError

from charter.gateway.errors import bad_request
from charter.gateway.tools.registry import NAME, canonical

MAX_TOOLS = 128
MAX_STOP = 4
FORMATS = ("text", "json_object", "json_schema")
CHOICES = ("none", "auto", "required")


#: Canonical JSON of schemas that passed the meta-schema check. Checking costs milliseconds and
#: clients send the same few definitions with every request, so a schema is checked once.
_checked: dict[bytes, None] = {}
_CHECKED_MAX = 4096


def _schema(value: Any, param: str) -> None:
    if not isinstance(value, dict):
        raise bad_request(f"{param} must be a JSON Schema object", param=param)
    key = canonical(value)
    if key in _checked:
        return
    try:
        Draft202012Validator.check_schema(value)
    except SchemaError as exc:
        raise bad_request(f"{param} is not a valid JSON Schema: {exc.message}", param=param) from None
    if len(_checked) >= _CHECKED_MAX:
        _checked.clear()
    _checked[key] = None


def check_tools(tools: Any) -> list[str]:
    """The function names of a well-formed ``tools`` array (400 otherwise)."""
    if not isinstance(tools, list) or not tools:
        raise bad_request("tools must be a non-empty array of function tools", param="tools")
    if len(tools) > MAX_TOOLS:
        raise bad_request(f"at most {MAX_TOOLS} tools may be offered", param="tools")
    names: list[str] = []
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        if not isinstance(tool, dict) or tool.get("type") != "function":
            raise bad_request(f"{where}.type must be 'function'", param=f"{where}.type")
        fn = tool.get("function")
        if not isinstance(fn, dict):
            raise bad_request(f"Missing required parameter: '{where}.function'.", param=f"{where}.function")
        name = fn.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            raise bad_request(
                f"{where}.function.name must be 1 to 64 letters, digits, underscores or dashes",
                param=f"{where}.function.name",
            )
        if name in names:
            raise bad_request(f"the tool {name!r} is offered twice", param=f"{where}.function.name")
        if "description" in fn and not isinstance(fn["description"], str):
            raise bad_request(f"{where}.function.description must be a string", param=f"{where}.function.description")
        if "parameters" in fn:
            _schema(fn["parameters"], f"{where}.function.parameters")
        if "strict" in fn and not isinstance(fn["strict"], bool | None):
            raise bad_request(f"{where}.function.strict must be a boolean", param=f"{where}.function.strict")
        names.append(name)
    return names


def check_tool_choice(choice: Any, names: list[str]) -> None:
    if isinstance(choice, str):
        if choice not in CHOICES:
            raise bad_request(f"tool_choice must be one of {', '.join(CHOICES)} or a function", param="tool_choice")
        if choice != "none" and not names:
            raise bad_request("tool_choice is only allowed when tools are specified", param="tool_choice")
        return
    fn = choice.get("function") if isinstance(choice, dict) and choice.get("type") == "function" else None
    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
        raise bad_request(
            'tool_choice must be "none", "auto", "required" or {"type": "function", "function": {"name": ...}}',
            param="tool_choice",
        )
    if fn["name"] not in names:
        raise bad_request(f"tool_choice names {fn['name']!r}, which is not among the tools", param="tool_choice")


def check_response_format(fmt: Any) -> None:
    if not isinstance(fmt, dict) or fmt.get("type") not in FORMATS:
        raise bad_request(f"response_format.type must be one of {', '.join(FORMATS)}", param="response_format.type")
    if fmt["type"] != "json_schema":
        return
    spec = fmt.get("json_schema")
    if not isinstance(spec, dict):
        raise bad_request(
            "Missing required parameter: 'response_format.json_schema'.", param="response_format.json_schema"
        )
    if not isinstance(spec.get("name"), str) or not NAME.match(spec["name"]):
        raise bad_request(
            "response_format.json_schema.name must be 1 to 64 letters, digits, underscores or dashes",
            param="response_format.json_schema.name",
        )
    if "schema" in spec:
        _schema(spec["schema"], "response_format.json_schema.schema")
    if "strict" in spec and not isinstance(spec["strict"], bool | None):
        raise bad_request(
            "response_format.json_schema.strict must be a boolean", param="response_format.json_schema.strict"
        )


def check_stop(stop: Any) -> None:
    if stop is None or isinstance(stop, str):
        return
    if not isinstance(stop, list) or len(stop) > MAX_STOP or not all(isinstance(s, str) and s for s in stop):
        raise bad_request(f"stop must be a string or an array of at most {MAX_STOP} non-empty strings", param="stop")


def check_params(data: dict[str, Any]) -> list[str]:
    """Check the tool and format parameters of a parsed chat request; the offered tool names."""
    names = check_tools(data["tools"]) if data.get("tools") is not None else []
    if data.get("tool_choice") is not None:
        check_tool_choice(data["tool_choice"], names)
    if data.get("parallel_tool_calls") is not None and not isinstance(data["parallel_tool_calls"], bool):
        raise bad_request("parallel_tool_calls must be a boolean", param="parallel_tool_calls")
    if data.get("response_format") is not None:
        check_response_format(data["response_format"])
    check_stop(data.get("stop"))
    return names
