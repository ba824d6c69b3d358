"""The ABI v1 imports as an agent sees them: results, refusals, and what reaches the host."""

from __future__ import annotations

import time

import pytest

from caxton.errors import AgentInitFailed, ErrorClass
from caxton.runtime import InMemoryKeyValueStore, LogLevel, Runtime
from conftest import ALLOC, RecordingHost, agent_wat, start, wat

IMPORTS = """
  (import "caxton" "send" (func $send (param i32 i32) (result i32)))
  (import "caxton" "log" (func $log (param i32 i32 i32)))
  (import "caxton" "now_ms" (func $now_ms (result i64)))
  (import "caxton" "kv_get" (func $kv_get (param i32 i32 i32 i32) (result i32)))
  (import "caxton" "kv_set" (func $kv_set (param i32 i32 i32 i32) (result i32)))
  (import "caxton" "kv_delete" (func $kv_delete (param i32 i32) (result i32)))
  (import "caxton" "tool_call" (func $tool_call (param i32 i32) (result i32)))
  (import "caxton" "register_capability" (func $register_capability (param i32 i32) (result i32)))
"""

# The message decides what the agent does: it calls `send` with the inbound bytes
# themselves and stores the result at address 0, which the test reads back via `kv`.
ECHO_STATUS = agent_wat(
    "(i32.store (i32.const 0) (call $send (local.get $ptr) (local.get $len)))"
    "(drop (call $kv_set (i32.const 16) (i32.const 6) (i32.const 0) (i32.const 4)))",
    imports=IMPORTS,
    extra='(data (i32.const 16) "status")',
)


def status_of(kv: InMemoryKeyValueStore) -> int:
    raw = kv.get(b"status")
    assert raw is not None
    return int.from_bytes(raw, "little", signed=True)


@pytest.mark.parametrize(
    ("message", "status", "words"),
    [
        (b'{"performative":"inform","receiver":"bob"}', 0, None),
        (b'{"performative":"inform"', -1, "malformed JSON"),
        (b"[1, 2]", -1, "expected a JSON object"),
        (b'{"performative":"inform"}', -1, "receiver: required"),
        (b'{"performative":"shout","receiver":"bob"}', -1, "performative: unknown act"),
        (b'{"performative":"inform","receiver":"Bob!"}', -1, "receiver: 'Bob!'"),
        (b'{"performative":"inform","receiver":"b","colour":1}', -1, "colour: unknown parameter"),
        (b'{"performative":"inform","receiver":"b","reply_by":"soon"}', -1, "reply_by"),
    ],
)
def test_send_answers_and_explains(
    runtime: Runtime, host: RecordingHost, message: bytes, status: int, words: str | None
) -> None:
    kv = InMemoryKeyValueStore(1024)
    agent = start(runtime, ECHO_STATUS, host, kv=kv)
    agent.handle(message)
    assert status_of(kv) == status
    if words is None:
        assert len(host.sent) == 1
    else:
        assert host.sent == []
        assert any(words in text for level, text in host.logs if level is LogLevel.WARN)
        assert host.refused == [(message, host.refused[0][1])]
        assert words in host.refused[0][1]


def test_send_sets_the_sender_and_drops_forged_host_fields(
    runtime: Runtime, host: RecordingHost
) -> None:
    agent = start(runtime, ECHO_STATUS, host, name="alice")
    agent.handle(
        b'{"performative":"inform","receiver":["bob","carol"],"sender":"mallory",'
        b'"message_id":"forged","x-colour":"red"}'
    )
    assert host.sent == [
        {
            "performative": "inform",
            "receiver": ["bob", "carol"],
            "sender": "alice",
            "x-colour": "red",
        }
    ]


def test_back_pressure_status_reaches_the_agent(runtime: Runtime, host: RecordingHost) -> None:
    kv = InMemoryKeyValueStore(1024)
    host.send_status = -3
    start(runtime, ECHO_STATUS, host, kv=kv).handle(b'{"performative":"inform","receiver":"b"}')
    assert status_of(kv) == -3


KV_AGENT = agent_wat(
    # set k=hello, read it into a 2-byte buffer (too small) and a 16-byte one, delete it,
    # read again: the four answers land at 0, 4, 8 and 12 for the test to check.
    """
    (i32.store (i32.const 0) (call $kv_set
      (i32.const 100) (i32.const 1) (i32.const 104) (i32.const 5)))
    (i32.store (i32.const 4) (call $kv_get
      (i32.const 100) (i32.const 1) (i32.const 200) (i32.const 2)))
    (i32.store (i32.const 8) (call $kv_get
      (i32.const 100) (i32.const 1) (i32.const 200) (i32.const 16)))
    (drop (call $kv_delete (i32.const 100) (i32.const 1)))
    (i32.store (i32.const 12) (call $kv_get
      (i32.const 100) (i32.const 1) (i32.const 300) (i32.const 16)))
    (drop (call $send (i32.const 400) (i32.const 46)))
    """,
    imports=IMPORTS,
    extra='(data (i32.const 100) "k") (data (i32.const 104) "hello")'
    ' (data (i32.const 400) "{\\"performative\\":\\"inform\\",\\"receiver\\":\\"me\\"}")',
)


def test_kv_round_trip(runtime: Runtime, host: RecordingHost) -> None:
    kv = InMemoryKeyValueStore(1024)
    agent = start(runtime, KV_AGENT, host, kv=kv)
    agent.handle(b"{}")
    answers = [agent.read_memory(i, 4) for i in (0, 4, 8, 12)]
    assert [int.from_bytes(a, "little", signed=True) for a in answers] == [0, 5, 5, -1]
    assert bytes(agent.read_memory(200, 5)) == b"hello"
    assert kv.items() == {}


def test_kv_quota_is_refused_with_too_large(runtime: Runtime, host: RecordingHost) -> None:
    kv = InMemoryKeyValueStore(4)
    agent = start(runtime, KV_AGENT, host, kv=kv)
    agent.handle(b"{}")
    answer = agent.read_memory(0, 4)
    assert int.from_bytes(answer, "little", signed=True) == -2


def test_log_levels_and_now_ms(runtime: Runtime, host: RecordingHost) -> None:
    agent = start(
        runtime,
        agent_wat(
            "(call $log (i32.const 4) (i32.const 100) (i32.const 5))"
            "(call $log (i32.const 99) (i32.const 100) (i32.const 5))"
            "(i64.store (i32.const 0) (call $now_ms))",
            imports=IMPORTS,
            extra='(data (i32.const 100) "oh no")',
        ),
        host,
    )
    before = time.time_ns() // 1_000_000
    agent.handle(b"{}")
    after = time.time_ns() // 1_000_000
    assert host.logs == [(LogLevel.ERROR, "oh no"), (LogLevel.ERROR, "oh no")]
    now = int.from_bytes(agent.read_memory(0, 8), "little")
    assert before <= now <= after


def test_tool_call_and_capability_reach_the_host(runtime: Runtime, host: RecordingHost) -> None:
    tool = b'{"tool":"time/now","arguments":{},"reply_with":"t1"}'
    capability = b'{"name":"translate","version":"1.0.0"}'
    data = (
        f'(data (i32.const 100) "{tool.decode().replace(chr(34), chr(92) + chr(34))}")'
        f'(data (i32.const 300) "{capability.decode().replace(chr(34), chr(92) + chr(34))}")'
    )
    agent = start(
        runtime,
        agent_wat(
            f"(i32.store (i32.const 0) (call $tool_call (i32.const 100) (i32.const {len(tool)})))"
            f"(i32.store (i32.const 4) (call $register_capability (i32.const 300)"
            f" (i32.const {len(capability)})))",
            imports=IMPORTS,
            extra=data,
        ),
        host,
    )
    agent.handle(b"{}")
    assert host.tool_calls == [{"tool": "time/now", "arguments": {}, "reply_with": "t1"}]
    assert host.capabilities == [{"name": "translate", "version": "1.0.0"}]
    tool_status = agent.read_memory(0, 4)
    assert int.from_bytes(tool_status, "little", signed=True) == -4


WASI = """
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
"""


def test_wasi_output_becomes_log_lines_and_sleep_is_refused(
    runtime: Runtime, host: RecordingHost
) -> None:
    # iovec at 0: {ptr 100, len 16} -> "line one\nline tw"; then {ptr 116, len 1} -> "o" to stderr.
    agent = start(
        runtime,
        agent_wat(
            "(i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const 16))"
            "(drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20)))"
            "(i32.store (i32.const 0) (i32.const 116)) (i32.store (i32.const 4) (i32.const 1))"
            "(drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 20)))"
            "(i32.store (i32.const 24)"
            " (call $poll_oneoff (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))",
            imports=WASI,
            extra='(data (i32.const 100) "line one\\nline two")',
        ),
        host,
    )
    agent.handle(b"{}")
    assert host.logs == [
        (LogLevel.INFO, "line one"),
        (LogLevel.INFO, "line tw"),
        (LogLevel.WARN, "o"),
    ]
    errno = agent.read_memory(24, 4)
    assert int.from_bytes(errno, "little") == 58  # ENOTSUP


@pytest.mark.parametrize(
    ("init", "words", "error_class"),
    [
        ("(i32.const 1)", "caxton_init returned 1", ErrorClass.SYSTEM),
        ("(unreachable)", "unreachable", ErrorClass.SYSTEM),
        ("(loop $l (br $l)) (i32.const 0)", "fuel", ErrorClass.RESOURCE),
    ],
)
def test_failed_init_never_runs(
    runtime: Runtime, host: RecordingHost, init: str, words: str, error_class: ErrorClass
) -> None:
    wasm = wat(
        f'(module (memory (export "memory") 1) {ALLOC}'
        f' (func (export "caxton_init") (param i32 i32) (result i32) {init})'
        ' (func (export "caxton_handle") (param i32 i32) (result i32) (i32.const 0)))'
    )
    limits = runtime.config.default_limits.override(runtime.config.memory, fuel_per_message=10_000)
    with pytest.raises(AgentInitFailed) as caught:
        start(runtime, wasm, host, limits=limits)
    assert words in str(caught.value)
    assert caught.value.error_class is error_class
    assert runtime.running == 0


def test_init_receives_name_id_and_config(runtime: Runtime, host: RecordingHost) -> None:
    wasm = wat(
        f'(module {IMPORTS} (memory (export "memory") 1) {ALLOC}'
        ' (func (export "caxton_init") (param i32 i32) (result i32)'
        "  (call $log (i32.const 2) (local.get 0) (local.get 1)) (i32.const 0))"
        ' (func (export "caxton_handle") (param i32 i32) (result i32) (i32.const 0)))'
    )
    module = runtime.load(wasm)
    runtime.instantiate(
        module,
        name="alice",
        agent_id="a-1",
        host=host,
        kv=InMemoryKeyValueStore(1),
        config={"k": 1},
    )
    assert host.texts() == ['{"name":"alice","id":"a-1","config":{"k":1}}']


def test_init_is_not_counted_as_a_message(runtime: Runtime, host: RecordingHost) -> None:
    wasm = wat(
        f'(module {IMPORTS} (memory (export "memory") 1) {ALLOC}'
        ' (func (export "caxton_init") (param i32 i32) (result i32)'
        "  (call $log (i32.const 2) (local.get 0) (local.get 1)) (i32.const 0))"
        ' (func (export "caxton_handle") (param i32 i32) (result i32) (i32.const 0)))'
    )
    agent = start(runtime, wasm, host)
    assert host.texts()  # caxton_init ran
    assert (agent.messages_handled, agent.errors, agent.fuel_consumed) == (0, 0, 0)
    used = agent.handle(b"{}")
    assert (agent.messages_handled, agent.fuel_consumed) == (1, used)
