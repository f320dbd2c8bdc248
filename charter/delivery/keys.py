"""Response-cache keys for delivery requests, shared by the routes and any fast path in front of
them, so both always agree on what a cached response answers."""

from __future__ import annotations


def page_key(slug: str, locale: str | None) -> str:
    return f"page|{slug}|{locale or ''}"


def entry_key(type_name: str, entry_id: str, locale: str | None) -> str:
    return f"entry|{type_name}|{entry_id}|{locale or ''}"


def list_key(type_name: str, query_string: str) -> str:
    return f"list|{type_name}|{query_string}"
