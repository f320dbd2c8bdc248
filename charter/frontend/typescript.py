"""TypeScript types from content types: the front end's side of the contract.

:func:`generate` turns a :class:`~charter.schemas.registry.Registry` into TypeScript modules, one per
content type and major version (``pricing-plan.v1.ts``), plus ``envelope.ts`` (the delivery envelope,
lists, problems, answers) and ``index.ts`` (re-exports and the ``ContentTypes`` map a typed client
keys on). The output compiles with ``tsc --strict``.

What each JSON Schema keyword becomes:

- ``type``, ``enum``, ``const`` → primitive types and literal unions; ``["string", "null"]`` → a union;
- ``properties`` / ``required`` → an object type with optional (``?``) members; ``additionalProperties``
  as a schema adds an index signature; an object without properties is ``Record<string, unknown>``;
- ``items`` → ``T[]``; ``prefixItems`` → a tuple (with a rest element unless ``items: false``);
- ``oneOf`` / ``anyOf`` → a union (page sections become a union discriminated on ``intent``);
  ``allOf`` → an intersection; local ``$ref`` → the named type of that ``$defs`` entry;
- ``x-charter-ref`` → ``EntryRef<"type">`` (an entry id, branded with the type it references), and the
  envelope's ``included`` is typed as the referenced types' envelopes;
- ``description`` and ``title`` → JSDoc.

TypeScript cannot state patterns, formats, lengths or numeric bounds, and ``not``,
``if``/``then``/``else``, ``patternProperties`` and dependent schemas narrow a type in ways it cannot
follow. Such a type is *widened* — never made narrower than the schema — and its JSDoc names what
the schema adds (``@pattern``, ``@minimum``, ``widened: not``), so the type is honest about what
only validation enforces.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from charter.schemas.registry import ContentType, Registry

#: Keywords that narrow a value in ways TypeScript cannot express; the type is widened and noted.
WIDENING = (
    "not",
    "if",
    "then",
    "else",
    "patternProperties",
    "dependentSchemas",
    "dependentRequired",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contains",
)
#: Constraints only validation enforces, shown as JSDoc tags.
CONSTRAINTS = (
    "pattern",
    "format",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
)
_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_PRIMITIVES = {"string": "string", "number": "number", "integer": "number", "boolean": "boolean", "null": "null"}


def pascal(name: str) -> str:
    """``pricing-plan`` → ``PricingPlan``; anything that is not a letter or digit separates words."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name) if w]
    out = "".join(w[:1].upper() + w[1:] for w in words) or "Type"
    return out if not out[0].isdigit() else "T" + out


def literal(value: Any) -> str:
    """A JSON value as a TypeScript literal type (JSON string syntax is valid TypeScript)."""
    if isinstance(value, bool) or value is None or isinstance(value, int | float | str):
        return json.dumps(value, ensure_ascii=True)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + " ".join(f"{key(k)}: {literal(v)};" for k, v in value.items()) + " }"
    return "unknown"


def key(name: str) -> str:
    return name if _IDENT.match(name) else json.dumps(name, ensure_ascii=True)


def jsdoc(lines: list[str], indent: str = "") -> str:
    """A JSDoc block; ``*/`` inside a description cannot end the comment early."""
    body = [ln.replace("*/", "*\\/").rstrip() for text in lines for ln in str(text).splitlines()]
    body = [ln for ln in body if ln] or []
    if not body:
        return ""
    if len(body) == 1:
        return f"{indent}/** {body[0]} */\n"
    return f"{indent}/**\n" + "".join(f"{indent} * {ln}\n" for ln in body) + f"{indent} */\n"


def notes(schema: dict[str, Any]) -> list[str]:
    """The JSDoc lines of one schema: its words, then what only validation enforces."""
    out = [str(schema[k]) for k in ("title", "description") if isinstance(schema.get(k), str)]
    out += [f"@{k} {json.dumps(schema[k], ensure_ascii=False)}" for k in CONSTRAINTS if k in schema]
    widened = [k for k in WIDENING if k in schema]
    if widened:
        out.append("widened: TypeScript cannot express " + ", ".join(widened) + "; validation enforces it")
    if "default" in schema:
        out.append(f"@default {json.dumps(schema['default'], ensure_ascii=False)}")
    return out


@dataclass
class Module:
    """One content type's TypeScript module being written."""

    ct: ContentType
    prefix: str
    defs: dict[str, str] = field(default_factory=dict)  # $defs name -> TS type name
    refs: set[str] = field(default_factory=set)  # referenced content type names
    declarations: list[str] = field(default_factory=list)

    def def_name(self, name: str) -> str:
        if name not in self.defs:
            base = self.prefix + pascal(name)
            taken = set(self.defs.values()) | {self.prefix}
            candidate, n = base, 2
            while candidate in taken:
                candidate, n = f"{base}{n}", n + 1
            self.defs[name] = candidate
        return self.defs[name]

    def ts(self, schema: Any, depth: int = 0) -> str:
        """The TypeScript type of one (sub)schema."""
        if schema is True or schema == {}:
            return "unknown"
        if schema is False:
            return "never"
        if not isinstance(schema, dict):
            return "unknown"
        parts: list[str] = []
        ref = schema.get("$ref")
        if isinstance(ref, str):
            parts.append(self.ref_type(ref))
        if "x-charter-ref" in schema and schema.get("type", "string") == "string":
            target = str(schema["x-charter-ref"])
            self.refs.add(target)
            parts.append(f"EntryRef<{literal(target)}>")
        elif "const" in schema:
            parts.append(literal(schema["const"]))
        elif isinstance(schema.get("enum"), list):
            parts.append(" | ".join(literal(v) for v in schema["enum"]) or "never")
        else:
            own = self.own_type(schema, depth)
            if own is not None:
                parts.append(own)
        for word in ("oneOf", "anyOf"):
            branches = schema.get(word)
            if isinstance(branches, list) and branches:
                parts.append(" | ".join(self.wrap(self.ts(b, depth)) for b in branches))
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and all_of:
            parts.append(" & ".join("(" + self.ts(b, depth) + ")" for b in all_of))
        if not parts:
            return "unknown"
        return parts[0] if len(parts) == 1 else " & ".join(f"({p})" for p in parts)

    def ref_type(self, ref: str) -> str:
        for prefix in ("#/$defs/", "#/definitions/"):
            if ref.startswith(prefix):
                return self.def_name(ref[len(prefix) :].replace("~1", "/").replace("~0", "~"))
        if ref == "#":
            return self.prefix
        return "unknown"

    def own_type(self, schema: dict[str, Any], depth: int) -> str | None:
        types = schema.get("type")
        names = [types] if isinstance(types, str) else list(types) if isinstance(types, list) else []
        if not names:
            if "properties" in schema or "additionalProperties" in schema:
                names = ["object"]
            elif "items" in schema or "prefixItems" in schema:
                names = ["array"]
            else:
                return None
        out = []
        for name in names:
            if name == "object":
                out.append(self.object_type(schema, depth))
            elif name == "array":
                out.append(self.array_type(schema, depth))
            else:
                out.append(_PRIMITIVES.get(str(name), "unknown"))
        return out[0] if len(out) == 1 else " | ".join(out)

    def object_type(self, schema: dict[str, Any], depth: int) -> str:
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = set(schema.get("required") or [])
        extra = schema.get("additionalProperties", True)
        if not props:
            if extra is False:
                return "Record<string, never>"
            value = "unknown" if extra in (True, None) else self.ts(extra, depth + 1)
            return f"Record<string, {value}>"
        pad = "  " * (depth + 1)
        lines = ["{"]
        for name, sub in props.items():
            lines.append(jsdoc(notes(sub) if isinstance(sub, dict) else [], pad).rstrip("\n"))
            opt = "" if name in required else "?"
            lines.append(f"{pad}{key(name)}{opt}: {self.ts(sub, depth + 1)};")
        if isinstance(extra, dict) and extra:
            lines.append(f"{pad}[key: string]: unknown;")
        lines.append("  " * depth + "}")
        return "\n".join(ln for ln in lines if ln)

    def array_type(self, schema: dict[str, Any], depth: int) -> str:
        prefix = schema.get("prefixItems")
        items = schema.get("items", True)
        if isinstance(prefix, list) and prefix:
            head = [self.ts(p, depth) for p in prefix]
            if items is False:
                return "[" + ", ".join(head) + "]"
            return "[" + ", ".join(head) + f", ...{self.wrap(self.ts(items, depth))}[]]"
        return f"{self.wrap(self.ts(items, depth))}[]"

    @staticmethod
    def wrap(t: str) -> str:
        """Parenthesise a type that contains an operator, so ``A | B`` stays one operand."""
        simple = _IDENT.match(t) or (t.startswith("EntryRef<") and t.endswith(">") and "|" not in t)
        return t if simple or (t.startswith('"') and t.endswith('"') and t.count('"') == 2) else f"({t})"


def schema_facts(ct: ContentType) -> dict[str, str | None]:
    return {"id": ct.schema_id, "version": ct.version, "type": ct.name, "slug": ct.slug_field}


def schema_constant(ct: ContentType, declaration: bool) -> str:
    """``<Type>Schema``: the schema id, version, type name and slug field, as a value."""
    facts = schema_facts(ct)
    name = type_prefix(ct) + "Schema"
    if declaration:
        members = " ".join(f"readonly {k}: {literal(v)};" for k, v in facts.items())
        return f"export declare const {name}: {{ {members} }};\n"
    members = ", ".join(f"{k}: {literal(v)}" for k, v in facts.items())
    return f"export const {name} = {{ {members} }} as const;\n"


def module_name(ct: ContentType) -> str:
    return f"{ct.name}.v{ct.major}"


def type_prefix(ct: ContentType) -> str:
    return f"{pascal(ct.name)}V{ct.major}"


def content_type_module(ct: ContentType, registry: Registry, declaration: bool = False) -> str:
    """The TypeScript module of one content type version (``declaration``: as a ``.d.ts`` file)."""
    name = type_prefix(ct)
    mod = Module(ct=ct, prefix=name)
    schema = ct.schema
    body = mod.ts({k: v for k, v in schema.items() if k not in ("$defs", "definitions")})
    declarations = [
        jsdoc([*notes(schema), f"Content type {ct.name!r}, schema {ct.schema_id} {ct.version}."])
        + f"export type {name} = {body};\n"
    ]
    # $defs are written as they are reached, so a def used only by another def is written too.
    done: set[str] = set()
    defs = {**(schema.get("definitions") or {}), **(schema.get("$defs") or {})}
    while len(done) < len(mod.defs):
        for def_name, ts_name in list(mod.defs.items()):
            if def_name in done:
                continue
            done.add(def_name)
            sub = defs.get(def_name)
            text = mod.ts(sub) if sub is not None else "unknown"
            doc = notes(sub) if isinstance(sub, dict) else []
            declarations.append(
                jsdoc([*doc, f"`$defs/{def_name}` of {ct.schema_id}."]) + f"export type {ts_name} = {text};\n"
            )
    locales = ct.locales.supported
    localized = sorted(f for f in ct.localized if f in (schema.get("properties") or {}))
    required = set(schema.get("required") or [])
    default = ct.locales.default
    others = [loc for loc in locales if loc != default]
    required_locales = [loc for loc in ct.locales.required if loc != default]
    loc_union = " | ".join(literal(loc) for loc in locales)
    field_union = " | ".join(literal(f) for f in localized) or "never"
    must = " | ".join(literal(f) for f in localized if f in required) or "never"
    may = " | ".join(literal(f) for f in localized if f not in required) or "never"
    translation = f"Pick<{name}, {must}> & Partial<Pick<{name}, {may}>>"
    partial = f"Partial<Pick<{name}, {name}LocalizedField>>"
    stored_parts = [f"{{ {literal(default)}: {name} }}"]
    if required_locales:
        stored_parts.append("{ " + " ".join(f"{literal(loc)}: {name}Translation;" for loc in required_locales) + " }")
    optional = [loc for loc in others if loc not in required_locales]
    if optional:
        stored_parts.append("{ " + " ".join(f"{literal(loc)}?: {partial};" for loc in optional) + " }")
    declarations.append(
        jsdoc(["The locales this type supports (its default, required locales and fallback chains)."])
        + f"export type {name}Locale = {loc_union};\n"
        + jsdoc(["Fields that hold a value per locale; the others live only in the default locale."])
        + f"export type {name}LocalizedField = {field_union};\n"
        + jsdoc(["What a non-default locale holds: its localised fields (required ones where required)."])
        + f"export type {name}Translation = {translation};\n"
        + jsdoc([f"The stored document (management API): {default!r} holds the whole document."])
        + f"export type {name}Stored = {' & '.join(stored_parts)};\n"
    )
    included = sorted(r for r in mod.refs if r in registry)
    imports = []
    for target in included:
        tct = registry.get(target)
        if tct.name != ct.name:
            imports.append(f'import type {{ {type_prefix(tct)}Envelope }} from "./{module_name(tct)}.js";')
    inc = " | ".join(f"{type_prefix(registry.get(t))}Envelope" for t in included) or "never"
    declarations.append(
        jsdoc([f"A published {ct.name!r} entry as the delivery API serves it."])
        + f"export interface {name}Envelope extends Envelope<{literal(ct.name)}, {name}, {name}Locale> {{\n"
        + f"  schema: {{ id: {literal(ct.schema_id)}; version: string }};\n"
        + f"  /** The published entries this one references, in the same locale. */\n  included?: ({inc})[];\n}}\n"
        + schema_constant(ct, declaration)
    )
    header = (
        f"// Generated by `charter types generate` from {ct.name}.schema.json ({ct.schema_id} {ct.version}).\n"
        "// Do not edit: change the content type and generate again.\n"
        f'import type {{ {"Envelope, EntryRef" if mod.refs else "Envelope"} }} from "./envelope.js";\n'
        + "".join(i + "\n" for i in imports)
    )
    return header + "\n" + "\n".join(declarations)


ENVELOPE_TS = """\
// Generated by `charter types generate`: the delivery envelope, shared by every content type.
// Do not edit.

/** An entry id that references an entry of content type `T` (`x-charter-ref`). */
export type EntryRef<T extends string> = string & { readonly __charterRef?: T };

/** The v1 delivery envelope: one shape for every payload, whatever CMS is behind the API. */
export interface Envelope<Type extends string = string, Data = unknown, Locale extends string = string> {
  id: string;
  type: Type;
  /** The schema the revision was validated against. */
  schema: { id: string; version: string };
  /** `requested` is what was asked for; `resolved` the locale the fields came from first. */
  locale: { requested: string; resolved: Locale };
  revision: number;
  /** RFC 3339 time of publication. */
  published_at: string | null;
  data: Data;
  included?: Envelope[];
}

/** A page of `GET /v1/entries/{type}`. */
export interface EntryList<E> {
  items: E[];
  /** Pass as `cursor` for the next page; `null` on the last page. */
  next_cursor: string | null;
  limit: number;
}

/** One validation error of a problem: where (RFC 6901 pointer) and what. */
export interface ProblemError {
  pointer: string;
  message: string;
  keyword?: string;
}

/** An RFC 9457 problem details body (`application/problem+json`). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: ProblemError[];
  [member: string]: unknown;
}

/** A source an answer cites. */
export interface Citation {
  source: string;
  entry_id: string;
  revision: number;
  chunk: number;
  index: string;
  locale: string;
  url: string;
  title: string;
  heading: string;
}

/** `POST /v1/ask`: a cited answer, or a refusal with its reason. */
export interface Answer {
  question: string;
  locale: string;
  answer: string;
  refused: boolean;
  refusal_reason: string | null;
  citations: Citation[];
  intent: string | null;
  [member: string]: unknown;
}
"""


def generate(registry: Registry, declaration: bool = False) -> dict[str, str]:
    """File name → TypeScript source for every content type of the registry.

    With ``declaration`` the files are ``.d.ts`` declarations (for an npm package), and the values
    they declare (the ``<Type>Schema`` constants) are in ``.js`` modules beside them."""
    ext = ".d.ts" if declaration else ".ts"
    files = {f"envelope{ext}": ENVELOPE_TS}
    cts = sorted(registry, key=lambda c: (c.name, c.major))
    for ct in cts:
        files[f"{module_name(ct)}{ext}"] = content_type_module(ct, registry, declaration)
    index = ["// Generated by `charter types generate`. Do not edit.", 'export * from "./envelope.js";']
    index += [f'export * from "./{module_name(ct)}.js";' for ct in cts]
    index += [f'import type {{ {type_prefix(ct)}Envelope }} from "./{module_name(ct)}.js";' for ct in cts]
    index.append("\n/** Content type name → the envelope the delivery API serves for it. */")
    index.append("export interface ContentTypes {")
    index += [f"  {key(ct.name)}: {type_prefix(ct)}Envelope;" for ct in cts]
    index.append("}")
    files[f"index{ext}"] = "\n".join(index) + "\n"
    if declaration:
        header = "// Generated by `charter types generate`. Do not edit.\n"
        files["envelope.js"] = header + "export {};\n"
        files["index.js"] = header + "".join(f'export * from "./{module_name(ct)}.js";\n' for ct in cts)
        for ct in cts:
            facts = ", ".join(f"{k}: {literal(v)}" for k, v in schema_facts(ct).items())
            files[f"{module_name(ct)}.js"] = (
                header + f"export const {type_prefix(ct)}Schema = Object.freeze({{ {facts} }});\n"
            )
    return files
