"""A referral world on top of the billing test world: a program, partners, referrals, and the
referral job run for any day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from billow.accounts.models import Client
from billow.ledger.models import AccountKind, LedgerAccount
from billow.marketing.referrals.attribution import attribute_signup, join_referral_program
from billow.marketing.referrals.daily import run_referral_day
from billow.marketing.referrals.models import (
    Referral,
    ReferralPartner,
    ReferralPayout,
    ReferralProgram,
    ReferralReward,
)
from billow.marketing.referrals.programs import add_referral_rule, create_referral_program
from tests.billing.world import World, at


class ReferralWorld(World):
    def program(self, **fields: Any) -> ReferralProgram:
        defaults: dict[str, Any] = {
            "name": "Friends",
            "currency": "USD",
            "starts_on": date(2025, 1, 1),
            "website_url": "https://host.example/",
        }
        return create_referral_program(provider=self.provider, **{**defaults, **fields})

    @staticmethod
    def rule(program: ReferralProgram, **fields: Any) -> Any:
        fields.setdefault("accrual_type", "percent")
        if fields["accrual_type"] == "percent":
            fields.setdefault("percent", Decimal(10))
        return add_referral_rule(program=program, **fields)

    def partner(self, program: ReferralProgram, balance: int = 0) -> ReferralPartner:
        client = self.client(balance=balance)
        client.providers.add(self.provider)
        return join_referral_program(client=client, program=program, now=at(date(2025, 1, 1)))

    def referral(self, partner: ReferralPartner, joined: date, balance: int = 100_000) -> Client:
        client = self.client(balance=balance)
        client.providers.add(self.provider)
        referral = attribute_signup(client=client, partner_id=partner.pk, now=at(joined, 8))
        assert referral is not None
        return client

    @staticmethod
    def run(day: date) -> dict[str, Any]:
        return run_referral_day(day=day, now=at(day, 0))

    @staticmethod
    def rewards(partner: ReferralPartner) -> list[tuple[date, int]]:
        return list(
            ReferralReward.objects.filter(partner=partner)
            .order_by("day", "id")
            .values_list("day", "amount_minor")
        )

    @staticmethod
    def payouts(partner: ReferralPartner) -> list[tuple[date, int, str, str]]:
        return list(
            ReferralPayout.objects.filter(partner=partner)
            .order_by("month", "id")
            .values_list("month", "amount_minor", "method", "status")
        )

    def payable(self, partner: ReferralPartner) -> int:
        row = LedgerAccount.objects.filter(
            kind=AccountKind.REFERRAL_PAYABLE, client_id=partner.client_id, currency="USD"
        ).first()
        return row.balance_minor if row else 0

    @staticmethod
    def live_referral(client: Client) -> Referral | None:
        return Referral.objects.filter(client=client, unlinked_at__isnull=True).first()
