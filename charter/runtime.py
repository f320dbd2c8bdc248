"""The Charter runtime: one per app instance or CLI invocation.

It owns the settings, the database engine, the content-type registry, the plugin manager, the
event bus and the response cache. Actions receive it; nothing in Charter is global.
"""

from __future__ import annotations

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
from charter.exceptions import ConfigError
from charter.plugins import collect, make_plugin_manager

if TYPE_CHECKING:
    from charter.assets.storage.base import AssetStore
    from charter.delivery.cache import ResponseCache
    from charter.delivery.sources.base import ContentSource
    from charter.gateway.service import Gateway
    from charter.observability.telemetry import Telemetry
    from charter.retrieval.service import RetrievalService
    from charter.review.policy import ReviewPolicy
    from charter.schemas.registry import Registry


@dataclass
class Runtime:
    """One per app instance or CLI invocation; a context manager that closes it on exit::

        with Runtime.open(settings) as rt:
            ...

    Services built on first use live in typed slots (``gateway``, ``retrieval``), set by the
    domain that builds them (:func:`charter.gateway.get_gateway`,
    :func:`charter.retrieval.lifecycle.service_for`) under :attr:`service_lock`."""

    settings: Settings
    engine: sa.Engine
    plugins: pluggy.PluginManager
    bus: EventBus = field(default_factory=EventBus)
    #: The LLM gateway, once built.
    gateway: Gateway | None = field(default=None, repr=False)
    #: The retrieval service, once loaded.
    retrieval: RetrievalService | None = field(default=None, repr=False)
    #: The asset store (``[charter.assets] store``), once built (:func:`charter.assets.storage.store_for`).
    asset_store: AssetStore | None = field(default=None, repr=False)
    #: The review policy (``review.yaml``) with the stamp of the files it was checked against.
    review_policy: tuple[Any, ReviewPolicy] | None = field(default=None, repr=False)
    #: The audit records the review sync judged lately (:class:`charter.review.collect.Judged`).
    review_judged: Any = field(default=None, repr=False)
    #: Request-body limits larger than ``max_body_bytes`` for exact ``(method, path)`` pairs (an
    #: upload route sets its own when its domain's services install).
    body_limits: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)
    #: Held while a service slot is filled, so two threads never build the same service.
    service_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _closers: list[Any] = field(default_factory=list)
    _tx: threading.local = field(default_factory=threading.local)

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @classmethod
    def open(cls, settings: Settings, *, migrate: bool = True) -> Runtime:
        engine = make_engine(settings.resolved_database_url())
        if migrate:
            upgrade(engine, "heads")
        rt = cls(settings=settings, engine=engine, plugins=make_plugin_manager())
        _ = rt.registry  # load and lint content types eagerly: a bad schema file stops start-up
        sources = collect(rt.plugins, "register_content_sources")
        if settings.source not in sources:
            rt.close()
            raise ConfigError(
                f"unknown content source {settings.source!r} (source, CHARTER_SOURCE); registered: {', '.join(sources)}"
            )
        for install in collect(rt.plugins, "register_runtime_services").values():
            install(rt)
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
        from charter.observability.database import instrument
        from charter.observability.telemetry import Telemetry

        telemetry = Telemetry.build(self.settings)
        instrument(self.engine, telemetry)  # statement spans, when spans are recorded at all
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
