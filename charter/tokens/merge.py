"""Merging token sources in order, with the Resolver Module's conflict rules (DTCG 2025.10).

Later sources override earlier ones token by token (Resolver Module, "Resolution logic"):

* a token replaces a token at the same path (the whole token, not property by property);
* a token and a group at the same path cannot be merged: an error naming both sources;
* a token redefined with a different explicit ``$type`` is an error too (the types are
  incompatible); an alias or a token without its own ``$type`` may replace any token;
* groups merge recursively; group properties (``$type``, ``$description``…) are overridden.

The same rules apply when several plain token files are passed to ``charter tokens build``.
``$extends`` inside one document is different (a local token replaces an inherited one whatever
it is, Format Module §6.4.3) and uses :func:`charter.tokens.parser._deep_merge`.
"""

from __future__ import annotations

from typing import Any

from charter.tokens.model import MAX_DEPTH, Problems, pointer_of, too_deep


def merge_sources(
    base: dict[str, Any],
    incoming: dict[str, Any],
    problems: Problems,
    origins: dict[int, str],
    label: str,
    parts: tuple[str, ...] = (),
) -> dict[str, Any]:
    """``incoming`` (from ``label``) merged over ``base``; conflicts are added to ``problems``."""
    if len(parts) > MAX_DEPTH:
        problems.add(label, pointer_of(parts), f"{'.'.join(parts)}: {too_deep()}", "depth")
        return base
    out = dict(base)
    for key, new in incoming.items():
        old = out.get(key)
        if type(old) is not dict or type(new) is not dict or (key[0] == "$" and key != "$root"):
            out[key] = new
            continue
        old_token, new_token = "$value" in old, "$value" in new
        here = (*parts, key)
        if old_token and new_token:
            old_type, new_type = old.get("$type"), new.get("$type")
            if old_type is not None and new_type is not None and old_type != new_type:
                problems.add(
                    label,
                    pointer_of(here),
                    f"{'.'.join(here)}: redefined as a {new_type!r} token, but it is a {old_type!r} token in "
                    f"{origins.get(id(old), 'an earlier source')} (incompatible types cannot override each other)",
                    "conflict",
                )
            out[key] = new
        elif old_token != new_token:
            was, now = ("a token", "a group") if old_token else ("a group", "a token")
            problems.add(
                label,
                pointer_of(here),
                f"{'.'.join(here)}: {now} here but {was} in {origins.get(id(old), 'an earlier source')} "
                "(a token and a group cannot share a path)",
                "conflict",
            )
            out[key] = new
        else:
            merged = merge_sources(old, new, problems, origins, label, here)
            origins[id(merged)] = origins.get(id(new), label)
            out[key] = merged
    return out
