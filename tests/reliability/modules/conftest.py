"""The services tests' fixtures: a client, a tariff, the dummy module instance, a service."""

from tests.services.conftest import _isolated, client, dummy, provider, service, tariff, vps_type

__all__ = ["_isolated", "client", "dummy", "provider", "service", "tariff", "vps_type"]
