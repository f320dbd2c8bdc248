"""Default plugin: the delivery API, the cache purge on publish, the built-in content sources
(``embedded``, ``wagtail``, ``directus``, ``strapi``), the polling of a source without webhooks
(Wagtail) and response caches (``memory``, ``redis``, ``off``)."""

from __future__ import annotations

from typing import Any

from charter.hookspecs import Register, hookimpl


@hookimpl
def register_routes(register: Register) -> None:
    from charter.delivery.api import router
    from charter.delivery.preview_events import router as preview_events
    from charter.delivery.source_events import router as source_events

    register("delivery", router)
    register("preview_events", preview_events)
    register("source_events", source_events)


@hookimpl
def register_runtime_services(register: Register) -> None:
    from charter.delivery.purge import install

    register("delivery.purge", install)


@hookimpl
def register_worker_duties(register: Register) -> None:
    from charter.delivery.sources.polling import poll_source

    register("sources.poll", poll_source)


@hookimpl
def register_startup(register: Register) -> None:
    from charter.delivery.sources.polling import startup

    register("sources.poll", startup)


@hookimpl
def register_content_sources(register: Register) -> None:
    def embedded(rt: Any) -> Any:
        from charter.delivery.sources.embedded import EmbeddedSource

        return EmbeddedSource(rt)

    def wagtail(rt: Any) -> Any:
        from charter.delivery.sources.wagtail import WagtailSource

        return WagtailSource(rt)

    def directus(rt: Any) -> Any:
        from charter.delivery.sources.directus import DirectusSource

        return DirectusSource(rt)

    def strapi(rt: Any) -> Any:
        from charter.delivery.sources.strapi import StrapiSource

        return StrapiSource(rt)

    register("embedded", embedded)
    register("wagtail", wagtail)
    register("directus", directus)
    register("strapi", strapi)


@hookimpl
def register_cache_backends(register: Register) -> None:
    from charter.delivery.cache import memory_cache, null_cache, redis_cache

    register("memory", memory_cache)
    register("off", null_cache)
    register("redis", redis_cache)
