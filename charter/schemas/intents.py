"""The intent vocabulary: what a page section *means*, never which component renders it.

Editors choose intents ("hero", "testimonial-set"); front ends map intents to components at the
edge, so rendering can change without a content migration. A project adds its own intents in
``charter.toml`` (``intents = ["case-study"]``).
"""

from __future__ import annotations

import re

KNOWN_INTENTS: frozenset[str] = frozenset(
    {
        "hero",
        "testimonial-set",
        "feature-grid",
        "pricing-table",
        "faq",
        "call-to-action",
        "rich-text",
        "logo-cloud",
        "stats",
        "media",
        "comparison-table",
        "contact-form",
        "newsletter-signup",
        "quote",
        "steps",
        "team",
        "timeline",
        "legal-notice",
        "related-content",
    }
)

#: Field names that carry presentation, not meaning; allowed only where a type lists them in
#: ``x-charter.presentation`` (the seed's rare cases, such as legal layout constraints).
PRESENTATION_FIELDS: frozenset[str] = frozenset(
    {
        "align",
        "alignment",
        "background",
        "backgroundcolor",
        "bgcolor",
        "borderradius",
        "class",
        "classname",
        "color",
        "colour",
        "columns",
        "component",
        "css",
        "font",
        "fontfamily",
        "fontsize",
        "height",
        "layout",
        "margin",
        "padding",
        "shadow",
        "spacing",
        "style",
        "template",
        "textcolor",
        "theme",
        "variant",
        "width",
    }
)

INTENT_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def normalise_field_name(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def is_presentation_field(name: str) -> bool:
    return normalise_field_name(name) in PRESENTATION_FIELDS
