"""Referral program endpoints: the partner's page and joining a program (client, scope
``billing``); programs, rules, referrals with manual link / unlink, rewards and payouts with
confirm / reject (staff). Writes call the referral actions; refusals carry their codes."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from billow.accounts.models import Client, Provider
from billow.api.serializers import referrals as s
from billow.api.views.base import ClientView, validated
from billow.api.views.staff import StaffView
from billow.marketing.referrals.attribution import (
    join_referral_program,
    link_referral,
    unlink_referral,
)
from billow.marketing.referrals.models import (
    Referral,
    ReferralPartner,
    ReferralPayout,
    ReferralProgram,
    ReferralReward,
)
from billow.marketing.referrals.payout import confirm_bank_payout, reject_bank_payout
from billow.marketing.referrals.programs import add_referral_rule, create_referral_program
from billow.marketing.referrals.selectors import (
    PartnerInfo,
    get_partner_info,
    list_joinable_programs,
    list_partners_for_client,
    list_referral_rows,
)


def _partner_body(info: PartnerInfo) -> dict[str, Any]:
    cur = info.currency
    return {
        "partner_id": info.partner.pk,
        "program_id": info.program.pk,
        "program": info.program.name,
        "link": info.link,
        "promo_code": info.promo_code,
        "clicks": info.clicks,
        "unpaid_minor": info.unpaid_minor,
        "currency": cur,
        "referrals": [{**asdict(r), "currency": cur} for r in info.referrals],
        "months": [{**asdict(m), "currency": cur} for m in info.months],
    }


class PartnerView(ClientView):
    """GET: the client's partnerships (link, code, clicks, referrals, rewards by month);
    POST ``program_id``: take part in a program of the client's providers."""

    scope = "billing"
    pagination_class = None  # a client takes part in a handful of programs at most

    @extend_schema(responses=s.PartnerOut(many=True), operation_id="referrals_list")
    def get(self, request: Request) -> Response:
        infos = [get_partner_info(p) for p in list_partners_for_client(self.client_id)]
        return Response(s.PartnerOut([_partner_body(i) for i in infos], many=True).data)

    @extend_schema(request=s.JoinIn, responses={201: s.PartnerOut})
    def post(self, request: Request) -> Response:
        data = validated(s.JoinIn, request.data)
        client = Client.objects.get(pk=self.client_id)
        program = list_joinable_programs(client).filter(pk=data["program_id"]).first()
        if program is None:
            existing = ReferralPartner.objects.filter(
                client=client, program_id=data["program_id"]
            ).first()
            if existing is None:
                raise Http404
            return Response(s.PartnerOut(_partner_body(get_partner_info(existing))).data)
        partner = join_referral_program(client=client, program=program, actor=self.actor)
        body = _partner_body(get_partner_info(partner))
        return Response(s.PartnerOut(body).data, status=status.HTTP_201_CREATED)


class StaffProgramListView(StaffView, generics.ListAPIView):
    serializer_class = s.ReferralProgramOut
    staff_perms = {
        "GET": ("marketing.view_referralprogram",),
        "POST": ("marketing.add_referralprogram",),
    }

    def get_queryset(self) -> QuerySet[Any]:
        return ReferralProgram.objects.order_by("id")

    @extend_schema(request=s.ReferralProgramIn, responses={201: s.ReferralProgramOut})
    def post(self, request: Request) -> Response:
        data = validated(s.ReferralProgramIn, request.data)
        provider = self.get_or_404(Provider.objects.all(), pk=data.pop("provider_id"))
        program = create_referral_program(provider=provider, actor=self.actor, **data)
        return Response(s.ReferralProgramOut(program).data, status=status.HTTP_201_CREATED)


class StaffRuleView(StaffView):
    staff_perms = {"POST": ("marketing.change_referralprogram",)}

    @extend_schema(request=s.ReferralRuleIn, responses={201: s.ReferralRuleOut})
    def post(self, request: Request) -> Response:
        data = validated(s.ReferralRuleIn, request.data)
        program = self.get_or_404(ReferralProgram.objects.all(), pk=data.pop("program_id"))
        rule = add_referral_rule(program=program, actor=self.actor, **data)
        return Response(s.ReferralRuleOut(rule).data, status=status.HTTP_201_CREATED)


class StaffReferralListView(StaffView):
    staff_perms = {"GET": ("marketing.view_referral",)}
    pagination_class = None  # filtered by program or partner: one program's referrals

    @extend_schema(parameters=[s.ReferralFilter], responses=s.ReferralRowOut(many=True))
    def get(self, request: Request) -> Response:
        f = validated(s.ReferralFilter, request.query_params)
        rows = Referral.objects.select_related("partner__program")
        if f.get("program_id"):
            rows = rows.filter(partner__program_id=f["program_id"])
        if f.get("partner_id"):
            rows = rows.filter(partner_id=f["partner_id"])
        currency = {r.pk: r.partner.program.currency for r in rows}
        body = [{**asdict(r), "currency": currency[r.id]} for r in list_referral_rows(rows)]
        return Response(s.ReferralRowOut(body, many=True).data)


class StaffLinkView(StaffView):
    staff_perms = {"POST": ("marketing.change_referral",)}

    @extend_schema(request=s.LinkIn, responses={201: s.ReferralRowOut})
    def post(self, request: Request) -> Response:
        data = validated(s.LinkIn, request.data)
        client = Client.objects.filter(pk=data["client_id"]).first()
        partner = (
            ReferralPartner.objects.select_related("program").filter(pk=data["partner_id"]).first()
        )
        if client is None or partner is None:
            raise Http404
        referral = link_referral(
            client=client, partner=partner, reason=data["reason"], actor=self.actor
        )
        (row,) = list_referral_rows(Referral.objects.filter(pk=referral.pk))
        body = {**asdict(row), "currency": partner.program.currency}
        return Response(s.ReferralRowOut(body).data, status=status.HTTP_201_CREATED)


class StaffUnlinkView(StaffView):
    staff_perms = {"POST": ("marketing.change_referral",)}

    @extend_schema(request=s.UnlinkIn, responses={200: s.ReferralRowOut})
    def post(self, request: Request) -> Response:
        data = validated(s.UnlinkIn, request.data)
        client = self.get_or_404(Client.objects.all(), pk=data["client_id"])
        referral = unlink_referral(client=client, reason=data["reason"], actor=self.actor)
        (row,) = list_referral_rows(Referral.objects.filter(pk=referral.pk))
        body = {**asdict(row), "currency": referral.partner.program.currency}
        return Response(s.ReferralRowOut(body).data)


class StaffRewardListView(StaffView, generics.ListAPIView):
    serializer_class = s.RewardOut
    staff_perms = {"GET": ("marketing.view_referralreward",)}

    @extend_schema(parameters=[s.ReferralFilter])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        f = validated(s.ReferralFilter, self.request.query_params)
        rows = ReferralReward.objects.order_by("-day", "id")
        if f.get("program_id"):
            rows = rows.filter(partner__program_id=f["program_id"])
        if f.get("partner_id"):
            rows = rows.filter(partner_id=f["partner_id"])
        return rows


class StaffPayoutListView(StaffView, generics.ListAPIView):
    serializer_class = s.PayoutOut
    staff_perms = {"GET": ("marketing.view_referralpayout",)}

    def get_queryset(self) -> QuerySet[Any]:
        return ReferralPayout.objects.order_by("-month", "id")


class StaffPayoutConfirmView(StaffView):
    staff_perms = {"POST": ("marketing.change_referralpayout",)}

    @extend_schema(request=s.PayoutDecisionIn, responses={200: s.PayoutOut})
    def post(self, request: Request) -> Response:
        data = validated(s.PayoutDecisionIn, request.data)
        payout = self.get_or_404(ReferralPayout.objects.all(), pk=data["payout_id"])
        payout = confirm_bank_payout(payout=payout, actor=self.actor)
        return Response(s.PayoutOut(payout).data)


class StaffPayoutRejectView(StaffView):
    staff_perms = {"POST": ("marketing.change_referralpayout",)}

    @extend_schema(request=s.PayoutDecisionIn, responses={200: s.PayoutOut})
    def post(self, request: Request) -> Response:
        data = validated(s.PayoutDecisionIn, request.data)
        payout = self.get_or_404(ReferralPayout.objects.all(), pk=data["payout_id"])
        payout = reject_bank_payout(payout=payout, reason=data["reason"], actor=self.actor)
        return Response(s.PayoutOut(payout).data)
