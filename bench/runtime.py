"""Benchmark of the sandbox runtime: start-up, message delivery and host calls.

Prints one JSON object on stdout (medians and percentiles over repeated runs),
so that a run today can be compared with a run tomorrow on the same machine.
Baselines measured in the same process (wasmtime-py's own `Func.__call__` and
its `Linker.define_func` trampoline) make the ratios meaningful across
machines; `src/caxton/runtime/_capi.py` explains why the fast path exists.

    python bench/runtime.py            # full run, under 2 minutes on 2 cores
    python bench/runtime.py --quick    # smoke run, a few seconds

Every agent is hand-written WAT below, compiled with `wasmtime.wat2wasm`.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import wasmtime

import timing
from agents import compile_wat
from caxton.runtime import (
    InMemoryKeyValueStore,
    LogLevel,
    MemoryConfiguration,
    Runtime,
    RuntimeConfig,
    Sandbox,
)
from timing import machine, mean_ns, no_gc, p50, summary

TARGETS = {"start_cached_p50_ms_max": 2.0, "empty_handler_p50_us_max": 3.0}

# Host calls made by one `caxton_handle` in the send and kv_delete agents:
# the default `sends_per_message` limit, so every send is accepted.
CALLS_PER_HANDLE = 1000
# A typical small inbound message (~60 bytes).
MESSAGE = b'{"performative":"inform","sender":"a","receiver":"b","content":1}'
# What the send agent sends: a valid ACL message, so the whole send path runs.
OUTBOUND = '{"performative":"inform","receiver":"b","content":1}'
KV_QUOTA_BYTES = 1 << 20


@dataclass(frozen=True)
class Plan:
    """How many runs of each measurement."""

    compile_runs: int
    cached_runs: int
    disk_runs: int
    handler_batches: int
    handler_messages: int
    func_call_batches: int
    func_calls: int
    crossing_batches: int
    crossing_handles: int


FULL = Plan(
    compile_runs=30,
    cached_runs=300,
    disk_runs=30,
    handler_batches=15,
    handler_messages=20_000,
    func_call_batches=15,
    func_calls=10_000,
    crossing_batches=30,
    crossing_handles=5,
)
QUICK = Plan(
    compile_runs=5,
    cached_runs=30,
    disk_runs=5,
    handler_batches=5,
    handler_messages=2_000,
    func_call_batches=5,
    func_calls=1_000,
    crossing_batches=5,
    crossing_handles=2,
)

# ---- agents ----


def _wat_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


# A bump allocator that starts again at 4096 when the first page is used up:
# the host writes one message at a time, so older ones are dead by then.
ALLOC = """
  (global $bump (mut i32) (i32.const 4096))
  (func (export "caxton_alloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $bump))
    (if (i32.gt_u (i32.add (local.get $p) (local.get $n)) (i32.const 65536))
      (then (local.set $p (i32.const 4096))))
    (global.set $bump (i32.add (local.get $p) (local.get $n)))
    (local.get $p))
"""

EMPTY_AGENT = f"""(module
  (memory (export "memory") 1)
  {ALLOC}
  (func (export "caxton_handle") (param i32 i32) (result i32)
    (i32.const 0)))"""


def _calling_agent(name: str, payload: str) -> str:
    """An agent whose handler calls `caxton.<name>(1024, len)` CALLS_PER_HANDLE times.

    It returns 1 as soon as the host answers anything but 0, so a refused call
    surfaces as a `HandlerFailed` instead of skewing the figures.
    """
    return f"""(module
  (import "caxton" "{name}" (func $host (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  {ALLOC}
  (func (export "caxton_handle") (param i32 i32) (result i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const {CALLS_PER_HANDLE})))
        (if (call $host (i32.const 1024) (i32.const {len(payload)}))
          (then (return (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 0))
  (data (i32.const 1024) "{_wat_string(payload)}"))"""


SEND_AGENT = _calling_agent("send", OUTBOUND)
KV_DELETE_AGENT = _calling_agent("kv_delete", "k")

# The same loop outside Caxton: `run(n)` calls the import n times.
TRAMPOLINE_MODULE = f"""(module
  (import "bench" "noop" (func $host (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (param $n i32) (result i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (drop (call $host (i32.const 1024) (i32.const {len(OUTBOUND)})))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 0))
  (data (i32.const 1024) "{_wat_string(OUTBOUND)}"))"""


def start_agent(nonce: str) -> bytes:
    """A small but complete agent; `nonce` sits in a data segment, so each one hashes apart."""
    return bytes(
        wasmtime.wat2wasm(f"""(module
  (import "caxton" "send" (func $send (param i32 i32) (result i32)))
  (import "caxton" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  {ALLOC}
  (func (export "caxton_init") (param i32 i32) (result i32)
    (i32.const 0))
  (func (export "caxton_handle") (param $ptr i32) (param $len i32) (result i32)
    (call $log (i32.const 2) (local.get $ptr) (local.get $len))
    (drop (call $send (i32.const 1024) (i32.const {len(OUTBOUND)})))
    (i32.const 0))
  (data (i32.const 1024) "{_wat_string(OUTBOUND)}")
  (data (i32.const 2048) "{nonce}"))""")
    )


class BenchHost:
    """An `AgentHost` that accepts everything and keeps nothing but a count."""

    def __init__(self) -> None:
        self.sent = 0

    def send(self, message: dict[str, Any], context: object) -> int:
        self.sent += 1
        return 0

    def malformed(self, data: bytes, reason: str, context: object) -> None:
        return None

    def log(self, level: LogLevel, text: str, context: object) -> None:
        return None

    def tool_call(self, request: dict[str, Any], context: object) -> int:
        return 0

    def register_capability(self, capability: dict[str, Any]) -> int:
        return 0


# ---- timing ----


# ---- measurements ----


def new_runtime(cache_dir: Path | None = None) -> Runtime:
    return Runtime(
        RuntimeConfig(memory=MemoryConfiguration.from_environment({}), cache_dir=cache_dir)
    )


def start(runtime: Runtime, wasm: bytes, host: BenchHost, name: str = "bench") -> Sandbox:
    module = runtime.load(wasm)
    return runtime.instantiate(
        module, name=name, host=host, kv=InMemoryKeyValueStore(KV_QUOTA_BYTES)
    )


def measure_start(plan: Plan, run_nonce: str) -> dict[str, Any]:
    host = BenchHost()
    kv = InMemoryKeyValueStore(KV_QUOTA_BYTES)
    with tempfile.TemporaryDirectory(prefix="caxton-bench-") as directory:
        cache_dir = Path(directory)
        with new_runtime(cache_dir) as runtime:
            fresh = [start_agent(f"{run_nonce}-c{i:06d}") for i in range(plan.compile_runs + 3)]
            compile_ms: list[float] = []
            for index, wasm in enumerate(fresh):
                with no_gc():
                    begin = time.perf_counter_ns()
                    sandbox = runtime.instantiate(
                        runtime.load(wasm), name="bench", host=host, kv=kv
                    )
                    elapsed = time.perf_counter_ns() - begin
                runtime.remove(sandbox)
                if index >= 3:  # the first few warm up the engine
                    compile_ms.append(elapsed / 1e6)

            cached = fresh[0]
            for _ in range(20):
                runtime.remove(
                    runtime.instantiate(runtime.load(cached), name="b", host=host, kv=kv)
                )
            cached_ms: list[float] = []
            with no_gc():
                for _ in range(plan.cached_runs):
                    begin = time.perf_counter_ns()
                    sandbox = runtime.instantiate(
                        runtime.load(cached), name="bench", host=host, kv=kv
                    )
                    runtime.remove(sandbox)
                    cached_ms.append((time.perf_counter_ns() - begin) / 1e6)

            # Modules this runtime compiles, and so writes to the disk cache.
            on_disk = [start_agent(f"{run_nonce}-d{i:06d}") for i in range(plan.disk_runs + 2)]
            for wasm in on_disk:
                runtime.load(wasm)
            module_bytes = len(cached)

        disk_ms: list[float] = []
        with new_runtime(cache_dir) as second:
            for index, wasm in enumerate(on_disk):
                with no_gc():
                    begin = time.perf_counter_ns()
                    sandbox = second.instantiate(second.load(wasm), name="bench", host=host, kv=kv)
                    elapsed = time.perf_counter_ns() - begin
                second.remove(sandbox)
                if index >= 2:
                    disk_ms.append(elapsed / 1e6)

    return {
        "start_compile_ms": {**summary(compile_ms), "module_bytes": module_bytes},
        "start_cached_ms": summary(cached_ms),
        "start_disk_cache_ms": summary(disk_ms),
    }


def measure_handler(runtime: Runtime, plan: Plan) -> list[float]:
    """Per-message means of `Sandbox.handle` on the empty agent, in µs, one per batch."""
    agent = start(runtime, compile_wat(EMPTY_AGENT), BenchHost())
    handle = agent.handle
    for _ in range(max(1000, plan.handler_messages // 10)):
        handle(MESSAGE)
    means: list[float] = []
    for _ in range(plan.handler_batches):
        with no_gc():
            means.append(mean_ns(lambda: handle(MESSAGE), plan.handler_messages) / 1e3)
    runtime.remove(agent)
    return means


def measure_crossings(runtime: Runtime, plan: Plan) -> dict[str, list[float]]:
    """Per-call cost of `caxton.send` and `caxton.kv_delete` from inside a handler, in µs.

    Each batch times the empty handler and each calling handler back to back,
    so drift affects both sides of the subtraction alike.
    """
    host = BenchHost()
    empty = start(runtime, compile_wat(EMPTY_AGENT), host, "empty")
    sender = start(runtime, compile_wat(SEND_AGENT), host, "sender")
    deleter = start(runtime, compile_wat(KV_DELETE_AGENT), host, "deleter")
    for agent in (empty, sender, deleter):
        for _ in range(3):
            agent.handle(MESSAGE)
    if host.sent != 3 * CALLS_PER_HANDLE:
        raise RuntimeError(f"expected {3 * CALLS_PER_HANDLE} sends, the host saw {host.sent}")
    empty_handles = plan.crossing_handles * 20
    send_us: list[float] = []
    delete_us: list[float] = []
    for _ in range(plan.crossing_batches):
        with no_gc():
            base = mean_ns(lambda: empty.handle(MESSAGE), empty_handles)
            sending = mean_ns(lambda: sender.handle(MESSAGE), plan.crossing_handles)
            deleting = mean_ns(lambda: deleter.handle(MESSAGE), plan.crossing_handles)
        send_us.append((sending - base) / CALLS_PER_HANDLE / 1e3)
        delete_us.append((deleting - base) / CALLS_PER_HANDLE / 1e3)
    for agent in (empty, sender, deleter):
        runtime.remove(agent)
    return {"send": send_us, "kv_delete": delete_us}


def baseline_engine() -> wasmtime.Engine:
    """An engine configured as Caxton's is (fuel and epochs on), but used without Caxton."""
    config = wasmtime.Config()
    config.consume_fuel = True
    config.epoch_interruption = True
    return wasmtime.Engine(config)


def baseline_store(engine: wasmtime.Engine) -> wasmtime.Store:
    store = wasmtime.Store(engine)
    store.set_fuel(1 << 62)
    store.set_epoch_deadline(1 << 40)  # nothing advances this engine's epoch anyway
    return store


def exported_func(instance: wasmtime.Instance, store: wasmtime.Store, name: str) -> wasmtime.Func:
    func = instance.exports(store)[name]
    if not isinstance(func, wasmtime.Func):
        raise TypeError(f"export {name} is not a function")
    return func


def measure_func_call(plan: Plan) -> list[float]:
    """wasmtime-py's `Func.__call__` on the empty agent's `caxton_handle`, in µs per call.

    The export is looked up once, outside the timed loop: the figure is the call alone.
    """
    engine = baseline_engine()
    store = baseline_store(engine)
    module = wasmtime.Module(engine, compile_wat(EMPTY_AGENT))
    instance = wasmtime.Linker(engine).instantiate(store, module)
    handle = exported_func(instance, store, "caxton_handle")
    for _ in range(max(500, plan.func_calls // 10)):
        handle(store, 0, 0)
    means: list[float] = []
    for _ in range(plan.func_call_batches):
        with no_gc():
            means.append(mean_ns(lambda: handle(store, 0, 0), plan.func_calls) / 1e3)
    return means


def measure_trampoline(plan: Plan) -> list[float]:
    """A wasm-to-Python round trip through `Linker.define_func`, in µs per call."""
    engine = baseline_engine()
    store = baseline_store(engine)
    linker = wasmtime.Linker(engine)
    i32 = wasmtime.ValType.i32()

    def noop(_ptr: int, _length: int) -> int:
        return 0

    linker.define_func("bench", "noop", wasmtime.FuncType([i32, i32], [i32]), noop)
    instance = linker.instantiate(store, wasmtime.Module(engine, compile_wat(TRAMPOLINE_MODULE)))
    run = exported_func(instance, store, "run")
    for _ in range(3):
        run(store, CALLS_PER_HANDLE)
    empty_runs = plan.crossing_handles * 20
    per_call: list[float] = []
    for _ in range(plan.crossing_batches):
        with no_gc():
            base = mean_ns(lambda: run(store, 0), empty_runs)
            calling = mean_ns(lambda: run(store, CALLS_PER_HANDLE), plan.crossing_handles)
        per_call.append((calling - base) / CALLS_PER_HANDLE / 1e3)
    return per_call


def run(plan: Plan, quick: bool) -> dict[str, Any]:
    began = time.perf_counter()
    # A fresh nonce per run: no module is ever found in a cache it was not put in by this run.
    results = measure_start(plan, secrets.token_hex(8))
    with new_runtime() as runtime:
        handler_us = measure_handler(runtime, plan)
        crossings = measure_crossings(runtime, plan)
    func_call_us = measure_func_call(plan)
    trampoline_us = measure_trampoline(plan)

    send = p50(crossings["send"])
    kv_delete = p50(crossings["kv_delete"])
    handler = p50(handler_us)
    func_call = p50(func_call_us)
    trampoline = p50(trampoline_us)
    results.update(
        {
            "empty_handler_us": {
                **summary(handler_us),
                "messages_per_batch": plan.handler_messages,
                "message_bytes": len(MESSAGE),
            },
            "send_round_trip_us": {
                **summary(crossings["send"]),
                "sends_per_handle": CALLS_PER_HANDLE,
            },
            "host_send_overhead_us": {
                **summary(crossings["kv_delete"]),
                "measured_with": "caxton.kv_delete",
            },
            "send_parse_validate_us": round(send - kv_delete, 3),
            "baseline_func_call_us": summary(func_call_us),
            "baseline_python_trampoline_us": summary(trampoline_us),
            "empty_handler_vs_func_call": round(handler / func_call, 3),
            "send_vs_trampoline": round(send / trampoline, 3),
            "host_send_overhead_vs_trampoline": round(kv_delete / trampoline, 3),
        }
    )
    cached_p50 = results["start_cached_ms"]["p50"]
    results["targets"] = TARGETS
    results["meets_targets"] = {
        "start_cached_p50_ms_max": cached_p50 <= TARGETS["start_cached_p50_ms_max"],
        "empty_handler_p50_us_max": handler <= TARGETS["empty_handler_p50_us_max"],
    }
    results["machine"] = machine("wasmtime")
    results["quick"] = quick
    results["elapsed_s"] = round(time.perf_counter() - began, 2)
    return results


def main(argv: list[str] | None = None) -> int:
    return timing.main(__doc__, run, QUICK, FULL, argv)


if __name__ == "__main__":
    sys.exit(main())
