"""Run in a subprocess by test_crash_rerun.py: ``seed`` a database, or ``verify`` it (JSON).

python -m tests.scenarios.crash_helper seed CLIENTS PER_CLIENT YYYY-MM-DD
python -m tests.scenarios.crash_helper verify YYYY-MM-DD
"""

from __future__ import annotations

import json
import sys
from datetime import date


def seed(clients: int, per_client: int, day: date) -> None:
    from billow.accounts.models import Client, Provider
    from billow.catalog import actions as catalog
    from billow.ledger.actions import adjust_client_balance
    from billow.ledger.models import AccountKind
    from billow.ledger.selectors import get_or_create_account
    from billow.services.models import Service

    catalog.create_currency(code="USD", name="US dollar", symbol="$")
    provider = Provider.objects.create(name="Crash Hosting", code="crash")
    vps = catalog.create_product_type(name="VPS", intname="vps")
    tariff = catalog.create_tariff(provider_id=provider.pk, product_type=vps, name="VPS")
    catalog.set_tariff_price(tariff=tariff, period="1m", currency="USD", amount_minor=1000)
    catalog.set_tariff_price(tariff=tariff, period="day", currency="USD", amount_minor=40)
    people = Client.objects.bulk_create(
        Client(name=f"c{i}", email=f"c{i}@example.com") for i in range(clients)
    )
    services = []
    for i, client in enumerate(people):
        if i % 7:  # every 7th client has no money: its services are suspended
            account = get_or_create_account(
                kind=AccountKind.CLIENT_BALANCE, currency="USD", client=client, provider=provider
            )
            adjust_client_balance(
                account=account,
                amount_minor=1000 * per_client + 500,
                direction="credit",
                reason="seed",
                nonce=f"seed-{i}",
            )
        for k in range(per_client):
            daily = k == 0 and i % 3 == 0
            services.append(
                Service(
                    client=client,
                    provider=provider,
                    tariff=tariff,
                    currency="USD",
                    period="day" if daily else "1m",
                    auto_renew_period="" if daily else "1m",
                    billing_mode="anniversary",
                    anchor_day=day.day,
                    status="active",
                    paid_until=day,
                )
            )
    Service.objects.bulk_create(services)


def verify(day: date) -> dict[str, object]:
    from django.db.models import Count

    from billow.billing.models import BillingRun, Expense
    from billow.ledger.models import LedgerTransaction
    from billow.services.models import Service

    per_service = dict(
        Expense.objects.filter(kind="charge", reason="period", period_from=day)
        .values("service_id")
        .annotate(n=Count("id"))
        .values_list("service_id", "n")
    )
    keys = set(Expense.objects.filter(kind="charge").values_list("key", flat=True))
    txn_keys = set(
        LedgerTransaction.objects.filter(kind="charge").values_list("idempotency_key", flat=True)
    )
    statuses = dict(
        Service.objects.values("status").annotate(n=Count("id")).values_list("status", "n")
    )
    runs = list(BillingRun.objects.values_list("status", flat=True))
    return {
        "services": Service.objects.count(),
        "charged_services": len(per_service),
        "max_charges_per_service": max(per_service.values(), default=0),
        "expense_keys_match_ledger": keys == txn_keys,
        "statuses": statuses,
        "runs": runs,
    }


def main() -> None:
    import django

    django.setup()
    command = sys.argv[1]
    if command == "seed":
        seed(int(sys.argv[2]), int(sys.argv[3]), date.fromisoformat(sys.argv[4]))
    else:
        sys.stdout.write(json.dumps(verify(date.fromisoformat(sys.argv[2]))) + "\n")


if __name__ == "__main__":
    main()
