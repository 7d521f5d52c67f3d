"""The ``vmmanager6`` module: VMs on an ISPsystem VMmanager 6 installation over its HTTP API
(auth v4, ``/vm/v3``). ``testserver`` is a local VMmanager 6 for tests and demos."""

from billow.services.modules.vmmanager6.config import VmManager6Config
from billow.services.modules.vmmanager6.module import VmManager6Module

__all__ = ["VmManager6Config", "VmManager6Module"]
