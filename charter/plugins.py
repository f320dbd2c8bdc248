"""One plugin manager per app instance or CLI invocation (never global, never built at import time).

Plugin loading is the one place Charter imports modules by name: the default plugins below and
the ``charter`` entry points of installed packages. Everything else is wired through the hooks
of :mod:`charter.hookspecs`.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import pluggy

from charter import hookspecs

#: Built-in plugins, imported only when a manager is built; each imports what it registers
#: inside its hook implementations, so building a manager stays cheap.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "charter.observability.plugin",
    "charter.delivery.plugin",
    "charter.edge.plugin",  # after delivery: the edge is purged after Charter's own cache
    "charter.retrieval.plugin",
    "charter.content.plugin",
    "charter.webhooks.plugin",
    "charter.assets.plugin",
    "charter.auth.plugin",
    "charter.gateway.plugin",
    "charter.admin.plugin",
    "charter.metrics.plugin",
    "charter.review.plugin",
    "charter.http.plugin",
    "charter.cli.plugin",
    "charter.gateway.providers.default_plugin",
    "charter.evals.default_plugin",
    "charter.tokens.plugin",
)


def make_plugin_manager(extra: tuple[str, ...] = (), load_entrypoints: bool = True) -> pluggy.PluginManager:
    """A new manager with every hookspec, the default plugins, ``extra`` (module names), the
    modules named in ``CHARTER_PLUGINS`` (comma-separated: a project's own plugins, without
    packaging them) and, with ``load_entrypoints``, the installed packages' ``charter`` entry points."""
    pm = pluggy.PluginManager("charter")
    pm.add_hookspecs(hookspecs)
    named = tuple(n.strip() for n in os.environ.get("CHARTER_PLUGINS", "").split(",") if n.strip())
    for name in dict.fromkeys((*DEFAULT_PLUGINS, *extra, *named)):
        pm.register(importlib.import_module(name), name)
    if load_entrypoints:
        pm.load_setuptools_entrypoints("charter")
    return pm


def collect(pm: pluggy.PluginManager, hook: str, **kwargs: Any) -> dict[str, Any]:
    """Call a ``register_*`` hook on every plugin, in registration order (built-ins first, then
    ``extra``, then entry points), and return what they registered by name: a later registration
    under a name replaces an earlier one, so a plugin may replace a built-in. ``kwargs`` are the
    hook's other arguments (each implementation receives those it names)."""
    found: dict[str, Any] = {}

    def register(name: str, value: Any) -> None:
        found[name] = value  # a replacement keeps the place of what it replaces

    caller = getattr(pm.hook, hook)
    for impl in caller.get_hookimpls():  # pluggy would call them last-registered first
        impl.function(**{name: {"register": register, **kwargs}[name] for name in impl.argnames})
    return found
