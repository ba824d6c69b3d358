"""Agents calling MCP tools through a real server: real MCP servers (mcp-server-time from PyPI
and a misbehaving one of ours), real wasm agents, answers as messages, grants and limits."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from caxton.settings import ToolSettings
from caxton.store import AuditRecord
from caxton.tools import ToolServerSpec
from conftest import ALLOC, wat
from live import Live, live_server

MISBEHAVING = Path(__file__).with_name("misbehaving_server.py")
TIME_SERVER = Path(sys.prefix) / "bin" / "mcp-server-time"
DEADLINE_S = 20.0


def caller(request: dict[str, Any]) -> bytes:
    """An agent that makes `request` as a tool call on its first message, then logs each
    message it gets (the answer among them); "refused" if the call was refused at once."""
    text = orjson.dumps(request).decode().replace("\\", "\\\\").replace('"', '\\"')
    size = len(orjson.dumps(request))
    return wat(f"""(module
  (import "caxton" "tool_call" (func $tool (param i32 i32) (result i32)))
  (import "caxton" "log" (func $log (param i32 i32 i32)))
  (import "caxton" "kv_get" (func $kv_get (param i32 i32 i32 i32) (result i32)))
  (import "caxton" "kv_set" (func $kv_set (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2) {ALLOC}
  (data (i32.const 32) "called")
  (data (i32.const 48) "refused")
  (data (i32.const 1024) "{text}")
  (func (export "caxton_handle") (param $p i32) (param $n i32) (result i32)
    (if (i32.lt_s (call $kv_get (i32.const 32) (i32.const 6) (i32.const 16) (i32.const 8))
                  (i32.const 0))
      (then
        (drop (call $kv_set (i32.const 32) (i32.const 6) (i32.const 32) (i32.const 6)))
        (if (i32.ne (call $tool (i32.const 1024) (i32.const {size})) (i32.const 0))
          (then (call $log (i32.const 3) (i32.const 48) (i32.const 7))))
        (return (i32.const 0))))
    (call $log (i32.const 2) (local.get $p) (local.get $n))
    (i32.const 0)))""")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Live]:
    """A server with the time server and the misbehaving one connected; short tool limits."""
    limits = ToolSettings(
        max_concurrent=2, calls_per_minute=3, timeout_s=1.0, max_result_bytes=4096
    )
    with live_server(tmp_path / "data", tools=limits, examples=True) as live:
        tools = live.server.tools
        tools.add_server(
            ToolServerSpec.stdio("time", str(TIME_SERVER), ["--local-timezone", "UTC"])
        )
        tools.add_server(ToolServerSpec.stdio("bad", sys.executable, [str(MISBEHAVING)]))
        assert tools.wait_ready("time", DEADLINE_S)
        assert tools.wait_ready("bad", DEADLINE_S)
        yield live


def run(live: Live, name: str, request: dict[str, Any], *, grant: str | None) -> None:
    """Deploy a caller of `request` as `name`, grant it `grant`, and kick it."""
    if grant is not None:
        live.server.tools.grant(name, grant)
    deployed = live.post(
        "/agents",
        params={"name": name},
        content=caller(request),
        headers={"content-type": "application/wasm"},
    )
    assert deployed.status_code == 201, deployed.text
    sent = live.post("/messages", json={"performative": "inform", "receiver": name, "content": 1})
    assert sent.status_code == 202, sent.text


def answer(live: Live, name: str) -> dict[str, Any]:
    """The first message the agent logged after its kick: the tool's answer."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        lines = live.get(f"/agents/{name}/logs").json()["items"]
        for line in lines:
            if line["text"].startswith("{"):
                found: dict[str, Any] = orjson.loads(line["text"])
                return found
            if line["text"] == "refused":
                return {"refused": True}
        assert time.monotonic() < deadline, f"{name} logged no answer: {lines}"
        time.sleep(0.02)  # polling the agent's log book


def audited_calls(live: Live, count: int) -> list[AuditRecord]:
    """The tool calls audited, once there are `count`: the audit is written after the answer,
    off the agent's turn."""
    deadline = time.monotonic() + DEADLINE_S
    while len(found := live.server.store.audit.recent(10, action="tool.call")) < count:
        assert time.monotonic() < deadline, found
        time.sleep(0.02)  # polling the audit trail
    return found


def test_an_agent_gets_a_real_tools_result_as_an_inform(server: Live) -> None:
    call = {"tool": "time/get_current_time", "arguments": {"timezone": "Europe/Paris"},
            "reply_with": "t-1"}  # fmt: skip
    run(server, "clock", call, grant="time/*")
    got = answer(server, "clock")
    assert got["performative"] == "inform"
    assert got["sender"] == "caxton"
    assert got["in_reply_to"] == "t-1"
    assert got["x-caxton-tool"] == "time/get_current_time"
    assert got["content"]["structured"]["timezone"] == "Europe/Paris"
    assert got["content"]["content"][0]["type"] == "text"
    [audited] = audited_calls(server, 1)
    assert (audited.actor, audited.target, audited.outcome) == (
        "clock",
        "time/get_current_time",
        "ok",
    )
    assert audited.detail["reply_with"] == "t-1"


def test_a_call_without_a_grant_is_refused_with_minus_4_and_audited(server: Live) -> None:
    call = {"tool": "time/get_current_time", "arguments": {"timezone": "UTC"}, "reply_with": "t"}
    run(server, "nosy", call, grant="bad/*")  # a grant, but not for this server
    assert answer(server, "nosy") == {"refused": True}
    [audited] = audited_calls(server, 1)
    assert (audited.actor, audited.outcome) == ("nosy", "denied")


def test_a_grant_revoked_at_run_time_refuses_the_next_call(server: Live) -> None:
    tools = server.server.tools
    tools.grant("later", "time/get_current_time")
    assert tools.grants.allowed("later", "time/get_current_time")
    assert not tools.grants.allowed("later", "time/convert_time")
    tools.revoke("later", "time/get_current_time")
    assert not tools.grants.allowed("later", "time/get_current_time")
    call = {"tool": "time/get_current_time", "arguments": {"timezone": "UTC"}, "reply_with": "t"}
    run(server, "later", call, grant=None)
    assert answer(server, "later") == {"refused": True}


@pytest.mark.parametrize(
    ("tool", "arguments", "error", "reason"),
    [
        ("time/get_current_time", {"timezone": 3}, "invalid", "timezone: 3 is not of type"),
        ("time/no_such_tool", {}, "unknown-tool", "has no tool 'no_such_tool'"),
        ("nowhere/tool", {}, "unavailable", "'nowhere'"),
        ("bad/hang", {}, "timeout", "gave no answer in 1.0 s"),
        ("bad/die", {}, "unavailable", "Connection closed"),
        ("bad/fail", {}, "tool-error", "Error executing tool fail"),
        ("bad/big", {"size": 10_000}, "too-large", "over the agent's limit of 4096"),
    ],
    ids=["bad-arguments", "unknown-tool", "unknown-server", "hangs", "crashes", "tool-error",
         "too-large"],
)  # fmt: skip
def test_every_way_a_call_goes_wrong_is_a_failure_for_the_agent(
    server: Live, tool: str, arguments: dict[str, Any], error: str, reason: str
) -> None:
    grant = f"{tool.partition('/')[0]}/*"
    run(server, "unlucky", {"tool": tool, "arguments": arguments, "reply_with": "r"}, grant=grant)
    got = answer(server, "unlucky")
    assert got["performative"] == "failure"
    assert got["in_reply_to"] == "r"
    assert got["content"]["error"] == error
    assert reason in got["content"]["reason"]
    # The server, and every agent, live on: the echo example still answers.
    assert server.post("/agents/echo/invoke", json={"content": 1}).status_code == 200


def test_garbage_on_a_servers_stdout_is_skipped(server: Live) -> None:
    run(server, "tidy", {"tool": "bad/garbage", "arguments": {}, "reply_with": "g"}, grant="bad/*")
    got = answer(server, "tidy")
    assert got["performative"] == "inform"
    assert got["content"]["structured"] == {"result": "answered after garbage"}


def test_a_server_that_died_is_reconnected(server: Live) -> None:
    tools = server.server.tools
    run(server, "killer", {"tool": "bad/die", "arguments": {}, "reply_with": "d"}, grant="bad/*")
    assert answer(server, "killer")["content"]["error"] == "unavailable"
    deadline = time.monotonic() + DEADLINE_S
    while next(s for s in tools.servers() if s.spec.name == "bad").connects < 2:
        assert time.monotonic() < deadline, tools.servers()
        time.sleep(0.05)  # the supervisor reconnects with back-off
    run(server, "after", {"tool": "bad/echo", "arguments": {"text": "hi"}, "reply_with": "e"},
        grant="bad/*")  # fmt: skip
    assert answer(server, "after")["content"]["structured"] == {"result": "echo: hi"}


def test_calls_over_the_agents_limits_fail_without_reaching_the_server(server: Live) -> None:
    tools = server.server.tools
    tools.grant("busy", "bad/*")
    started = [tools.call("busy", {"tool": "bad/hang", "arguments": {}, "reply_with": str(n)}, None)
               for n in range(4)]  # fmt: skip
    assert started == [0, 0, 0, 0]  # the agent never blocks: every call is accepted
    outcomes = sorted(record.outcome for record in audited_calls(server, 4))
    assert outcomes == ["rate-limited", "rate-limited", "timeout", "timeout"]
