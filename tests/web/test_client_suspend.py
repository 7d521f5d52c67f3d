"""Reseller groups (``allow_suspend_resume``) suspend and resume their own services from the
client area and the API; everyone else is refused and nothing changes; a service suspended by
staff or for non-payment is not the client's to resume."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from huey.contrib.djhuey import HUEY

from billow.accounts import actions as accounts
from billow.accounts.models import ClientGroup
from billow.services import actions as services
from billow.services.models import Service, ServiceOperation
from billow.services.modules.dummy import reset_store
from billow.services.states import ServiceStatus
from tests.web.conftest import WebWorld


@pytest.fixture
def jobs(django_capture_on_commit_callbacks: Any) -> Iterator[Any]:
    """Module operations run at once, after commit (the dummy module answers immediately)."""
    reset_store()
    previous, HUEY.immediate = HUEY.immediate, True
    yield django_capture_on_commit_callbacks
    HUEY.immediate = previous
    reset_store()


@pytest.fixture
def reseller(web: WebWorld) -> WebWorld:
    instance = services.create_module_instance(
        module="dummy", name="dummy", product_types=[web.tariff.product_type]
    )
    Service.objects.filter(client__in=[web.a.client, web.b.client]).update(
        module_instance=instance, external_id="vm-1"
    )
    group = ClientGroup.objects.create(name="Resellers", allow_suspend_resume=True)
    accounts.add_client_to_group(client=web.a.client, group=group)
    return web


def status(service: Service) -> str:
    return Service.objects.get(pk=service.pk).status


def test_a_reseller_suspends_and_resumes_from_the_service_page(
    reseller: WebWorld, jobs: Any
) -> None:
    a = reseller.a
    page = a.http.get(f"/services/{a.service.pk}/").content.decode()
    assert 'id="service-suspend"' in page and 'id="service-resume"' not in page
    with jobs(execute=True):
        response = a.http.post(f"/services/{a.service.pk}/suspend/")
    assert response.status_code == 302
    assert status(a.service) == ServiceStatus.SUSPENDED_BY_CLIENT
    page = a.http.get(f"/services/{a.service.pk}/").content.decode()
    assert 'id="service-resume"' in page and 'id="service-suspend"' not in page
    with jobs(execute=True):
        a.http.post(f"/services/{a.service.pk}/resume/")
    assert status(a.service) == ServiceStatus.ACTIVE


def test_the_api_does_the_same_and_refuses_what_is_not_the_clients(
    reseller: WebWorld, jobs: Any
) -> None:
    a = reseller.a
    url = f"/api/v1/services/{a.service.pk}/"
    with jobs(execute=True):
        r = a.http.post(url + "suspend/")
    assert (r.status_code, status(a.service)) == (200, ServiceStatus.SUSPENDED_BY_CLIENT)
    # a service suspended by staff is not the client's to resume
    Service.objects.filter(pk=a.service.pk).update(status=ServiceStatus.SUSPENDED_BY_STAFF)
    ops = ServiceOperation.objects.count()
    r = a.http.post(url + "resume/")
    assert (r.status_code, r.json()["code"]) == (409, "operation_not_allowed")
    assert (status(a.service), ServiceOperation.objects.count()) == (
        ServiceStatus.SUSPENDED_BY_STAFF,
        ops,
    )


def test_clients_outside_a_reseller_group_are_refused_and_nothing_changes(
    reseller: WebWorld,
) -> None:
    b = reseller.b  # not in the group
    ops = ServiceOperation.objects.count()
    assert 'id="service-suspend"' not in b.http.get(f"/services/{b.service.pk}/").content.decode()
    b.http.post(f"/services/{b.service.pk}/suspend/")
    r = b.http.post(f"/api/v1/services/{b.service.pk}/suspend/")
    assert (r.status_code, r.json()["code"]) == (400, "suspend_resume_not_allowed")
    assert (status(b.service), ServiceOperation.objects.count()) == (ServiceStatus.ACTIVE, ops)
    # and client A's service is a 404 for client B
    assert b.http.post(f"/services/{reseller.a.service.pk}/suspend/").status_code == 404
    assert b.http.post(f"/api/v1/services/{reseller.a.service.pk}/suspend/").status_code == 404
    assert status(reseller.a.service) == ServiceStatus.ACTIVE
