"""LLM providers. Each is a plugin registered through ``register_providers`` (see
:mod:`charter.gateway.providers.default_plugin`) and implements :class:`~.base.Provider`."""
