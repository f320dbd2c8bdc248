"""``[charter.assets]`` in charter.toml: upload limits, storage, delivery sizes (docs/assets.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from charter.config import Settings
from charter.exceptions import ConfigError

#: What an upload may be, by default: raster images Pillow decodes and SVG without active content.
DEFAULT_MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif", "image/avif", "image/svg+xml")
#: Widths (and heights) served without a signature: the srcset ladder.
DEFAULT_SIZES = (160, 320, 480, 640, 800, 1024, 1280, 1600, 1920, 2560)
DEFAULT_QUALITIES = (40, 50, 60, 70, 75, 80, 85, 90)


class S3Settings(BaseModel):
    """``[charter.assets.s3]``: any S3-compatible object store (needs ``charter[s3]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bucket: str = Field(default="", max_length=63)
    prefix: str = Field(default="", max_length=200, description="Key prefix, e.g. 'charter/'.")
    endpoint_url: str = Field(default="", description="Empty for AWS; e.g. http://127.0.0.1:9000 for MinIO.")
    region: str = "us-east-1"
    access_key_id: str = ""
    secret_access_key: str = ""
    create_bucket: bool = Field(default=False, description="Create the bucket when missing (development).")


class AssetSettings(BaseModel):
    """Every option of the assets domain; defaults suit a single instance with local storage."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The storage plugin (``register_asset_stores``): built in ``local`` and ``s3``.
    store: str = Field(default="local", pattern=r"^[a-z][a-z0-9_.-]{0,63}$")
    #: Where ``local`` keeps files; default ``assets/`` beside the SQLite database
    #: (``.charter/assets`` in the project for other databases).
    dir: str = ""
    #: Where transformed images are cached; default ``asset-cache/`` beside ``dir``.
    cache_dir: str = ""
    s3: S3Settings = Field(default_factory=S3Settings)
    #: Largest upload, bytes (the whole multipart request).
    max_upload_bytes: int = Field(default=25 * 1024 * 1024, ge=1024, le=2**31)
    #: Largest image, in pixels (width x height x frames), checked from the header before decoding.
    max_pixels: int = Field(default=50_000_000, ge=1, le=178_956_970)
    #: Largest width or height of a raster image.
    max_dimension: int = Field(default=16_384, ge=1, le=65_535)
    media_types: tuple[str, ...] = DEFAULT_MEDIA_TYPES
    #: Alt text is required on upload unless the asset is marked decorative (WCAG 2.2 SC 1.1.1).
    require_alt: bool = True
    #: Widths and heights served without a signature.
    sizes: tuple[int, ...] = DEFAULT_SIZES
    qualities: tuple[int, ...] = DEFAULT_QUALITIES
    default_quality: int = Field(default=80, ge=1, le=100)
    #: Output formats a transform may ask for.
    formats: tuple[Literal["webp", "avif", "jpeg", "png"], ...] = ("webp", "avif", "jpeg", "png")
    #: Seconds a transform URL without the current version (``v``) may be cached.
    unversioned_max_age: int = Field(default=60, ge=0)

    @field_validator("media_types")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = set(value) - set(DEFAULT_MEDIA_TYPES)
        if unknown:
            raise ValueError(f"unsupported media types {sorted(unknown)}; supported: {list(DEFAULT_MEDIA_TYPES)}")
        return value

    @field_validator("sizes")
    @classmethod
    def _sizes(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 1 <= v <= 8192 for v in value):
            raise ValueError("sizes must be between 1 and 8192")
        return tuple(sorted(set(value)))


def asset_settings(settings: Settings) -> AssetSettings:
    try:
        return AssetSettings.model_validate(settings.assets)
    except ValidationError as exc:
        raise ConfigError(f"invalid [charter.assets] settings: {exc}") from exc


def data_dir(settings: Settings) -> Path:
    """The folder beside the database (SQLite), else ``.charter`` in the project."""
    url = settings.resolved_database_url()
    if url.startswith("sqlite:///") and not url.endswith(":memory:"):
        return Path(url.removeprefix("sqlite:///")).parent
    return settings.project_dir / ".charter"


def files_dir(settings: Settings, config: AssetSettings) -> Path:
    return Path(config.dir) if config.dir else data_dir(settings) / "assets"


def cache_dir(settings: Settings, config: AssetSettings) -> Path:
    return Path(config.cache_dir) if config.cache_dir else data_dir(settings) / "asset-cache"


def as_dict(config: AssetSettings) -> dict[str, Any]:
    return config.model_dump(mode="json")
