"""Benchmark: the time Caxton adds to an MCP tool call beyond the server's own.

Prints one JSON object. The same tool (`echo` of tests/tools/misbehaving_server.py,
over stdio) is called three ways in one process, each with a fresh session:

- `sdk_ms`: the `mcp` SDK alone, `ClientSession.call_tool` awaited on an event
  loop: the server's time plus the SDK's and the pipe's, the baseline;
- `host_ms`: through `ToolHost.call` from another thread (argument validation,
  the hop onto the host's loop and back);
- `platform_ms`: through `ToolCalls.call`, as an agent's `tool_call` arrives,
  until its answer message is in the agent's mailbox (grant check, limits,
  validation, the call, the answer's routing, audit and metrics off the path).

`added_ms` is each way's p50 minus the SDK's, measured in the same run.

    python bench/tools.py            # 2000 calls each
    python bench/tools.py --quick    # 50 calls each
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from mcp import ClientSession, StdioServerParameters, stdio_client

import timing
from caxton.router import Dispatcher, Router
from caxton.store import Store
from caxton.tools import ToolCalls, ToolLimits, ToolServerSpec
from caxton.tools.host import ToolHost

SERVER: Final = Path(__file__).resolve().parents[1] / "tests" / "tools" / "misbehaving_server.py"
ARGUMENTS: Final = {"text": "hello"}


@dataclass(frozen=True)
class Plan:
    calls: int


FULL = Plan(calls=2000)
QUICK = Plan(calls=50)


def summary(samples: list[float]) -> dict[str, Any]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "p50": round(cuts[49], 3),
        "p90": round(cuts[89], 3),
        "p99": round(cuts[98], 3),
        "calls": len(samples),
    }


def sdk_calls(count: int) -> list[float]:
    async def run() -> list[float]:
        parameters = StdioServerParameters(command=sys.executable, args=[str(SERVER)])
        async with stdio_client(parameters) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            await session.call_tool("echo", ARGUMENTS)  # warm up
            samples = []
            for _ in range(count):
                began = time.perf_counter()
                await session.call_tool("echo", ARGUMENTS)
                samples.append((time.perf_counter() - began) * 1000)
            return samples

    return asyncio.run(run())


def host_calls(count: int) -> list[float]:
    host = ToolHost()
    try:
        host.add(ToolServerSpec.stdio("bad", sys.executable, [str(SERVER)]))
        if not host.wait_ready("bad", 30):
            raise RuntimeError("the server did not start")
        host.call("bad", "echo", ARGUMENTS, 10).result(10)
        samples = []
        for _ in range(count):
            began = time.perf_counter()
            host.call("bad", "echo", ARGUMENTS, 10).result(10)
            samples.append((time.perf_counter() - began) * 1000)
        return samples
    finally:
        host.close()


class _Inbox:
    """The calling agent's stand-in: notes when each answer arrives."""

    accepts_batches = False

    def __init__(self) -> None:
        self.arrived = threading.Event()

    def handle(self, message: bytes, context: object = None) -> int:
        self.arrived.set()
        return 0

    def handle_batch(self, messages: bytes, count: int, context: object = None) -> int:
        self.arrived.set()
        return 0


def platform_calls(count: int, data_dir: Path) -> list[float]:
    router = Router(seed=1)
    inbox = _Inbox()
    router.register(router.endpoint("agent"), inbox)
    dispatcher = Dispatcher(router, workers=1)
    dispatcher.start()
    with Store.open(data_dir) as store:
        tools = ToolCalls(router, store, ToolLimits(calls_per_minute=10**9))
        try:
            tools.add_server(ToolServerSpec.stdio("bad", sys.executable, [str(SERVER)]))
            tools.grant("agent", "bad/*")
            if not tools.wait_ready("bad", 30):
                raise RuntimeError("the server did not start")
            samples = []
            for n in range(count + 1):
                inbox.arrived.clear()
                request = {"tool": "bad/echo", "arguments": ARGUMENTS, "reply_with": str(n)}
                began = time.perf_counter()
                if tools.call("agent", request, None) != 0:
                    raise RuntimeError("the call was refused")
                if not inbox.arrived.wait(10):
                    raise RuntimeError("no answer within 10 s")
                if n:  # the first is the warm-up
                    samples.append((time.perf_counter() - began) * 1000)
            return samples
        finally:
            tools.close()
            dispatcher.stop()


def run(plan: Plan, quick: bool) -> dict[str, Any]:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as root:
        results = {
            "sdk_ms": summary(sdk_calls(plan.calls)),
            "host_ms": summary(host_calls(plan.calls)),
            "platform_ms": summary(platform_calls(plan.calls, Path(root))),
        }
    base = results["sdk_ms"]["p50"]
    return {
        **results,
        "added_ms": {
            "host_p50": round(results["host_ms"]["p50"] - base, 3),
            "platform_p50": round(results["platform_ms"]["p50"] - base, 3),
        },
        "machine": timing.machine("mcp"),
        "quick": quick,
        "elapsed_s": round(time.perf_counter() - began, 2),
    }


def main(argv: list[str] | None = None) -> int:
    return timing.main(__doc__, run, QUICK, FULL, argv)


if __name__ == "__main__":
    sys.exit(main())
