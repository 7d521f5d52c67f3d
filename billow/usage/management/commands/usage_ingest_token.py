"""``billow usage_ingest_token <module instance id> <name>``: a new ingest token for a module
instance's agents (printed once), or ``--revoke <prefix>``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billow.core.actors import Actor
from billow.usage.actions import create_ingest_token, revoke_ingest_token
from billow.usage.models import IngestToken


class Command(BaseCommand):
    help = "Create (or revoke) a usage ingest token of a processing module instance."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("module_instance_id", type=int, nargs="?")
        parser.add_argument("name", nargs="?", default="agent")
        parser.add_argument("--revoke", metavar="PREFIX", help="revoke the token with this prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("usage_ingest_token")
        if options["revoke"]:
            token = IngestToken.objects.filter(prefix=options["revoke"]).first()
            if token is None:
                raise CommandError("no such token")
            revoke_ingest_token(token=token, actor=actor)
            self.stdout.write(f"revoked {token}")
            return
        if options["module_instance_id"] is None:
            raise CommandError("give a module instance id (or --revoke PREFIX)")
        _token, raw = create_ingest_token(
            module_instance_id=options["module_instance_id"], name=options["name"], actor=actor
        )
        self.stdout.write(raw)
