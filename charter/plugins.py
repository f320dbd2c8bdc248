"""One plugin manager per app instance (never global, never built at import time)."""

from __future__ import annotations

import importlib
from typing import Any

import pluggy

from charter import hookspecs

#: Built-in plugins, imported only when a manager is built.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "charter.delivery.sources.default_plugin",
    "charter.delivery.cache",
    "charter.gateway.providers.default_plugin",
    "charter.evals.default_plugin",
    "charter.schemas.migration_ops",
    "charter.tokens.formats.plugin",
)


def make_plugin_manager(extra: tuple[str, ...] = (), load_entrypoints: bool = True) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("charter")
    pm.add_hookspecs(hookspecs)
    for name in (*DEFAULT_PLUGINS, *extra):
        module = importlib.import_module(name)
        pm.register(module, name)
    if load_entrypoints:
        pm.load_setuptools_entrypoints("charter")
    return pm


def collect(pm: pluggy.PluginManager, hook: str) -> dict[str, Any]:
    """Call a ``register_*`` hook and return what plugins registered, by name (later wins)."""
    found: dict[str, Any] = {}

    def register(name: str, value: Any) -> None:
        found[name] = value

    getattr(pm.hook, hook)(register=register)
    return found
