"""Hand-written WAT agents for router benchmarks and tests: ping, pong, fan-out, sink.

Every agent here is one generator, `relay`: for each message it handles it
sends one prebuilt message (a data segment, so nothing is formatted per
message), until it has made `limit` sends. `caxton_handle_batch`, when
exported, counts the messages in the array by their `"performative"` keys and
does the same once per message, so a batch is really handled message by
message. No logging: the point is the cost of routing, not of the agent.

The agent keeps its own counts in linear memory at `COUNTERS` (see
`Counters`), so a test can check what the host saw against what the agent
saw, message for message.

Imported by bench/router.py and by tests/router/test_no_loss.py (which puts
this directory on `sys.path`).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Final, NamedTuple

import orjson
import wasmtime

from caxton.runtime import Sandbox

# [0, 16) unused so no valid pointer is 0; counters at 16; outbound JSON at 1024;
# the heap from HEAP, reset after every call so each message starts at the same place.
COUNTERS: Final = 16
OUTBOUND_AT: Final = 1024
HEAP: Final = 4096
_MAX_OUTBOUND: Final = HEAP - OUTBOUND_AT
_KEY: Final = b'"performative"'


class Counters(NamedTuple):
    """What the agent itself counted: messages handled, sends accepted, sends refused."""

    handled: int
    sent: int
    refused: int
    last_refusal: int

    @classmethod
    def of(cls, sandbox: Sandbox) -> Counters:
        return cls(*struct.unpack("<4i", sandbox.read_memory(COUNTERS, 16)))


def outbound(receiver: str | Sequence[str], conversation: str | None = None) -> bytes:
    """The message a relay sends: small, valid ABI v1, no fields the host sets."""
    message: dict[str, object] = {
        "performative": "inform",
        "receiver": receiver if isinstance(receiver, str) else list(receiver),
        "content": 1,
    }
    if conversation is not None:
        message["conversation_id"] = conversation
    return orjson.dumps(message)


def relay(
    receiver: str | Sequence[str] | None,
    *,
    limit: int | None,
    batch: bool,
    conversation: str | None = None,
) -> str:
    """WAT for an agent that sends one message to `receiver` per message handled.

    `receiver` None makes a sink (it only counts). `limit` caps the sends over
    the agent's life (a ping's round count); None means one send per message
    for ever (a pong's replies). `batch` adds the `caxton_handle_batch` export.
    Every message sent carries `conversation` as its `conversation_id` when
    given, as an agent that keeps to one conversation does; without it each
    message starts a conversation of its own.
    """
    data = outbound(receiver, conversation) if receiver is not None else b""
    if len(data) > _MAX_OUTBOUND:
        raise ValueError(f"outbound message of {len(data)} bytes does not fit below the heap")
    if receiver is None:
        step = ""
    else:
        # Refusals are counted, not retried: a benchmark that hits back-pressure
        # must say so (its figures would be wrong), and a test asserts there are none.
        capped = (
            f"(br_if $out (i32.ge_u (i32.add (i32.load (i32.const {COUNTERS + 4})) "
            f"(i32.load (i32.const {COUNTERS + 8}))) (i32.const {limit})))"
            if limit is not None
            else ""
        )
        step = f"""(block $out
      {capped}
      (local.set $rc (call $send (i32.const {OUTBOUND_AT}) (i32.const {len(data)})))
      (if (local.get $rc)
        (then
          (i32.store (i32.const {COUNTERS + 8})
            (i32.add (i32.load (i32.const {COUNTERS + 8})) (i32.const 1)))
          (i32.store (i32.const {COUNTERS + 12}) (local.get $rc)))
        (else
          (i32.store (i32.const {COUNTERS + 4})
            (i32.add (i32.load (i32.const {COUNTERS + 4})) (i32.const 1))))))"""
    imports = (
        '(import "caxton" "send" (func $send (param i32 i32) (result i32)))'
        if receiver is not None
        else ""
    )
    segment = f'(data (i32.const {OUTBOUND_AT}) "{_wat_bytes(data)}")' if data else ""
    batch_export = (
        f"""
  ;; Occurrences of "performative" in [p, p + len): one per message in the array.
  ;; Loaded as i64 + i32 + i16 and compared against the key's little-endian words.
  (func $count (param $p i32) (param $len i32) (result i32)
    (local $last i32) (local $n i32)
    (local.set $last (i32.sub (i32.add (local.get $p) (local.get $len)) (i32.const 14)))
    (block $done
      (loop $scan
        (br_if $done (i32.gt_s (local.get $p) (local.get $last)))
        (if (i64.eq (i64.load (local.get $p)) (i64.const {_word(_KEY[0:8])}))
          (then
            (if (i32.and
                  (i32.eq (i32.load offset=8 (local.get $p)) (i32.const {_word(_KEY[8:12])}))
                  (i32.eq (i32.load16_u offset=12 (local.get $p))
                    (i32.const {_word(_KEY[12:14])})))
              (then
                (local.set $n (i32.add (local.get $n) (i32.const 1)))
                (local.set $p (i32.add (local.get $p) (i32.const 13)))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $scan)))
    (local.get $n))

  (func (export "caxton_handle_batch") (param $ptr i32) (param $len i32) (result i32)
    (local $n i32)
    (local.set $n (call $count (local.get $ptr) (local.get $len)))
    (i32.store (i32.const {COUNTERS})
      (i32.add (i32.load (i32.const {COUNTERS})) (local.get $n)))
    (block $done
      (loop $each
        (br_if $done (i32.eqz (local.get $n)))
        (call $step)
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $each)))
    (global.set $bump (i32.const {HEAP}))
    (i32.const 0))"""
        if batch
        else ""
    )
    return f"""(module
  {imports}
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const {HEAP}))

  ;; The host allocates once per call, for the inbound message or array; it
  ;; is dead when the call returns, so the handlers reset the heap. A batch
  ;; can outgrow the first page, hence the memory.grow.
  (func (export "caxton_alloc") (param $n i32) (result i32)
    (local $p i32) (local $pages i32)
    (local.set $p (global.get $bump))
    (local.set $pages
      (i32.shr_u (i32.add (i32.add (local.get $p) (local.get $n)) (i32.const 65535))
        (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $bump (i32.add (local.get $p) (local.get $n)))
    (local.get $p))

  (func $step
    (local $rc i32)
    {step})

  (func (export "caxton_handle") (param $ptr i32) (param $len i32) (result i32)
    (i32.store (i32.const {COUNTERS}) (i32.add (i32.load (i32.const {COUNTERS})) (i32.const 1)))
    (call $step)
    (global.set $bump (i32.const {HEAP}))
    (i32.const 0))
  {batch_export}
  {segment})"""


def ping(peer: str, rounds: int, *, batch: bool = False, conversation: str | None = None) -> str:
    """The initiator: one message to `peer` per message handled, `rounds` in all."""
    return relay(peer, limit=rounds, batch=batch, conversation=conversation)


def pong(peer: str, *, batch: bool = False, conversation: str | None = None) -> str:
    """The responder: one message back to `peer` for every message it handles."""
    return relay(peer, limit=None, batch=batch, conversation=conversation)


def fan_out(
    receivers: Sequence[str], *, batch: bool = False, conversation: str | None = None
) -> str:
    """One message to all of `receivers` (a receiver array) per message handled."""
    return relay(receivers, limit=None, batch=batch, conversation=conversation)


def sink(*, batch: bool = False) -> str:
    """Counts what it is given and sends nothing."""
    return relay(None, limit=None, batch=batch)


def compile_wat(text: str) -> bytes:
    return bytes(wasmtime.wat2wasm(text))


def _wat_bytes(data: bytes) -> str:
    return "".join(f"\\{byte:02x}" for byte in data)


def _word(data: bytes) -> int:
    return int.from_bytes(data, "little")
