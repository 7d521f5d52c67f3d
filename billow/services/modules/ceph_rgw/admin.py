"""The Admin Ops API through ``rgwadmin``, with its failures sorted into Billow's two kinds:
transport problems (connection refused, timeouts, 5xx) raise ``RetryableError``; RGW's
refusals are :class:`RgwRefused` carrying RGW's own code (``NoSuchUser``, ``KeyExists`` ...)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import requests
from rgwadmin import RGWAdmin
from rgwadmin import exceptions as rgw_errors

from billow.core.errors import BillowError, RetryableError

T = TypeVar("T")
KIB = 1024
GIB = 1024**3


class RgwRefused(BillowError):
    """RGW answered with an error (``rgw_code`` is RGW's, e.g. ``NoSuchUser``)."""

    code = "rgw_refused"

    def __init__(self, rgw_code: str, message: str = "") -> None:
        super().__init__(message or f"RGW refused: {rgw_code}", code="rgw_refused")
        self.rgw_code = rgw_code


@contextmanager
def rgw_errors_sorted(url: str) -> Iterator[None]:
    try:
        yield
    except (requests.ConnectionError, requests.Timeout, rgw_errors.ServerDown) as exc:
        raise RetryableError(
            f"RGW at {url} unreachable: {type(exc).__name__}", code="transport_error"
        ) from None
    except rgw_errors.InternalError as exc:
        raise RetryableError(
            f"RGW at {url}: internal error {exc}", code="transport_error"
        ) from None
    except rgw_errors.RGWAdminException as exc:
        name = type(exc).__name__
        rgw_code = name if name != "RGWAdminException" else str(exc.args[0] if exc.args else name)
        raise RgwRefused(rgw_code) from None


def internal_access_key(uid: str) -> str:
    """The access key Billow itself uses for the user's bucket calls: derived from the uid, so
    an ``open`` retried after a lost reply finds it instead of adding a second one."""
    return "BLW" + hashlib.sha256(uid.encode()).hexdigest()[:17].upper()


class AdminOps:
    """The calls the module makes, each one request; names follow the Admin Ops API."""

    def __init__(self, url: str, access_key: str, secret_key: str, *, timeout: int) -> None:
        parts = urlsplit(url)
        self.url = url
        self.api = RGWAdmin(
            access_key=access_key,
            secret_key=secret_key,
            server=parts.netloc,
            secure=parts.scheme == "https",
            timeout=timeout,
        )

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with rgw_errors_sorted(self.url):
            return fn(*args, **kwargs)

    def user(self, uid: str, *, stats: bool = False) -> dict[str, Any] | None:
        """The user, or None when RGW does not know it."""
        try:
            if stats:
                # sync=true: the stats RGW reports are current, not a cached figure
                return self.call(
                    self.api.request,
                    "get",
                    f"/admin/user?format=json&uid={uid}&stats=true&sync=true",
                )
            return self.call(self.api.get_user, uid=uid)
        except RgwRefused as exc:
            if exc.rgw_code == "NoSuchUser":
                return None
            raise

    def create_user(self, uid: str, display_name: str, max_buckets: int) -> dict[str, Any]:
        return self.call(
            self.api.create_user,
            uid=uid,
            display_name=quote(display_name[:64] or uid, safe=""),
            generate_key=False,
            max_buckets=max_buckets,
        )

    def list_uids(self) -> list[str]:
        return list(self.call(self.api.get_metadata, "user") or [])

    def set_suspended(self, uid: str, suspended: bool) -> None:
        self.call(self.api.modify_user, uid=uid, suspended=suspended)

    def set_max_buckets(self, uid: str, max_buckets: int) -> None:
        self.call(self.api.modify_user, uid=uid, max_buckets=max_buckets)

    def set_user_quota(self, uid: str, *, max_bytes: int, max_objects: int) -> None:
        """User-wide and per-bucket quota; 0 means no limit (RGW's -1; disabled when both are)."""
        # The same limits as each bucket's quota too: RGW checks a bucket's quota against the
        # bucket index, updated with every write, while user-wide stats are refreshed
        # asynchronously and may let a burst of uploads past the user quota.
        enabled = bool(max_bytes or max_objects)
        for quota_type in ("user", "bucket"):
            self.call(
                self.api.set_user_quota,
                uid=uid,
                quota_type=quota_type,
                max_size_kb=-1 if not max_bytes else max_bytes // KIB,
                max_objects=max_objects or -1,
                enabled=enabled,
            )

    def remove_user(self, uid: str) -> bool:
        """Purge the user and its data; False when it was already gone."""
        try:
            self.call(self.api.remove_user, uid=uid, purge_data=True)
        except RgwRefused as exc:
            if exc.rgw_code == "NoSuchUser":
                return False
            raise
        return True

    def create_key(self, uid: str, access_key: str | None = None) -> list[dict[str, Any]]:
        """Add a key pair (generated secret); returns the user's keys after the change."""
        return (
            self.call(self.api.create_key, uid=uid, access_key=access_key, generate_key=True) or []
        )

    def remove_key(self, uid: str, access_key: str) -> None:
        self.call(self.api.remove_key, access_key=access_key, key_type="s3", uid=uid)

    def buckets_with_stats(self, uid: str) -> list[dict[str, Any]]:
        return list(self.call(self.api.get_bucket, uid=uid, stats=True) or [])

    def usage(self, uid: str, start: str, end: str) -> dict[str, Any]:
        return (
            self.call(
                self.api.get_usage,
                uid=uid,
                start=start,
                end=end,
                show_entries=True,
                show_summary=True,
            )
            or {}
        )
