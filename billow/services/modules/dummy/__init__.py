"""The ``dummy`` module: an in-process fake panel with latency and failure modes (tests, demo)."""

from billow.services.modules.dummy.module import DummyConfig, DummyModule, reset_store, store

__all__ = ["DummyConfig", "DummyModule", "reset_store", "store"]
