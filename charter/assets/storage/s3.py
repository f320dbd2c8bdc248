"""S3-compatible object storage (AWS S3, MinIO, Ceph, R2, moto's server), for several instances
sharing one set of originals. Needs ``pip install 'charter[s3]'`` (boto3).

A ``PutObject`` is atomic by the protocol (the object appears whole or not at all), so a failed
upload leaves nothing behind. The endpoint is infrastructure the operator configures, like the
database or Redis URL, not an address a user supplies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from charter.exceptions import ConfigError


class S3Store:
    name = "s3"

    def __init__(self, config: Any) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise ConfigError("the s3 asset store needs boto3: pip install 'charter[s3]'") from None
        if not config.bucket:
            raise ConfigError("[charter.assets.s3] bucket is required for the s3 asset store")
        self.bucket = config.bucket
        self.prefix = config.prefix
        self.client = boto3.client(
            "s3",
            endpoint_url=config.endpoint_url or None,
            region_name=config.region,
            aws_access_key_id=config.access_key_id or None,
            aws_secret_access_key=config.secret_access_key or None,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30),
        )
        if config.create_bucket:
            from botocore.exceptions import ClientError

            try:
                self.client.head_bucket(Bucket=self.bucket)
            except ClientError:
                self.client.create_bucket(Bucket=self.bucket)

    def _key(self, key: str) -> str:
        return self.prefix + key

    def put(self, key: str, data: bytes, media_type: str) -> None:
        import base64
        import hashlib

        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        self.client.put_object(
            Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=media_type, ContentMD5=md5
        )

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise KeyError(key) from None
            raise
        return body

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError:
            return False
        return True

    def local_path(self, key: str) -> Path | None:
        return None
