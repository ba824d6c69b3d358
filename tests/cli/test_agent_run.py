"""`caxton agent run` and `caxton demo`, driven through click's test runner."""

from __future__ import annotations

import random
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from caxton.cli import main

# An agent whose caxton_handle never returns: only fuel or the deadline stops it.
ENDLESS_LOOP = """
(module
  (memory (export "memory") 1)
  (func (export "caxton_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "caxton_handle") (param i32 i32) (result i32)
    (loop $forever (br $forever))
    (i32.const 0)))
"""

# An agent named "self" that sends one message to itself, on the first message only.
SELF_MESSAGE = b'{"performative":"inform","receiver":"self","content":"again"}'
_SELF_MESSAGE_WAT = SELF_MESSAGE.decode().replace('"', '\\"')  # a WAT string literal's body
SELF_SEND = f"""
(module
  (import "caxton" "send" (func $send (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $sent (mut i32) (i32.const 0))
  (data (i32.const 16) "{_SELF_MESSAGE_WAT}")
  (func (export "caxton_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "caxton_handle") (param i32 i32) (result i32)
    (if (i32.eqz (global.get $sent))
      (then
        (global.set $sent (i32.const 1))
        (if (call $send (i32.const 16) (i32.const {len(SELF_MESSAGE)}))
          (then (return (i32.const 1))))))
    (i32.const 0)))
"""


@pytest.fixture
def echo_wat() -> Iterator[Path]:
    with resources.as_file(resources.files("caxton.examples") / "echo.wat") as path:
        yield path


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def events(result: Result) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in result.stdout.splitlines() if line.strip()]


def of(result: Result, kind: str) -> list[dict[str, Any]]:
    return [event for event in events(result) if event["event"] == kind]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_run_echo_prints_events(echo_wat: Path) -> None:
    message = {"performative": "request", "content": {"hello": "world"}, "reply_with": "r1"}
    result = run("agent", "run", str(echo_wat), "--message", orjson.dumps(message).decode())

    assert result.exit_code == 0, result.output
    assert of(result, "log") == [
        {"event": "log", "agent": "echo", "level": "info", "text": "echo ready"}
    ]
    [sent] = of(result, "sent")
    reply = sent["message"]
    assert reply["performative"] == "inform"
    assert reply["sender"] == "echo"
    assert reply["receiver"] == "user"  # the default sender of --message
    assert reply["content"] == {"hello": "world"}
    assert reply["in_reply_to"] == "r1"
    [handled] = of(result, "handled")
    assert handled["agent"] == "echo"
    assert handled["fuel"] > 0
    assert of(result, "error") == []
    assert [event["event"] for event in events(result)] == ["log", "sent", "handled"]


def test_run_delivers_messages_in_order_under_a_chosen_name(echo_wat: Path) -> None:
    result = run(
        "agent",
        "run",
        str(echo_wat),
        "--name",
        "parrot",
        "--message",
        '{"performative": "inform", "content": 1}',
        "--message",
        '{"performative": "inform", "content": 2, "sender": "alice"}',
    )

    assert result.exit_code == 0, result.output
    replies = [event["message"] for event in of(result, "sent")]
    assert [(m["sender"], m["receiver"], m["content"]) for m in replies] == [
        ("parrot", "user", 1),
        ("parrot", "alice", 2),
    ]
    assert [event["agent"] for event in of(result, "handled")] == ["parrot", "parrot"]


def test_run_delivers_messages_an_agent_sends_itself(tmp_path: Path) -> None:
    module = write(tmp_path, "self.wat", SELF_SEND)
    result = run("agent", "run", str(module), "--message", '{"performative": "inform"}')

    assert result.exit_code == 0, result.output
    [sent] = of(result, "sent")
    assert sent["message"]["sender"] == "self"
    assert sent["message"]["receiver"] == "self"
    assert sent["message"]["content"] == "again"
    handled = of(result, "handled")
    assert [event["agent"] for event in handled] == ["self", "self"]
    assert handled[1]["message_id"] == sent["message"]["message_id"]
    assert of(result, "error") == []


def test_run_refuses_a_module_that_is_not_webassembly(tmp_path: Path) -> None:
    module = tmp_path / "junk.wasm"
    module.write_bytes(random.Random(3).randbytes(512))
    result = run("agent", "run", str(module), "--message", '{"performative": "inform"}')

    assert result.exit_code == 1
    [error] = of(result, "error")
    assert error["class"] == "validation"
    assert "not a WebAssembly module" in error["reason"]
    assert "not a WebAssembly module" in result.stderr
    assert str(module) in result.stderr
    assert of(result, "handled") == []


def test_run_rejects_a_message_that_is_not_json(echo_wat: Path) -> None:
    result = run("agent", "run", str(echo_wat), "--message", "not json")

    assert result.exit_code == 2
    assert "--message" in result.stderr
    assert "not valid JSON" in result.stderr
    assert result.stdout == ""


def test_run_rejects_a_message_that_is_not_an_object(echo_wat: Path) -> None:
    result = run("agent", "run", str(echo_wat), "--message", "[1, 2]")

    assert result.exit_code == 2
    assert "--message" in result.stderr
    assert "must be a JSON object" in result.stderr


def test_run_reports_exhausted_fuel_as_a_resource_error(tmp_path: Path) -> None:
    module = write(tmp_path, "spin.wat", ENDLESS_LOOP)
    result = run(
        "agent", "run", str(module), "--fuel", "1000", "--message", '{"performative": "inform"}'
    )

    assert result.exit_code == 0, result.output
    [error] = of(result, "error")
    assert error["agent"] == "spin"
    assert error["class"] == "resource"
    assert "fuel" in error["reason"]
    assert of(result, "handled") == []


def test_run_reports_a_missed_deadline_as_a_timeout(tmp_path: Path) -> None:
    module = write(tmp_path, "spin.wat", ENDLESS_LOOP)
    result = run(
        "agent",
        "run",
        str(module),
        "--fuel",
        str(10**12),
        "--timeout-ms",
        "50",
        "--message",
        '{"performative": "inform"}',
    )

    assert result.exit_code == 0, result.output
    [error] = of(result, "error")
    assert error["class"] == "timeout"
    assert "deadline" in error["reason"]


def test_run_answers_a_failed_request_with_a_failure(tmp_path: Path) -> None:
    module = write(tmp_path, "spin.wat", ENDLESS_LOOP)
    request = '{"performative": "request", "reply_with": "q1"}'
    result = run("agent", "run", str(module), "--fuel", "1000", "--message", request)

    assert result.exit_code == 0, result.output
    assert [event["event"] for event in events(result)] == ["error", "sent"]
    [sent] = of(result, "sent")
    failure = sent["message"]
    assert failure["performative"] == "failure"
    assert failure["sender"] == "spin"
    assert failure["receiver"] == "user"
    assert failure["in_reply_to"] == "q1"
    assert failure["content"]["error"] == "resource"


def test_demo_plays_ping_pong() -> None:
    result = run("demo")

    assert result.exit_code == 0, result.output
    assert "rounds_done = 3" in result.stdout
    assert "done after 3 rounds" in result.stdout
