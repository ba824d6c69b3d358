"""Benchmark of deploying an agent: validate, store, instantiate, initialise, register.

Prints one JSON object. Each deploy uses a module never seen before (so it is
compiled and stored) or one deployed already (content-addressed: stored once,
compiled once), into a real SQLite store in a temporary data directory.

    python bench/deploy.py            # 200 deploys of each kind
    python bench/deploy.py --quick    # 20 of each
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

import wasmtime

import timing
from caxton.agents import AgentManager, StateName
from caxton.router import Dispatcher, Router
from caxton.runtime import MemoryConfiguration, Runtime, RuntimeConfig
from caxton.store import Store
from timing import machine

TARGET_P50_MS = 1000.0
FULL = 200  # deploys of each kind
QUICK = 20


def echo_variant(number: int) -> bytes:
    """The example echo agent, made distinct by its start-up log line."""
    text = resources.files("caxton.examples").joinpath("echo.wat").read_text()
    return bytes(wasmtime.wat2wasm(text.replace("echo ready", f"echo {number:06d}")))


def measure(manager: AgentManager, prefix: str, runs: int, module: Callable[[int], bytes]) -> Any:
    samples = []
    for number in range(runs):
        wasm = module(number)
        started = time.perf_counter()
        view = manager.deploy(f"{prefix}-{number}", wasm)
        samples.append((time.perf_counter() - started) * 1000)
        if view.state is not StateName.RUNNING:
            raise RuntimeError(f"deploy {prefix}-{number} ended {view.state}: {view.reason}")
    samples.sort()
    return {
        "p50": round(statistics.median(samples), 3),
        "p99": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 3),
        "runs": runs,
    }


def run(runs: int, quick: bool) -> dict[str, Any]:
    began = time.perf_counter()
    same = echo_variant(-1)
    with tempfile.TemporaryDirectory() as data_dir, Store.open(data_dir) as store:
        runtime = Runtime(RuntimeConfig(memory=MemoryConfiguration.compute(8 * 1024**3)))
        router = Router()
        manager = AgentManager(
            store=store, runtime=runtime, router=router, dispatcher=Dispatcher(router, workers=0)
        )
        result: dict[str, Any] = {
            "deploy_new_module_ms": measure(manager, "new", runs, echo_variant),
            "deploy_known_module_ms": measure(manager, "known", runs, lambda _: same),
        }
        runtime.close()
    result["targets"] = {"deploy_p50_ms_max": TARGET_P50_MS}
    result["meets_targets"] = {
        "deploy_p50_ms_max": result["deploy_new_module_ms"]["p50"] <= TARGET_P50_MS
    }
    result["machine"] = machine("wasmtime")
    result["quick"] = quick
    result["elapsed_s"] = round(time.perf_counter() - began, 2)
    return result


def main(argv: list[str] | None = None) -> int:
    return timing.main(__doc__, run, QUICK, FULL, argv)


if __name__ == "__main__":
    sys.exit(main())
