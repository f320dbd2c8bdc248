"""Registers the built-in providers: ``openai`` (any OpenAI-compatible server), ``anthropic``, ``local``."""

from __future__ import annotations

from charter.hookspecs import Register, hookimpl


@hookimpl
def register_providers(register: Register) -> None:
    from charter.gateway.providers import anthropic, local, openai_compat

    register("openai", openai_compat.factory)
    register("azure", openai_compat.factory)
    register("vllm", openai_compat.factory)
    register("ollama", openai_compat.factory)
    register("anthropic", anthropic.factory)
    register("local", local.factory)
