"""Charter: a contract-first content and AI platform.

The curated public API is listed in ``__all__``; everything else is internal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Actor",
    "CharterError",
    "ContentSource",
    "ContentType",
    "Entry",
    "ErrorDetail",
    "Registry",
    "Revision",
    "Role",
    "Runtime",
    "Settings",
    "__version__",
    "create_app",
    "load_settings",
]

if TYPE_CHECKING:
    from charter.app import create_app
    from charter.auth.roles import Actor, Role
    from charter.config import Settings, load_settings
    from charter.content.models import Entry, Revision
    from charter.delivery.sources.base import ContentSource
    from charter.exceptions import CharterError, ErrorDetail
    from charter.runtime import Runtime
    from charter.schemas.registry import ContentType, Registry

#: Where each public name lives; imported on first use (tests/test_public_api.py keeps this,
#: the TYPE_CHECKING imports and ``__all__`` in step).
_LAZY = {
    "Actor": "charter.auth.roles",
    "CharterError": "charter.exceptions",
    "ContentSource": "charter.delivery.sources.base",
    "ContentType": "charter.schemas.registry",
    "Entry": "charter.content.models",
    "ErrorDetail": "charter.exceptions",
    "Registry": "charter.schemas.registry",
    "Revision": "charter.content.models",
    "Role": "charter.auth.roles",
    "Runtime": "charter.runtime",
    "Settings": "charter.config",
    "create_app": "charter.app",
    "load_settings": "charter.config",
}


def __getattr__(name: str) -> Any:
    # Lazy, so `import charter` stays cheap (no web stack, no database driver).
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'charter' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
