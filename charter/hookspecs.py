"""Every Charter extension point, declared once (pluggy).

Each hook receives a ``register`` callable; a plugin calls it once per thing it provides, with a
name and a factory. Built-ins are registered the same way, as default plugins listed in
:data:`charter.plugins.DEFAULT_PLUGINS`. Third-party plugins use the ``charter`` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("charter")
hookimpl = pluggy.HookimplMarker("charter")

Register = Callable[[str, Any], None]


@hookspec
def register_content_sources(register: Register) -> None:
    """Register delivery content sources: ``register(name, factory(settings, app_state) -> ContentSource)``."""


@hookspec
def register_cache_backends(register: Register) -> None:
    """Register response caches: ``register(name, factory(settings) -> ResponseCache)``."""


@hookspec
def register_providers(register: Register) -> None:
    """Register LLM providers: ``register(kind, factory(config) -> Provider)``."""


@hookspec
def register_token_formats(register: Register) -> None:
    """Register design-token output formats: ``register(name, Format)``."""


@hookspec
def register_evaluators(register: Register) -> None:
    """Register evaluation metrics: ``register(name, Metric)``."""


@hookspec
def register_retrievers(register: Register) -> None:
    """Register retrievers: ``register(name, factory(config) -> Retriever)``."""


@hookspec
def register_migration_operations(register: Register) -> None:
    """Register content-migration operations: ``register(op_name, callable)``."""
