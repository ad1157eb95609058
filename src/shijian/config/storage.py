"""Where stored files live: SHIJIAN_STORAGE=local (SHIJIAN_HOME/media, the default) or s3 (an S3-compatible bucket).

Either way files are served only through permission-checked views (shijian.files.stored.serve): no URL serves
MEDIA_URL, and the bucket is private (no ACL, no public URLs handed out)."""

from __future__ import annotations

from typing import Any

from shijian.config.env import ConfigError, env_str

__all__ = ["S3Config", "default_storage_setting", "s3_from_env"]

STATIC = {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"}


class S3Config:
    """An S3-compatible bucket: its endpoint (empty: AWS), bucket, keys and region."""

    def __init__(self, *, endpoint: str, bucket: str, access_key: str, secret_key: str, region: str) -> None:
        self.endpoint, self.bucket, self.access_key = endpoint, bucket, access_key
        self.secret_key, self.region = secret_key, region


def s3_from_env() -> S3Config:
    bucket = env_str("SHIJIAN_S3_BUCKET", "")
    if not bucket:
        raise ConfigError("SHIJIAN_STORAGE=s3 needs SHIJIAN_S3_BUCKET")
    return S3Config(
        endpoint=env_str("SHIJIAN_S3_ENDPOINT", ""),
        bucket=bucket,
        access_key=env_str("SHIJIAN_S3_ACCESS_KEY", ""),
        secret_key=env_str("SHIJIAN_S3_SECRET_KEY", ""),
        region=env_str("SHIJIAN_S3_REGION", "us-east-1"),
    )


def default_storage_setting(kind: str, s3: S3Config | None = None) -> dict[str, Any]:
    """Django's STORAGES for SHIJIAN_STORAGE=kind (local or s3)."""
    if kind == "local":
        default: dict[str, Any] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    elif kind == "s3":
        c = s3 or s3_from_env()
        options: dict[str, Any] = {
            "bucket_name": c.bucket,
            "region_name": c.region,
            "default_acl": None,  # private: the bucket's own policy, never public-read
            "querystring_auth": True,  # were a URL ever made, it would be signed and expire
            "file_overwrite": False,  # a second file of the same name gets a new name, never replaces evidence
            "addressing_style": "path",
        }
        if c.endpoint:
            options["endpoint_url"] = c.endpoint
        if c.access_key:
            options |= {"access_key": c.access_key, "secret_key": c.secret_key}
        default = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
    else:
        raise ConfigError(f"SHIJIAN_STORAGE={kind!r}: expected local or s3")
    return {"default": default, "staticfiles": STATIC}
