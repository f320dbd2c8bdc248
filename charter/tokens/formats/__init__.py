"""Built-in token formats (one module each) and format lookup.

``builtin_formats()`` imports only the built-ins, so ``charter tokens build`` does not pay for
plugin discovery; a format name it does not know makes :func:`get_formats` consult the plugins
registered on the ``register_token_formats`` hook (entry points included).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from charter.tokens.formats.base import BuildContext, FormatOptions, TokenFormat

__all__ = ["BUILTIN", "BuildContext", "FormatOptions", "TokenFormat", "builtin_formats", "get_formats"]

# One loader per built-in: each imports its module only when that format is asked for (the native
# and e-mail formats are built only on request: ``charter tokens build -f ios``).


def _css() -> TokenFormat:
    from charter.tokens.formats.css import CssFormat

    return CssFormat()


def _scss() -> TokenFormat:
    from charter.tokens.formats.scss import ScssFormat

    return ScssFormat()


def _js() -> TokenFormat:
    from charter.tokens.formats.js import JsFormat

    return JsFormat()


def _ts() -> TokenFormat:
    from charter.tokens.formats.ts import TsFormat

    return TsFormat()


def _json() -> TokenFormat:
    from charter.tokens.formats.json_format import JsonFormat

    return JsonFormat()


def _android_xml() -> TokenFormat:
    from charter.tokens.formats.android import AndroidXmlFormat

    return AndroidXmlFormat()


def _compose() -> TokenFormat:
    from charter.tokens.formats.android import ComposeFormat

    return ComposeFormat()


def _ios() -> TokenFormat:
    from charter.tokens.formats.ios import IosFormat

    return IosFormat()


def _email() -> TokenFormat:
    from charter.tokens.formats.email import EmailFormat

    return EmailFormat()


def _npm() -> TokenFormat:
    from charter.tokens.formats.npm import NpmFormat

    return NpmFormat()


#: name -> loader; ``npm`` goes last because it describes the other formats' files.
BUILTIN: dict[str, Callable[[], TokenFormat]] = {
    "css": _css,
    "scss": _scss,
    "js": _js,
    "ts": _ts,
    "json": _json,
    "android-xml": _android_xml,
    "compose": _compose,
    "ios": _ios,
    "email": _email,
    "npm": _npm,
}


def builtin_formats(names: list[str] | None = None) -> dict[str, TokenFormat]:
    return {n: load() for n, load in BUILTIN.items() if names is None or n in names}


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
