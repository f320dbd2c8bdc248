"""Built-in content sources."""

from __future__ import annotations

from typing import Any

from charter.hookspecs import Register, hookimpl


@hookimpl
def register_content_sources(register: Register) -> None:
    def embedded(rt: Any) -> Any:
        from charter.delivery.sources.embedded import EmbeddedSource

        return EmbeddedSource(rt)

    def wagtail(rt: Any) -> Any:
        from charter.delivery.sources.wagtail import WagtailSource

        return WagtailSource(rt)

    register("embedded", embedded)
    register("wagtail", wagtail)
