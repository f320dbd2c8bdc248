"""Charter's LLM gateway: OpenAI-compatible routing, providers as plugins, a prompt registry with
eval-gated releases, structured outputs and a PII-safe audit trail.

The programmatic entry point is :func:`get_gateway` (one :class:`~charter.gateway.service.Gateway`
per :class:`~charter.runtime.Runtime`). Everything heavy is imported lazily so ``import charter``
stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from charter.gateway.service import Gateway
    from charter.runtime import Runtime

__all__ = ["get_gateway"]


def get_gateway(rt: Runtime) -> Gateway:
    """The gateway for ``rt``, built on first use and cached on the runtime."""
    if rt.gateway is None:
        from charter.gateway.service import Gateway

        with rt.service_lock:
            if rt.gateway is None:
                rt.gateway = Gateway(rt)
    return rt.gateway
