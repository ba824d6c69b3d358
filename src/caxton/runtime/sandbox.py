"""One agent instance: its wasmtime Store, its memory, and the ABI on both sides.

Calls into the agent go through `_capi.func_call_unchecked` with one raw-value
array per sandbox, reused for every call; the host functions the agent calls
land in the `abi_*` methods below through `hostcalls`. Everything an agent
passes across the boundary is bounds-checked against its own memory before it
is read, so a garbage pointer is an `AbiViolation` for that agent alone.

A Store is not thread-safe: `_lock` makes sure one agent runs on one thread
at a time, while two sandboxes may run on two threads (ctypes releases the GIL
while wasm runs).
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any, Final

import orjson
import wasmtime

from caxton.acl import validate_outbound
from caxton.errors import (
    AbiViolation,
    AgentTrapped,
    DeadlineExceeded,
    FuelExhausted,
    HandlerError,
    HandlerFailed,
    MemoryExhausted,
    MessageTooLarge,
)
from caxton.runtime import _capi
from caxton.runtime.abi import LogLevel, Status
from caxton.runtime.host import AgentHost
from caxton.runtime.kv import KeyValueStore
from caxton.runtime.limits import Limits

_U32: Final = 0xFFFFFFFF
# Keys are names, not data: a generous bound that still keeps a hostile agent cheap.
MAX_KEY_BYTES: Final = 1024


class Sandbox:
    """A running agent. Built by `Runtime.instantiate`; use `handle` to deliver messages."""

    def __init__(
        self,
        *,
        name: str,
        agent_id: str,
        store: wasmtime.Store,
        instance: wasmtime.Instance,
        limits: Limits,
        epoch_tick_ms: int,
        host: AgentHost,
        kv: KeyValueStore,
    ) -> None:
        self.name = name
        self.agent_id = agent_id
        self.limits = limits
        self._host = host
        self._kv = kv
        self._store = store
        self._instance = instance
        exports = instance.exports(store)
        memory = exports["memory"]
        if not isinstance(memory, wasmtime.Memory):
            raise AbiViolation("export memory: must be a memory")
        self._memory = memory
        self._funcs = {
            export: func
            for export in ("caxton_alloc", "caxton_handle", "caxton_handle_batch", "caxton_init")
            if isinstance(func := exports.get(export), wasmtime.Func)
        }
        self._ctx: int = ctypes.cast(store._context(), ctypes.c_void_p).value or 0
        self._mem: int = ctypes.addressof(self._memory._memory)
        self._base = 0
        self._base_size = -1
        self._addresses = {
            export: ctypes.addressof(func._func) for export, func in self._funcs.items()
        }
        self._alloc = self._addresses["caxton_alloc"]
        self._fuel = ctypes.c_uint64()
        self._fuel_addr = ctypes.addressof(self._fuel)
        self._raw = _capi.RawArgsSigned()
        self._raw_addr = ctypes.addressof(self._raw)
        self._trap = ctypes.c_void_p()
        self._trap_addr = ctypes.addressof(self._trap)
        self._deadline_ticks = -(-limits.deadline_ms // epoch_tick_ms) + 1
        self._lock = threading.Lock()
        self._context: object = None
        self._sends_left = 0
        self._fault: HandlerError | None = None
        self._output = {LogLevel.INFO: bytearray(), LogLevel.WARN: bytearray()}
        self._output_pending = False
        self.messages_handled = 0
        self.errors = 0
        self.fuel_consumed = 0
        self.closed = False

    @property
    def context_address(self) -> int:
        return self._ctx

    @property
    def accepts_batches(self) -> bool:
        return "caxton_handle_batch" in self._funcs

    @property
    def memory_bytes(self) -> int:
        return int(_capi.memory_data_size(self._ctx, self._mem))

    def read_memory(self, offset: int, length: int) -> bytes:
        """A copy of the agent's memory at [offset, offset + length), for tests and debugging."""
        return self._read(offset, length, "read_memory")

    # Calls into the agent.

    def handle(self, message: bytes, context: object = None) -> int:
        """Deliver one ACL message (JSON bytes); returns the fuel it used.

        Raises a `HandlerError` subclass when the handler fails; the agent stays usable.
        """
        return self._deliver("caxton_handle", message, 1, context)

    def handle_batch(self, messages: bytes, count: int, context: object = None) -> int:
        """Deliver `count` messages as one JSON array; budgets scale with `count`."""
        return self._deliver("caxton_handle_batch", messages, count, context)

    def init(self, payload: bytes) -> None:
        """Run `_initialize` and `caxton_init`, as ABI v1 orders them."""
        initialize = self._instance.exports(self._store).get("_initialize")
        if isinstance(initialize, wasmtime.Func):
            with self._lock:
                self._budget(1)
                self._call(ctypes.addressof(initialize._func), 0, "_initialize")
                if self._output_pending:
                    self._flush_output()
        if "caxton_init" in self._funcs:
            # Init is not a message: it stays out of the handled/error/fuel counters.
            self._deliver("caxton_init", payload, 1, None, counted=False)

    def _deliver(
        self, export: str, data: bytes, count: int, context: object, *, counted: bool = True
    ) -> int:
        size = len(data)
        if size > self.limits.max_inbound_bytes * count:
            raise MessageTooLarge(
                f"{size} bytes exceeds this agent's max_inbound_bytes "
                f"({self.limits.max_inbound_bytes})"
            )
        with self._lock:
            if self.closed:
                raise AgentTrapped(f"agent {self.name} is closed")
            fuel = self._budget(count)
            self._context = context
            self._sends_left = self.limits.sends_per_message * count
            try:
                raw = self._raw
                raw[0] = size
                self._call(self._alloc, 1, "caxton_alloc")
                ptr = raw[0] & _U32
                if ptr == 0:
                    raise MemoryExhausted(f"caxton_alloc returned 0 for {size} bytes")
                base = self._checked_base(ptr, size, "caxton_alloc's result")
                ctypes.memmove(base + ptr, data, size)
                raw[0] = ptr
                raw[4] = size
                self._call(self._addresses[export], 2, export)
                if raw[0] != 0:
                    raise HandlerFailed(f"{export} returned {raw[0]}")
                if counted:
                    self.messages_handled += count
            except HandlerError:
                if counted:
                    self.errors += 1
                raise
            finally:
                self._context = None
                if self._output_pending:
                    self._flush_output()
                used = fuel - self._fuel_left()
                if counted:
                    self.fuel_consumed += used
        return used

    def _budget(self, count: int) -> int:
        fuel = self.limits.fuel_per_message * count
        _capi.context_set_fuel(self._ctx, fuel)
        _capi.context_set_epoch_deadline(self._ctx, self._deadline_ticks * count)
        self._fault = None
        return fuel

    def _fuel_left(self) -> int:
        error = _capi.context_get_fuel(self._ctx, self._fuel_addr)
        if error:
            _capi.error_delete(error)
            return 0
        return self._fuel.value

    def _call(self, func: int, slots: int, export: str) -> None:
        error = _capi.func_call_unchecked(self._ctx, func, self._raw_addr, slots, self._trap_addr)
        if error:
            message = _capi.error_message(error)
            raise self._fault or AgentTrapped(f"{export} failed: {_trap_reason(message)}")
        trap = self._trap.value
        if trap:
            self._trap.value = None
            raise self._classify(trap, export)

    def _classify(self, trap: int, export: str) -> HandlerError:
        code = _capi.trap_code_of(trap)
        message = _capi.trap_message(trap)
        if self._fault is not None:
            return self._fault
        if code == _capi.TRAP_OUT_OF_FUEL:
            return FuelExhausted(
                f"{export} used its whole fuel budget ({self.limits.fuel_per_message} per message)"
            )
        if code == _capi.TRAP_INTERRUPT:
            return DeadlineExceeded(
                f"{export} ran past its deadline ({self.limits.deadline_ms} ms per message)"
            )
        if code == _capi.TRAP_STACK_OVERFLOW:
            return MemoryExhausted(f"{export} exhausted the call stack (runaway recursion?)")
        if code == _capi.TRAP_ALLOCATION_TOO_LARGE:
            return MemoryExhausted(f"{export} asked for more memory than its ceiling allows")
        return AgentTrapped(f"{export} trapped: {_trap_reason(message)}")

    # The host functions (ABI v1 imports), reached through `hostcalls`.

    def fault(self, error: BaseException) -> int:
        """Turn an error inside a host function into a trap for the calling agent."""
        if isinstance(error, HandlerError):
            self._fault = error
        else:
            self._fault = AgentTrapped(f"host function failed: {error!r}")
        return _capi.new_trap(str(self._fault))

    def abi_send(self, ptr: int, length: int) -> int:
        if length > self.limits.max_outbound_bytes:
            self._note(f"send refused: {length} bytes exceeds max_outbound_bytes")
            return Status.TOO_LARGE
        data = self._read(ptr, length, "send")
        self._sends_left -= 1
        if self._sends_left < 0:
            self._note(
                f"send refused: more than sends_per_message ({self.limits.sends_per_message})"
            )
            return Status.NOT_PERMITTED
        message, problem = _parse_message(data)
        if problem is not None or message is None:
            problem = problem or "not a JSON object"
            self._note(f"send refused: {problem}")
            # -1 answers now; the not-understood the host sends is the FIPA answer.
            self._host.malformed(data, problem, self._context)
            return Status.MALFORMED
        message["sender"] = self.name
        message.pop("message_id", None)
        message.pop("trace", None)
        return self._host.send(message, self._context)

    def abi_log(self, level: int, ptr: int, length: int) -> None:
        length = min(length, self.limits.max_outbound_bytes)
        text = self._read(ptr, length, "log").decode("utf-8", "replace")
        self._host.log(LogLevel.clamp(level), text, self._context)

    def abi_kv_get(self, key_ptr: int, key_len: int, out: int, cap: int) -> int:
        value = self._kv.get(self._read_key(key_ptr, key_len, "kv_get"))
        if value is None:
            return -1
        if len(value) <= cap:
            base = self._checked_base(out, len(value), "kv_get's output buffer")
            ctypes.memmove(base + out, value, len(value))
        return len(value)

    def abi_kv_set(self, key_ptr: int, key_len: int, value_ptr: int, value_len: int) -> int:
        key = self._read_key(key_ptr, key_len, "kv_set")
        if value_len > self.limits.max_outbound_bytes:
            return Status.TOO_LARGE
        value = self._read(value_ptr, value_len, "kv_set")
        return Status.OK if self._kv.set(key, value) else Status.TOO_LARGE

    def abi_kv_delete(self, key_ptr: int, key_len: int) -> int:
        self._kv.delete(self._read_key(key_ptr, key_len, "kv_delete"))
        return Status.OK

    def abi_tool_call(self, ptr: int, length: int) -> int:
        if length > self.limits.max_outbound_bytes:
            return Status.TOO_LARGE
        request = self._parse_object(self._read(ptr, length, "tool_call"), "tool_call")
        if request is None:
            return Status.MALFORMED
        problem = _tool_call_problem(request)
        if problem is not None:
            self._note(f"tool_call refused: {problem}")
            return Status.MALFORMED
        return self._host.tool_call(request, self._context)

    def abi_register_capability(self, ptr: int, length: int) -> int:
        if length > self.limits.max_outbound_bytes:
            return Status.TOO_LARGE
        raw = self._read(ptr, length, "register_capability")
        capability = self._parse_object(raw, "register_capability")
        if capability is None:
            return Status.MALFORMED
        problem = _capability_problem(capability)
        if problem is not None:
            self._note(f"register_capability refused: {problem}")
            return Status.MALFORMED
        return self._host.register_capability(capability)

    def on_output(self, level: LogLevel, data: bytes) -> None:
        """WASI stdout (INFO) and stderr (WARN) bytes: one log line per line written."""
        buffer = self._output[level]
        buffer += data
        self._output_pending = True
        while (end := buffer.find(b"\n")) >= 0:
            self._emit_line(level, bytes(buffer[:end]))
            del buffer[: end + 1]
        if len(buffer) > self.limits.max_outbound_bytes:
            self._emit_line(level, bytes(buffer))
            buffer.clear()

    # Helpers.

    def _read(self, ptr: int, length: int, what: str) -> bytes:
        base = self._checked_base(ptr, length, f"{what}'s argument")
        return ctypes.string_at(base + ptr, length)

    def _read_key(self, ptr: int, length: int, what: str) -> bytes:
        if length > MAX_KEY_BYTES:
            raise AbiViolation(f"{what}: key of {length} bytes exceeds {MAX_KEY_BYTES}")
        return self._read(ptr, length, what)

    def _checked_base(self, ptr: int, length: int, what: str) -> int:
        size = _capi.memory_data_size(self._ctx, self._mem)
        if ptr + length > size:
            raise AbiViolation(
                f"{what}: bytes [{ptr}, {ptr + length}) lie outside linear memory ({size} bytes)"
            )
        # A linear memory can only move when it grows, so an unchanged size
        # means an unchanged base: one C call saved on every crossing.
        if size != self._base_size:
            self._base = int(_capi.memory_data(self._ctx, self._mem))
            self._base_size = size
        return self._base

    def _parse_object(self, data: bytes, what: str) -> dict[str, Any] | None:
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            self._note(f"{what} refused: malformed JSON: {error}")
            return None
        if not isinstance(value, dict):
            self._note(f"{what} refused: expected a JSON object, got {type(value).__name__}")
            return None
        return value

    def _note(self, text: str) -> None:
        # Refusals are answered with a status code; the log line says why.
        self._host.log(LogLevel.WARN, text, self._context)

    def _emit_line(self, level: LogLevel, line: bytes) -> None:
        self._host.log(level, line.decode("utf-8", "replace"), self._context)

    def _flush_output(self) -> None:
        self._output_pending = False
        for level, buffer in self._output.items():
            if buffer:
                self._emit_line(level, bytes(buffer))
                buffer.clear()

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._funcs.clear()
            self._store.close()


def _parse_message(data: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """A sent message and None, or None and what is wrong with it."""
    try:
        message = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        return None, f"malformed JSON: {error}"
    if not isinstance(message, dict):
        return None, f"expected a JSON object, got {type(message).__name__}"
    return message, validate_outbound(message)


def _tool_call_problem(request: dict[str, Any]) -> str | None:
    tool = request.get("tool")
    if not isinstance(tool, str) or tool.count("/") != 1 or "" in tool.split("/"):
        return "tool: must be '<server>/<tool>'"
    if not isinstance(request.get("arguments", {}), dict):
        return "arguments: must be an object"
    if not isinstance(request.get("reply_with"), str):
        return "reply_with: required string"
    return None


def _capability_problem(capability: dict[str, Any]) -> str | None:
    name = capability.get("name")
    if not isinstance(name, str) or not name:
        return "name: required non-empty string"
    for key in ("version", "description"):
        if key in capability and not isinstance(capability[key], str):
            return f"{key}: must be a string"
    if "input_schema" in capability and not isinstance(capability["input_schema"], dict):
        return "input_schema: must be a JSON Schema object"
    return None


def _trap_reason(message: str) -> str:
    """wasmtime's cause ("wasm trap: ...") and the innermost frame, without the backtrace."""
    head, _, cause = message.partition("Caused by:")
    reason = cause.strip().splitlines()[0].strip() if cause.strip() else head.strip()
    frames = [line.strip() for line in head.splitlines() if line.strip().startswith("0:")]
    return f"{reason} (at {frames[0][2:].strip()})" if frames else reason or "unknown trap"
