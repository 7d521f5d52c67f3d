"""Settings of a DCImanager 6 module instance (the password is a secret)."""

from __future__ import annotations

from dataclasses import dataclass

from billow.services.errors import ModuleConfigError
from billow.services.modules.base import ModuleConfig


@dataclass(frozen=True)
class Dci6Config(ModuleConfig):
    url: str
    email: str
    #: DCImanager 6 location id of the data center (0: any location).
    location_id: int = 0
    #: Configuration to take when the service names none (its tariff sells one configuration).
    configuration: str = ""
    os_template: str = "ubuntu-24.04"
    #: Owner e-mail set on a taken server when the service names none.
    owner_email: str = "billow@localhost"
    #: Switch the server's port down / up on suspend / resume.
    switch_ports: bool = False
    #: How long ``open`` waits for the install task before answering pending (then the
    #: janitor asks ``sync`` every ``task_poll_seconds``).
    install_wait_seconds: float = 120.0
    task_poll_seconds: float = 2.0
    timeout_seconds: float = 10.0

    def validate(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ModuleConfigError("url must start with http:// or https://", field="url")
        if self.task_poll_seconds < 0 or self.install_wait_seconds < 0:
            raise ModuleConfigError("waits must be >= 0", field="task_poll_seconds")
