"""``billow import``: bring clients and services over from WHMCS, BILLmanager or a bundle."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billow.core.actors import Actor, ActorKind
from billow.core.errors import BillowError
from billow.imports.bundle import Bundle, read_bundle, write_bundle
from billow.imports.converters import CONVERTERS
from billow.imports.mapping import read_mapping
from billow.imports.plan import OUTCOMES
from billow.imports.reset_links import write_reset_links
from billow.imports.run import ImportReport, import_bundle


class Command(BaseCommand):
    help = (
        "Import a migration bundle (docs/migration.md), or convert a WHMCS / BILLmanager export "
        "into one (--from). --dry-run prints what would be created, changed and refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="bundle (JSON file or CSV directory), or the export")
        parser.add_argument(
            "--from",
            dest="converter",
            choices=sorted(CONVERTERS),
            help="convert this system's export (WHMCS: MySQL dump or CSV directory; "
            "BILLmanager: directory of XML API exports) first",
        )
        parser.add_argument("--write-bundle", help="only convert: write the bundle here")
        parser.add_argument("--mapping", help="the mapping file (JSON)")
        parser.add_argument("--dry-run", action="store_true", help="plan only; write nothing")
        parser.add_argument("--reset-links", help="write email,link CSV for users to reset")
        parser.add_argument("--base-url", default="", help="site URL for the reset links")
        parser.add_argument("--quiet-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            bundle = self._bundle(options)
            if options["write_bundle"]:
                write_bundle(bundle, options["write_bundle"])
                self._counts_of(bundle)
                return
            if not options["mapping"]:
                raise CommandError("--mapping is required to import")
            report = import_bundle(
                bundle,
                read_mapping(options["mapping"]),
                dry_run=options["dry_run"],
                actor=Actor(ActorKind.SYSTEM, "", "billow import"),
                progress=None if options["quiet_progress"] else self._progress,
            )
        except BillowError as exc:
            refused = exc.details.get("refused") or []
            for row in refused[:50]:
                self.stderr.write(self._refusal_line(row))
            raise CommandError(f"{exc.code}: {exc.message}") from None
        self._print(report)
        if report.reset_user_ids and options["reset_links"]:
            count = write_reset_links(
                report.reset_user_ids, options["base_url"], options["reset_links"]
            )
            self.stdout.write(f"{count} password reset links written to {options['reset_links']}")

    def _bundle(self, options: dict[str, Any]) -> Bundle:
        if options["converter"]:
            return CONVERTERS[options["converter"]](Path(options["source"]))
        return read_bundle(options["source"])

    def _progress(self, kind: str, done: int, total: int) -> None:
        sys.stderr.write(f"  {kind}: {done:,}/{total:,}\n")

    def _counts_of(self, bundle: Bundle) -> None:
        for name, count in bundle.counts().items():
            self.stdout.write(f"{name:15} {count:>9,}")
        for note in bundle.notes:
            self.stdout.write(f"note: {note}")

    @staticmethod
    def _refusal_line(row: dict[str, str]) -> str:
        return f"refused {row['kind']} {row['source_id']}: {row['code']} ({row['message']})"

    def _print(self, report: ImportReport) -> None:
        plan = report.plan
        head = "would be" if report.dry_run else "done"
        self.stdout.write(f"import from {plan.source} ({head}):")
        self.stdout.write(f"{'':15}" + "".join(f"{o:>11}" for o in OUTCOMES))
        for kind, counts in plan.summary().items():
            self.stdout.write(f"{kind:15}" + "".join(f"{counts[o]:>11,}" for o in OUTCOMES))
        for refusal in plan.refused[:50]:
            self.stdout.write(self._refusal_line(dataclasses.asdict(refusal)))
        if len(plan.refused) > 50:
            self.stdout.write(f"... and {len(plan.refused) - 50} more refused rows")
        if report.dry_run and plan.refused:
            self.stdout.write("The real run refuses the whole import until these rows are fixed.")
        if report.reset_user_ids:
            self.stdout.write(f"{len(report.reset_user_ids)} users need a password reset link")
