"""The admin's main navigation: (href, label, section, permission needed to see it).

A domain's page joins the list when its plugin registers the view (``register_admin_views``).
"""

from __future__ import annotations

PAGES: list[tuple[str, str, str, str]] = [
    ("/admin", "Overview", "home", "read"),
    ("/admin/content", "Content", "content", "read"),
    ("/admin/media", "Media", "media", "read"),
    ("/admin/releases", "Releases", "releases", "read"),
    ("/admin/prompts", "Prompts", "prompts", "read"),
    ("/admin/llm-calls", "LLM calls", "llm-calls", "admin"),
    ("/admin/review", "Review", "review", "read"),
    ("/admin/dashboard", "Metrics", "dashboard", "read"),
    ("/admin/schemas", "Schemas", "schemas", "read"),
    ("/admin/contracts", "Contracts", "contracts", "read"),
    ("/admin/tokens", "Tokens", "tokens", "read"),
    ("/admin/users", "Users", "users", "admin"),
]
