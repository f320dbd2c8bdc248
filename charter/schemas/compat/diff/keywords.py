"""The JSON Schema vocabulary as the classifier sees it.

Decides which keywords are annotations (a change to one is documentation only), which belong to
the root document and are checked elsewhere, and which have a rule of their own in this package
(:data:`HANDLED`); a change to any other keyword is not analysed and breaks both ways.
"""

from __future__ import annotations

ANNOTATIONS = {
    "title",
    "description",
    "examples",
    "default",
    "$comment",
    "deprecated",
    "readOnly",
    "writeOnly",
    "contentMediaType",
    "contentEncoding",
    "contentSchema",
    "$anchor",
    "$dynamicAnchor",
    "$schema",
    "$vocabulary",
}
#: Handled by the schema check itself (version, identity) or by :func:`diff_x_charter`.
ROOT_ONLY = {"$id", "version", "x-charter", "$defs", "definitions"}
LOWER_LIMITS = ("minLength", "minItems", "minProperties", "minContains")
UPPER_LIMITS = ("maxLength", "maxItems", "maxProperties", "maxContains")
HANDLED = {
    "$ref",
    "type",
    "enum",
    "const",
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "exclusiveMaximum",
    "multipleOf",
    "pattern",
    "format",
    "uniqueItems",
    "required",
    "properties",
    "patternProperties",
    "additionalProperties",
    "items",
    "prefixItems",
    "contains",
    "oneOf",
    "anyOf",
    "allOf",
    "not",
    "dependentRequired",
    "dependentSchemas",
    "propertyNames",
    "x-charter-ref",
    "x-charter-asset",
    *LOWER_LIMITS,
    *UPPER_LIMITS,
}
