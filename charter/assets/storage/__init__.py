"""Asset storage as a plugin: stores are registered on ``register_asset_stores`` (built in:
``local`` and ``s3``) and ``[charter.assets] store`` names the one a runtime uses."""

from __future__ import annotations

from typing import Any

from charter.assets.storage.base import AssetStore, blob_key
from charter.exceptions import ConfigError
from charter.plugins import collect
from charter.runtime import Runtime

__all__ = ["AssetStore", "blob_key", "store_for"]


def store_for(rt: Runtime) -> AssetStore:
    """The runtime's asset store, built once on first use."""
    with rt.service_lock:
        if rt.asset_store is None:
            from charter.assets.settings import asset_settings

            config = asset_settings(rt.settings)
            factories: dict[str, Any] = collect(rt.plugins, "register_asset_stores")
            if config.store not in factories:
                raise ConfigError(
                    f"unknown asset store {config.store!r} ([charter.assets] store); registered: {', '.join(factories)}"
                )
            rt.asset_store = factories[config.store](rt.settings)
        store: AssetStore = rt.asset_store
        return store
