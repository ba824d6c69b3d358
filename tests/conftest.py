"""Fixtures shared across the suite: a real runtime and a host that records what agents do."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import wasmtime

from caxton.runtime import (
    InMemoryKeyValueStore,
    Limits,
    LogLevel,
    MemoryConfiguration,
    Runtime,
    RuntimeConfig,
    Sandbox,
)
from caxton.store import Store
from clocks import Clock
from live import Live, live_server
from toolchain import EXAMPLE_AGENTS, EXAMPLES, build_c_agent

# An 8 GiB machine: the same limits wherever the suite runs.
MEMORY = MemoryConfiguration.compute(8 * 1024**3)


@dataclass
class RecordingHost:
    """An `AgentHost` that keeps everything an agent asks of it."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    logs: list[tuple[LogLevel, str]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    capabilities: list[dict[str, Any]] = field(default_factory=list)
    refused: list[tuple[bytes, str]] = field(default_factory=list)
    send_status: int = 0

    def send(self, message: dict[str, Any], context: object) -> int:
        self.sent.append(message)
        return self.send_status

    def malformed(self, data: bytes, reason: str, context: object) -> None:
        self.refused.append((data, reason))

    def log(self, level: LogLevel, text: str, context: object) -> None:
        self.logs.append((level, text))

    def tool_call(self, request: dict[str, Any], context: object) -> int:
        self.tool_calls.append(request)
        return -4

    def register_capability(self, capability: dict[str, Any]) -> int:
        self.capabilities.append(capability)
        return 0

    def texts(self) -> list[str]:
        return [text for _, text in self.logs]


@pytest.fixture
def clock() -> Clock:
    """A clock at 1000.0 that moves only when a test sets `now` (tests/clocks.py)."""
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[Store]:
    """A real SQLite store in the test's directory, on `clock`."""
    with Store.open(tmp_path, clock=clock) as opened:
        yield opened


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    with Runtime(RuntimeConfig(memory=MEMORY)) as rt:
        yield rt


@pytest.fixture
def host() -> RecordingHost:
    return RecordingHost()


def wat(text: str) -> bytes:
    return bytes(wasmtime.wat2wasm(text))


def start(
    runtime: Runtime,
    wasm: bytes,
    host: RecordingHost,
    name: str = "agent",
    limits: Limits | None = None,
    kv: InMemoryKeyValueStore | None = None,
) -> Sandbox:
    module = runtime.load(wasm, memory_bytes=limits.memory_bytes if limits else None)
    return runtime.instantiate(
        module,
        name=name,
        host=host,
        kv=kv if kv is not None else InMemoryKeyValueStore(64 * 1024),
        limits=limits,
    )


# A bump allocator that restarts at every message: enough for hand-written agents.
ALLOC = """
  (global $bump (mut i32) (i32.const 4096))
  (func (export "caxton_alloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $bump))
    (global.set $bump (i32.add (global.get $bump) (local.get $n)))
    (local.get $p))
"""


def agent_wat(handle_body: str, extra: str = "", imports: str = "", memory: str = "2") -> bytes:
    """A WAT agent whose caxton_handle runs `handle_body` (params $ptr $len) and returns 0."""
    return wat(
        f"""
(module
  {imports}
  (memory (export "memory") {memory})
  {ALLOC}
  {extra}
  (func (export "caxton_handle") (param $ptr i32) (param $len i32) (result i32)
    (global.set $bump (i32.const 4096))
    {handle_body}
    (i32.const 0)))
"""
    )


# Logs whatever it is given at info through caxton_handle, at warn through
# caxton_handle_batch, so a test can tell which export the host chose.
LOGGER = wat(
    f"""(module (import "caxton" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 2) {ALLOC}
  (func (export "caxton_handle") (param i32 i32) (result i32)
    (call $log (i32.const 2) (local.get 0) (local.get 1)) (global.set $bump (i32.const 4096))
    (i32.const 0))
  (func (export "caxton_handle_batch") (param i32 i32) (result i32)
    (call $log (i32.const 3) (local.get 0) (local.get 1)) (global.set $bump (i32.const 4096))
    (i32.const 0)))"""
)


@pytest.fixture(scope="session")
def c_examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example C agents, built once for the session into one directory (name.wasm)."""
    out = tmp_path_factory.mktemp("c-examples")
    for name in EXAMPLE_AGENTS:
        build_c_agent(EXAMPLES / f"{name}.c", out)
    return out


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    """A real server with the example agents, on 127.0.0.1 (tests/live.py).

    CAXTON_TOKEN holds its admin key meanwhile, for `caxton` processes the test starts.
    """
    with live_server(tmp_path / "data", examples=True) as running:
        monkeypatch.setenv("CAXTON_TOKEN", running.token)
        yield running
