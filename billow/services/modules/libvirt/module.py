"""The libvirt processing module: one instance per host URI.

A service's VM is the domain ``<name_prefix><service id>`` with a qcow2 volume of the same name
in ``storage_pool``; its ``external_id`` is the domain UUID. Billow's metadata element
(``domain_xml.NS``) carries the service id, the module instance, the key of the open that
created it and the key of the last operation applied, so every operation is convergent and
idempotent: a replay finds the domain and volume it made before, and ``sync`` answers from the
metadata whether an operation keyed K took effect. Transport failures raise ``RetryableError``;
libvirt refusals become ``failed`` outcomes with stable codes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import Any

from billow.core.errors import BillowError, RetryableError
from billow.services import ip_pools
from billow.services.modules.base import Outcome, ProcessingModule, ServiceContext, modules
from billow.services.modules.libvirt import client, provision
from billow.services.modules.libvirt.config import LibvirtConfig
from billow.services.modules.libvirt.domain_xml import (
    NS,
    PREFIX,
    BillowMeta,
    DomainSpec,
    Sizes,
    domain_xml,
    parse_meta,
    read_devices,
    sizes_from_addons,
    volume_xml,
)
from billow.services.secrets import decrypt_secrets

STATES = {
    0: "nostate",
    1: "running",
    2: "blocked",
    3: "paused",
    4: "shutdown",
    5: "shutoff",
    6: "crashed",
    7: "pmsuspended",
}
MIB = 1024 * 1024
VM_ACTIONS = frozenset(
    {"start", "stop", "force_stop", "reboot", "reset", "change_password", "set_note", "reinstall"}
)
_domain_types: dict[str, str] = {}


@modules.register("libvirt")
class LibvirtModule(ProcessingModule):
    key = "libvirt"
    title = "libvirt (QEMU/KVM)"
    config_class = LibvirtConfig
    actions = VM_ACTIONS | {"recreate", "link"}

    @property
    def cfg(self) -> LibvirtConfig:
        assert isinstance(self.config, LibvirtConfig)
        return self.config

    # -- plumbing ----------------------------------------------------------------------------

    def _run(self, work: Callable[[Any], Outcome]) -> Outcome:
        """``work(conn)``; transport failures -> RetryableError, other libvirt errors ->
        ``failed`` with code ``libvirt_error``."""
        lv = client.libvirt_api()
        conn = client.connection(self.cfg.uri)
        try:
            return work(conn)
        except lv.libvirtError as exc:
            if client.is_transport_error(exc, conn):
                raise client.retryable(self.cfg.uri, exc) from None
            return Outcome.failed(
                code="libvirt_error",
                message=exc.get_error_message() or str(exc),
                libvirt_code=exc.get_error_code(),
            )

    def _soft(self, call: Callable[[], Any], *codes: int) -> bool:
        """Run ``call``; False when libvirt refuses with one of ``codes`` (any code when none
        given) for a reason other than transport."""
        lv = client.libvirt_api()
        try:
            call()
        except lv.libvirtError as exc:
            if client.is_transport_error(exc) or (codes and exc.get_error_code() not in codes):
                raise
            return False
        return True

    def _name(self, service_id: int) -> str:
        return f"{self.cfg.name_prefix}{service_id}"

    def _find(self, conn: Any, ctx: ServiceContext) -> Any | None:
        """The service's domain: by UUID (``external_id``), else by name when its metadata
        names this service."""
        lv = client.libvirt_api()
        missing = (lv.VIR_ERR_NO_DOMAIN, lv.VIR_ERR_INVALID_ARG)
        if ctx.external_id:
            try:
                dom = conn.lookupByUUIDString(ctx.external_id)
            except lv.libvirtError as exc:
                if exc.get_error_code() not in missing:
                    raise
            else:
                meta = self._meta(dom)
                if meta is None or meta.service_id in (None, ctx.service_id):
                    return dom
        try:
            dom = conn.lookupByName(self._name(ctx.service_id))
        except lv.libvirtError as exc:
            if exc.get_error_code() not in missing:
                raise
            return None
        return dom

    def _meta(self, dom: Any) -> BillowMeta | None:
        lv = client.libvirt_api()
        try:
            return parse_meta(dom.metadata(lv.VIR_DOMAIN_METADATA_ELEMENT, NS, 0))
        except lv.libvirtError as exc:
            if exc.get_error_code() != lv.VIR_ERR_NO_DOMAIN_METADATA:
                raise
            return None

    def _flags(self, dom: Any) -> int:
        lv = client.libvirt_api()
        live = lv.VIR_DOMAIN_AFFECT_LIVE if dom.isActive() else 0
        return int(lv.VIR_DOMAIN_AFFECT_CONFIG | live)

    def _write_meta(self, dom: Any, meta: BillowMeta) -> None:
        lv = client.libvirt_api()
        dom.setMetadata(lv.VIR_DOMAIN_METADATA_ELEMENT, meta.to_xml(), PREFIX, NS, self._flags(dom))

    def _mark(self, dom: Any, ctx: ServiceContext) -> None:
        """Record ``ctx.idempotency_key`` as the last operation applied (read by ``sync``)."""
        meta = self._meta(dom) or BillowMeta(ctx.service_id, self.instance_id)
        self._write_meta(
            dom,
            BillowMeta(
                meta.service_id or ctx.service_id,
                meta.instance_id or self.instance_id,
                meta.key,
                ctx.idempotency_key,
                meta.system,
            ),
        )

    def _state(self, dom: Any) -> str:
        return STATES.get(dom.state()[0], "unknown")

    def _facts(self, dom: Any) -> dict[str, Any]:
        lv = client.libvirt_api()
        vcpus = dom.vcpusFlags(lv.VIR_DOMAIN_AFFECT_CONFIG)
        return {
            "name": dom.name(),
            "state": self._state(dom),
            "vcpus": vcpus,
            "ram_mib": dom.maxMemory() // 1024,
        }

    def _domain_type(self, conn: Any) -> str:
        if self.cfg.domain_type != "auto":
            return self.cfg.domain_type
        uri = self.cfg.uri
        if uri not in _domain_types:
            if conn.getType() == "Test":
                _domain_types[uri] = "test"
            else:
                has_kvm = self._soft(lambda: conn.getDomainCapabilities(None, None, None, "kvm"))
                _domain_types[uri] = "kvm" if has_kvm else "qemu"
        return _domain_types[uri]

    def _with_domain(
        self, ctx: ServiceContext, work: Callable[[Any, Any], Outcome], *, missing_ok: bool = False
    ) -> Outcome:
        def run(conn: Any) -> Outcome:
            dom = self._find(conn, ctx)
            if dom is None:
                if missing_ok:
                    return Outcome.succeeded(state="absent")
                return Outcome.failed(
                    code="vm_not_found", message=f"no domain for service #{ctx.service_id}"
                )
            return work(conn, dom)

        return self._run(run)

    def _done(self, dom: Any, ctx: ServiceContext, **data: Any) -> Outcome:
        self._mark(dom, ctx)
        return Outcome.succeeded(
            external_id=dom.UUIDString(), **{"state": self._state(dom), **data}
        )

    # -- contract ------------------------------------------------------------------------------

    def check_connection(self) -> Outcome:
        def work(conn: Any) -> Outcome:
            pool = conn.storagePoolLookupByName(self.cfg.storage_pool)
            if not pool.isActive():
                return Outcome.failed(code="storage_pool_inactive", message=pool.name())
            return Outcome.succeeded(
                message=f"{conn.getType()} {conn.getVersion()} on {conn.getHostname()}",
                domain_type=self._domain_type(conn),
            )

        try:
            return self._run(work)
        except RetryableError as exc:
            return Outcome.failed(code=exc.code, message=exc.message)

    def open(self, ctx: ServiceContext) -> Outcome:
        return self._run(lambda conn: self._open(conn, ctx))

    def _open(self, conn: Any, ctx: ServiceContext) -> Outcome:
        dom = self._find(conn, ctx)
        if dom is not None:
            meta = self._meta(dom)
            by_uuid = bool(ctx.external_id) and dom.UUIDString() == ctx.external_id
            if not by_uuid and (meta is None or meta.service_id != ctx.service_id):
                return Outcome.failed(
                    code="vm_name_taken",
                    message=f"domain {dom.name()} exists and is not service #{ctx.service_id}'s",
                )
        else:
            sizes = sizes_from_addons(self.cfg, ctx.addon_values)
            image = provision.os_image(self.cfg, ctx.parameters)
            if image is not None:
                return self._open_with_os(conn, ctx, sizes, image)
            volume = self._ensure_volume(conn, self._name(ctx.service_id), sizes.disk_mib)
            if isinstance(volume, Outcome):
                return volume
            dom = self._define(conn, ctx, sizes, volume.path())
        if not dom.isActive():
            dom.create()
        return self._done(dom, ctx, **self._facts(dom))

    def _open_with_os(
        self, conn: Any, ctx: ServiceContext, sizes: Sizes, image: provision.OsImage
    ) -> Outcome:
        """Overlay on the OS base + cloud-init seed with the pool addresses, then boot. The
        generated root password is returned encrypted (``root_password_encrypted``)."""
        refused = provision.below_minimum(image, sizes.disk_mib)
        if refused is not None:
            return refused
        addrs = provision.addresses(self.instance_id, ctx.service_id)
        if isinstance(addrs, Outcome):
            return addrs
        pool = self._pool(conn)
        if isinstance(pool, Outcome):
            return pool
        name = self._name(ctx.service_id)
        password, encrypted = provision.root_password(ctx)
        seed = provision.seed_for(self.cfg, ctx, name, addrs, password)
        seed_vol = self._write_seed(conn, pool, name, seed)
        disk = provision.ensure_overlay(pool, f"{name}.qcow2", image, sizes.disk_mib)
        dom = self._define(conn, ctx, sizes, disk.path(), mac=seed.mac, seed_path=seed_vol.path())
        if not dom.isActive():
            dom.create()
        data: dict[str, Any] = {"os": image.value, "ips": provision.address_facts(addrs)}
        if encrypted:
            data["root_password_encrypted"] = encrypted
        return self._done(dom, ctx, **data, **self._facts(dom))

    def _pool(self, conn: Any) -> Any:
        lv = client.libvirt_api()
        try:
            return conn.storagePoolLookupByName(self.cfg.storage_pool)
        except lv.libvirtError as exc:
            if exc.get_error_code() != lv.VIR_ERR_NO_STORAGE_POOL:
                raise
            return Outcome.failed(code="storage_pool_missing", message=self.cfg.storage_pool)

    def _write_seed(self, conn: Any, pool: Any, name: str, seed: Any) -> Any:
        upload = conn.getType().upper() != "TEST"  # the test driver keeps no content
        data = provision.seed_bytes(seed)
        return provision.upload_seed(
            conn, pool, provision.seed_volume_name(name), data, upload=upload
        )

    def _ensure_volume(self, conn: Any, name: str, disk_mib: int) -> Any:
        lv = client.libvirt_api()
        try:
            pool = conn.storagePoolLookupByName(self.cfg.storage_pool)
        except lv.libvirtError as exc:
            if exc.get_error_code() != lv.VIR_ERR_NO_STORAGE_POOL:
                raise
            return Outcome.failed(code="storage_pool_missing", message=self.cfg.storage_pool)
        try:
            return pool.storageVolLookupByName(f"{name}.qcow2")
        except lv.libvirtError as exc:
            if exc.get_error_code() != lv.VIR_ERR_NO_STORAGE_VOL:
                raise
        return pool.createXML(volume_xml(f"{name}.qcow2", disk_mib), 0)

    def _define(
        self,
        conn: Any,
        ctx: ServiceContext,
        sizes: Sizes,
        disk_path: str,
        *,
        mac: str = "",
        seed_path: str = "",
    ) -> Any:
        meta = BillowMeta(ctx.service_id, self.instance_id, ctx.idempotency_key)
        spec = DomainSpec(
            name=self._name(ctx.service_id),
            domain_type=self._domain_type(conn),
            sizes=sizes,
            max_vcpus=max(self.cfg.max_vcpus, sizes.vcpus),
            disk_path=disk_path,
            meta=meta,
            uuid=ctx.external_id if _is_uuid(ctx.external_id) else "",
            description=str(ctx.payload.get("note", "")),
            mac=mac,
            seed_path=seed_path,
        )
        return conn.defineXML(domain_xml(self.cfg, spec))

    def suspend(self, ctx: ServiceContext) -> Outcome:
        def work(conn: Any, dom: Any) -> Outcome:
            state = dom.state()[0]
            if self.cfg.suspend_mode == "pause":
                if state == 1 or state == 2:
                    dom.suspend()
            elif dom.isActive():
                self._shutdown(dom)
            return self._done(dom, ctx, mode=self.cfg.suspend_mode)

        return self._with_domain(ctx, work)

    def _shutdown(self, dom: Any) -> None:
        """ACPI shutdown, then power off when the guest has not stopped in time."""
        self._soft(dom.shutdown)
        deadline = time.monotonic() + self.cfg.shutdown_timeout_s
        while dom.isActive() and time.monotonic() < deadline:
            time.sleep(0.2)
        if dom.isActive():
            dom.destroy()

    def resume(self, ctx: ServiceContext) -> Outcome:
        return self._with_domain(ctx, lambda conn, dom: self._start(dom, ctx))

    def _start(self, dom: Any, ctx: ServiceContext) -> Outcome:
        state = dom.state()[0]
        if state == 3:
            dom.resume()
        elif not dom.isActive():
            dom.create()
        return self._done(dom, ctx)

    def close(self, ctx: ServiceContext) -> Outcome:
        return self._run(lambda conn: self._close(conn, ctx))

    def _close(self, conn: Any, ctx: ServiceContext) -> Outcome:
        lv = client.libvirt_api()
        paths: list[str] = []
        dom = self._find(conn, ctx)
        if dom is not None:
            paths = [path for _, path in read_devices(dom.XMLDesc(0)).disks if path]
            if dom.isActive():
                dom.destroy()
            flags = lv.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | lv.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
            dom.undefineFlags(flags)
        deleted = [p for p in paths if self._delete_volume(conn, path=p)]
        for name in (self._name(ctx.service_id) + ".qcow2", self._seed_name(ctx)):
            if self._delete_volume(conn, name=name):
                deleted.append(name)
        released = ip_pools.release_addresses(service_id=ctx.service_id)
        return Outcome.succeeded(
            state="absent",
            found=dom is not None,
            volumes_deleted=deleted,
            addresses_released=released,
        )

    def _seed_name(self, ctx: ServiceContext) -> str:
        return provision.seed_volume_name(self._name(ctx.service_id))

    def _delete_volume(self, conn: Any, *, path: str = "", name: str = "") -> bool:
        lv = client.libvirt_api()
        gone = (lv.VIR_ERR_NO_STORAGE_VOL, lv.VIR_ERR_NO_STORAGE_POOL)
        try:
            if path:
                vol = conn.storageVolLookupByPath(path)
            else:
                vol = conn.storagePoolLookupByName(self.cfg.storage_pool).storageVolLookupByName(
                    name
                )
        except lv.libvirtError as exc:
            if exc.get_error_code() not in gone:
                raise
            return False
        vol.delete(0)
        return True

    def set_param(self, ctx: ServiceContext) -> Outcome:
        return self._with_domain(ctx, lambda conn, dom: self._set_param(conn, dom, ctx))

    def _set_param(self, conn: Any, dom: Any, ctx: ServiceContext) -> Outcome:
        target = sizes_from_addons(self.cfg, ctx.addon_values)
        disk = self._disk_volume(conn, dom)
        capacity = disk.info()[1] if disk is not None else 0
        want = target.disk_mib * MIB
        if disk is not None and want < capacity:
            message = f"disk is {capacity // MIB} MiB; it can only grow"
            return Outcome.failed(code="disk_shrink_unsupported", message=message)
        applied = {
            "vcpus": self._set_vcpus(dom, target.vcpus),
            "ram": self._set_ram(dom, target.ram_mib),
        }
        if disk is not None and want > capacity:
            grown = self._soft(lambda: self._grow(dom, disk, want))
            if not grown:
                return Outcome.failed(
                    code="disk_resize_unsupported",
                    applied=applied,
                    message="the host cannot resize this disk",
                )
            applied["disk"] = "live" if dom.isActive() else "config"
        return self._done(dom, ctx, applied=applied, **self._facts(dom))

    def _disk_volume(self, conn: Any, dom: Any) -> Any | None:
        lv = client.libvirt_api()
        for target, path in read_devices(dom.XMLDesc(0)).disks:
            if target == "vda" and path:
                try:
                    return conn.storageVolLookupByPath(path)
                except lv.libvirtError as exc:
                    if exc.get_error_code() != lv.VIR_ERR_NO_STORAGE_VOL:
                        raise
        return None

    def _grow(self, dom: Any, vol: Any, size: int) -> None:
        lv = client.libvirt_api()
        if dom.isActive():
            dom.blockResize("vda", size, lv.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
        else:
            vol.resize(size, 0)

    def _set_vcpus(self, dom: Any, n: int) -> str:
        lv = client.libvirt_api()
        config, live = lv.VIR_DOMAIN_AFFECT_CONFIG, lv.VIR_DOMAIN_AFFECT_LIVE
        if dom.vcpusFlags(config | lv.VIR_DOMAIN_VCPU_MAXIMUM) < n:
            dom.setVcpusFlags(n, config | lv.VIR_DOMAIN_VCPU_MAXIMUM)
        dom.setVcpusFlags(n, config)
        if not dom.isActive():
            return "config"
        if dom.vcpusFlags(live) == n:
            return "live"
        return "live" if self._soft(lambda: dom.setVcpusFlags(n, live)) else "next_boot"

    def _set_ram(self, dom: Any, mib: int) -> str:
        lv = client.libvirt_api()
        config, live = lv.VIR_DOMAIN_AFFECT_CONFIG, lv.VIR_DOMAIN_AFFECT_LIVE
        kib = mib * 1024
        steps = [config | lv.VIR_DOMAIN_MEM_MAXIMUM, config]
        current = read_memory_kib(dom.XMLDesc(lv.VIR_DOMAIN_XML_INACTIVE))
        for flags in steps if kib >= current else reversed(steps):
            dom.setMemoryFlags(kib, flags)
        if not dom.isActive():
            return "config"
        return "live" if self._soft(lambda: dom.setMemoryFlags(kib, live)) else "next_boot"

    def prolong(self, ctx: ServiceContext) -> Outcome:
        return Outcome.succeeded(message="libvirt: nothing to extend")

    def sync(self, ctx: ServiceContext) -> Outcome:
        def work(conn: Any) -> Outcome:
            dom = self._find(conn, ctx)
            if dom is None:
                if ctx.idempotency_key.startswith("close"):
                    return Outcome.succeeded(state="absent")
                return Outcome.failed(code="not_applied", message="no domain")
            meta = self._meta(dom)
            data = {"state": self._state(dom)}
            if meta is not None and ctx.idempotency_key in (meta.last_op, meta.key):
                return Outcome.succeeded(
                    external_id=dom.UUIDString(), **{**data, **self._facts(dom)}
                )
            return Outcome.failed(code="not_applied", message="not recorded on the domain", **data)

        return self._run(work)

    def stat(self, ctx: ServiceContext, day: date) -> Outcome:
        """Cumulative counters since the guest started (the usage app takes daily deltas)."""

        def work(conn: Any, dom: Any) -> Outcome:
            devices = read_devices(dom.XMLDesc(0))
            values = {
                "cpu_time_ns": int(dom.info()[4]),
                "net_rx_bytes": 0,
                "net_tx_bytes": 0,
                "disk_read_bytes": 0,
                "disk_write_bytes": 0,
            }
            if dom.isActive():
                for dev in devices.interfaces:
                    s = dom.interfaceStats(dev)
                    values["net_rx_bytes"] += int(s[0])
                    values["net_tx_bytes"] += int(s[4])
                for target, _ in devices.disks:
                    b = dom.blockStats(target)
                    values["disk_read_bytes"] += int(b[1])
                    values["disk_write_bytes"] += int(b[3])
            return Outcome.succeeded(values=values, counters="cumulative", day=day.isoformat())

        return self._with_domain(ctx, work)

    def discover(self) -> Outcome:
        def work(conn: Any) -> Outcome:
            return Outcome.succeeded(objects=[self._describe(d) for d in conn.listAllDomains(0)])

        return self._run(work)

    def _describe(self, dom: Any) -> dict[str, Any]:
        meta = self._meta(dom)
        return {
            "external_id": dom.UUIDString(),
            "name": dom.name(),
            "state": self._state(dom),
            "service_id": meta.service_id if meta else None,
            "instance_id": meta.instance_id if meta else None,
            "system": bool(meta and meta.system),
            "billow": meta is not None,
        }

    def power_state(self, ctx: ServiceContext) -> str:
        """The domain's state now (the client page polls it); ``absent`` without a domain."""

        def work(conn: Any) -> Outcome:
            dom = self._find(conn, ctx)
            return Outcome.succeeded(state=self._state(dom) if dom is not None else "absent")

        outcome = self._run(work)
        return str(outcome.data.get("state", "unknown"))

    def console_address(self, ctx: ServiceContext) -> tuple[str, int] | None:
        """(host, port) of the running domain's VNC display on the libvirt host; None when
        it is not running or has no VNC."""

        def work(conn: Any) -> Outcome:
            dom = self._find(conn, ctx)
            if dom is None or not dom.isActive():
                return Outcome.succeeded(address=None)
            return Outcome.succeeded(address=read_vnc(dom.XMLDesc(0)))

        address = self._run(work).data.get("address")
        return (str(address[0]), int(address[1])) if address else None

    # -- VM actions ------------------------------------------------------------------------------

    def action(self, name: str, ctx: ServiceContext) -> Outcome:
        if name not in self.actions:
            return super().action(name, ctx)
        if name == "recreate":
            return self.open(ctx)
        handler: Callable[[Any, ServiceContext], Outcome] = getattr(self, f"_act_{name}")
        return self._with_domain(ctx, lambda conn, dom: handler(dom, ctx))

    def _act_start(self, dom: Any, ctx: ServiceContext) -> Outcome:
        return self._start(dom, ctx)

    def _act_stop(self, dom: Any, ctx: ServiceContext) -> Outcome:
        """Graceful: ask the guest (ACPI) to power off; returns without waiting."""
        if dom.isActive():
            dom.shutdown()
        return self._done(dom, ctx, requested="shutdown")

    def _act_force_stop(self, dom: Any, ctx: ServiceContext) -> Outcome:
        if dom.isActive():
            dom.destroy()
        return self._done(dom, ctx)

    def _act_reboot(self, dom: Any, ctx: ServiceContext) -> Outcome:
        """Graceful: ACPI / guest agent reboot request."""
        if not dom.isActive():
            return _not_running(dom)
        dom.reboot(0)
        return self._done(dom, ctx, requested="reboot")

    def _act_reset(self, dom: Any, ctx: ServiceContext) -> Outcome:
        """Hard reset (the reset button)."""
        if not dom.isActive():
            return _not_running(dom)
        dom.reset(0)
        return self._done(dom, ctx)

    def _act_set_note(self, dom: Any, ctx: ServiceContext) -> Outcome:
        lv = client.libvirt_api()
        note = str(ctx.payload.get("note", ""))
        dom.setMetadata(
            lv.VIR_DOMAIN_METADATA_DESCRIPTION, note or None, None, None, self._flags(dom)
        )
        return self._done(dom, ctx)

    def _act_reinstall(self, dom: Any, ctx: ServiceContext) -> Outcome:
        """Power off, replace the overlay with a fresh one on the (new) OS base, write a new
        seed (new instance-id: cloud-init provisions again; same addresses), boot."""
        conn = dom.connect()
        params = {**ctx.parameters, **(ctx.payload.get("parameters") or {})}
        image = provision.os_image(self.cfg, params)
        if image is None:
            return Outcome.failed(
                code="os_image_missing", message="this host has no image for that OS"
            )
        sizes = sizes_from_addons(self.cfg, ctx.addon_values)
        disk = self._disk_volume(conn, dom)
        disk_mib = max(sizes.disk_mib, (disk.info()[1] // MIB) if disk is not None else 0)
        refused = provision.below_minimum(image, disk_mib)
        if refused is not None:
            return refused
        pool = self._pool(conn)
        if isinstance(pool, Outcome):
            return pool
        addrs = provision.addresses(self.instance_id, ctx.service_id)
        if isinstance(addrs, Outcome):
            return addrs
        if dom.isActive():
            dom.destroy()
        name = self._name(ctx.service_id)
        password, _ = provision.root_password(ctx)
        seed = provision.seed_for(self.cfg, ctx, name, addrs, password)
        provision.delete_volume(pool, f"{name}.qcow2")
        disk = provision.ensure_overlay(pool, f"{name}.qcow2", image, disk_mib)
        seed_vol = self._write_seed(conn, pool, name, seed)
        # redefine: a VM opened without an OS gets its seed CD-ROM and fixed MAC now
        dom = self._define(conn, ctx, sizes, disk.path(), mac=seed.mac, seed_path=seed_vol.path())
        dom.create()
        return self._done(dom, ctx, os=image.value, ips=provision.address_facts(addrs))

    def _act_link(self, dom: Any, ctx: ServiceContext) -> Outcome:
        """Write Billow's metadata on an adopted domain (it is the service's VM now)."""
        old = self._meta(dom) or BillowMeta()
        meta = BillowMeta(ctx.service_id, self.instance_id, ctx.idempotency_key, "", old.system)
        self._write_meta(dom, meta)
        return self._done(dom, ctx, **self._facts(dom))

    def _act_change_password(self, dom: Any, ctx: ServiceContext) -> Outcome:
        """Through the QEMU guest agent. No agent channel in the domain:
        ``guest_agent_not_configured``; channel but no agent answering:
        ``guest_agent_unavailable``. The password travels encrypted in the payload."""
        lv = client.libvirt_api()
        if not read_devices(dom.XMLDesc(0)).has_agent:
            return Outcome.failed(
                code="guest_agent_not_configured", message="the VM has no QEMU guest agent channel"
            )
        if not dom.isActive():
            return _not_running(dom)
        token = str(ctx.payload.get("password_encrypted", ""))
        password = decrypt_secrets(token).get("password", "")
        user = str(ctx.payload.get("user") or "root")
        try:
            dom.setUserPassword(user, password, 0)
        except lv.libvirtError as exc:
            code = _AGENT_ERRORS.get(exc.get_error_code())
            if code is None or client.is_transport_error(exc):
                raise
            return Outcome.failed(code=code, message=exc.get_error_message())
        return self._done(dom, ctx, user=user)


def _agent_errors() -> dict[int, str]:
    try:
        lv = client.libvirt_api()
    except BillowError:
        return {}
    return {
        lv.VIR_ERR_ARGUMENT_UNSUPPORTED: "guest_agent_not_configured",
        lv.VIR_ERR_AGENT_UNRESPONSIVE: "guest_agent_unavailable",
        getattr(lv, "VIR_ERR_AGENT_UNSYNCED", -1): "guest_agent_unavailable",
        lv.VIR_ERR_OPERATION_UNSUPPORTED: "guest_agent_unsupported",
    }


_AGENT_ERRORS = _agent_errors()


def _not_running(dom: Any) -> Outcome:
    return Outcome.failed(code="vm_not_running", message=f"domain {dom.name()} is not running")


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def read_memory_kib(xml: str) -> int:
    """``<currentMemory>`` of a domain XML in KiB (libvirt always writes KiB)."""
    import xml.etree.ElementTree as ET

    node = ET.fromstring(xml).find("currentMemory")  # noqa: S314 - libvirt's own output
    return int(node.text or 0) if node is not None else 0


def read_vnc(xml: str) -> tuple[str, int] | None:
    """The live VNC listen address and port of a domain XML."""
    import xml.etree.ElementTree as ET

    node = ET.fromstring(xml).find("./devices/graphics[@type='vnc']")  # noqa: S314
    if node is None or int(node.get("port", "-1")) <= 0:
        return None
    return node.get("listen") or "127.0.0.1", int(node.get("port", "0"))
