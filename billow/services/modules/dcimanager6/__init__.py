"""The ``dcimanager6`` module: dedicated servers in DCImanager 6 (reference §3.2)."""

from billow.services.modules.dcimanager6.config import Dci6Config
from billow.services.modules.dcimanager6.module import Dci6Module, reveal_credentials

__all__ = ["Dci6Config", "Dci6Module", "reveal_credentials"]
