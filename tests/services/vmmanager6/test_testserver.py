"""The local VMmanager 6 server answers with the documented shapes (reference §3.1): the
module is tested against it, so these pin what it promises."""

from __future__ import annotations

from typing import Any

import requests

from billow.services.modules.vmmanager6.testserver import RunningServer

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD


def login(vmm: RunningServer) -> dict[str, str]:
    r = requests.post(
        f"{vmm.url}/auth/v4/public/token",
        json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        timeout=5,
    )
    assert r.status_code == 200
    token = r.json()["token"]
    return {"x-xsrf-token": token}


def call(vmm: RunningServer, method: str, path: str, auth: dict[str, str], **kw: Any) -> Any:
    return requests.request(method, f"{vmm.url}{path}", headers=auth, timeout=5, **kw)


def make_account(vmm: RunningServer, auth: dict[str, str]) -> int:
    body = {"email": "c1@example.invalid", "password": "pw123456", "role": "@user"}
    r = call(vmm, "POST", "/vm/v3/account", auth, json=body)
    assert r.status_code == 200
    return int(r.json()["id"])


def test_login_gives_a_token_and_a_bad_password_the_error_shape(vmm: RunningServer) -> None:
    r = requests.post(
        f"{vmm.url}/auth/v4/public/token", json={"email": ADMIN_EMAIL, "password": "x"}, timeout=5
    )
    assert r.status_code == 401
    assert r.json() == {"error": {"code": 3004, "msg": "invalid email or password"}}
    auth = login(vmm)
    assert len(auth["x-xsrf-token"]) == 32


def test_calls_without_or_with_an_expired_token_are_unauthorized(vmm: RunningServer) -> None:
    r = call(vmm, "GET", "/vm/v3/host", {})
    assert (r.status_code, r.json()) == (401, {"error": {"code": 3001, "msg": "Unauthorized"}})
    auth = login(vmm)
    assert call(vmm, "GET", "/vm/v3/host", auth).json() == {"list": []}
    # the ses6 cookie works as well as the header
    cookie = {"Cookie": f"ses6={auth['x-xsrf-token']}"}
    assert call(vmm, "GET", "/vm/v3/host", cookie).status_code == 200
    vmm.state.expire_tokens()
    assert call(vmm, "GET", "/vm/v3/host", auth).status_code == 401


def test_idle_and_starting_instances_answer_503(vmm: RunningServer) -> None:
    auth = login(vmm)
    vmm.state.idle = True
    r = call(vmm, "GET", "/vm/v3/host", auth)
    assert (r.status_code, r.json()["error"]["code"]) == (503, 503)
    vmm.state.idle = False
    vmm.state.starting_requests = 2
    codes = [call(vmm, "GET", "/vm/v3/host", auth).status_code for _ in range(3)]
    assert codes == [503, 503, 200]


def test_create_host_answers_id_and_task_and_the_task_completes(vmm: RunningServer) -> None:
    auth = login(vmm)
    account = make_account(vmm, auth)
    body = {
        "name": "billow-1",
        "cluster": 1,
        "os": 1,
        "password": "Root-pass-1",
        "account": account,
        "cpu_number": 2,
        "ram_mib": 2048,
        "hdd_mib": 20480,
        "ipv4_number": 1,
    }
    created = call(vmm, "POST", "/vm/v3/host", auth, json=body).json()
    assert set(created) == {"id", "task"}
    host = call(vmm, "GET", f"/vm/v3/host?where=id+EQ+{created['id']}", auth).json()["list"][0]
    assert host["state"] == "creating"
    task = call(vmm, "GET", f"/vm/v3/task/{created['task']}", auth).json()
    assert (task["status"], task["name"], task["host"]) == (
        "complete",
        "host_create",
        {"id": created["id"]},
    )
    host = call(vmm, "GET", f"/vm/v3/host/{created['id']}", auth).json()
    assert {k: host[k] for k in ("name", "state", "cpu_number", "ram_mib", "disk")} == {
        "name": "billow-1",
        "state": "active",
        "cpu_number": 2,
        "ram_mib": 2048,
        "disk": {"disk_mib": 20480},
    }
    assert host["account"] == {"id": account, "email": "c1@example.invalid"}
    assert host["os"] == {"id": 1, "name": "Debian 12"}
    ips = call(vmm, "GET", f"/vm/v3/host/{created['id']}/ipv4", auth).json()["list"]
    assert ips == [{"id": 1, "ip_addr": host["ip4"][0]["ip"]}]
    # the same task is found by its consul id too
    by_consul = call(vmm, "GET", f"/vm/v3/task?where=consul_id+EQ+{created['task']}", auth)
    assert by_consul.json()["list"][0]["status"] == "complete"


def test_refusals_use_the_error_shape(vmm: RunningServer) -> None:
    auth = login(vmm)
    r = call(vmm, "POST", "/vm/v3/host", auth, json={"name": "x"})
    assert (r.status_code, r.json()) == (
        400,
        {"error": {"code": 1001, "msg": "cluster is required"}},
    )
    r = call(vmm, "GET", "/vm/v3/host/999", auth)
    assert (r.status_code, r.json()) == (
        404,
        {"error": {"code": 1002, "msg": "host 999 not found"}},
    )
    r = call(vmm, "POST", "/vm/v3/host", auth, data=b"{not json")
    assert (r.status_code, r.json()["error"]["code"]) == (400, 1001)


def test_power_resource_disk_password_and_delete_are_tasks(vmm: RunningServer) -> None:
    vmm.state.task_polls = 0  # every task ends at once
    auth = login(vmm)
    account = make_account(vmm, auth)
    body = {"name": "v", "cluster": 1, "os": 1, "password": "pw1234567", "account": account}
    host_id = call(vmm, "POST", "/vm/v3/host", auth, json={**body, "preset": 7}).json()["id"]
    path = f"/vm/v3/host/{host_id}"
    for action, force, state in (("stop", True, "stopped"), ("start", False, "active")):
        answer = call(vmm, "POST", f"{path}/{action}", auth, json={"force": force}).json()
        assert set(answer) == {"task"}
        assert call(vmm, "GET", path, auth).json()["state"] == state
    call(vmm, "POST", f"{path}/restart", auth, json={"force": False})
    call(vmm, "POST", f"{path}/resource", auth, json={"cpu_number": 2, "ram_mib": 2048})
    call(vmm, "POST", path, auth, json={"comment": "db primary"})
    call(vmm, "POST", f"{path}/password", auth, json={"password": "N3w-password"})
    host = call(vmm, "GET", path, auth).json()
    assert (host["cpu_number"], host["ram_mib"], host["comment"]) == (2, 2048, "db primary")
    assert vmm.state.passwords[host_id] == "N3w-password"
    (disk,) = call(vmm, "GET", f"{path}/disk", auth).json()["list"]
    assert disk["size_mib"] == 10240
    r = call(vmm, "POST", f"/vm/v3/disk/{disk['id']}", auth, json={"size_mib": 5120})
    assert (r.status_code, r.json()["error"]["code"]) == (400, 1001)
    call(vmm, "POST", f"/vm/v3/disk/{disk['id']}", auth, json={"size_mib": 20480})
    assert call(vmm, "GET", path, auth).json()["disk"] == {"disk_mib": 20480}
    names = [t["name"] for t in call(vmm, "GET", f"{path}/history", auth).json()["list"]]
    assert names == [
        "host_create",
        "host_stop_force",
        "host_start",
        "host_restart",
        "host_resource",
        "host_password",
        "disk_resize",
    ]
    assert set(call(vmm, "DELETE", path, auth).json()) == {"task"}
    assert call(vmm, "GET", path, auth).status_code == 404


def test_a_busy_host_refuses_with_409_and_a_failing_task_ends_failed(vmm: RunningServer) -> None:
    auth = login(vmm)
    account = make_account(vmm, auth)
    body = {"name": "v", "cluster": 1, "os": 1, "password": "pw1234567", "account": account}
    created = call(vmm, "POST", "/vm/v3/host", auth, json={**body, "preset": 7}).json()
    r = call(vmm, "POST", f"/vm/v3/host/{created['id']}/stop", auth, json={})
    assert (r.status_code, r.json()) == (409, {"error": {"code": 1003, "msg": "host is creating"}})
    vmm.state.finish_tasks()
    vmm.state.fail_tasks.add("host_password")
    task = call(
        vmm, "POST", f"/vm/v3/host/{created['id']}/password", auth, json={"password": "abcdefgh"}
    ).json()["task"]
    got = call(vmm, "GET", f"/vm/v3/task/{task}", auth).json()
    assert (got["status"], got["output"]) == ("failed", "host_password failed")


def test_os_list_and_account_filters(vmm: RunningServer) -> None:
    auth = login(vmm)
    oses = call(vmm, "GET", "/vm/v3/os", auth).json()["list"]
    assert [(o["id"], o["repository"]["name"], o["name"]) for o in oses] == [
        (1, "ISPsystem", "Debian 12"),
        (2, "ISPsystem", "Ubuntu 24.04"),
        (3, "local", "AlmaLinux 9"),
    ]
    account = make_account(vmm, auth)
    found = call(vmm, "GET", "/vm/v3/account?where=email+EQ+'c1@example.invalid'", auth).json()
    assert found == {
        "list": [
            {"id": account, "email": "c1@example.invalid", "state": "active", "roles": ["@user"]}
        ]
    }
    again = call(
        vmm,
        "POST",
        "/vm/v3/account",
        auth,
        json={"email": "c1@example.invalid", "password": "x1234567"},
    )
    assert again.status_code == 409
