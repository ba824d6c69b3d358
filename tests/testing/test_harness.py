"""caxton.testing, through its own pytest fixture, on real wasm agents."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import wasmtime

from caxton.errors import AgentInitFailed, ModuleRejected
from caxton.testing import Harness, ToolFailure

EXAMPLES = resources.files("caxton.examples")


def example(name: str, tmp_path: Path) -> Path:
    path = tmp_path / f"{name}.wat"
    path.write_text(EXAMPLES.joinpath(f"{name}.wat").read_text())
    return path


def _data(offset: int, text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'(data (i32.const {offset}) "{escaped}")'


CALL = '{"tool":"time/now","arguments":{"zone":"UTC"},"reply_with":"t1"}'
CAPABILITY = '{"name":"clock","version":"1.2.0","description":"tells the time","input_schema":{}}'

# Calls time/now on its first message; logs every message it is given (the answer too).
TOOL_USER = f"""(module
  (import "caxton" "tool_call" (func $tool_call (param i32 i32) (result i32)))
  (import "caxton" "log" (func $log (param i32 i32 i32)))
  (import "caxton" "register_capability" (func $register (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  {_data(16, CALL)}
  {_data(512, CAPABILITY)}
  (global $bump (mut i32) (i32.const 4096))
  (global $called (mut i32) (i32.const 0))
  (global $status (mut i32) (i32.const 0))
  (func (export "caxton_alloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $bump))
    (global.set $bump (i32.add (global.get $bump) (local.get $n)))
    (local.get $p))
  (func (export "caxton_init") (param $ptr i32) (param $len i32) (result i32)
    (drop (call $register (i32.const 512) (i32.const {len(CAPABILITY)})))
    (i32.const 0))
  (func (export "caxton_handle") (param $ptr i32) (param $len i32) (result i32)
    (global.set $bump (i32.const 4096))
    (call $log (i32.const 2) (local.get $ptr) (local.get $len))
    (if (i32.eqz (global.get $called))
      (then
        (global.set $called (i32.const 1))
        (global.set $status (call $tool_call (i32.const 16) (i32.const {len(CALL)})))))
    (i32.const 0)))
"""

HELLO = '{"performative":"inform","receiver":"tester","content":"up"}'
# Announces itself from caxton_init; handles nothing.
ANNOUNCER = f"""(module
  (import "caxton" "send" (func $send (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  {_data(16, HELLO)}
  (func (export "caxton_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "caxton_init") (param i32 i32) (result i32)
    (drop (call $send (i32.const 16) (i32.const {len(HELLO)})))
    (i32.const 0))
  (func (export "caxton_handle") (param i32 i32) (result i32) (i32.const 0)))
"""

SPINNER = """(module
  (memory (export "memory") 1)
  (func (export "caxton_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "caxton_handle") (param i32 i32) (result i32)
    (loop $forever (br $forever))
    (i32.const 0)))
"""


def test_an_agent_answers_a_request_and_the_turn_says_what_it_did(
    caxton: Harness, tmp_path: Path
) -> None:
    echo = caxton.load(example("echo", tmp_path), name="echo")
    assert echo.logs == [("info", "echo ready")]
    turn = echo.request({"hello": ["world", 1]})
    assert turn.ok, turn.error
    reply = turn.reply()
    assert reply["performative"] == "inform"
    assert reply["content"] == {"hello": ["world", 1]}
    assert reply["receiver"] == "tester"
    assert reply["in_reply_to"] == turn.message["reply_with"]
    assert reply["conversation_id"] == turn.message["conversation_id"]
    assert turn.fuel_used > 0
    assert turn.elapsed_ms > 0


def test_reply_fails_with_what_was_sent_instead(caxton: Harness, tmp_path: Path) -> None:
    ping = caxton.load(example("ping", tmp_path), name="ping")
    quiet = ping.handle({"performative": "inform", "content": "odd"})  # a warning, nothing sent
    assert quiet.logs[0][0] == "warn"
    with pytest.raises(AssertionError, match="expected one message to 'tester', got 0"):
        quiet.reply()


def test_a_conversation_between_agents_runs_until_quiet(caxton: Harness, tmp_path: Path) -> None:
    ping = caxton.load(example("ping", tmp_path), name="ping")
    caxton.load(example("pong", tmp_path), name="pong")
    conversation = caxton.run({"performative": "request", "receiver": "ping", "content": "go"})
    assert conversation.errors == []
    assert conversation.performatives() == ["request"] + ["request", "inform"] * 3
    assert [m["content"] for m in conversation.to("pong")] == [{"ping": n} for n in (1, 2, 3)]
    assert ping.logs[-1] == ("info", "done after 3 rounds")
    assert ping.kv["rounds_done"] == b"3"
    assert ping.kv.json("rounds_done") == 3
    assert list(ping.kv) == ["rounds_done"]


def test_a_stubbed_tool_answers_within_the_turn(caxton: Harness) -> None:
    caxton.tools.stub(
        "time/now", lambda args: {"content": [{"type": "text", "text": args["zone"]}]}
    )
    agent = caxton.load(_wasm(TOOL_USER), name="clock")
    assert agent.capabilities == [
        {"name": "clock", "version": "1.2.0", "description": "tells the time", "input_schema": {}}
    ]
    turn = agent.request("what time is it")
    assert turn.tool_calls == [
        {"tool": "time/now", "arguments": {"zone": "UTC"}, "reply_with": "t1"}
    ]
    # Two deliveries in one turn: the request, then the tool's answer.
    answer = turn.logs[1][1]
    assert '"performative":"inform"' in answer
    assert '"in_reply_to":"t1"' in answer
    assert '"sender":"caxton"' in answer
    assert '"content":[{"type":"text","text":"UTC"}]' in answer
    assert caxton.tools.calls[0]["agent"] == "clock"


def test_a_tool_that_fails_or_has_no_stub(caxton: Harness) -> None:
    def broken(arguments: dict[str, object]) -> dict[str, object]:
        raise ToolFailure("the clock fell off the wall")

    caxton.tools.stub("time/now", broken)
    turn = caxton.load(_wasm(TOOL_USER), name="clock").request("now?")
    assert '"performative":"failure"' in turn.logs[1][1]
    assert "the clock fell off the wall" in turn.logs[1][1]

    other = Harness(caxton.runtime)
    try:
        refused = other.load(_wasm(TOOL_USER), name="clock").request("now?")
        assert refused.tool_calls == []  # no stub: -4, as a tool not granted
        assert len(refused.logs) == 1
    finally:
        other.close()


def test_budgets_end_a_runaway_handler_with_a_failure_to_the_sender(caxton: Harness) -> None:
    spinner = caxton.load(_wasm(SPINNER), name="spinner", fuel=100_000)
    turn = spinner.request("spin")
    assert not turn.ok
    assert turn.error is not None
    assert turn.error.startswith("resource:")
    failure = turn.reply()
    assert failure["performative"] == "failure"
    assert failure["content"]["error"] == "resource"
    slow = caxton.load(_wasm(SPINNER), name="slow", deadline_ms=20, fuel=10**12)
    timed_out = slow.request("spin")
    assert timed_out.error is not None
    assert timed_out.error.startswith("timeout:")
    assert timed_out.elapsed_ms >= 20


def test_what_init_sends_is_kept_apart(caxton: Harness) -> None:
    agent = caxton.load(_wasm(ANNOUNCER), name="herald")
    assert [(m["sender"], m["content"]) for m in agent.sent_at_init] == [("herald", "up")]
    assert agent.handle({"performative": "inform"}).sent == []


def test_bad_modules_are_refused_as_a_server_refuses_them(caxton: Harness, tmp_path: Path) -> None:
    with pytest.raises(ModuleRejected):
        caxton.load(b"\x00asm\x01\x00\x00\x00garbage", name="bad")
    failing_init = SPINNER.replace(
        '(func (export "caxton_handle")',
        '(func (export "caxton_init") (param i32 i32) (result i32) (i32.const 7))\n'
        '  (func (export "caxton_handle")',
    )
    with pytest.raises(AgentInitFailed):
        caxton.load(_wasm(failing_init), name="init-fails")


def test_kv_state_can_be_seeded_and_read(caxton: Harness, tmp_path: Path) -> None:
    ping = caxton.load(example("ping", tmp_path), name="ping")
    ping.kv["seed"] = b"42"
    assert ping.kv["seed"] == b"42"
    del ping.kv["seed"]
    assert "seed" not in ping.kv
    with pytest.raises(KeyError):
        del ping.kv["seed"]


def _wasm(text: str) -> bytes:
    return bytes(wasmtime.wat2wasm(text))
