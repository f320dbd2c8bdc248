"""Compatibility of Charter's own rules in the ``x-charter`` block: locales, localised fields,
the slug field and entry references. JSON Schema cannot say these; they matter as much.

Entry data is stored per locale (``{locale: document}``): the default locale holds the whole
document, other locales only localised fields, and reads fall back field by field.
"""

from __future__ import annotations

from typing import Any

from charter.schemas.compat.model import Change


def _opts(schema: dict[str, Any]) -> dict[str, Any]:
    opts = schema.get("x-charter") or {}
    return opts if isinstance(opts, dict) else {}


def _locales(opts: dict[str, Any]) -> tuple[str, list[str], dict[str, list[str]]]:
    raw = opts.get("locales") or {}
    default = raw.get("default", "en")
    required = list(raw.get("required") or [default])
    fallbacks = {k: list(v) for k, v in (raw.get("fallbacks") or {}).items()}
    return default, required, fallbacks


def _supported(default: str, required: list[str], fallbacks: dict[str, list[str]]) -> list[str]:
    seen: dict[str, None] = {default: None}
    for loc in required:
        seen[loc] = None
    for loc, chain in fallbacks.items():
        seen[loc] = None
        for c in chain:
            seen[c] = None
    return list(seen)


def diff_x_charter(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    o, n = _opts(old), _opts(new)
    out: list[Change] = []

    def add(
        ptr: str, kind: str, message: str, *, backward: bool = False, forward: bool = False, annotation: bool = False
    ) -> None:
        out.append(Change("/x-charter" + ptr, kind, message, backward, forward, annotation))

    for key in ("domain", "policy", "description", "presentation"):
        if o.get(key) != n.get(key):
            add(f"/{key}", f"x-charter.{key}", f"x-charter {key} {o.get(key)!r} -> {n.get(key)!r}", annotation=True)
    if o.get("slug") != n.get("slug"):
        add(
            "/slug",
            "slug.changed",
            f"slug field {o.get('slug')!r} -> {n.get('slug')!r}: entries are addressed differently",
            backward=True,
            forward=True,
        )
    o_loc, n_loc = set(o.get("localized") or []), set(n.get("localized") or [])
    for name in sorted(n_loc - o_loc):
        add(
            "/localized",
            "localized.added",
            f"{name!r} is now localised: content may carry per-locale values consumers of the old schema never saw",
            forward=True,
        )
    for name in sorted(o_loc - n_loc):
        add(
            "/localized",
            "localized.removed",
            f"{name!r} is no longer localised: stored per-locale values of it no longer validate",
            backward=True,
        )
    od, orq, ofb = _locales(o)
    nd, nrq, nfb = _locales(n)
    if od != nd:
        add(
            "/locales/default",
            "locale.default_changed",
            f"default locale {od!r} -> {nd!r}: every stored entry is keyed by the old default",
            backward=True,
            forward=True,
        )
    for loc in nrq:
        if loc not in orq:
            add(
                "/locales/required",
                "locale.required_added",
                f"locale {loc!r} is now required: stored entries without it no longer validate",
                backward=True,
            )
    for loc in orq:
        if loc not in nrq:
            add(
                "/locales/required",
                "locale.required_removed",
                f"locale {loc!r} is no longer required: consumers may now get the fallback instead",
                forward=True,
            )
    o_sup, n_sup = _supported(od, orq, ofb), _supported(nd, nrq, nfb)
    for loc in n_sup:
        if loc not in o_sup:
            add(
                "/locales/fallbacks",
                "locale.added",
                f"locale {loc!r} added: content in it is unknown to consumers of the old schema",
                forward=True,
            )
    for loc in o_sup:
        if loc not in n_sup:
            add(
                "/locales/fallbacks",
                "locale.removed",
                f"locale {loc!r} removed: stored content in it no longer validates and consumers asking for it "
                "get an error",
                backward=True,
                forward=True,
            )
    for loc in sorted(set(ofb) & set(nfb)):
        if ofb[loc] != nfb[loc]:
            add(
                f"/locales/fallbacks/{loc}",
                "locale.fallback_changed",
                f"fallback chain of {loc!r} {ofb[loc]} -> {nfb[loc]}: the same content resolves differently",
            )
    return out
