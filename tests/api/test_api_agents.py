"""/api/v1/agents over a real socket: deploy, list, inspect, act on, remove, and read logs."""

from __future__ import annotations

import hashlib
import time
from importlib import resources
from typing import Any

import httpx
import orjson
import wasmtime

from caxton import __version__
from conftest import ALLOC, LOGGER, wat
from live import Live

WASM = {"content-type": "application/wasm"}
STREAM_DEADLINE_S = 20.0


def example(name: str, ready: str | None = None) -> bytes:
    """A packaged example agent; `ready` (10 characters) replaces echo's start-up line."""
    text = resources.files("caxton.examples").joinpath(f"{name}.wat").read_text()
    if ready is not None:
        assert len(ready) == len("echo ready")  # the agent logs exactly that many bytes
        text = text.replace("echo ready", ready)
    return bytes(wasmtime.wat2wasm(text))


def capable(capability: str) -> bytes:
    """An agent that declares `capability` in caxton_init and ignores every message."""
    declared = f'{{"name":"{capability}","version":"1.0","description":"test"}}'
    escaped = declared.replace('"', '\\"')
    return wat(
        f"""(module
  (import "caxton" "register_capability" (func $reg (param i32 i32) (result i32)))
  (memory (export "memory") 1) {ALLOC}
  (data (i32.const 64) "{escaped}")
  (func (export "caxton_init") (param i32 i32) (result i32)
    (drop (call $reg (i32.const 64) (i32.const {len(declared)})))
    (i32.const 0))
  (func (export "caxton_handle") (param i32 i32) (result i32) (i32.const 0)))"""
    )


def deploy(live: Live, name: str, wasm: bytes, **fields: str) -> dict[str, Any]:
    response = live.post("/agents", params={"name": name, **fields}, content=wasm, headers=WASM)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def agent(live: Live, name: str) -> dict[str, Any]:
    response = live.get(f"/agents/{name}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def act(live: Live, name: str, action: str, expected: int = 200) -> dict[str, Any]:
    response = live.post(f"/agents/{name}/{action}")
    assert response.status_code == expected, response.text
    body: dict[str, Any] = response.json()
    return body


# Deploying


def test_a_raw_module_deploys_with_201_a_location_and_the_agent(live: Live) -> None:
    wasm = example("echo")
    response = live.post(
        "/agents", params={"name": "alpha", "version": "1.2"}, content=wasm, headers=WASM
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/api/v1/agents/alpha"
    body = response.json()
    assert (body["name"], body["state"], body["version"]) == ("alpha", "Running", "1.2")
    assert body["module_sha256"] == hashlib.sha256(wasm).hexdigest()
    assert body["counters"]["messages_in"] == 0
    assert live.client.get(f"{live.url}{response.headers['location']}").json() == body


def test_a_multipart_deploy_takes_its_fields_from_the_parts(live: Live) -> None:
    response = live.post(
        "/agents",
        files={"module": ("beta.wasm", example("echo"), "application/wasm")},
        data={
            "name": "beta",
            "version": "2",
            "config": '{"greeting": "hi"}',
            "limits": '{"memory_bytes": 4194304}',
            "start": "false",
        },
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/api/v1/agents/beta"
    body = response.json()
    assert (body["state"], body["version"]) == ("Loaded", "2")
    assert body["config"] == {"greeting": "hi"}
    assert body["limits"] == {"memory_bytes": 4194304}
    assert body["counters"] is None  # not started: no instance yet
    assert act(live, "beta", "start")["state"] == "Running"


# Listing


def test_the_list_filters_by_state_and_capability(live: Live) -> None:
    deploy(live, "adder", capable("sum"))
    deploy(live, "idle", example("echo"), start="false")
    assert agent(live, "adder")["capabilities"] == ["sum"]

    def names(**query: str) -> list[str]:
        response = live.get("/agents", params=query)
        assert response.status_code == 200, response.text
        return [item["name"] for item in response.json()["items"]]

    assert names() == ["adder", "echo", "idle", "ping", "pong"]
    assert names(state="Running") == ["adder", "echo", "ping", "pong"]
    assert names(state="Loaded") == ["idle"]
    assert names(state="Failed") == []
    assert names(capability="sum") == ["adder"]
    assert names(capability="sum", state="Stopped") == []
    found = live.get("/capabilities", params={"name": "sum"}).json()["items"]
    assert [(c["agent"], c["agent_state"], c["version"]) for c in found] == [
        ("adder", "Running", "1.0")
    ]


def test_the_list_pages_with_a_cursor(live: Live) -> None:
    for name in ("a1", "a2", "a3"):
        deploy(live, name, example("echo"), start="false")
    seen: list[str] = []
    pages = 0
    cursor: str | None = None
    while True:
        query: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = live.get("/agents", params=query).json()
        pages += 1
        assert len(page["items"]) <= 2
        seen += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert cursor == seen[-1]
    assert seen == ["a1", "a2", "a3", "echo", "ping", "pong"]
    assert pages == 3


# Inspecting


def test_the_counters_move_as_messages_flow(live: Live) -> None:
    before = agent(live, "echo")["counters"]
    for n in range(3):
        answer = live.post("/agents/echo/invoke", json={"content": n})
        assert answer.status_code == 200, answer.text
    # Handled-message counts move after the reply is sent: wait for the turn to end.
    assert live.server.dispatcher.wait_idle(10)
    after = agent(live, "echo")["counters"]
    assert after["messages_in"] == before["messages_in"] + 3
    assert after["messages_out"] == before["messages_out"] + 3
    assert after["messages_handled"] == before["messages_handled"] + 3
    assert after["fuel_used"] > before["fuel_used"]
    assert after["memory_bytes"] >= 65536
    assert after["mailbox_peak"] >= 1
    assert after["mailbox_depth"] == 0
    assert after["errors"] == {}


# Acting


def test_stop_start_drain_and_remove(live: Live) -> None:
    stopped = act(live, "echo", "stop")
    assert stopped["state"] == "Stopped"
    assert stopped["counters"] is None  # the instance is freed
    assert act(live, "echo", "start")["state"] == "Running"
    assert live.post("/agents/echo/invoke", json={"content": "back"}).status_code == 200
    assert act(live, "echo", "drain")["state"] == "Stopped"
    assert act(live, "echo", "start")["state"] == "Running"

    removed = live.client.delete("/agents/echo")
    assert removed.status_code == 204
    assert removed.content == b""
    gone = live.get("/agents/echo")
    assert gone.status_code == 404
    assert gone.json()["code"] == "agent-not-found"
    assert "echo" not in [a["name"] for a in live.get("/agents").json()["items"]]


def test_reload_then_rollback_switch_the_running_version(live: Live) -> None:
    first = agent(live, "echo")
    v2 = example("echo", ready="echo v2 ok")
    reloaded = live.post(
        "/agents/echo/reload",
        files={"module": ("echo.wasm", v2, "application/wasm")},
        data={"version": "2.0.0"},
    )
    assert reloaded.status_code == 200, reloaded.text
    assert reloaded.json()["version"] == "2.0.0"
    assert reloaded.json()["module_sha256"] == hashlib.sha256(v2).hexdigest()
    texts = [line["text"] for line in live.get("/agents/echo/logs").json()["items"]]
    assert texts[-1] == "echo v2 ok"  # the new version's caxton_init ran
    answer = live.post("/agents/echo/invoke", json={"content": "on v2"})
    assert answer.json()["reply"]["content"] == "on v2"

    rolled = act(live, "echo", "rollback")
    assert (rolled["version"], rolled["module_sha256"]) == (
        first["version"],
        first["module_sha256"],
    )
    assert rolled["state"] == "Running"
    texts = [line["text"] for line in live.get("/agents/echo/logs").json()["items"]]
    assert texts[-1] == "echo ready"


def test_a_raw_module_reloads_with_its_version_in_the_query(live: Live) -> None:
    v2 = example("echo", ready="echo raw 2")
    response = live.post("/agents/echo/reload", params={"version": "2"}, content=v2, headers=WASM)
    assert response.status_code == 200, response.text
    assert response.json()["version"] == "2"


# Logs


def test_logs_list_what_the_agent_wrote(live: Live) -> None:
    page = live.get("/agents/echo/logs").json()
    assert [(line["agent"], line["level"], line["text"]) for line in page["items"]] == [
        ("echo", "info", "echo ready")
    ]
    assert page["last_seq"] >= page["items"][0]["seq"]
    assert live.get("/agents/ping/logs").json()["items"][0]["text"] == "ping ready"


def test_followed_logs_stream_a_line_written_after_connecting(live: Live) -> None:
    deploy(live, "scribe", LOGGER)  # logs each message it handles, answers nothing
    last = live.get("/agents/scribe/logs").json()["last_seq"]
    query = {"follow": "true", "after": str(last)}
    with live.client.stream("GET", "/agents/scribe/logs", params=query) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["x-caxton-version"] == __version__
        sent = live.post(
            "/messages",
            json={"performative": "inform", "receiver": "scribe", "content": "after-connect"},
        )
        assert sent.status_code == 202, sent.text
        event = _next_event(stream)
    assert event["agent"] == "scribe"
    assert event["seq"] > last
    assert "after-connect" in event["text"]
    assert event["id"] == event["seq"]


def _next_event(stream: httpx.Response) -> dict[str, Any]:
    """The next data event, with its `id`; keep-alive comments are skipped."""
    deadline = time.monotonic() + STREAM_DEADLINE_S
    event_id: int | None = None
    for line in stream.iter_lines():
        assert time.monotonic() < deadline, "no event in time"
        if line.startswith("id: "):
            event_id = int(line.removeprefix("id: "))
        elif line.startswith("data: "):
            data: dict[str, Any] = orjson.loads(line.removeprefix("data: "))
            return {**data, "id": event_id}
    raise AssertionError("the stream ended without an event")
