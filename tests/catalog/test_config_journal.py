"""The configuration journal (issue 13.5): a price changed in the admin is journalled with the
staff member, the IP address and the old and new price, formatted; the tariff's History tab and
the journal page show it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from billow.catalog.models import Tariff, TariffPrice
from billow.core.models import ChangeAction, ConfigChange
from tests.web.admin_forms import change_form_data

pytestmark = pytest.mark.django_db


def _price_field(data: dict[str, Any], price: TariffPrice) -> str:
    for key, value in data.items():
        if key.endswith("-id") and str(value) == str(price.pk) and key.startswith("prices-"):
            return key[: -len("-id")] + "-amount_minor"
    raise AssertionError("price row not in the form")


def test_price_change_in_admin_is_journalled_with_old_and_new_price(
    admin_client: Client, admin_user: User, vps_tariff: Tariff
) -> None:
    # given the tariff's monthly USD price of $5.00
    price = TariffPrice.objects.get(tariff=vps_tariff, period="1m", currency="USD")
    url = f"/admin/catalog/tariff/{vps_tariff.pk}/change/"
    data = change_form_data(admin_client.get(url))
    data[_price_field(data, price)] = 700
    ConfigChange.objects.all().delete()
    # when staff sets it to $7.00 in the admin
    resp = admin_client.post(url, data, REMOTE_ADDR="203.0.113.9")
    # then it is saved and journalled: who, from where, which object, old and new price
    assert resp.status_code == 302, resp.context["adminform"].form.errors
    price.refresh_from_db()
    assert price.amount_minor == 700
    change = ConfigChange.objects.get()
    assert change.action == ChangeAction.CHANGED
    assert change.staff_user_id == admin_user.pk
    assert change.actor_kind == "staff"
    assert change.actor_label == admin_user.username
    assert change.ip == "203.0.113.9"
    assert change.content_type.model == "tariffprice"
    assert change.object_id == str(price.pk)
    assert change.parent_id == str(vps_tariff.pk)
    assert change.diff == [
        {
            "field": "amount_minor",
            "label": "price, minor units",
            "old": 500,
            "new": 700,
            "currency": "USD",
        }
    ]
    # and the tariff's History tab and the journal show the formatted prices
    history = admin_client.get(f"/admin/catalog/tariff/{vps_tariff.pk}/history/")
    assert "price, minor units: $5.00 → $7.00" in history.content.decode()
    journal = admin_client.get("/admin/core/configchange/?q=VPS")
    assert journal.status_code == 200
    page = admin_client.get("/admin/core/configchange/")
    assert "price, minor units: $5.00 → $7.00" in page.content.decode()


def test_saving_unchanged_tariff_writes_no_journal_row(
    admin_client: Client, vps_tariff: Tariff
) -> None:
    url = f"/admin/catalog/tariff/{vps_tariff.pk}/change/"
    data = change_form_data(admin_client.get(url))
    ConfigChange.objects.all().delete()
    resp = admin_client.post(url, data)
    assert resp.status_code == 302
    assert ConfigChange.objects.count() == 0


def test_tariff_rename_is_journalled_and_filtered_by_type_and_staff(
    admin_client: Client, admin_user: User, vps_tariff: Tariff
) -> None:
    url = f"/admin/catalog/tariff/{vps_tariff.pk}/change/"
    data = change_form_data(admin_client.get(url))
    data["name"] = "VPS-M"
    ConfigChange.objects.all().delete()
    assert admin_client.post(url, data).status_code == 302
    renamed = ConfigChange.objects.get()
    assert (renamed.object_repr, renamed.action) == ("VPS-M", ChangeAction.CHANGED)
    assert renamed.diff == [{"field": "name", "label": "name", "old": "VPS-S", "new": "VPS-M"}]
    # the journal filters by object type and staff member
    ct = renamed.content_type_id
    resp = admin_client.get(
        f"/admin/core/configchange/?content_type__id__exact={ct}&staff_user__id__exact={admin_user.pk}"
    )
    assert resp.status_code == 200
    assert list(resp.context["cl"].result_list) == [renamed]


def test_set_tariff_price_action_journals_old_and_new_price(
    admin_user: User, vps_tariff: Tariff
) -> None:
    from billow.catalog import actions
    from billow.core.actors import Actor

    ConfigChange.objects.all().delete()
    actions.set_tariff_price(
        tariff=vps_tariff,
        period="1m",
        currency="USD",
        amount_minor=650,
        setup_fee_minor=200,
        actor=Actor.staff(admin_user),
    )
    change = ConfigChange.objects.get()
    assert (change.actor_kind, change.actor_id) == ("staff", str(admin_user.pk))
    assert change.parent_id == str(vps_tariff.pk)
    assert change.diff == [
        {
            "field": "amount_minor",
            "label": "price, minor units",
            "old": 500,
            "new": 650,
            "currency": "USD",
        }
    ]
