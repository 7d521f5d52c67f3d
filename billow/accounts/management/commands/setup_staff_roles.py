"""``billow setup_staff_roles``: create/update the staff groups and their permissions."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from billow.accounts.staff import setup_staff_roles


class Command(BaseCommand):
    help = "Create or update the staff groups (Administrators, Billing operators, Support)."

    def handle(self, *args: Any, **options: Any) -> None:
        for role in setup_staff_roles():
            verb = "created" if role.created else "updated"
            self.stdout.write(f"{role.name}: {verb}, {role.permission_count} permissions")
