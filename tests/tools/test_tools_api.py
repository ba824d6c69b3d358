"""The tools API against a real server and the real mcp-server-time: servers added, listed
and removed; their tools; grants made and taken back; every error a problem naming why."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from live import Live, live_server

TIME_SERVER = Path(sys.prefix) / "bin" / "mcp-server-time"
TIME = {"name": "time", "command": str(TIME_SERVER), "args": ["--local-timezone", "UTC"]}
DEADLINE_S = 20.0
# Nothing listens there: an http server that stays down, without starting a process.
NOWHERE = "http://127.0.0.1:9/mcp"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with live_server(tmp_path / "data") as running:
        yield running


def server_named(live: Live, name: str) -> dict[str, Any]:
    listed = live.get("/tools/servers")
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    [found] = [item for item in items if item["name"] == name]
    return found


def until(live: Live, name: str, state: str) -> dict[str, Any]:
    """Server `name` as `GET /tools/servers` shows it, once it is in `state`."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        found = server_named(live, name)
        if found["state"] == state:
            return found
        assert time.monotonic() < deadline, f"{name} still {found['state']} after {DEADLINE_S} s"
        time.sleep(0.05)  # the server connects in the background


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def test_a_stdio_server_added_through_the_api_becomes_ready_and_lists_its_tools(
    live: Live,
) -> None:
    added = live.post("/tools/servers", json=TIME)
    assert added.status_code == 201, added.text
    assert added.headers["location"] == "/api/v1/tools/servers/time"
    body = added.json()
    assert (body["name"], body["transport"], body["source"]) == ("time", "stdio", "api")
    assert (body["command"], body["args"], body["url"]) == (
        str(TIME_SERVER),
        ["--local-timezone", "UTC"],
        None,
    )
    assert body["state"] in ("connecting", "ready")

    ready = until(live, "time", "ready")
    assert ready["tools"] == 2
    assert ready["connects"] == 1
    assert ready["last_error"] is None
    assert live.get("/tools/servers/time").json() == ready

    tools = live.get("/tools").json()["items"]
    assert [tool["name"] for tool in tools] == ["time/convert_time", "time/get_current_time"]
    current = tools[1]
    assert (current["server"], current["tool"]) == ("time", "get_current_time")
    assert current["description"]
    assert current["input_schema"]["type"] == "object"
    assert "timezone" in current["input_schema"]["properties"]
    assert live.get("/tools", params={"server": "time"}).json()["items"] == tools

    removed = live.client.delete("/tools/servers/time")
    assert removed.status_code == 204, removed.text
    assert live.get("/tools/servers").json() == {"items": []}
    assert live.get("/tools").json() == {"items": []}
    problem(live.client.delete("/tools/servers/time"), 404, "tool-server-not-found")
    problem(live.get("/tools/servers/time"), 404, "tool-server-not-found")
    problem(live.get("/tools", params={"server": "time"}), 404, "tool-server-not-found")


def test_an_http_server_that_cannot_be_reached_is_down_with_the_reason(live: Live) -> None:
    added = live.post("/tools/servers", json={"name": "remote", "url": NOWHERE})
    assert added.status_code == 201, added.text
    assert (added.json()["transport"], added.json()["url"]) == ("http", NOWHERE)
    assert added.json()["command"] is None
    down = until(live, "remote", "down")
    assert down["last_error"]
    assert (down["tools"], down["connects"]) == (0, 0)
    assert live.get("/tools", params={"server": "remote"}).json() == {"items": []}


def test_env_is_given_to_the_server_and_only_its_names_are_shown(live: Live) -> None:
    secret = {"TZ": "UTC", "API_KEY": "s3cret"}
    added = live.post("/tools/servers", json={**TIME, "env": secret})
    assert added.status_code == 201, added.text
    assert added.json()["env_names"] == ["API_KEY", "TZ"]
    assert "s3cret" not in live.get("/tools/servers").text
    until(live, "time", "ready")


def test_a_taken_name_is_a_conflict(live: Live) -> None:
    assert live.post("/tools/servers", json={"name": "remote", "url": NOWHERE}).status_code == 201
    taken = problem(live.post("/tools/servers", json=TIME | {"name": "remote"}), 409,
                    "tool-server-exists")  # fmt: skip
    assert taken["field"] == "name"
    assert server_named(live, "remote")["transport"] == "http"  # unchanged


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"name": "Time", "command": "x"}, "name", "'Time' is not a tool server name"),
        ({"name": "-x", "url": NOWHERE}, "name", "is not a tool server name"),
        ({"name": "x"}, "command", "needs a command"),
        ({"name": "x", "command": ""}, "command", "needs a command"),
        ({"name": "x", "command": "c", "url": NOWHERE}, "url", "drop the url"),
        ({"name": "x", "url": "ftp://h/mcp"}, "url", "is not an http(s) URL"),
        ({"name": "x", "url": "http://"}, "url", "is not an http(s) URL"),
        ({"name": "x", "url": NOWHERE, "args": ["a"]}, "args", "drop them for a url"),
        ({"name": "x", "url": NOWHERE, "env": {"A": "1"}}, "env", "drop them for a url"),
        ({"name": "x", "command": "c", "env": {"A=B": "1"}}, "env", "not an environment"),
        ({"name": "x", "command": "c", "env": {"": "1"}}, "env", "not an environment"),
        ({"name": "x", "command": "c\u0000"}, "command", "NUL"),
        ({"name": "x", "command": "c", "args": ["a\u0000"]}, "args", "NUL"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    live: Live, body: dict[str, Any], field: str, says: str
) -> None:
    refused = problem(live.post("/tools/servers", json=body), 422, "invalid-field")
    assert refused["field"] == field
    assert refused["detail"].startswith(f"{field}: ")
    assert says in refused["detail"]
    assert live.get("/tools/servers").json() == {"items": []}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"command": "c"}, "name"),
        ({"name": "x", "command": "c", "colour": "blue"}, "colour"),
        ({"name": "x", "command": "c", "args": "a b"}, "args"),
        ({"name": "x", "command": 3}, "command"),
    ],
)
def test_a_body_of_the_wrong_shape_is_a_422_naming_the_field(
    live: Live, body: dict[str, Any], field: str
) -> None:
    refused = problem(live.post("/tools/servers", json=body), 422, "invalid-request")
    assert refused["field"] == field


def test_grants_made_and_taken_back_through_the_api(live: Live) -> None:
    assert live.get("/agents/newcomer/tools").json() == {"agent": "newcomer", "patterns": []}

    granted = live.post("/agents/newcomer/tools", json={"pattern": "time/*"})
    assert granted.status_code == 201, granted.text
    assert granted.json() == {"agent": "newcomer", "pattern": "time/*"}
    again = live.post("/agents/newcomer/tools", json={"pattern": "time/*"})
    assert (again.status_code, again.json()) == (200, granted.json())
    assert live.post("/agents/newcomer/tools", json={"pattern": "web/fetch"}).status_code == 201
    assert live.get("/agents/newcomer/tools").json()["patterns"] == ["time/*", "web/fetch"]

    tools = live.server.tools
    assert tools.grants.allowed("newcomer", "time/get_current_time")  # at once, no restart
    assert not tools.grants.allowed("someone-else", "time/get_current_time")

    revoked = live.client.delete("/agents/newcomer/tools", params={"pattern": "time/*"})
    assert revoked.status_code == 204, revoked.text
    assert not tools.grants.allowed("newcomer", "time/get_current_time")
    assert live.get("/agents/newcomer/tools").json()["patterns"] == ["web/fetch"]
    gone = live.client.delete("/agents/newcomer/tools", params={"pattern": "time/*"})
    assert "no grant 'time/*'" in problem(gone, 404, "tool-grant-not-found")["detail"]

    records = live.server.store.audit.recent(20)
    audited = [(e.actor, e.action, e.outcome) for e in records if e.action.startswith("tool.")]
    admin = live.get("/auth/whoami").json()["subject"]  # the caller is the actor
    assert audited == [
        (admin, "tool.grant", "ok"), (admin, "tool.grant", "ok"), (admin, "tool.grant", "ok"),
        (admin, "tool.revoke", "ok"), (admin, "tool.revoke", "absent"),
    ]  # fmt: skip
    # The guard records the management operations themselves, outcome by status.
    operations = [(e.action, e.outcome) for e in records if e.action.startswith("api.")]
    assert operations[-2:] == [("api.tools.grants.remove", "ok"),
                               ("api.tools.grants.remove", "failed")]  # fmt: skip


@pytest.mark.parametrize("pattern", ["time", "time/", "/x", "Time/*", "time/a b", "time/**"])
def test_a_bad_pattern_is_a_422_naming_it(live: Live, pattern: str) -> None:
    granted = live.post("/agents/newcomer/tools", json={"pattern": pattern})
    assert problem(granted, 422, "invalid-field")["field"] == "pattern"
    revoked = live.client.delete("/agents/newcomer/tools", params={"pattern": pattern})
    assert problem(revoked, 422, "invalid-field")["field"] == "pattern"
    assert live.get("/agents/newcomer/tools").json()["patterns"] == []


def test_a_grant_needs_an_agent_name_and_a_pattern(live: Live) -> None:
    bad_name = live.post("/agents/Not%20A%20Name/tools", json={"pattern": "time/*"})
    assert problem(bad_name, 422, "invalid-name")["field"] == "name"
    missing = live.post("/agents/newcomer/tools", json={})
    assert problem(missing, 422, "invalid-request")["field"] == "pattern"
    unasked = live.client.delete("/agents/newcomer/tools")
    assert problem(unasked, 422, "invalid-request")["field"] == "query.pattern"


def test_servers_and_grants_outlive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with live_server(data) as first:
        assert first.post("/tools/servers", json=TIME).status_code == 201
        assert first.post("/agents/later/tools", json={"pattern": "time/*"}).status_code == 201
    with live_server(data) as second:
        assert until(second, "time", "ready")["source"] == "api"
        assert second.get("/agents/later/tools").json()["patterns"] == ["time/*"]
        assert len(second.get("/tools").json()["items"]) == 2


def test_the_openapi_document_describes_the_tools_routes(live: Live) -> None:
    document = live.client.get(f"{live.url}/openapi.json").json()
    paths = document["paths"]
    described = {
        (method, path) for path, operations in paths.items() if "tools" in path
        for method in operations
    }  # fmt: skip
    assert described == {
        ("get", "/api/v1/tools/servers"), ("post", "/api/v1/tools/servers"),
        ("get", "/api/v1/tools/servers/{name}"), ("delete", "/api/v1/tools/servers/{name}"),
        ("get", "/api/v1/tools"),
        ("get", "/api/v1/agents/{name}/tools"), ("post", "/api/v1/agents/{name}/tools"),
        ("delete", "/api/v1/agents/{name}/tools"),
    }  # fmt: skip
    add = paths["/api/v1/tools/servers"]["post"]
    assert "Location" in add["responses"]["201"]["headers"]
    grant = paths["/api/v1/agents/{name}/tools"]["post"]["responses"]
    for status in ("200", "201"):
        schema = grant[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ToolGrant"}
    schemas = document["components"]["schemas"]
    assert schemas["ToolServerRequest"]["additionalProperties"] is False
    assert set(schemas["ToolServer"]["properties"]["state"]["enum"]) == {
        "connecting", "ready", "down",
    }  # fmt: skip
