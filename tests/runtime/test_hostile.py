"""Hostile agents: each misbehaviour is contained with a clear error, and the agent,
its neighbours and the host go on serving.

Each agent misbehaves only on a message starting with "X", so the same instance
then shows that it still handles a well-behaved message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from caxton.errors import (
    AbiViolation,
    DeadlineExceeded,
    ErrorClass,
    FuelExhausted,
    HandlerError,
    HandlerFailed,
    MemoryExhausted,
)
from caxton.runtime import Runtime
from conftest import MEMORY, RecordingHost, agent_wat, start, wat

SEND = '(import "caxton" "send" (func $send (param i32 i32) (result i32)))'
LOG = '(import "caxton" "log" (func $log (param i32 i32 i32)))'
KV_SET = '(import "caxton" "kv_set" (func $kv_set (param i32 i32 i32 i32) (result i32)))'
VALID = b'{"performative":"inform","receiver":"b","content":1}'
VALID_DATA = f'(data (i32.const 64) "{VALID.decode().replace(chr(34), chr(92) + chr(34))}")'


def hostile(body: str, extra: str = "", imports: str = "") -> bytes:
    return agent_wat(
        f"(if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 88)) (then {body}))",
        extra=extra,
        imports=imports,
    )


@dataclass
class Case:
    wasm: bytes
    error: type[HandlerError]
    words: str
    limits: dict[str, Any] = field(default_factory=dict)


CASES = {
    "endless loop": Case(
        hostile("(loop $l (br $l))"), FuelExhausted, "fuel", {"fuel_per_message": 100_000}
    ),
    "endless loop past the deadline": Case(
        hostile("(loop $l (br $l))"),
        DeadlineExceeded,
        "deadline",
        {"fuel_per_message": 10**15, "deadline_ms": 50},
    ),
    "memory bomb": Case(
        hostile(
            "(loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) unreachable"
        ),
        HandlerError,
        "unreachable",
        {"memory_bytes": 4 * 1024 * 1024},
    ),
    "deep recursion": Case(
        hostile("(call $down)", extra="(func $down (call $down))"),
        MemoryExhausted,
        "stack",
        {"fuel_per_message": 10**12},
    ),
    "huge outbound message": Case(
        hostile("(return (call $send (i32.const 64) (i32.const 200000)))", imports=SEND),
        HandlerFailed,
        "returned -2",
        {"max_outbound_bytes": 100_000, "max_inbound_bytes": 100_000},
    ),
    "garbage pointer to send": Case(
        hostile("(drop (call $send (i32.const -16) (i32.const 100)))", imports=SEND),
        AbiViolation,
        "outside linear memory",
    ),
    "garbage length to log": Case(
        hostile("(call $log (i32.const 2) (i32.const 10) (i32.const 0x7fffffff))", imports=LOG),
        AbiViolation,
        "log",
    ),
    "garbage value pointer to kv_set": Case(
        hostile(
            "(drop (call $kv_set (i32.const 64) (i32.const 1) (i32.const -8) (i32.const 100)))",
            imports=KV_SET,
            extra='(data (i32.const 64) "k")',
        ),
        AbiViolation,
        "kv_set",
    ),
    "non-zero handler result": Case(hostile("(return (i32.const 7))"), HandlerFailed, "7"),
    "trap": Case(hostile("unreachable"), HandlerError, "unreachable"),
    "division by zero": Case(
        hostile("(drop (i32.div_u (i32.const 1) (i32.const 0)))"), HandlerError, "divide by zero"
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_hostile_agent_is_contained(runtime: Runtime, host: RecordingHost, case: Case) -> None:
    limits = runtime.config.default_limits.override(MEMORY, **case.limits)
    agent = start(runtime, case.wasm, host, name="hostile", limits=limits)
    neighbour = start(runtime, hostile("nop"), RecordingHost(), name="neighbour")

    with pytest.raises(case.error) as caught:
        agent.handle(b"X" + b" " * 15)
    assert case.words in str(caught.value).lower()
    assert caught.value.error_class in set(ErrorClass)

    assert agent.handle(b'{"performative":"inform"}') >= 0
    assert neighbour.handle(b'{"performative":"inform"}') >= 0
    assert agent.memory_bytes <= limits.memory_bytes
    assert (agent.errors, agent.messages_handled) == (1, 1)


def test_send_flood_is_cut_at_the_limit(runtime: Runtime, host: RecordingHost) -> None:
    flood = hostile(
        "(local.set $len (i32.const 0))"
        "(loop $l (drop (call $send (i32.const 64) (i32.const 52)))"
        " (local.set $len (i32.add (local.get $len) (i32.const 1)))"
        " (br_if $l (i32.lt_u (local.get $len) (i32.const 10000))))",
        imports=SEND,
        extra=VALID_DATA,
    )
    limits = runtime.config.default_limits.override(MEMORY, sends_per_message=100)
    agent = start(runtime, flood, host, limits=limits)

    agent.handle(b"X" * 16)

    assert len(host.sent) == 100
    assert any("sends_per_message" in text for text in host.texts())
    host.sent.clear()
    agent.handle(b"X" * 16)
    assert len(host.sent) == 100, "the budget is per handled message"


@pytest.mark.parametrize(
    ("alloc", "error", "words"),
    [
        ("(i32.const 0)", MemoryExhausted, "caxton_alloc returned 0"),
        ("(i32.const -256)", AbiViolation, "caxton_alloc's result"),
    ],
)
def test_wrong_alloc_results_are_abi_errors(
    runtime: Runtime, host: RecordingHost, alloc: str, error: type[HandlerError], words: str
) -> None:
    bad = (
        b'(module (memory (export "memory") 1)'
        + f'(func (export "caxton_alloc") (param i32) (result i32) {alloc})'.encode()
        + b'(func (export "caxton_handle") (param i32 i32) (result i32) (i32.const 0)))'
    )
    agent = start(runtime, wat(bad.decode()), host)
    with pytest.raises(error, match=words):
        agent.handle(b"{}")


def test_agents_cannot_see_each_others_memory(runtime: Runtime) -> None:
    """Two instances of one module: what one writes, the other never reads."""
    store_then_send = agent_wat(
        "(if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 87))"
        " (then (i32.store8 (i32.const 114) (i32.const 55))))"  # content 1 becomes 7
        "(drop (call $send (i32.const 64) (i32.const 52)))",
        imports=SEND,
        extra=VALID_DATA,
    )
    first, second = RecordingHost(), RecordingHost()
    writer = start(runtime, store_then_send, first, name="writer")
    reader = start(runtime, store_then_send, second, name="reader")

    writer.handle(b"W" * 8)
    reader.handle(b"R" * 8)

    assert first.sent[0]["content"] == 7
    assert second.sent[0]["content"] == 1


def test_removed_agent_frees_its_instance(runtime: Runtime, host: RecordingHost) -> None:
    agent = start(runtime, hostile("nop"), host)
    assert runtime.running == 1
    runtime.remove(agent)
    assert runtime.running == 0
    with pytest.raises(HandlerError, match="closed"):
        agent.handle(b"{}")
