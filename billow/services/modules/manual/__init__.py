"""The ``manual`` module: every operation becomes a staff Task (reference §1.17 "Manual setup")."""

from billow.services.modules.manual.module import ManualConfig, ManualModule

__all__ = ["ManualConfig", "ManualModule"]
