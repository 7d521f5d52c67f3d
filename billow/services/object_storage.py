"""S3 object storage of a service for the client area and the API: its buckets and access keys
on the client's own RGW user (module ``ceph_rgw``), and the ready-to-paste client settings.

Bucket and key calls are synchronous: they are the client's data, not the service's lifecycle,
so they are not queued as operations and bill nothing (usage is billed through ``stat``).
Refusals are ``BillowError`` subclasses and change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from billow.services.errors import InvalidTransitionError, ServiceValidationError
from billow.services.models import Service
from billow.services.modules.ceph_rgw.buckets import (
    AccessKey,
    Bucket,
    ObjectStorageError,
    UserStorage,
    check_bucket_name,
)
from billow.services.modules.ceph_rgw.config import CephRgwConfig
from billow.services.modules.ceph_rgw.module import CephRgwModule
from billow.services.runner import build_module
from billow.services.states import ServiceStatus

__all__ = [
    "AccessKey",
    "Bucket",
    "ClientSettings",
    "ObjectStorageError",
    "check_bucket_name",
    "client_settings",
    "has_object_storage",
    "storage_of",
]


def _module(service: Service) -> CephRgwModule | None:
    instance = service.module_instance
    if instance is None or instance.module != CephRgwModule.key:
        return None
    module = build_module(instance)
    assert isinstance(module, CephRgwModule)
    return module


def has_object_storage(service: Service) -> bool:
    """The service's storage is on a real RGW (the client area shows buckets and keys)."""
    instance = service.module_instance
    return (
        instance is not None
        and instance.module == CephRgwModule.key
        and bool(service.external_id)
        and service.status != ServiceStatus.DELETED
    )


def storage_of(service: Service) -> UserStorage:
    """The service's RGW user. Refusals: ``not_object_storage`` (another module, or not opened
    yet), ``service_not_active`` (suspended, closing ... : RGW would refuse anyway)."""
    module = _module(service)
    if module is None or not service.external_id:
        raise ServiceValidationError(
            "This service has no object storage", code="not_object_storage"
        )
    if service.status != ServiceStatus.ACTIVE:
        raise InvalidTransitionError(
            "The storage can be managed while the service is active", code="service_not_active"
        )
    return module.storage(service.external_id)


@dataclass(frozen=True, slots=True)
class ClientSettings:
    endpoint: str
    region: str
    access_key: str
    secret_key: str  # the placeholder unless the key was just created
    aws_cli: str
    rclone: str
    boto3: str


SECRET_PLACEHOLDER = "<your secret key>"  # noqa: S105 - a placeholder shown to clients


def client_settings(service: Service, key: AccessKey | None = None) -> ClientSettings:
    """Endpoint and settings for aws-cli, rclone and boto3 (the secret filled in only for a key
    that was just created; afterwards Billow no longer knows it)."""
    module = _module(service)
    if module is None:
        raise ServiceValidationError(
            "This service has no object storage", code="not_object_storage"
        )
    cfg: CephRgwConfig = module.cfg
    endpoint, region = cfg.s3_endpoint, cfg.region
    access = key.access_key if key else "<your access key>"
    secret = key.secret_key if key and key.secret_key else SECRET_PLACEHOLDER
    aws_cli = (
        f"aws configure set aws_access_key_id {access}\n"
        f"aws configure set aws_secret_access_key {secret}\n"
        f"aws configure set region {region}\n"
        f"aws --endpoint-url {endpoint} s3 ls"
    )
    rclone = (
        "[billow]\n"
        "type = s3\n"
        "provider = Ceph\n"
        f"access_key_id = {access}\n"
        f"secret_access_key = {secret}\n"
        f"endpoint = {endpoint}\n"
        f"region = {region}\n"
        "acl = private"
    )
    boto = (
        "import boto3\n\n"
        "s3 = boto3.client(\n"
        '    "s3",\n'
        f'    endpoint_url="{endpoint}",\n'
        f'    aws_access_key_id="{access}",\n'
        f'    aws_secret_access_key="{secret}",\n'
        f'    region_name="{region}",\n'
        ")\n"
        'print(s3.list_buckets()["Buckets"])'
    )
    return ClientSettings(endpoint, region, access, secret, aws_cli, rclone, boto)
