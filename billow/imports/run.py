"""``import_bundle``: plan, then (unless a dry run) write the plan through the owning apps.

The real run is one durable transaction: groups, clients, logins, payers, opening balances,
services, numbering, then the records that make a rerun a no-op. Any refused row refuses the
whole run before anything is written (``import_refused``); a database error rolls everything
back. Rows go to the owners in chunks so ``progress`` can report on large inputs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from django.db import transaction

from billow.accounts import imports as accounts
from billow.core import clock, rows
from billow.core.actors import Actor
from billow.core.audit import audit_kwargs
from billow.imports.bundle import Bundle
from billow.imports.errors import ImportRefused
from billow.imports.mapping import Mapping
from billow.imports.models import ImportedRecord, ImportRun
from billow.imports.plan import Plan, Planned, plan_import
from billow.imports.state import load_state
from billow.invoicing.actions import continue_numbering
from billow.ledger.actions import OpeningBalance, post_opening_balances
from billow.services import actions as services

CHUNK = 10_000
Progress = Callable[[str, int, int], None]
T = TypeVar("T")


@dataclass(slots=True)
class ImportReport:
    plan: Plan
    dry_run: bool
    #: ids of the users created without a usable password (they need a reset link)
    reset_user_ids: list[int] = field(default_factory=list)
    run_id: int | None = None


def import_bundle(
    bundle: Bundle,
    mapping: Mapping,
    *,
    dry_run: bool,
    actor: Actor | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Import ``bundle`` (or only plan it with ``dry_run``).

    Guarantees: every row is created once per source id (a rerun of the same bundle changes
    nothing); balances are posted to the cent as opening ledger transactions keyed
    ``import:<source>:balance:<client>:<currency>`` (a correction: ``...:amount:<new>:<run
    time>``); a refused row refuses the whole
    run with ``import_refused`` and nothing is written."""
    moment = clock.now(now)
    if dry_run:
        return ImportReport(plan_import(bundle, mapping, load_state(bundle)), dry_run=True)
    with transaction.atomic(durable=True):
        plan = plan_import(bundle, mapping, load_state(bundle))
        if plan.refused:
            raise ImportRefused(
                f"{len(plan.refused)} rows would be refused; nothing was imported",
                refused=[dataclasses.asdict(r) for r in plan.refused[:100]],
                counts=plan.summary(),
            )
        writer = _Writer(plan, bundle, actor, progress or _quiet, moment)
        writer.write()
        run = ImportRun.objects.create(
            source=bundle.source,
            **audit_kwargs(actor, "import.completed", {"counts": plan.summary()}, now=moment),
        )
    return ImportReport(plan, dry_run=False, reset_user_ids=writer.reset_user_ids, run_id=run.pk)


def _quiet(kind: str, done: int, total: int) -> None:
    pass


def _target(planned: Planned) -> int:
    assert planned.target_id is not None  # a changed row was imported before
    return planned.target_id


def _chunks(items: Sequence[T]) -> list[Sequence[T]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


class _Writer:
    def __init__(
        self, plan: Plan, bundle: Bundle, actor: Actor | None, progress: Progress, now: datetime
    ) -> None:
        self.plan, self.bundle, self.actor, self.progress, self.now = (
            plan,
            bundle,
            actor,
            progress,
            now,
        )
        self.source = bundle.source
        self.records: list[tuple[str, str, int | None, str]] = []  # kind, id, target, print
        self.reset_user_ids: list[int] = []
        known = ImportedRecord.objects.filter(source=self.source, kind__in=["group", "client"])
        self.ids: dict[tuple[str, str], int] = {
            (k, s): t for k, s, t in known.values_list("kind", "source_id", "target_id") if t
        }

    def write(self) -> None:
        self._groups()
        self._clients()
        self._users()
        self._payers()
        self._balances()
        self._services()
        self._series()
        self._save_records()

    def _record(self, kind: str, planned: Planned, target_id: int | None) -> None:
        self.records.append(
            self._new_record(kind, dataclasses.replace(planned, target_id=target_id))
        )

    def _each_chunk(
        self, kind: str, items: Sequence[Planned], write: Callable[[Sequence[Planned]], list[Any]]
    ) -> None:
        done = 0
        for chunk in _chunks(items):
            for planned, target in zip(chunk, write(chunk), strict=True):
                self._record(kind, planned, target)
            done += len(chunk)
            self.progress(kind, done, len(items))

    # -- accounts ------------------------------------------------------------------------------
    def _groups(self) -> None:
        new = self.plan.create["group"]
        if not new:
            return
        ids = accounts.ensure_client_groups([p.row.name for p in new], actor=self.actor)
        for planned in new:
            self.ids["group", planned.source_id] = ids[planned.row.name]
            self._record("group", planned, ids[planned.row.name])

    def _group_ids(self, planned: Planned) -> tuple[int, ...]:
        return tuple(self.ids["group", g] for g in planned.row.groups)

    def _clients(self) -> None:
        def write(chunk: Sequence[Planned]) -> list[int]:
            ids = accounts.import_clients(
                [p.value for p in chunk],
                group_ids=[self._group_ids(p) for p in chunk],
                provider_id=self.plan.provider_id,
                actor=self.actor,
                now=self.now,
            )
            for planned, pk in zip(chunk, ids, strict=True):
                self.ids["client", planned.source_id] = pk
            return ids

        self._each_chunk("client", self.plan.create["client"], write)
        changed = self.plan.change["client"]
        if changed:
            accounts.update_imported_clients(
                [(_target(p), p.value) for p in changed], actor=self.actor, now=self.now
            )
            self.records += self._changed("client", changed)

    def _users(self) -> None:
        def write(chunk: Sequence[Planned]) -> list[int]:
            rows = [
                accounts.ImportedUser(
                    client_id=self.ids["client", p.row.client],
                    email=p.value[0],
                    password=p.value[1],
                    is_owner=p.row.owner,
                    permissions=tuple(p.value[2]),
                )
                for p in chunk
            ]
            ids = accounts.import_client_users(rows, now=self.now)
            self.reset_user_ids += [
                pk for pk, row in zip(ids, rows, strict=True) if not row.password
            ]
            return ids

        self._each_chunk("user", self.plan.create["user"], write)

    def _payers(self) -> None:
        def write(chunk: Sequence[Planned]) -> list[int]:
            rows = [
                accounts.ImportedPayer(
                    client_id=self.ids["client", p.row.client],
                    kind=p.row.kind,
                    name=p.row.name,
                    fields=p.value,
                )
                for p in chunk
            ]
            return accounts.import_payers(rows, now=self.now)

        self._each_chunk("payer", self.plan.create["payer"], write)

    # -- ledger --------------------------------------------------------------------------------
    def _balances(self) -> None:
        def write(chunk: Sequence[Planned], changed: bool) -> list[int | None]:
            items = [
                OpeningBalance(
                    client_id=self.ids["client", p.row.client],
                    provider_id=self.plan.provider_id,
                    currency=p.row.currency,
                    amount_minor=p.value,
                    key=self._balance_key(p, changed),
                )
                for p in chunk
            ]
            memo = f"Opening balance imported from {self.source}"
            result = post_opening_balances(items, memo=memo, actor=self.actor)
            ids = iter(result.transaction_ids)
            return [next(ids) if item.amount_minor else None for item in items]

        self._each_chunk("balance", self.plan.create["balance"], lambda c: write(c, False))
        changed = self.plan.change["balance"]
        if changed:
            write(changed, True)
            self.records += self._changed("balance", changed)

    def _balance_key(self, planned: Planned, changed: bool) -> str:
        """The opening posting's key; a correction's names its run (the same amount may come
        back in a later run, and each correction must post)."""
        key = f"import:{self.source}:balance:{planned.source_id}"
        return f"{key}:{planned.fingerprint}:{self.now.isoformat()}" if changed else key

    # -- services and numbering ----------------------------------------------------------------
    def _services(self) -> None:
        def write(chunk: Sequence[Planned]) -> list[int]:
            pairs = [(self.ids["client", p.row.client], p.value) for p in chunk]
            return services.import_services(pairs, actor=self.actor, now=self.now)

        self._each_chunk("service", self.plan.create["service"], write)
        changed = self.plan.change["service"]
        if changed:
            services.update_imported_services(
                [(_target(p), p.value) for p in changed], actor=self.actor, now=self.now
            )
            self.records += self._changed("service", changed)

    def _series(self) -> None:
        for planned in [*self.plan.create["invoice_series"], *self.plan.change["invoice_series"]]:
            series = planned.value
            continue_numbering(
                provider_id=self.plan.provider_id,
                year=series.year,
                kind=series.kind,
                last_number=series.last_number,
            )
        self.records += [
            self._new_record("invoice_series", p) for p in self.plan.create["invoice_series"]
        ]
        self.records += self._changed("invoice_series", self.plan.change["invoice_series"])

    # -- records -------------------------------------------------------------------------------
    def _new_record(self, kind: str, planned: Planned) -> tuple[str, str, int | None, str]:
        return (kind, planned.source_id, planned.target_id, planned.fingerprint)

    def _changed(
        self, kind: str, changed: Sequence[Planned]
    ) -> list[tuple[str, str, int | None, str]]:
        """Changed rows keep their record; it is replaced (deleted here, inserted with the new
        fingerprint by ``_save_records``)."""
        ImportedRecord.objects.filter(
            source=self.source, kind=kind, source_id__in=[p.source_id for p in changed]
        ).delete()
        return [self._new_record(kind, p) for p in changed]

    def _save_records(self) -> None:
        rows.write_new(
            ImportedRecord,
            ("source", "kind", "source_id", "target_id", "fingerprint", "imported_at"),
            [(self.source, *record, self.now) for record in self.records],
        )
        self.progress("records", len(self.records), len(self.records))
