"""Built-in token formats (one module each) and format lookup.

``builtin_formats()`` imports only the built-ins, so ``charter tokens build`` does not pay for
plugin discovery; a format name it does not know makes :func:`get_formats` consult the plugins
registered on the ``register_token_formats`` hook (entry points included).
"""

from __future__ import annotations

import importlib
from typing import Any

from charter.tokens.formats.base import BuildContext, FormatOptions, TokenFormat

__all__ = ["BUILTIN", "BuildContext", "FormatOptions", "TokenFormat", "builtin_formats", "get_formats"]

#: name -> "module:Class"; ``npm`` goes last because it describes the other formats' files. The
#: native and e-mail formats are built only when asked for (``charter tokens build -f ios``).
BUILTIN: dict[str, str] = {
    "css": "charter.tokens.formats.css:CssFormat",
    "scss": "charter.tokens.formats.scss:ScssFormat",
    "js": "charter.tokens.formats.js:JsFormat",
    "ts": "charter.tokens.formats.ts:TsFormat",
    "json": "charter.tokens.formats.json_format:JsonFormat",
    "android-xml": "charter.tokens.formats.android:AndroidXmlFormat",
    "compose": "charter.tokens.formats.android:ComposeFormat",
    "ios": "charter.tokens.formats.ios:IosFormat",
    "email": "charter.tokens.formats.email:EmailFormat",
    "npm": "charter.tokens.formats.npm:NpmFormat",
}


def _load(spec: str) -> Any:
    module, _, cls = spec.partition(":")
    return getattr(importlib.import_module(module), cls)()


def builtin_formats(names: list[str] | None = None) -> dict[str, TokenFormat]:
    return {n: _load(spec) for n, spec in BUILTIN.items() if names is None or n in names}


def get_formats(names: list[str], plugins: Any = None) -> dict[str, TokenFormat]:
    """Formats by name, in the order asked. ``plugins`` is a pluggy manager (the app's); without
    one, built-ins are used and plugins are loaded only for names that are not built in."""
    from charter.tokens.model import Problems

    found: dict[str, Any]
    if plugins is not None:
        from charter.plugins import collect

        found = collect(plugins, "register_token_formats")
    elif all(n in BUILTIN for n in names):
        found = builtin_formats(names)
    else:
        from charter.plugins import collect, make_plugin_manager

        found = collect(make_plugin_manager(), "register_token_formats")
    problems = Problems()
    out: dict[str, TokenFormat] = {}
    for n in names:
        fmt = found.get(n)
        if fmt is None:
            problems.add(
                None, "/formats", f"unknown token format {n!r} (known: {', '.join(sorted(found) or BUILTIN)})", "format"
            )
        else:
            out[n] = fmt() if isinstance(fmt, type) else fmt
    problems.raise_if_any("token formats")
    return out
