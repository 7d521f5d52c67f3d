"""``manage.py vmmanager6_sync_os <instance id>``: pull VMmanager's OS list into the OS
parameter values of the product types the instance serves."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billow.core.errors import BillowError
from billow.services.models import ModuleInstance
from billow.services.modules.vmmanager6.os_sync import sync_os_values


class Command(BaseCommand):
    help = "Sync a VMmanager 6 instance's OS templates into the OS parameter values."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("instance_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        instance = ModuleInstance.objects.filter(pk=options["instance_id"]).first()
        if instance is None:
            raise CommandError(f"no module instance {options['instance_id']}")
        try:
            result = sync_os_values(instance)
        except BillowError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        for product_type, counts in sorted(result.items()):
            shown = ", ".join(f"{k}={v}" for k, v in counts.items())
            self.stdout.write(f"{product_type}: {shown}")
