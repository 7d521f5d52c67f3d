"""The client's own S3 storage: buckets through boto3 on the client's RGW user (Billow's key of
that user, never the admin user) and access keys through the Admin Ops API.

Refusals are :class:`ObjectStorageError` with stable codes and change nothing on RGW.
Secrets of the keys a client creates are returned once and never stored by Billow (RGW keeps
them; Billow's list shows the access key ids only).
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from billow.core.errors import RetryableError, ValidationError
from billow.services.modules.ceph_rgw.admin import AdminOps, RgwRefused, internal_access_key
from billow.services.modules.ceph_rgw.config import CephRgwConfig

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_DOCUMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,254}$")
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


class ObjectStorageError(ValidationError):
    """A refused bucket or key request (codes: ``invalid_bucket_name``, ``bucket_name_taken``,
    ``no_such_bucket``, ``bucket_not_empty``, ``invalid_document``, ``access_key_limit``,
    ``no_such_access_key``, ``too_many_buckets``, ``storage_unavailable``, ``s3_refused``)."""


def check_bucket_name(name: str) -> None:
    """S3's bucket naming rules (the strict, DNS-compatible ones: the website needs them)."""
    problem = ""
    if not _BUCKET.match(name):
        problem = (
            "3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit"
        )
    elif ".." in name or ".-" in name or "-." in name:
        problem = "no two adjacent periods, nor a period next to a hyphen"
    elif name.startswith("xn--") or name.endswith("-s3alias"):
        problem = "the prefix xn-- and the suffix -s3alias are reserved"
    else:
        try:
            ipaddress.ip_address(name)
            problem = "a bucket name must not look like an IP address"
        except ValueError:
            pass
    if problem:
        raise ObjectStorageError(f"Invalid bucket name: {problem}", code="invalid_bucket_name")


def _check_document(name: str) -> None:
    if not _DOCUMENT.match(name) or ".." in name:
        raise ObjectStorageError("Invalid document name", code="invalid_document")


@dataclass(frozen=True, slots=True)
class Bucket:
    name: str
    size_bytes: int
    objects: int
    public: bool
    website: bool
    index_document: str
    error_document: str
    website_url: str


@dataclass(frozen=True, slots=True)
class AccessKey:
    access_key: str
    secret_key: str = ""  # only right after creation


_S3_CODES = {
    "BucketAlreadyExists": "bucket_name_taken",
    "BucketAlreadyOwnedByYou": "bucket_name_taken",
    "NoSuchBucket": "no_such_bucket",
    "BucketNotEmpty": "bucket_not_empty",
    "TooManyBuckets": "too_many_buckets",
    "InvalidBucketName": "invalid_bucket_name",
}


class UserStorage:
    """One RGW user's buckets and keys."""

    def __init__(self, config: CephRgwConfig, admin: AdminOps, uid: str) -> None:
        self.config = config
        self.admin = admin
        self.uid = uid
        self._client: Any = None

    # -- plumbing ----------------------------------------------------------------------------

    def _user(self) -> dict[str, Any]:
        user = self.admin.user(self.uid)
        if user is None:
            raise ObjectStorageError(
                "The storage account does not exist", code="storage_unavailable"
            )
        return user

    @property
    def s3(self) -> Any:
        """boto3 S3 client signed with Billow's key of this user (path-style addressing)."""
        if self._client is None:
            wanted = internal_access_key(self.uid)
            keys = [k for k in self._user().get("keys", []) if k.get("access_key") == wanted]
            if not keys:
                raise ObjectStorageError(
                    "The storage account has no key", code="storage_unavailable"
                )
            self._client = boto3.client(
                "s3",
                endpoint_url=self.config.admin_url,
                aws_access_key_id=wanted,
                aws_secret_access_key=keys[0]["secret_key"],
                region_name=self.config.region,
                config=Config(
                    s3={"addressing_style": "path"},
                    connect_timeout=self.config.timeout_s,
                    read_timeout=self.config.timeout_s,
                    retries={"max_attempts": 1},
                ),
            )
        return self._client

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.s3, method)(**kwargs)
        except EndpointConnectionError as exc:
            raise RetryableError(f"S3 unreachable: {exc}", code="transport_error") from None
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _S3_CODES:
                raise ObjectStorageError(f"S3: {code}", code=_S3_CODES[code]) from None
            raise ObjectStorageError(f"S3 refused: {code}", code="s3_refused") from None
        except BotoCoreError as exc:
            raise RetryableError(f"S3: {exc}", code="transport_error") from None

    def website_url(self, bucket: str) -> str:
        scheme = self.config.s3_endpoint.split("://", 1)[0]
        return f"{scheme}://{bucket}.{self.config.website_suffix}/"

    # -- buckets -----------------------------------------------------------------------------

    def list_buckets(self) -> list[Bucket]:
        names = [b["Name"] for b in self._call("list_buckets").get("Buckets", [])]
        stats = {}
        for row in self.admin.buckets_with_stats(self.uid):
            main = (row.get("usage") or {}).get("rgw.main") or {}
            stats[row.get("bucket")] = (int(main.get("size", 0)), int(main.get("num_objects", 0)))
        out = []
        for name in sorted(names):
            size, objects = stats.get(name, (0, 0))
            public = self._is_public(name)
            index = error = ""
            try:
                website = self.s3.get_bucket_website(Bucket=name)
                index = website.get("IndexDocument", {}).get("Suffix", "")
                error = website.get("ErrorDocument", {}).get("Key", "")
            except ClientError:
                pass  # NoSuchWebsiteConfiguration: the website is off
            out.append(
                Bucket(
                    name, size, objects, public, bool(index), index, error, self.website_url(name)
                )
            )
        return out

    def _is_public(self, name: str) -> bool:
        acl = self._call("get_bucket_acl", Bucket=name)
        return any(
            g.get("Grantee", {}).get("URI") == ALL_USERS and g.get("Permission") == "READ"
            for g in acl.get("Grants", [])
        )

    def create_bucket(self, name: str) -> None:
        check_bucket_name(name)
        self._call("create_bucket", Bucket=name)

    def delete_bucket(self, name: str, *, delete_objects: bool = False) -> int:
        """Delete a bucket; a bucket with objects only with ``delete_objects`` (then every
        object version goes first). Returns how many objects were deleted."""
        deleted = 0
        if delete_objects:
            paginator = self.s3.get_paginator("list_objects_v2")
            try:
                for page in paginator.paginate(Bucket=name):
                    keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                    if keys:
                        self._call("delete_objects", Bucket=name, Delete={"Objects": keys})
                        deleted += len(keys)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                raise ObjectStorageError(
                    f"S3: {code}", code=_S3_CODES.get(code, "s3_refused")
                ) from None
        self._call("delete_bucket", Bucket=name)
        return deleted

    def set_public(self, name: str, public: bool) -> None:
        """Public: anyone may read the objects (bucket policy) and list the bucket (ACL) -- what
        a website needs; private: the keys only."""
        if public:
            policy = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": ["s3:GetObject"],
                        "Resource": [f"arn:aws:s3:::{name}/*"],
                    }
                ],
            }
            self._call("put_bucket_policy", Bucket=name, Policy=json.dumps(policy))
            self._call("put_bucket_acl", Bucket=name, ACL="public-read")
        else:
            self._call("delete_bucket_policy", Bucket=name)
            self._call("put_bucket_acl", Bucket=name, ACL="private")

    def set_website(self, name: str, *, index: str = "index.html", error: str = "") -> None:
        _check_document(index)
        config: dict[str, Any] = {"IndexDocument": {"Suffix": index}}
        if error:
            _check_document(error)
            config["ErrorDocument"] = {"Key": error}
        self._call("put_bucket_website", Bucket=name, WebsiteConfiguration=config)

    def disable_website(self, name: str) -> None:
        self._call("delete_bucket_website", Bucket=name)

    # -- access keys -------------------------------------------------------------------------

    def list_keys(self) -> list[AccessKey]:
        internal = internal_access_key(self.uid)
        return [
            AccessKey(k["access_key"])
            for k in self._user().get("keys", [])
            if k.get("access_key") != internal
        ]

    def create_key(self) -> AccessKey:
        """A new key pair; its secret is in the answer and nowhere in Billow afterwards."""
        before = {k.access_key for k in self.list_keys()}
        if len(before) >= self.config.max_access_keys:
            raise ObjectStorageError(
                f"At most {self.config.max_access_keys} access keys per storage",
                code="access_key_limit",
            )
        keys = self.admin.create_key(self.uid)
        internal = internal_access_key(self.uid)
        for k in keys:
            if k.get("access_key") not in before and k.get("access_key") != internal:
                return AccessKey(k["access_key"], k["secret_key"])
        raise ObjectStorageError("RGW returned no new key", code="s3_refused")

    def revoke_key(self, access_key: str) -> None:
        if access_key not in {k.access_key for k in self.list_keys()}:
            raise ObjectStorageError("No such access key", code="no_such_access_key")
        try:
            self.admin.remove_key(self.uid, access_key)
        except RgwRefused as exc:
            raise ObjectStorageError(f"RGW: {exc.rgw_code}", code="s3_refused") from None
