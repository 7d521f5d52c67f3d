"""The ``ceph_rgw`` processing module: one RGW user per service, on a Ceph RADOS Gateway.

The user is ``<uid_prefix><service id>``: deterministic, so an ``open`` retried after a lost
reply finds the user (and Billow's own key, whose access key is derived from the uid) instead of
making a second. ``suspend`` / ``resume`` set RGW's suspended flag (S3 calls then get
``UserSuspended``); ``close`` purges the user with its buckets and objects; ``set_param`` applies
the quotas of the service's addons (storage GiB and object count user-wide, bucket count as
``max_buckets``). ``stat`` reports a day: the stored size (one sample, see :meth:`stat`) and the
traffic and requests of the day from RGW's usage log. Transport failures raise
``RetryableError``; RGW refusals become ``failed`` outcomes with code ``rgw_<RGW code>``.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from billow.services.modules.base import (
    Outcome,
    OutcomeStatus,
    ProcessingModule,
    ServiceContext,
    modules,
)
from billow.services.modules.ceph_rgw.admin import (
    GIB,
    AdminOps,
    RgwRefused,
    internal_access_key,
)
from billow.services.modules.ceph_rgw.buckets import UserStorage
from billow.services.modules.ceph_rgw.config import CephRgwConfig

SIX_PLACES = Decimal("0.000001")


def _quantized(value: Decimal) -> str:
    return str(value.quantize(SIX_PLACES))


@modules.register("ceph_rgw")
class CephRgwModule(ProcessingModule):
    key = "ceph_rgw"
    title = "Ceph RADOS Gateway (S3)"
    config_class = CephRgwConfig
    secret_fields = ("admin_access_key", "admin_secret_key")

    @property
    def cfg(self) -> CephRgwConfig:
        assert isinstance(self.config, CephRgwConfig)
        return self.config

    @property
    def admin(self) -> AdminOps:
        return AdminOps(
            self.cfg.admin_url,
            self.secrets.get("admin_access_key", ""),
            self.secrets.get("admin_secret_key", ""),
            timeout=self.cfg.timeout_s,
        )

    def uid(self, service_id: int) -> str:
        return f"{self.cfg.uid_prefix}{service_id}"

    def service_id_of(self, uid: str) -> int | None:
        tail = uid.removeprefix(self.cfg.uid_prefix)
        return int(tail) if uid.startswith(self.cfg.uid_prefix) and tail.isdigit() else None

    def quotas(self, ctx: ServiceContext) -> dict[str, int]:
        def addon(name: str, default: int) -> int:
            value = ctx.addon_values.get(name) if name else None
            return int(value) if isinstance(value, int | float) and value > 0 else default

        return {
            "max_bytes": addon(self.cfg.storage_addon, self.cfg.default_storage_gib) * GIB,
            "max_objects": addon(self.cfg.objects_addon, self.cfg.default_objects),
            "max_buckets": addon(self.cfg.buckets_addon, self.cfg.default_buckets),
        }

    def _refused(self, exc: RgwRefused) -> Outcome:
        return Outcome.failed(code=f"rgw_{exc.rgw_code}", message=str(exc))

    # -- lifecycle ---------------------------------------------------------------------------

    def check_connection(self) -> Outcome:
        try:
            self.admin.list_uids()
        except RgwRefused as exc:
            return self._refused(exc)
        return Outcome.succeeded(message=f"RGW at {self.cfg.admin_url} answers")

    def open(self, ctx: ServiceContext) -> Outcome:
        uid = self.uid(ctx.service_id)
        admin = self.admin
        quotas = self.quotas(ctx)
        try:
            user = admin.user(uid)
            if user is None:
                display = str(ctx.payload.get("client_name") or f"Billow service {ctx.service_id}")
                try:
                    user = admin.create_user(uid, display, quotas["max_buckets"])
                except RgwRefused as exc:
                    # a concurrent or lost-reply create: the user is there, go on with it
                    if exc.rgw_code != "UserAlreadyExists":
                        raise
                    user = admin.user(uid) or {}
            keys = {k.get("access_key") for k in user.get("keys", [])}
            internal = internal_access_key(uid)
            if internal not in keys:
                try:
                    admin.create_key(uid, internal)
                except RgwRefused as exc:
                    if exc.rgw_code != "KeyExists":
                        raise
            admin.set_max_buckets(uid, quotas["max_buckets"])
            admin.set_user_quota(
                uid, max_bytes=quotas["max_bytes"], max_objects=quotas["max_objects"]
            )
        except RgwRefused as exc:
            return self._refused(exc)
        return Outcome(OutcomeStatus.SUCCEEDED, external_id=uid, data={"uid": uid, **quotas})

    def _suspended(self, ctx: ServiceContext, suspended: bool) -> Outcome:
        uid = ctx.external_id or self.uid(ctx.service_id)
        try:
            if self.admin.user(uid) is None:
                return Outcome.failed(code="rgw_NoSuchUser", message=f"no RGW user {uid}")
            self.admin.set_suspended(uid, suspended)
        except RgwRefused as exc:
            return self._refused(exc)
        return Outcome.succeeded(suspended=suspended)

    def suspend(self, ctx: ServiceContext) -> Outcome:
        return self._suspended(ctx, True)

    def resume(self, ctx: ServiceContext) -> Outcome:
        return self._suspended(ctx, False)

    def close(self, ctx: ServiceContext) -> Outcome:
        uid = ctx.external_id or self.uid(ctx.service_id)
        try:
            removed = self.admin.remove_user(uid)
        except RgwRefused as exc:
            return self._refused(exc)
        return Outcome.succeeded(removed=removed)

    def set_param(self, ctx: ServiceContext) -> Outcome:
        uid = ctx.external_id or self.uid(ctx.service_id)
        quotas = self.quotas(ctx)
        try:
            if self.admin.user(uid) is None:
                return Outcome.failed(code="rgw_NoSuchUser", message=f"no RGW user {uid}")
            self.admin.set_max_buckets(uid, quotas["max_buckets"])
            self.admin.set_user_quota(
                uid, max_bytes=quotas["max_bytes"], max_objects=quotas["max_objects"]
            )
        except RgwRefused as exc:
            return self._refused(exc)
        return Outcome(OutcomeStatus.SUCCEEDED, data=quotas)

    def prolong(self, ctx: ServiceContext) -> Outcome:
        return Outcome.succeeded(message="RGW users do not expire")

    def sync(self, ctx: ServiceContext) -> Outcome:
        """Every operation converges on a state RGW shows: ask whether it is there."""
        uid = ctx.external_id or self.uid(ctx.service_id)
        operation = ctx.checked_operation or ctx.operation
        try:
            user = self.admin.user(uid)
        except RgwRefused as exc:
            return self._refused(exc)
        keys = {k.get("access_key") for k in (user or {}).get("keys", [])}
        done = {
            "open": user is not None and internal_access_key(uid) in keys,
            "suspend": user is not None and bool(user.get("suspended")),
            "resume": user is not None and not user.get("suspended"),
            "close": user is None,
        }.get(operation, False)  # set_param / prolong: not provable, and safe to run again
        if not done:
            return Outcome.failed(code="not_applied", message=f"{operation} not seen on {uid}")
        return Outcome.succeeded(external_id=uid if user is not None else "")

    def stat(self, ctx: ServiceContext, day: date) -> Outcome:
        """The usage of ``day`` (UTC).

        Traffic and requests come from RGW's usage log, which RGW keeps per hour, so any past
        day can be asked for exactly. Stored data has no history in RGW (bucket stats are the
        size now): it is sampled once, when this runs (the daily pull, just after the day),
        and the tariff's meter takes the day's max of the samples it gets -- a day's storage is
        what was stored at its end. GB-hours would need an hourly sampler and would under-bill
        every missed sample; the day's max is one call a day and never under-bills.
        """
        uid = ctx.external_id or self.uid(ctx.service_id)
        try:
            user = self.admin.user(uid, stats=True)
            if user is None:
                return Outcome.failed(code="rgw_NoSuchUser", message=f"no RGW user {uid}")
            log = self.admin.usage(uid, day.isoformat(), (day + timedelta(days=1)).isoformat())
        except RgwRefused as exc:
            return self._refused(exc)
        stored = int((user.get("stats") or {}).get("size", 0))
        sent = received = ops = 0
        for row in log.get("summary", []):
            total = row.get("total", {})
            sent += int(total.get("bytes_sent", 0))
            received += int(total.get("bytes_received", 0))
            ops += int(total.get("ops", 0))
        values: dict[str, Any] = {
            "s3_stored_bytes": stored,
            "s3_traffic_in_bytes": received,
            "s3_traffic_out_bytes": sent,
            "s3_requests": ops,
            "s3_stored_gib": _quantized(Decimal(stored) / GIB),
            "s3_traffic_in_gib": _quantized(Decimal(received) / GIB),
            "s3_traffic_out_gib": _quantized(Decimal(sent) / GIB),
            "s3_requests_k": _quantized(Decimal(ops) / 1000),
        }
        return Outcome.succeeded(values=values)

    def discover(self) -> Outcome:
        """Billow's RGW users (those carrying the uid prefix) with the service they name."""
        try:
            uids = [u for u in self.admin.list_uids() if u.startswith(self.cfg.uid_prefix)]
            objects = []
            for uid in sorted(uids):
                user = self.admin.user(uid)
                if user is None:  # removed between the list and the read
                    continue
                objects.append(
                    {
                        "external_id": uid,
                        "service_id": self.service_id_of(uid),
                        "name": uid,
                        "state": "suspended" if user.get("suspended") else "active",
                        "display_name": user.get("display_name", ""),
                    }
                )
        except RgwRefused as exc:
            return self._refused(exc)
        return Outcome.succeeded(objects=objects)

    # -- the client's storage (client area and API) ------------------------------------------

    def storage(self, uid: str) -> UserStorage:
        return UserStorage(self.cfg, self.admin, uid)
