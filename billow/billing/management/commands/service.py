"""``billow service <operation> ID ... --reason TEXT``: the staff service operations from a shell
(the same actions as the admin and the staff API; issue 13.1).

    billow service suspend 42 --reason "phishing" [--abuse]
    billow service resume 42 --reason "cleaned"
    billow service paid-until 42 2027-01-31 --reason "goodwill"
    billow service special-price 42 7.50 --reason "deal"      (major units; "none" clears it)
    billow service plan 42 [--tariff 7] [--addon cpu=4 ...] [--no-charge] --reason "..."
    billow service renew 42 [--period 3m] [--no-charge] --reason "..."
    billow service delete 42 [--when now|period_end] [--refund] --reason "..."
    billow service rerun 42 --reason "panel back"
    billow service attach 42 vm-123 [--module-instance 3] --reason "..."
    billow service create --client 5 --tariff 7 --period 1m --currency USD
        [--addon cpu=2] [--param os=debian-12] [--paid-until DATE] [--charge] [--open]
        --reason "..."

Actor: ``--staff USERNAME`` (a staff user), else the system labelled ``cli``. A refusal prints
its code and exits 1, having written nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from billow.accounts.models import Client
from billow.billing import actions as billing
from billow.catalog.models import Tariff
from billow.core.actors import Actor
from billow.core.errors import BillowError
from billow.core.money import Money
from billow.services import actions as services
from billow.services.models import ModuleInstance, Service


def _values(pairs: list[str] | None) -> dict[str, Any]:
    """``name=value`` pairs; integer values become ints, true/false booleans."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise CommandError(f"expected name=value, not {pair!r}")
        low = raw.lower()
        if low in ("true", "false"):
            out[name] = low == "true"
        elif raw.lstrip("-").isdigit():
            out[name] = int(raw)
        else:
            out[name] = raw
    return out


def _date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(f"bad date {raw!r}: {exc}") from exc


class Command(BaseCommand):
    help = "Staff operations on a service (suspend, resume, renew, delete ...); see --help."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--staff", help="act as this staff username (default: system)")
        sub = parser.add_subparsers(dest="operation", required=True)

        def op(name: str, help: str, *, service: bool = True) -> CommandParser:
            p = sub.add_parser(name, help=help)
            if service:
                p.add_argument("service_id", type=int)
            p.add_argument("--reason", required=True)
            return p

        op("suspend", "suspend by staff").add_argument("--abuse", action="store_true")
        op("resume", "resume a suspended service")
        op("rerun", "re-run the latest failed operation")
        op("paid-until", "set paid-until (exclusive)").add_argument("date")
        op("special-price", "set (major units) or clear (none)").add_argument("amount")
        p = op("plan", "change tariff and/or addons")
        p.add_argument("--tariff", type=int)
        p.add_argument("--addon", action="append")
        p.add_argument("--no-charge", action="store_true")
        p = op("renew", "renew for a period")
        p.add_argument("--period")
        p.add_argument("--no-charge", action="store_true")
        p = op("delete", "delete (the product type's policy by default)")
        p.add_argument("--when", choices=["now", "period_end"])
        p.add_argument("--refund", action="store_true")
        p = op("attach", "link an existing remote object")
        p.add_argument("external_id")
        p.add_argument("--module-instance", type=int)
        p = op("create", "create a service for a client", service=False)
        p.add_argument("--client", type=int, required=True)
        p.add_argument("--tariff", type=int, required=True)
        p.add_argument("--period", required=True)
        p.add_argument("--currency", required=True)
        p.add_argument("--addon", action="append")
        p.add_argument("--param", action="append")
        p.add_argument("--name", default="")
        p.add_argument("--paid-until")
        p.add_argument("--charge", action="store_true")
        p.add_argument("--open", action="store_true", help="open it in the module")

    def handle(self, *args: Any, **o: Any) -> None:
        actor = self._actor(o["staff"])
        run: Callable[[], Service] = self._operation(o, actor)
        try:
            service = run()
        except BillowError as exc:
            self.stderr.write(json.dumps({"code": exc.code, "message": exc.message}))
            raise SystemExit(1) from None
        service.refresh_from_db()
        self.stdout.write(
            json.dumps(
                {
                    "service": service.pk,
                    "status": service.status,
                    "paid_until": service.paid_until.isoformat() if service.paid_until else None,
                    "tariff": service.tariff_id,
                }
            )
        )

    @staticmethod
    def _actor(username: str | None) -> Actor:
        if not username:
            return Actor.system("cli")
        user = get_user_model().objects.filter(username=username, is_staff=True).first()
        if user is None:
            raise CommandError(f"no staff user {username!r}")
        return Actor.staff(user)

    def _operation(self, o: dict[str, Any], actor: Actor) -> Callable[[], Service]:
        name, reason = o["operation"], o["reason"]
        if name == "create":
            return self._create(o, actor)
        service = Service.objects.filter(pk=o["service_id"]).first()
        if service is None:
            raise CommandError(f"no service {o['service_id']}")
        common: dict[str, Any] = {"service": service, "actor": actor, "reason": reason}
        table: dict[str, Callable[[], Service]] = {
            "suspend": lambda: services.suspend_service_by_staff(**common, abuse=o["abuse"]),
            "resume": lambda: services.resume_service_by_staff(**common),
            "rerun": lambda: services.rerun_failed_operation(**common),
            "paid-until": lambda: services.set_service_paid_until_by_staff(
                **common, paid_until=_date(o["date"])
            ),
            "special-price": lambda: services.set_service_special_price(
                **common, amount_minor=self._price(o["amount"], service.currency)
            ),
            "plan": lambda: billing.change_service_plan(
                **common,
                tariff=self._tariff(o["tariff"]) if o["tariff"] else None,
                addon_values=_values(o["addon"]),
                charge=not o["no_charge"],
            ),
            "renew": lambda: billing.renew_service_by_staff(
                **common, period=o["period"], charge=not o["no_charge"]
            ),
            "delete": lambda: billing.delete_service_by_staff(
                **common, when=o["when"], refund=o["refund"]
            ),
            "attach": lambda: services.attach_remote_object(
                **common,
                external_id=o["external_id"],
                module_instance=self._instance(o["module_instance"]),
            ),
        }
        return table[name]

    def _create(self, o: dict[str, Any], actor: Actor) -> Callable[[], Service]:
        client = Client.objects.filter(pk=o["client"]).first()
        if client is None:
            raise CommandError(f"no client {o['client']}")
        new = services.NewService(
            client=client,
            tariff=self._tariff(o["tariff"]),
            period=o["period"],
            currency=o["currency"],
            addon_values=_values(o["addon"]),
            parameters={k: str(v) for k, v in _values(o["param"]).items()},
            name=o["name"],
            paid_until=_date(o["paid_until"]) if o["paid_until"] else None,
            open_in_module=o["open"],
        )
        return lambda: billing.create_service_for_client(
            new=new, charge=o["charge"], actor=actor, reason=o["reason"]
        )

    @staticmethod
    def _tariff(pk: int) -> Tariff:
        tariff = Tariff.objects.filter(pk=pk).first()
        if tariff is None:
            raise CommandError(f"no tariff {pk}")
        return tariff

    @staticmethod
    def _instance(pk: int | None) -> ModuleInstance | None:
        if pk is None:
            return None
        instance = ModuleInstance.objects.filter(pk=pk).first()
        if instance is None:
            raise CommandError(f"no module instance {pk}")
        return instance

    @staticmethod
    def _price(raw: str, currency: str) -> int | None:
        """Major units in the service's currency (``7.50``), or ``none`` to clear."""
        if raw.lower() == "none":
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation as exc:
            raise CommandError(f"bad amount {raw!r}") from exc
        money = Money.from_decimal(value, currency)
        if money.to_decimal() != value:
            raise CommandError(f"too many decimal places for {currency}")
        return money.amount_minor
