"""The local DCImanager 6: the documented payloads and error shapes (reference §3.2), pinned
here so the module's tests run against what the documentation says (no database needed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.error import HTTPError
from urllib.parse import quote
from urllib.request import Request, urlopen

import pytest

from billow.services.modules.dcimanager6.testserver import DciState, LocalDci

CFG = "i9-9900K-64Gb-2x1024NVMe"


@pytest.fixture
def dci() -> Iterator[LocalDci]:
    with LocalDci(DciState(task_polls=2)) as panel:
        panel.state.add_server(CFG, name="a")
        panel.state.add_server(CFG, name="b", owner_email="c@example.com")
        panel.state.add_server("e5-32Gb", name="c", is_new=True)
        yield panel


def call(
    dci: LocalDci,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    box: bool = True,
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers |= {"Cookie": f"ses6={token}", "x-xsrf-token": token}
    if box:
        headers["isp-box-instance"] = "true"
    data = None if body is None else json.dumps(body).encode()
    req = Request(dci.url + path, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urlopen(req, timeout=5) as resp:  # noqa: S310 - the local panel on 127.0.0.1
            return resp.status, json.loads(resp.read())
    except HTTPError as exc:
        return exc.code, json.loads(exc.read())


def login(dci: LocalDci) -> str:
    status, body = call(
        dci, "POST", "/auth/v4/public/token", {"email": "admin@example.com", "password": "secret"}
    )
    assert status == 200
    assert set(body) == {"id", "token", "expires_at"}
    return str(body["token"])


def test_login_and_the_three_headers(dci: LocalDci) -> None:
    assert call(
        dci, "POST", "/auth/v4/public/token", {"email": "admin@example.com", "password": "nope"}
    ) == (400, {"error": {"code": 1001, "msg": "Invalid email or password"}})
    token = login(dci)
    assert call(dci, "GET", "/api/dci/v3/server")[0] == 401
    assert call(dci, "GET", "/api/dci/v3/server", token=token, box=False) == (
        401,
        {"error": {"code": 1002, "msg": "isp-box-instance header missing"}},
    )
    assert call(dci, "GET", "/api/dci/v3/server", token=token)[0] == 200
    dci.state.expire_tokens()
    assert call(dci, "GET", "/api/dci/v3/server", token=token) == (
        401,
        {"error": {"code": 1002, "msg": "Token expired", "value": "ses6"}},
    )


def test_server_list_filters_order_and_limit(dci: LocalDci) -> None:
    token = login(dci)
    status, body = call(dci, "GET", "/api/dci/v3/server", token=token)
    assert (status, body["size"], [s["name"] for s in body["list"]]) == (200, 3, ["a", "b", "c"])
    assert set(body["list"][0]) >= {
        "id",
        "power_status",
        "owner_email",
        "is_new",
        "location_id",
        "configuration",
        "barcode",
        "rack",
        "hardware_info",
        "ip",
    }
    where = quote("(owner_email IS null) AND is_new EQ false")
    _, free = call(
        dci,
        "GET",
        f"/api/dci/v3/server?where={where}&orderby=configuration%20asc&limit=0,400",
        token=token,
    )
    assert [s["name"] for s in free["list"]] == ["a"]
    where = quote(f"configuration EQ '{CFG}' AND owner_email IS NOT null")
    assert [
        s["name"]
        for s in call(dci, "GET", f"/api/dci/v3/server?where={where}", token=token)[1]["list"]
    ] == ["b"]
    _, page = call(dci, "GET", "/api/dci/v3/server?orderby=name%20desc&limit=1,1", token=token)
    assert (page["size"], [s["name"] for s in page["list"]]) == (3, ["b"])
    assert call(dci, "GET", "/api/dci/v3/server?where=" + quote("name LIKE 'a'"), token=token) == (
        400,
        {
            "error": {
                "code": 2001,
                "msg": "bad where clause: name LIKE 'a'",
                "value": "name LIKE 'a'",
            }
        },
    )
    assert call(dci, "GET", "/api/dci/v3/server/99", token=token) == (
        404,
        {"error": {"code": 3001, "msg": "server 99 not found", "value": 99}},
    )


def test_configuration_free_counts(dci: LocalDci) -> None:
    token = login(dci)
    assert call(dci, "GET", "/api/dci/v3/server/configuration", token=token) == (
        200,
        {
            "list": [
                {"configuration": "e5-32Gb", "free_server_count": 0},
                {"configuration": CFG, "free_server_count": 1},
            ]
        },
    )


def test_power_operations_answer_a_task(dci: LocalDci) -> None:
    token = login(dci)
    status, body = call(dci, "POST", "/api/dci/v3/server/1/power_off", {}, token=token)
    assert status == 200 and body["id"] == 1 and isinstance(body["task"], int)
    assert dci.state.servers[1]["power_status"] == "off"
    call(dci, "POST", "/api/dci/v3/server/1/power_on", {}, token=token)
    call(dci, "POST", "/api/dci/v3/server/1/power_reset", {}, token=token)
    assert dci.state.servers[1]["power_status"] == "on"
    assert call(dci, "POST", "/api/dci/v3/server/1/power_dance", {}, token=token)[0] == 404


def test_os_install_task_is_polled_to_completion(dci: LocalDci) -> None:
    token = login(dci)
    assert call(
        dci,
        "POST",
        "/api/dci/v3/server/1/operating_system",
        {"os": "ubuntu-24.04", "password": "pw"},
        token=token,
    ) == (409, {"error": {"code": 4001, "msg": "server has no owner", "value": 1}})
    call(
        dci,
        "POST",
        "/api/dci/v3/server/1/owner",
        {"email": "c@example.com", "comment": "billow:1"},
        token=token,
    )
    _, started = call(
        dci,
        "POST",
        "/api/dci/v3/server/1/operating_system",
        {"os": "ubuntu-24.04", "password": "pw"},
        token=token,
    )
    tid = started["task"]
    statuses = [
        call(dci, "GET", f"/api/dci/v3/task/{tid}", token=token)[1]["status"] for _ in range(3)
    ]
    assert statuses == ["running", "complete", "complete"]
    assert dci.state.servers[1]["os"] == "ubuntu-24.04"
    assert call(dci, "GET", "/api/dci/v3/task/999", token=token)[0] == 404
    # a failing task ends failed and installs nothing
    dci.state.fail_next_task = True
    _, wipe = call(dci, "POST", "/api/dci/v3/server/1/disk_wipe", {}, token=token)
    for _ in range(2):
        last = call(dci, "GET", f"/api/dci/v3/task/{wipe['task']}", token=token)[1]
    assert last == {"id": wipe["task"], "name": "disk_wipe", "server_id": 1, "status": "failed"}
    assert dci.state.servers[1]["os"] == "ubuntu-24.04"
