from __future__ import annotations

import pytest

from billow.core.errors import ConflictError, NotFoundError, ValidationError
from billow.core.registry import Registry


def test_register_get_and_list():
    gateways: Registry[type] = Registry("gateway")

    @gateways.register("stripe")
    class Stripe:
        pass

    @gateways.register("manual")
    class Manual:
        pass

    assert gateways.get("stripe") is Stripe
    assert gateways.keys() == ["manual", "stripe"]
    assert list(gateways) == ["manual", "stripe"]
    assert gateways.items() == [("manual", Manual), ("stripe", Stripe)]
    assert "manual" in gateways and "paypal" not in gateways
    assert len(gateways) == 2


def test_unknown_key_is_not_found():
    modules: Registry[object] = Registry("processing module")
    with pytest.raises(NotFoundError) as exc:
        modules.get("libvirt")
    assert exc.value.code == "not_found"
    assert exc.value.details == {"registry": "processing module", "key": "libvirt"}


def test_duplicate_key_is_refused_and_keeps_the_first():
    reg: Registry[int] = Registry("number")
    reg.add("one", 1)
    with pytest.raises(ConflictError) as exc:
        reg.add("one", 2)
    assert exc.value.code == "already_registered"
    assert reg.get("one") == 1


@pytest.mark.parametrize("key", ["", "Stripe", "has space", None, "-x"])
def test_bad_keys(key):
    reg: Registry[int] = Registry("number")
    with pytest.raises(ValidationError) as exc:
        reg.add(key, 1)
    assert exc.value.code == "invalid_registry_key"
    assert reg.keys() == []


def test_unregister():
    reg: Registry[int] = Registry("number")
    reg.add("one", 1)
    reg.unregister("one")
    assert reg.keys() == []
    with pytest.raises(NotFoundError):
        reg.unregister("one")
