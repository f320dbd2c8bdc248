"""AI drafts in the entry editor: which prompts write a content type, the form for a prompt's
variables, and turning a run of the gateway's prompt action into values for the editor.

The run is :func:`charter.gateway.prompts.catalog.run` with ``save_draft=False`` (the same
action as ``POST /v1/prompts/{name}/run``): the structured output is validated against the
content type (one repair), assessed for risk, audited, and handed back; nothing is stored until
the editor saves the form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from charter import strictjson
from charter.admin.forms.schema import LONG_TEXT_NAMES
from charter.admin.forms.view import Widget
from charter.exceptions import CharterError, ErrorDetail
from charter.schemas.registry import ContentType, Registry

PROMPT_FIELD = "_ai_prompt"
#: String variables shown as a text area (as in the entry form: long ones and body-like names).
LONG_VARIABLES = LONG_TEXT_NAMES | {"claim", "question", "brief", "prompt", "instructions"}


def field_name(prompt: str, name: str) -> str:
    return f"_ai:{prompt}:{name}"


def field_id(prompt: str, name: str) -> str:
    safe = "".join(c if c.isalnum() else "-" for c in f"{prompt}-{name}")
    return f"ai-{safe}"


@dataclass
class DraftPrompt:
    """One prompt that writes entries of the type being edited, as the panel shows it."""

    name: str
    description: str
    choices: list[tuple[str, str]]  # ("label:production" | "version:1.0.0", text)
    selected: str
    locale: str
    variables: list[Widget]


@dataclass
class DraftResult:
    prompt: str
    version: str
    selected_by: str
    risk: str
    reasons: list[str]
    audit_id: str
    locale: str
    message: str
    #: The trace of the request that made the draft (charter.observability), and its URL in the
    #: operator's tracing backend (``trace_url`` in ``[charter.telemetry]``); "" when untraced.
    trace_id: str = ""
    trace_url: str = ""


@dataclass
class DraftPanel:
    """What the editor's "Generate a draft" panel shows."""

    prompts: list[DraftPrompt] = field(default_factory=list)
    unavailable: str = ""  # why AI drafts cannot be offered (a broken model.yaml or prompt file)
    error: str = ""  # the last generation failed: why (the form's content is kept)
    errors: list[str] = field(default_factory=list)  # the output's validation errors, in words
    result: DraftResult | None = None
    active: str = ""  # the prompt last used

    @property
    def open(self) -> bool:
        return bool(self.error or self.result)


def _writes(pv: Any, registry: Registry, type_name: str) -> bool:
    if pv.output is None:
        return False
    try:
        return registry.get(pv.output.schema_id).name == type_name
    except CharterError:
        return False


def _choices(prompt: Any, labels: dict[str, str], released: list[str]) -> tuple[list[tuple[str, str]], str]:
    choices = [(f"label:{label}", f"{label} (version {v})") for label, v in sorted(labels.items())]
    for v in reversed(list(prompt.versions)):
        state = "released" if v in released else "not released yet"
        choices.append((f"version:{v}", f"version {v} ({state})"))
    default = "label:production" if "production" in labels else f"version:{prompt.latest.version}"
    return choices, default


def _version_of(prompt: Any, labels: dict[str, str], choice: str) -> Any:
    kind, _, value = choice.partition(":")
    version = labels.get(value) if kind == "label" else value
    return prompt.versions.get(version or "") or prompt.latest


def _variable_widgets(prompt: Any, pv: Any, form: FormData | None, errors: dict[str, list[str]]) -> list[Widget]:
    # The chosen version's variables first, then any other version's (a version may need others).
    props: dict[str, Any] = {}
    for version in [pv, *reversed(list(prompt.versions.values()))]:
        for key, schema in (version.variables.get("properties") or {}).items():
            props.setdefault(key, schema if isinstance(schema, dict) else {})
    required = set(pv.variables.get("required") or ())
    widgets = []
    for key, schema in props.items():
        kind = schema.get("type")
        if kind == "string" and "enum" not in schema:
            long_text = (schema.get("maxLength") or 0) > 250 or (key in LONG_VARIABLES and "pattern" not in schema)
            widget_kind, input_type = ("textarea" if long_text else "text"), "text"
            if schema.get("format") == "email" or key.endswith("email"):
                widget_kind = input_type = "email"
        elif kind in ("number", "integer"):
            widget_kind, input_type = kind, "number"
        elif kind == "boolean":
            widget_kind, input_type = "boolean", "checkbox"
        else:
            widget_kind, input_type = "json", "text"
        name = field_name(prompt.name, key)
        raw = form.get(name) if form is not None else None
        value: Any = str(raw) if isinstance(raw, str) else ""
        if widget_kind == "boolean":
            value = value == "true"
        hints = ["JSON"] if widget_kind == "json" else []
        if schema.get("pattern"):
            hints.append("lowercase letters, digits and hyphens" if key == "slug" else f"pattern {schema['pattern']}")
        widgets.append(
            Widget(
                kind=widget_kind,
                name=name,
                id=field_id(prompt.name, key),
                label=key.replace("_", " ").capitalize(),
                required=key in required,
                description=schema.get("description"),
                hints=hints,
                errors=errors.get(key, []),
                value=value,
                input_type=input_type,
                step="any" if widget_kind == "number" else None,
            )
        )
    return widgets


def panel(
    rt: Any,
    ct: ContentType,
    form: FormData | None = None,
    *,
    variable_errors: dict[str, list[str]] | None = None,
    **state: Any,
) -> DraftPanel:
    """The panel for an editor of ``ct`` (blocking: it reads the labels). ``form`` is what was
    submitted, so typed variables and the chosen version survive a round trip."""
    from charter.gateway.prompts import catalog

    try:
        registry = catalog.registry(rt)
        summaries = {s["name"]: s for s in catalog.list_prompts(rt)}
    except CharterError as exc:
        return DraftPanel(unavailable=str(exc), **state)
    out = DraftPanel(**state)
    for prompt in registry.prompts.values():
        if not any(_writes(pv, rt.registry, ct.name) for pv in prompt.versions.values()):
            continue
        summary = summaries.get(prompt.name, {})
        labels = summary.get("labels", {})
        choices, default = _choices(prompt, labels, summary.get("released", []))
        sent = str(form.get(field_name(prompt.name, "_version")) or "") if form is not None else ""
        selected = sent if sent in dict(choices) else default
        pv = _version_of(prompt, labels, selected)
        errors = (variable_errors or {}) if prompt.name == out.active else {}
        out.prompts.append(
            DraftPrompt(
                name=prompt.name,
                description=prompt.description,
                choices=choices,
                selected=selected,
                locale=(pv.output.locale if pv.output and pv.output.locale else ct.locales.default),
                variables=_variable_widgets(prompt, pv, form, errors),
            )
        )
    return out


def read_variables(rt: Any, name: str, form: FormData) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The variables typed for prompt ``name``, converted to their schema's types (an empty field
    is left out, so a required one is reported as missing), and the fields that could not be."""
    from charter.gateway.prompts import catalog

    prompt = catalog.registry(rt).get(name)
    props: dict[str, Any] = {}
    for pv in prompt.versions.values():
        for key, schema in (pv.variables.get("properties") or {}).items():
            props.setdefault(key, schema if isinstance(schema, dict) else {})
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, schema in props.items():
        raw = form.get(field_name(name, key))
        text = raw if isinstance(raw, str) else ""
        kind = schema.get("type")
        if kind == "boolean":
            if text:
                values[key] = text == "true"
            continue
        if not text.strip():
            continue
        if kind == "string":
            values[key] = text
        elif kind in ("number", "integer"):
            try:
                number = float(text.strip())
                values[key] = int(number) if kind == "integer" and number.is_integer() else number
            except ValueError:
                errors[key] = [f"Enter a number (you typed “{text.strip()}”)."]
        else:
            try:
                values[key] = strictjson.loads(text, what="this value")
            except strictjson.InvalidJSON as exc:
                errors[key] = [f"This is not valid JSON: {exc.detail}."]
    return values, errors


def selection(form: FormData, name: str) -> dict[str, str]:
    """``{"version": ...}`` or ``{"label": ...}`` from the chosen option (none: the default)."""
    kind, _, value = str(form.get(field_name(name, "_version")) or "").partition(":")
    return {kind: value} if kind in ("version", "label") and value else {}


def variable_problems(errors: list[ErrorDetail]) -> tuple[dict[str, list[str]], list[str]]:
    """A variables :class:`ValidationFailed`'s errors, by variable (and those about no variable)."""
    by_field: dict[str, list[str]] = {}
    other: list[str] = []
    for e in errors:
        parts = e.pointer.split("/")
        if len(parts) >= 3 and parts[1] == "variables":
            key = parts[2].replace("~1", "/").replace("~0", "~")
            text = "This is required." if e.keyword == "required" else e.message[:1].upper() + e.message[1:] + "."
            by_field.setdefault(key, []).append(text)
        else:
            other.append(e.message)
    return by_field, other


def output_problems(errors: list[ErrorDetail]) -> list[str]:
    """The output's validation errors in words (pointers into the generated document)."""
    return [f"{e.pointer or '/'}: {e.message}" for e in errors]


def fill(data: dict[str, Any], locale: str, doc: dict[str, Any]) -> dict[str, Any]:
    """``data`` with the generated document's fields over the ``locale`` document's."""
    return {**data, locale: {**(data.get(locale) or {}), **doc}}
