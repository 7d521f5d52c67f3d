"""An in-process fake panel. Remote objects live in a module-level store (one per instance id),
so they survive across calls in one process and vanish with it; ``reset_store`` empties it.

Failure modes (``fail_mode``):

- ``none``: every call succeeds;
- ``transport_error_n_times``: the first ``fail_times`` calls with one idempotency key raise
  ``RetryableError`` (before doing anything), later calls succeed;
- ``always_fail``: every operation returns a ``failed`` outcome (nothing is done);
- ``unknown_then_succeed``: the first call with a key does the work but answers ``unknown``
  (a lost response); ``sync`` then reports it succeeded.

Every operation is idempotent by key: a replay returns the first answer and changes nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from billow.core.errors import RetryableError
from billow.services.errors import ModuleConfigError
from billow.services.modules.base import (
    ModuleConfig,
    Outcome,
    ProcessingModule,
    ServiceContext,
    modules,
)

FailMode = Literal["none", "transport_error_n_times", "always_fail", "unknown_then_succeed"]


@dataclass(frozen=True)
class DummyConfig(ModuleConfig):
    latency_ms: int = 0
    fail_mode: FailMode = "none"
    fail_times: int = 1

    def validate(self) -> None:
        if not 0 <= self.latency_ms <= 60_000:
            raise ModuleConfigError("latency_ms must be 0..60000", field="latency_ms")
        if self.fail_times < 0:
            raise ModuleConfigError("fail_times must be >= 0", field="fail_times")


@dataclass
class DummyStore:
    """One fake panel: objects by external id, answers by idempotency key, call counts."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    next_id: int = 1


_stores: dict[int | None, DummyStore] = {}
_lock = threading.RLock()


def store(instance_id: int | None) -> DummyStore:
    with _lock:
        return _stores.setdefault(instance_id, DummyStore())


def reset_store() -> None:
    with _lock:
        _stores.clear()


_STATE_AFTER = {
    "suspend": "suspended",
    "resume": "running",
    "close": "deleted",
    "start": "running",
    "stop": "stopped",
    "reboot": "running",
}


@modules.register("dummy")
class DummyModule(ProcessingModule):
    key = "dummy"
    title = "Dummy (in-process fake panel)"
    config_class = DummyConfig
    secret_fields = ("password",)
    actions = frozenset({"start", "stop", "reboot"})
    prolongs = True  # records every renewal, so tests see the billing run call it

    @property
    def cfg(self) -> DummyConfig:
        assert isinstance(self.config, DummyConfig)
        return self.config

    @property
    def store(self) -> DummyStore:
        return store(self.instance_id)

    # -- the common path -------------------------------------------------------------------

    def _run(self, ctx: ServiceContext, work: Callable[[DummyStore], dict[str, Any]]) -> Outcome:
        if self.cfg.latency_ms:
            time.sleep(self.cfg.latency_ms / 1000)
        with _lock:
            st = self.store
            n = st.calls[ctx.idempotency_key] = st.calls.get(ctx.idempotency_key, 0) + 1
            mode = self.cfg.fail_mode
            if mode == "transport_error_n_times" and n <= self.cfg.fail_times:
                raise RetryableError(f"dummy: connection reset (call {n})", code="transport_error")
            if mode == "always_fail":
                return Outcome.failed(code="dummy_failure", message="dummy: the panel said no")
            answer = st.answers.get(ctx.idempotency_key)
            if answer is None:
                answer = st.answers[ctx.idempotency_key] = work(st)
            if mode == "unknown_then_succeed" and n == 1:
                return Outcome.unknown(message="dummy: the response was lost")
            return Outcome.succeeded(**answer)

    def _object(self, st: DummyStore, ctx: ServiceContext) -> dict[str, Any] | None:
        return st.objects.get(ctx.external_id) if ctx.external_id else None

    def _set_state(self, ctx: ServiceContext, op: str) -> Outcome:
        def work(st: DummyStore) -> dict[str, Any]:
            obj = self._object(st, ctx)
            if obj is not None:
                obj["state"] = _STATE_AFTER[op]
            return {"state": _STATE_AFTER[op], "found": obj is not None}

        return self._run(ctx, work)

    # -- operations ------------------------------------------------------------------------

    def check_connection(self) -> Outcome:
        if self.cfg.fail_mode == "always_fail":
            return Outcome.failed(code="dummy_failure", message="dummy: cannot connect")
        return Outcome.succeeded(message="dummy: connected")

    def open(self, ctx: ServiceContext) -> Outcome:
        def work(st: DummyStore) -> dict[str, Any]:
            external_id = f"dummy-{self.instance_id or 0}-{st.next_id}"
            st.next_id += 1
            st.objects[external_id] = {
                "external_id": external_id,
                "service_id": ctx.service_id,
                "state": "running",
                "key": ctx.idempotency_key,
                "addon_values": dict(ctx.addon_values),
                "parameters": dict(ctx.parameters),
            }
            return {"external_id": external_id}

        return self._run(ctx, work)

    def suspend(self, ctx: ServiceContext) -> Outcome:
        return self._set_state(ctx, "suspend")

    def resume(self, ctx: ServiceContext) -> Outcome:
        return self._set_state(ctx, "resume")

    def close(self, ctx: ServiceContext) -> Outcome:
        return self._set_state(ctx, "close")

    def action(self, name: str, ctx: ServiceContext) -> Outcome:
        if name not in self.actions:
            return super().action(name, ctx)
        return self._set_state(ctx, name)

    def set_param(self, ctx: ServiceContext) -> Outcome:
        def work(st: DummyStore) -> dict[str, Any]:
            obj = self._object(st, ctx)
            if obj is not None:
                obj["addon_values"], obj["parameters"] = (
                    dict(ctx.addon_values),
                    dict(ctx.parameters),
                )
            return {"found": obj is not None}

        return self._run(ctx, work)

    def prolong(self, ctx: ServiceContext) -> Outcome:
        return self._run(ctx, lambda st: {"prolonged": True})

    def sync(self, ctx: ServiceContext) -> Outcome:
        with _lock:
            answer = self.store.answers.get(ctx.idempotency_key)
        if answer is None:
            return Outcome.failed(code="not_applied", message="dummy: never received")
        return Outcome.succeeded(**answer)

    def stat(self, ctx: ServiceContext, day: date) -> Outcome:
        return Outcome.succeeded(values={"traffic_gib": 0})

    def discover(self) -> Outcome:
        with _lock:
            objects = [dict(o) for o in self.store.objects.values() if o["state"] != "deleted"]
        return Outcome.succeeded(objects=objects)
