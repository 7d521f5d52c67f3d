"""Settings of one VMmanager 6 module instance (one VMmanager installation)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from billow.services.errors import ModuleConfigError
from billow.services.modules.base import ModuleConfig

Unit = Literal["MiB", "GiB"]
_URL = re.compile(r"^https?://[^/\s]+(/[^\s]*)?$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,40}$")


@dataclass(frozen=True)
class VmManager6Config(ModuleConfig):
    """``url``: the VMmanager address (``https://vm.example.com``); ``email``: the admin login
    (its password is the instance secret ``password``). VMs go to ``cluster`` (and ``node``
    when set) with ``ipv4_number`` addresses from ``ipv4_pool`` (0: VMmanager picks). Sizes
    come from ``preset`` when set, else from the service's addons (``cpu_addon``,
    ``ram_addon`` in ``ram_unit``, ``disk_addon`` in ``disk_unit``) or the ``default_*``
    values. The OS is the service parameter ``os_parameter`` (values
    ``<repository>__<template>``, filled by the OS list sync), else ``default_os``. Each client
    gets one VMmanager user ``account_email`` (``{client_id}`` replaced) on its first order.
    Task waits: an operation polls its task every ``poll_interval_s`` for up to
    ``task_wait_s``, then answers pending and the janitor asks again."""

    url: str
    email: str
    cluster: int = 1
    node: int = 0
    ipv4_number: int = 1
    ipv4_pool: int = 0
    preset: int = 0
    name_prefix: str = "billow-"
    account_email: str = "billow-client-{client_id}@example.invalid"
    os_parameter: str = "os"
    default_os: str = ""
    suspend_force: bool = False
    cpu_addon: str = "cpu"
    ram_addon: str = "ram"
    ram_unit: Unit = "GiB"
    disk_addon: str = "disk"
    disk_unit: Unit = "GiB"
    default_vcpus: int = 1
    default_ram: int = 1
    default_disk: int = 10
    timeout_s: float = 30.0
    task_wait_s: float = 60.0
    poll_interval_s: float = 2.0
    verify_tls: bool = True

    def validate(self) -> None:
        if not _URL.match(self.url):
            raise ModuleConfigError("url must be an http(s) address", field="url")
        if "@" not in self.email:
            raise ModuleConfigError("email must be the admin's email", field="email")
        if "{client_id}" not in self.account_email or "@" not in self.account_email:
            raise ModuleConfigError(
                "account_email must be an email containing {client_id}", field="account_email"
            )
        if not _NAME.match(self.name_prefix):
            raise ModuleConfigError("name_prefix must be a short plain name", field="name_prefix")
        for name in ("cluster", "ipv4_number", "default_vcpus", "default_ram", "default_disk"):
            if getattr(self, name) < 1:
                raise ModuleConfigError(f"{name} must be >= 1", field=name)
        for name in ("node", "ipv4_pool", "preset"):
            if getattr(self, name) < 0:
                raise ModuleConfigError(f"{name} must be >= 0", field=name)
        if not 0 < self.timeout_s <= 300:
            raise ModuleConfigError("timeout_s must be in (0, 300]", field="timeout_s")
        if not 0 <= self.task_wait_s <= 600:
            raise ModuleConfigError("task_wait_s must be 0..600", field="task_wait_s")
        if not 0 < self.poll_interval_s <= 60:
            raise ModuleConfigError("poll_interval_s must be in (0, 60]", field="poll_interval_s")
