"""Service pages call the billing / services actions: auto-renew toggle (htmx), renew now,
delete, tariff and addon changes with a price preview. Refusals change nothing."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from billow.billing.models import Expense
from billow.services.models import Service, ServiceEvent
from tests.web.conftest import WebWorld
from tests.web.test_access import db_state

pytestmark = pytest.mark.django_db
TODAY = date(2025, 1, 20)


def url(web: WebWorld, action: str = "") -> str:
    return f"/services/{web.a.service.pk}/{action}"


def test_the_htmx_toggle_turns_auto_renew_off_and_on(web: WebWorld) -> None:
    # given a service that auto-renews monthly
    assert web.a.service.auto_renew_period == "1m"
    # when the toggle is clicked (htmx) twice
    off = web.a.http.post(url(web, "auto-renew/"), HTTP_HX_REQUEST="true")
    state_off = Service.objects.get(pk=web.a.service.pk).auto_renew_period
    on = web.a.http.post(url(web, "auto-renew/"), HTTP_HX_REQUEST="true")
    # then the partial comes back each time and the service follows
    assert off.status_code == on.status_code == 200
    assert 'aria-checked="false"' in off.content.decode()
    assert 'aria-checked="true"' in on.content.decode()
    assert state_off == ""
    assert Service.objects.get(pk=web.a.service.pk).auto_renew_period == "1m"
    events = ServiceEvent.objects.filter(service=web.a.service, type="service.auto_renew_set")
    assert [e.data for e in events.order_by("id")] == [
        {"from": "1m", "to": ""},
        {"from": "", "to": "1m"},
    ]


def test_the_toggle_without_htmx_redirects_to_the_service(web: WebWorld) -> None:
    response = web.a.http.post(url(web, "auto-renew/"))
    assert response.status_code == 302
    assert response["Location"] == url(web)


@time_machine.travel(TODAY, tick=False)
def test_renew_now_charges_one_period_and_moves_paid_until(web: WebWorld) -> None:
    # given a service paid until 2025-02-10 and a balance of 500.00 - 10.00
    assert web.a.service.paid_until == date(2025, 2, 10)
    # when the owner renews now
    response = web.a.http.post(url(web, "renew/"), follow=True)
    # then one more month is charged
    assert "The service was renewed." in response.content.decode()
    service = Service.objects.get(pk=web.a.service.pk)
    assert service.paid_until == date(2025, 3, 10)
    assert [e.amount_minor for e in Expense.objects.filter(service=service).order_by("id")] == [
        1000,
        1000,
    ]
    assert web.world.balance(web.a.client) == 48000


@time_machine.travel(TODAY, tick=False)
def test_renew_without_money_is_refused_with_the_code_and_changes_nothing(web: WebWorld) -> None:
    # given a client whose balance is used up
    from billow.ledger.actions import adjust_client_balance

    adjust_client_balance(
        account=web.world.wallet(web.a.client),
        amount_minor=49000,
        direction="debit",
        reason="test",
        nonce="drain",
    )
    before = db_state()
    # when renewing
    response = web.a.http.post(url(web, "renew/"), follow=True)
    # then the refusal is shown and nothing changed
    assert "(insufficient_funds)" in response.content.decode()
    assert db_state() == before


@time_machine.travel(TODAY, tick=False)
def test_the_preview_prices_a_bigger_tariff_without_writing(web: WebWorld) -> None:
    before = db_state()
    response = web.a.http.get(url(web, f"preview/?tariff={web.bigger.pk}"), HTTP_HX_REQUEST="1")
    html = response.content.decode()
    assert "$30.00" in html and "$10.00" in html
    # what the change then charges (test_changing_the_tariff_charges_the_prorated_difference)
    assert "Charged now for the rest of the paid period: $13.55." in html
    assert db_state() == before


@time_machine.travel(TODAY, tick=False)
def test_changing_the_tariff_charges_the_prorated_difference(web: WebWorld) -> None:
    response = web.a.http.post(url(web, "tariff/"), {"tariff": web.bigger.pk}, follow=True)
    assert "The tariff was changed." in response.content.decode()
    service = Service.objects.get(pk=web.a.service.pk)
    assert service.tariff_id == web.bigger.pk
    upgrade = Expense.objects.get(service=service, reason="upgrade")
    # 21 of 31 days left (2025-01-20 .. 2025-02-10) of a 20.00 difference
    assert upgrade.amount_minor == 1355


@time_machine.travel(TODAY, tick=False)
def test_changing_addons_charges_and_stores_the_value(web: WebWorld) -> None:
    response = web.a.http.post(url(web, "addons/"), {"ram": "3"}, follow=True)
    assert "The configuration was changed." in response.content.decode()
    assert Service.objects.get(pk=web.a.service.pk).addon_values == {"ram": 3}


@time_machine.travel(TODAY, tick=False)
def test_an_addon_value_out_of_range_is_refused_and_changes_nothing(web: WebWorld) -> None:
    before = db_state()
    response = web.a.http.post(url(web, "addons/"), {"ram": "99"}, follow=True)
    assert "Check the values." in response.content.decode()
    assert db_state() == before


@time_machine.travel(TODAY, tick=False)
def test_delete_needs_the_confirmation_then_deletes(web: WebWorld) -> None:
    unconfirmed = web.a.http.post(url(web, "delete/"), {})
    assert unconfirmed.status_code == 200
    assert Service.objects.get(pk=web.a.service.pk).status == "active"
    web.a.http.post(url(web, "delete/"), {"confirm": "on"})
    service = Service.objects.get(pk=web.a.service.pk)
    assert (service.status, service.paid_until) == ("deleted", TODAY)


def test_a_group_that_forbids_deletion_hides_and_refuses_it(web: WebWorld) -> None:
    from billow.accounts.actions import add_client_to_group
    from billow.accounts.models import ClientGroup

    group = ClientGroup.objects.create(name="No delete", allow_delete=False)
    add_client_to_group(client=web.a.client, group=group)
    page = web.a.http.get(url(web)).content.decode()
    assert "Delete…" not in page
    before = db_state()
    response = web.a.http.post(url(web, "delete/"), {"confirm": "on"}, follow=True)
    assert "This service cannot be deleted." in response.content.decode()
    assert db_state() == before


def test_the_list_filters_by_status(web: WebWorld) -> None:
    active = web.a.http.get("/services/?status=active").content.decode()
    deleted = web.a.http.get("/services/?status=deleted").content.decode()
    assert f"/services/{web.a.service.pk}/" in active
    assert f"/services/{web.a.service.pk}/" not in deleted


def test_the_server_box_requests_a_vm_action_and_saves_the_note(web: WebWorld) -> None:
    from billow.services.models import ModuleInstance, ServiceOperation

    # given a service without a module: no server box
    assert 'id="h-server"' not in web.a.http.get(url(web)).content.decode()
    # and once it runs on the dummy module (start, stop, reboot)
    instance = ModuleInstance.objects.create(module="dummy", name="dummy-web")
    Service.objects.filter(pk=web.a.service.pk).update(module_instance=instance, external_id="v1")
    page = web.a.http.get(url(web)).content.decode()
    assert 'id="h-server"' in page
    assert 'value="reboot"' in page and 'value="reset"' not in page
    # when the client tries an action the module lacks, reboots it and writes a note
    bad = web.a.http.post(url(web, "vm/action/"), {"action": "reset"}, follow=True)
    reboot = web.a.http.post(url(web, "vm/action/"), {"action": "reboot"}, follow=True)
    note = web.a.http.post(url(web, "vm/note/"), {"note": "web box"}, follow=True)
    # then the refusal is shown, one operation is queued and the note stored
    assert [o.operation for o in ServiceOperation.objects.filter(service=web.a.service)] == [
        "reboot"
    ]
    assert "The server action was requested." in reboot.content.decode()
    assert "The note was saved." in note.content.decode()
    assert "unknown_operation" in bad.content.decode()
    assert Service.objects.get(pk=web.a.service.pk).note == "web box"
