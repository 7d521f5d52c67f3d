"""Settings of one ceph_rgw module instance (one RADOS Gateway zone)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from billow.services.errors import ModuleConfigError
from billow.services.modules.base import ModuleConfig

_URL = re.compile(r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?/?$")
_PREFIX = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,30}$")
_ADDON = re.compile(r"^[a-z0-9_]{0,40}$")


@dataclass(frozen=True)
class CephRgwConfig(ModuleConfig):
    """``admin_url``: where Billow reaches the Admin Ops API (and S3, for the clients' bucket
    calls through Billow); ``public_endpoint`` / ``website_suffix``: what clients are shown
    (the website of bucket B is ``http(s)://B.<website_suffix>``). The admin access and secret
    keys are secrets (``admin_access_key``, ``admin_secret_key``), encrypted at rest.

    RGW users are ``<uid_prefix><service id>``: the prefix is Billow's tag, so ``discover``
    knows its users from everyone else's. Quotas come from the service's addons named here
    (``0``/missing addon -> the ``default_*``; a default of 0 means no limit)."""

    admin_url: str = "http://127.0.0.1:17480"
    region: str = "us-east-1"
    public_endpoint: str = ""
    website_suffix: str = "s3-website.localhost"
    uid_prefix: str = "billow-"
    storage_addon: str = "storage_quota"  # GiB
    buckets_addon: str = "buckets"
    objects_addon: str = "objects"
    default_storage_gib: int = 0
    default_buckets: int = 100
    default_objects: int = 0
    max_access_keys: int = 5
    timeout_s: int = 15

    def validate(self) -> None:
        for name in ("admin_url", "public_endpoint"):
            value = getattr(self, name)
            if value and not _URL.match(value):
                raise ModuleConfigError(f"{name} must be an http(s)://host[:port] URL", field=name)
        if not self.admin_url:
            raise ModuleConfigError("admin_url is required", field="admin_url")
        if not _PREFIX.match(self.uid_prefix):
            raise ModuleConfigError(
                "uid_prefix must be a short lower-case name", field="uid_prefix"
            )
        for name in ("storage_addon", "buckets_addon", "objects_addon"):
            if not _ADDON.match(getattr(self, name)):
                raise ModuleConfigError(f"{name} must be an addon intname", field=name)
        for name in ("default_storage_gib", "default_buckets", "default_objects"):
            if getattr(self, name) < 0:
                raise ModuleConfigError(f"{name} must be >= 0", field=name)
        if not 1 <= self.max_access_keys <= 100:
            raise ModuleConfigError("max_access_keys must be 1..100", field="max_access_keys")
        if not 1 <= self.timeout_s <= 300:
            raise ModuleConfigError("timeout_s must be 1..300", field="timeout_s")

    @property
    def s3_endpoint(self) -> str:
        """The S3 endpoint clients use (the admin URL when no public one is set)."""
        return (self.public_endpoint or self.admin_url).rstrip("/")
