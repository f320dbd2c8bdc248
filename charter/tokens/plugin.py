"""Default plugin: registers the built-in token formats on the ``register_token_formats`` hook (outside
``charter.tokens.formats``, whose package imports the format machinery, so loading it stays cheap)."""

from __future__ import annotations

from charter.hookspecs import Register, hookimpl


@hookimpl
def register_token_formats(register: Register) -> None:
    from charter.tokens.formats import builtin_formats

    for name, fmt in builtin_formats().items():
        register(name, fmt)
