"""ceph_rgw without a gateway: settings validation, bucket names, quotas from addons, the
client settings texts."""

from __future__ import annotations

import pytest

from billow.services.errors import ModuleConfigError
from billow.services.modules.base import ServiceContext, validate_config
from billow.services.modules.ceph_rgw import CephRgwConfig, CephRgwModule
from billow.services.modules.ceph_rgw.admin import GIB, internal_access_key
from billow.services.modules.ceph_rgw.buckets import ObjectStorageError, check_bucket_name


def test_defaults_and_refusals() -> None:
    assert validate_config("ceph_rgw", {})["admin_url"] == "http://127.0.0.1:17480"
    for bad, field in (
        ({"admin_url": "ftp://x"}, "admin_url"),
        ({"uid_prefix": "Billow "}, "uid_prefix"),
        ({"max_access_keys": 0}, "max_access_keys"),
        ({"default_buckets": -1}, "default_buckets"),
        ({"unknown": 1}, None),
    ):
        with pytest.raises(ModuleConfigError) as refused:
            validate_config("ceph_rgw", bad)
        assert refused.value.code == "invalid_module_config"
        if field:
            assert field in str(refused.value)


@pytest.mark.parametrize(
    "name", ["ab", "a" * 64, "Upper", "a..b", "a.-b", "-edge", "edge-", "192.168.1.1", "xn--x"]
)
def test_bucket_names_against_s3_rules(name: str) -> None:
    with pytest.raises(ObjectStorageError) as refused:
        check_bucket_name(name)
    assert refused.value.code == "invalid_bucket_name"


def test_good_bucket_names() -> None:
    for name in ("abc", "my-backups", "www.example.com", "a" * 63):
        check_bucket_name(name)


def test_quotas_come_from_addons_else_defaults() -> None:
    module = CephRgwModule(CephRgwConfig.from_mapping({"default_objects": 7}), {})
    ctx = ServiceContext(
        service_id=42,
        operation="open",
        idempotency_key="k",
        addon_values={"storage_quota": 5, "buckets": 3},
    )
    assert module.quotas(ctx) == {"max_bytes": 5 * GIB, "max_objects": 7, "max_buckets": 3}
    assert (module.uid(42), module.service_id_of("billow-42"), module.service_id_of("x-1")) == (
        "billow-42",
        42,
        None,
    )
    assert internal_access_key("billow-42") == internal_access_key("billow-42")
    assert len(internal_access_key("billow-42")) == 20
