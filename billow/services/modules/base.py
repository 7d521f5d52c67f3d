"""The processing-module contract (DESIGN §4, STYLE §7).

A module is a :class:`ProcessingModule` subclass registered under a key in :data:`modules`::

    @modules.register("libvirt")
    class LibvirtModule(ProcessingModule):
        config_class = LibvirtConfig
        ...

Staff configure *instances* of it (``ModuleInstance``: config JSON, encrypted secrets); the
config is parsed into the module's frozen ``config_class`` dataclass and validated when the
instance is saved and again when the module is built. Every operation gets a
:class:`ServiceContext` and returns an :class:`Outcome`; business results (refused, no
resources, accepted but not finished, don't know) are outcomes, never exceptions. Only transport
problems (timeouts, connection refused, 5xx) raise ``RetryableError``; the runner retries those
with backoff. Calls carry ``ctx.idempotency_key``: a replayed call must not create a second
remote object.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar

from billow.core.registry import Registry
from billow.services.errors import ModuleConfigError


class OutcomeStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the remote side said no: final, not retried
    PENDING = "pending"  # accepted, finishes later (a Task, an async job on the panel)
    UNKNOWN = "unknown"  # we cannot tell whether it took effect; the janitor asks ``sync``


@dataclass(frozen=True, slots=True)
class Outcome:
    """The typed result of a module call. ``data`` is JSON-serialisable (stored on the
    operation); ``retry_after`` (seconds) says when to look again at a pending/unknown one."""

    status: OutcomeStatus
    external_id: str = ""
    message: str = ""
    code: str = ""
    retry_after: float | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def succeeded(cls, *, external_id: str = "", message: str = "", **data: Any) -> Outcome:
        return cls(OutcomeStatus.SUCCEEDED, external_id=external_id, message=message, data=data)

    @classmethod
    def failed(cls, *, code: str = "module_failed", message: str = "", **data: Any) -> Outcome:
        return cls(OutcomeStatus.FAILED, code=code, message=message, data=data)

    @classmethod
    def pending(
        cls, *, message: str = "", retry_after: float | None = None, **data: Any
    ) -> Outcome:
        return cls(OutcomeStatus.PENDING, message=message, retry_after=retry_after, data=data)

    @classmethod
    def unknown(
        cls, *, message: str = "", retry_after: float | None = None, **data: Any
    ) -> Outcome:
        return cls(OutcomeStatus.UNKNOWN, message=message, retry_after=retry_after, data=data)

    def as_result(self) -> dict[str, Any]:
        """What is stored in ``ServiceOperation.result``."""
        out: dict[str, Any] = {"status": self.status.value, **dict(self.data)}
        for name in ("external_id", "message", "code"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        return out


@dataclass(frozen=True, slots=True)
class ServiceContext:
    """What a module gets to know about the service it works on (no ORM objects)."""

    service_id: int
    operation: str
    idempotency_key: str
    operation_id: int | None = None
    #: The service's client: modules that keep one panel account per client map it.
    client_id: int | None = None
    module_instance_id: int | None = None
    tariff_id: int | None = None
    tariff_name: str = ""
    product_type: str = ""
    addon_values: Mapping[str, Any] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    external_id: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)
    #: For ``sync``: the operation whose outcome is being checked (``open``, ``suspend`` ...),
    #: so a module can ask its host the right question; empty for every other call.
    checked_operation: str = ""


@dataclass(frozen=True)
class ModuleConfig:
    """Base of module config dataclasses. Subclasses declare typed fields with defaults and may
    check cross-field rules in ``validate``. ``from_mapping`` refuses unknown keys, missing
    required keys and values of the wrong type (``invalid_module_config``)."""

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None) -> ModuleConfig:
        raw = dict(raw or {})
        hints = typing.get_type_hints(cls)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - names)
        if unknown:
            raise ModuleConfigError(f"unknown settings: {', '.join(unknown)}", fields=unknown)
        for f in dataclasses.fields(cls):
            no_default = f.default is dataclasses.MISSING
            if no_default and f.default_factory is dataclasses.MISSING and f.name not in raw:
                raise ModuleConfigError(f"setting {f.name!r} is required", field=f.name)
            if f.name in raw:
                _check_type(f.name, raw[f.name], hints[f.name])
        config = cls(**raw)
        config.validate()
        return config

    def validate(self) -> None:
        """Cross-field checks; raise ``ModuleConfigError``."""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check_type(name: str, value: Any, hint: Any) -> None:
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        if value not in typing.get_args(hint):
            raise ModuleConfigError(
                f"{name} must be one of {', '.join(map(str, typing.get_args(hint)))}", field=name
            )
        return
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return
        hint = next(o for o in options if o is not type(None))
    ok = isinstance(value, hint) and not (hint is int and isinstance(value, bool))
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok:
        raise ModuleConfigError(f"{name} must be {getattr(hint, '__name__', hint)}", field=name)


class ProcessingModule(ABC):
    """One processing module. Instances are cheap: built per call from a ``ModuleInstance``.

    ``actions`` names the optional per-type actions (``start``, ``stop``, ``reboot`` ...) that
    :meth:`action` serves; ``secret_fields`` names the secrets staff enter (write-only).
    ``prolongs``: the module has something to extend when a service is renewed, so every
    renewal queues a ``prolong`` operation; modules that leave it False are never called
    (their ``prolong`` is reached only by a staff-requested operation).
    """

    key: ClassVar[str] = ""
    title: ClassVar[str] = ""
    config_class: ClassVar[type[ModuleConfig]] = ModuleConfig
    secret_fields: ClassVar[tuple[str, ...]] = ()
    actions: ClassVar[frozenset[str]] = frozenset()
    prolongs: ClassVar[bool] = False

    def __init__(
        self,
        config: ModuleConfig,
        secrets: Mapping[str, str] | None = None,
        *,
        instance_id: int | None = None,
    ) -> None:
        self.config = config
        self.secrets = dict(secrets or {})
        self.instance_id = instance_id

    @classmethod
    def parse_config(cls, raw: Mapping[str, Any] | None) -> ModuleConfig:
        return cls.config_class.from_mapping(raw)

    @abstractmethod
    def check_connection(self) -> Outcome: ...

    @abstractmethod
    def open(self, ctx: ServiceContext) -> Outcome:
        """Create the remote object; ``succeeded`` carries its ``external_id``."""

    @abstractmethod
    def suspend(self, ctx: ServiceContext) -> Outcome: ...

    @abstractmethod
    def resume(self, ctx: ServiceContext) -> Outcome: ...

    @abstractmethod
    def close(self, ctx: ServiceContext) -> Outcome:
        """Delete the remote object (succeed when it is already gone)."""

    @abstractmethod
    def set_param(self, ctx: ServiceContext) -> Outcome:
        """Apply ``ctx.addon_values`` / ``ctx.parameters`` (already the new values)."""

    @abstractmethod
    def prolong(self, ctx: ServiceContext) -> Outcome: ...

    @abstractmethod
    def sync(self, ctx: ServiceContext) -> Outcome:
        """Did ``ctx.operation`` keyed ``ctx.idempotency_key`` take effect? ``succeeded``: yes
        (with its data); ``failed``: no, it may be run again; ``pending`` / ``unknown``: ask
        later."""

    @abstractmethod
    def stat(self, ctx: ServiceContext, day: date) -> Outcome:
        """Usage of one day: ``succeeded`` with ``values={parameter: number}``."""

    @abstractmethod
    def discover(self) -> Outcome:
        """Remote objects for reconciliation: ``succeeded`` with ``objects=[{...}, ...]``."""

    def action(self, name: str, ctx: ServiceContext) -> Outcome:
        """A per-type action (``start``, ``reboot`` ...) listed in ``actions``."""
        return Outcome.failed(code="unsupported_action", message=f"{self.key}: no action {name}")


#: Every processing module, by key.
modules: Registry[type[ProcessingModule]] = Registry("processing module")

#: The operations every module implements, by name (``ServiceOperation.operation``).
LIFECYCLE_OPERATIONS = frozenset({"open", "suspend", "resume", "close", "set_param", "prolong"})


def call_operation(module: ProcessingModule, ctx: ServiceContext) -> Outcome:
    """Dispatch ``ctx.operation`` to the module method (or ``action`` for per-type actions)."""
    if ctx.operation in LIFECYCLE_OPERATIONS:
        method: typing.Callable[[ServiceContext], Outcome] = getattr(module, ctx.operation)
        return method(ctx)
    return module.action(ctx.operation, ctx)


def validate_config(module_key: str, raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """The canonical config dict of ``raw`` for module ``module_key`` (refuses bad settings)."""
    cls = modules.get(module_key)
    return cls.parse_config(raw).as_dict()
