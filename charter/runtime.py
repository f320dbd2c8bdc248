"""The Charter runtime: one per app instance or CLI invocation.

It owns the settings, the database engine, the content-type registry, the plugin manager, the
event bus and the response cache. Actions receive it; nothing in Charter is global.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pluggy
import sqlalchemy as sa

from charter.config import Settings
from charter.db.engine import make_engine, upgrade, write_connection
from charter.events import Event, EventBus
from charter.plugins import collect, make_plugin_manager

#: Called with the runtime once it is open (subscribe to the bus, load state), as ``module:function``.
RUNTIME_INSTALLERS: tuple[str, ...] = (
    "charter.delivery.purge:install",
    "charter.retrieval.lifecycle:install",
    "charter.content.workflow:install",
)

if TYPE_CHECKING:
    from charter.delivery.cache import ResponseCache
    from charter.delivery.sources.base import ContentSource
    from charter.observability.telemetry import Telemetry
    from charter.schemas.registry import Registry


@dataclass
class Runtime:
    settings: Settings
    engine: sa.Engine
    plugins: pluggy.PluginManager
    bus: EventBus = field(default_factory=EventBus)
    _closers: list[Any] = field(default_factory=list)
    _tx: threading.local = field(default_factory=threading.local)

    @classmethod
    def open(cls, settings: Settings, *, migrate: bool = True) -> Runtime:
        engine = make_engine(settings.resolved_database_url())
        if migrate:
            upgrade(engine, "heads")
        rt = cls(settings=settings, engine=engine, plugins=make_plugin_manager())
        _ = rt.registry  # load and lint content types eagerly: a bad schema file stops start-up
        for spec in RUNTIME_INSTALLERS:
            module, func = spec.split(":")
            getattr(importlib.import_module(module), func)(rt)
        if migrate:
            from charter.schemas.releases import sync

            sync(rt)
        return rt

    @cached_property
    def registry(self) -> Registry:
        from charter.schemas.registry import Registry

        return Registry.load(self.settings.content_types_dir, tuple(self.settings.intents))

    @cached_property
    def telemetry(self) -> Telemetry:
        from charter.observability.telemetry import Telemetry

        telemetry = Telemetry.build(self.settings)
        self._closers.append(telemetry)
        return telemetry

    @cached_property
    def cache(self) -> ResponseCache:
        factories = collect(self.plugins, "register_cache_backends")
        cache: ResponseCache = factories[self.settings.cache](self.settings)
        self._closers.append(cache)
        return cache

    @cached_property
    def source(self) -> ContentSource:
        factories = collect(self.plugins, "register_content_sources")
        source: ContentSource = factories[self.settings.source](self)
        if hasattr(source, "close"):
            self._closers.append(source)
        return source

    @contextmanager
    def write(self) -> Iterator[tuple[sa.Connection, list[Event]]]:
        """One write transaction. Append events to the yielded list *after* recording them with
        :func:`charter.events.record`; they are published on the bus only once the commit succeeds.

        Re-entrant within a thread: an action called inside another action's ``write()`` joins the
        outer transaction, so composite use cases (a release, an import) commit all or nothing."""
        outer = getattr(self._tx, "current", None)
        if outer is not None:
            yield outer
            return
        pending: list[Event] = []
        with write_connection(self.engine) as conn:
            self._tx.current = (conn, pending)
            try:
                with conn.begin():
                    yield conn, pending
            finally:
                self._tx.current = None
        self.bus.publish(pending)

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            yield conn

    def close(self) -> None:
        for thing in self._closers:
            close = getattr(thing, "close", None) or getattr(thing, "shutdown", None)
            if close:
                close()
        self.engine.dispose()
