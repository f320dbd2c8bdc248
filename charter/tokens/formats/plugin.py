"""Default plugin: registers the built-in token formats on the ``register_token_formats`` hook."""

from __future__ import annotations

from charter.hookspecs import Register, hookimpl
from charter.tokens.formats import builtin_formats


@hookimpl
def register_token_formats(register: Register) -> None:
    for name, fmt in builtin_formats().items():
        register(name, fmt)
