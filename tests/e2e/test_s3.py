"""S3 storage in a real browser on the real Ceph RGW: the client creates a bucket on the
service page, makes it public, turns the website on and finds the rclone settings to copy.
Saves docs/screenshots/s3-buckets.png. Markers: e2e and ceph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import Page, expect

from billow.accounts import actions as accounts
from billow.services import object_storage
from tests.ceph import CephRgw
from tests.services.ceph_rgw.world import S3World
from tests.web.conftest import PASSWORD, login

pytestmark = [pytest.mark.e2e, pytest.mark.ceph, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_create_bucket_turn_the_website_on_and_copy_the_rclone_settings(
    live_server: Any, page: Page, ceph_rgw: CephRgw
) -> None:
    # given a client with an open S3 service on the real RGW
    s3w = S3World(ceph_rgw)
    email = "s3-owner@example.com"
    client = accounts.create_client(email=email, providers=[s3w.base.provider], password=PASSWORD)
    owner = client.users.get(is_owner=True).user
    EmailAddress.objects.create(user=owner, email=email, primary=True, verified=True)
    s3w.base.topup(client, 10_000)
    service = s3w.order(client)
    bucket = f"{service.external_id}-www"
    base = live_server.url
    session = login(owner).cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    page.set_viewport_size({"width": 1280, "height": 1100})

    # when the client creates a bucket on the service page
    page.goto(f"{base}/services/{service.pk}/")
    expect(page.get_by_role("heading", name="Object storage (S3)")).to_be_visible()
    page.locator("#s3-bucket-name").fill(bucket)
    page.get_by_role("button", name="Create bucket").click()
    row = page.locator(f'tr[data-bucket="{bucket}"]')
    expect(row).to_be_visible()
    expect(page.get_by_text(f"Bucket {bucket} created.")).to_be_visible()
    # and makes it public and turns the website on with the default documents
    row.get_by_role("button", name="Make public").click()
    expect(row.get_by_text("Public")).to_be_visible()
    row.get_by_role("button", name="Turn website on").click()
    # then the website address is shown and RGW has the website configuration
    website = row.locator("a.s3-website-url")
    expect(website).to_have_text(f"http://{bucket}.{ceph_rgw.website_dns_name}/")
    (listed,) = object_storage.storage_of(service).list_buckets()
    assert (listed.public, listed.website, listed.index_document) == (True, True, "index.html")
    # and the rclone settings are ready to paste (the secret only when a key is created)
    rclone = page.locator("#s3-rclone")
    expect(rclone).to_contain_text("provider = Ceph")
    expect(rclone).to_contain_text(f"endpoint = {ceph_rgw.endpoint}")
    page.locator("#s3-rclone-copy").scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "s3-buckets.png"), full_page=True)

    # when the client creates an access key, its secret is shown once with filled-in settings
    page.get_by_role("button", name="Create access key").click()
    secret = page.locator("#s3-new-secret-key").inner_text()
    assert len(secret) == 40
    expect(page.locator("#s3-rclone")).to_contain_text(f"secret_access_key = {secret}")
    page.get_by_role("link", name="Done").click()
    expect(page.locator("#s3-keys code")).to_have_count(1)
    assert secret not in page.content()
