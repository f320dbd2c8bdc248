"""Default plugin: media assets (tables, routes, the local and S3 stores, the upload body limit)."""

from __future__ import annotations

from typing import Any

from charter.hookspecs import Register, hookimpl


@hookimpl
def register_tables(register: Register) -> None:
    from charter.assets import tables

    register("assets", tables)


@hookimpl
def register_routes(register: Register) -> None:
    from charter.assets.api import router

    register("assets", router)


@hookimpl
def register_admin_views(register: Register) -> None:
    from charter.admin.views import media

    register("media", media.router)


@hookimpl
def register_cli_commands(register: Register) -> None:
    from charter.cli.commands import assets

    assets.app.info.help = "Media assets: upload, list."
    register("assets", assets.app)


@hookimpl
def register_asset_stores(register: Register) -> None:
    def local(settings: Any) -> Any:
        from charter.assets.settings import asset_settings, files_dir
        from charter.assets.storage.local import LocalStore

        return LocalStore(files_dir(settings, asset_settings(settings)))

    def s3(settings: Any) -> Any:
        from charter.assets.settings import asset_settings
        from charter.assets.storage.s3 import S3Store

        return S3Store(asset_settings(settings).s3)

    register("local", local)
    register("s3", s3)


@hookimpl
def register_runtime_services(register: Register) -> None:
    def install(rt: Any) -> None:
        from charter.assets.settings import asset_settings

        # The upload route takes larger bodies than max_body_bytes (the middleware reads this).
        limit = asset_settings(rt.settings).max_upload_bytes
        rt.body_limits[("POST", "/v1/manage/assets")] = limit
        rt.body_limits[("POST", "/admin/media")] = limit

    register("assets", install)
