"""Benchmark of what telemetry costs the router, and of the telemetry parts themselves.

Prints one JSON object. Every throughput is measured on real servers built
the way `caxton server start` builds them (`Server(Settings(...))`, started,
its watcher thread ticking), each with the same agents, in the same process,
runs interleaved (off, default, traced, off, default, ...), so that the
machine's noise falls on every mode alike. `vs_off` is a mode's median
throughput over the median of `off` in the same run; `paired_vs_off` the
median of the per-round ratios.

Modes:
- `off`: `telemetry.metrics = false` and no exporter: no counting on the
  message path (the baseline).
- `default`: what a server does with no configuration: metrics counted,
  served on /metrics (scraped here every second, as a busy Prometheus would),
  rates sampled every second; no spans, since no exporter is configured.
- `traced_1pct` and `traced_all`: `default` plus spans for every sampled
  message through an OpenTelemetry batch processor into an in-memory
  exporter, with parent-based ratio samplers of 0.01 and 1.0.

Loads: `wasm_pingpong` (pairs of wasm agents, one message in flight, one
message a turn), `wasm_window_16_batched` (16 in flight, agents taking
batches), `router_only` (Python stand-ins: the router and dispatcher alone,
where telemetry's share is largest), each with the dispatcher on the calling
thread.

Also: `scrape_ms` (one /metrics exposition with 100 and 1000 agents),
`error_record_us` (classifying an error and recording it, with its log line
formatted as JSON, and past the per-agent log budget).

    python bench/telemetry.py            # full run, a few minutes
    python bench/telemetry.py --quick    # smoke run, seconds
"""

from __future__ import annotations

import io
import logging
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

import timing
from agents import ping, pong
from caxton.errors import ErrorClass, FuelExhausted
from caxton.router import Router
from caxton.server.server import Server
from caxton.settings import Settings, TelemetrySettings
from caxton.telemetry.errors import ErrorLog, classify
from caxton.telemetry.logs import JsonFormatter
from caxton.telemetry.tracing import MessageSpans
from router import Agents, Family, StandIn, drive, post_kicks

TARGET_MAX_COST: Final = 0.05  # default telemetry may cost at most 5% of router throughput
MODES: Final = ("off", "default", "traced_1pct", "traced_all")


@dataclass(frozen=True)
class Plan:
    messages: int  # handled per throughput run, about
    rounds: int  # interleaved rounds (each runs every mode once)
    errors: int  # error records timed


FULL = Plan(messages=20_000, rounds=9, errors=20_000)
QUICK = Plan(messages=1_000, rounds=2, errors=500)


@dataclass
class Mode:
    name: str
    server: Server
    provider: TracerProvider | None = None


@contextmanager
def servers(root: Path) -> Iterator[list[Mode]]:
    modes: list[Mode] = []
    try:
        for name in MODES:
            metrics = name != "off"
            settings = Settings(
                data_dir=root / name, workers=0, telemetry=TelemetrySettings(metrics=metrics)
            )
            server = Server(settings, env={})
            server.start()
            mode = Mode(name, server)
            if name.startswith("traced"):
                ratio = 0.01 if name == "traced_1pct" else 1.0
                mode.provider = TracerProvider(sampler=ParentBased(TraceIdRatioBased(ratio)))
                mode.provider.add_span_processor(BatchSpanProcessor(InMemorySpanExporter()))
                server.router.tracer = MessageSpans(mode.provider.get_tracer("bench"))
            modes.append(mode)
        yield modes
    finally:
        for mode in modes:
            if mode.provider is not None:
                mode.provider.shutdown()
            mode.server.close()


@contextmanager
def scraping(modes: list[Mode]) -> Iterator[None]:
    """Scrape every server's /metrics once a second, as Prometheus would, while the block runs."""
    stop = threading.Event()

    def scrape() -> None:
        while not stop.wait(1.0):
            for mode in modes:
                if mode.server.telemetry.metrics is not None:
                    mode.server.telemetry.metrics.exposition()

    thread = threading.Thread(target=scrape, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# ---- loads ----


def wasm_run(agents: Agents, router: Router, family: Family, rounds: int) -> float:
    """Messages handled per second by one ping-pong pair of wasm agents."""
    talk = family.conversation(0)
    sandboxes = [
        agents.start(
            router, ping("pong-0", rounds, batch=family.batch, conversation=talk), "ping-0"
        ),
        agents.start(router, pong("ping-0", batch=family.batch, conversation=talk), "pong-0"),
    ]
    try:
        elapsed, _ = drive(router, 0, lambda: post_kicks(router, ["ping-0"], family.window))
        handled = sum(sandbox.messages_handled for sandbox in sandboxes)
        expected = 2 * rounds + family.window
        if handled != expected:
            raise RuntimeError(f"{family.name}: {handled} handled of {expected}")
    finally:
        for name in ("ping-0", "pong-0"):
            router.detach(name)
        for sandbox in sandboxes:
            agents.runtime.remove(sandbox)
    return handled / (elapsed / 1e9)


def wasm_load(agents: dict[str, Agents], family: Family, rounds: int, mode: Mode) -> float:
    return wasm_run(agents[mode.name], mode.server.router, family, rounds)


def router_only_run(router: Router, rounds: int) -> float:
    family = Family("unbatched", 1, batch=False)
    stand_ins = [
        StandIn(router, "ping-0", "pong-0", rounds, family, 0),
        StandIn(router, "pong-0", "ping-0", None, family, 0),
    ]
    try:
        elapsed, _ = drive(router, 0, lambda: post_kicks(router, ["ping-0"], 1))
        handled = sum(stand_in.handled for stand_in in stand_ins)
        if handled != 2 * rounds + 1 or any(stand_in.refused for stand_in in stand_ins):
            raise RuntimeError(f"router only: {handled} handled of {2 * rounds + 1}")
    finally:
        for name in ("ping-0", "pong-0"):
            router.detach(name)
    return handled / (elapsed / 1e9)


def measure_throughput(modes: list[Mode], plan: Plan) -> dict[str, Any]:
    loads: dict[str, Callable[[Mode], float]] = {}
    agents_by_mode = {mode.name: Agents(mode.server.runtime) for mode in modes}
    rounds = plan.messages // 2
    for family in (Family("unbatched", 1, batch=False), Family("window_16_batched", 16, True)):
        label = "wasm_pingpong" if family.window == 1 else f"wasm_{family.name}"
        loads[label] = partial(wasm_load, agents_by_mode, family, rounds)
    loads["router_only"] = lambda mode: router_only_run(mode.server.router, rounds)
    results: dict[str, Any] = {}
    with scraping(modes):
        for label, load in loads.items():
            for mode in modes:
                load(mode)  # warm up: compile, caches, first conversations
            samples: dict[str, list[float]] = {mode.name: [] for mode in modes}
            for _ in range(plan.rounds):
                for mode in modes:
                    samples[mode.name].append(load(mode))
            results[label] = summarise(samples)
    return results


def summarise(samples: dict[str, list[float]]) -> dict[str, Any]:
    off = samples["off"]
    found: dict[str, Any] = {}
    for name, rates in samples.items():
        found[name] = {
            "msgs_per_s_p50": round(statistics.median(rates)),
            "runs": len(rates),
            "vs_off": round(statistics.median(rates) / statistics.median(off), 4),
            "paired_vs_off": round(
                statistics.median(rate / base for rate, base in zip(rates, off, strict=True)), 4
            ),
        }
    return found


# ---- the parts ----


def measure_scrape(modes: list[Mode], plan: Plan) -> dict[str, Any]:
    """One exposition of a server's metrics, with 100 and with 1000 agents attached."""
    mode = next(mode for mode in modes if mode.name == "default")
    metrics = mode.server.telemetry.metrics
    assert metrics is not None
    router = mode.server.router
    family = Family("unbatched", 1, batch=False)
    found: dict[str, Any] = {}
    made: list[str] = []
    try:
        for count in (100, 1000):
            while len(made) < count:
                name = f"idle-{len(made)}"
                StandIn(router, name, name, 0, family, 0)
                made.append(name)
            samples = []
            for _ in range(3 if plan.rounds < 5 else 20):
                began = time.perf_counter()
                metrics.exposition()
                samples.append((time.perf_counter() - began) * 1000)
            found[f"agents_{count}"] = timing.summary(samples, 2)
    finally:
        for name in made:
            router.detach(name)
    return found


def measure_errors(plan: Plan) -> dict[str, Any]:
    """classify + ErrorLog.record, its line formatted as JSON; and past the log budget."""
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("caxton.errors")
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    message = {
        "performative": "request",
        "conversation_id": "c-1",
        "message_id": "m-1",
        "trace": {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
    }
    error = FuelExhausted("fuel per message exhausted")
    try:
        ticking = iter(range(10**9))
        logged = ErrorLog(clock=lambda: float(next(ticking)))  # a new second each time: all logged
        budget = ErrorLog()  # one clock second: past 10 lines, counted only
        results = {
            "classify_us": timing.mean_ns(lambda: classify(error), plan.errors) / 1000,
            "record_logged_us": timing.mean_ns(
                lambda: logged.record(classify(error), error.reason, "agent-1", message),
                plan.errors,
            )
            / 1000,
            "record_over_budget_us": timing.mean_ns(
                lambda: budget.record(ErrorClass.RESOURCE, error.reason, "agent-1", message),
                plan.errors,
            )
            / 1000,
        }
    finally:
        logger.removeHandler(handler)
    return {key: round(value, 2) for key, value in results.items()}


def run(plan: Plan, quick: bool) -> dict[str, Any]:
    began = time.perf_counter()
    logging.getLogger("caxton").setLevel(logging.ERROR)  # no agent log lines in the timings
    with tempfile.TemporaryDirectory() as root, servers(Path(root)) as modes:
        throughput = measure_throughput(modes, plan)
        scrape = measure_scrape(modes, plan)
    errors = measure_errors(plan)
    costs = {
        load: round(1 - figures["default"]["vs_off"], 4) for load, figures in throughput.items()
    }
    return {
        "throughput": throughput,
        "default_cost": costs,
        "target_max_cost": TARGET_MAX_COST,
        "meets_target": {load: cost <= TARGET_MAX_COST for load, cost in costs.items()},
        "scrape_ms": scrape,
        "error_record_us": errors,
        "machine": timing.machine("opentelemetry-sdk", "prometheus-client", "wasmtime"),
        "quick": quick,
        "elapsed_s": round(time.perf_counter() - began, 2),
    }


def main(argv: list[str] | None = None) -> int:
    return timing.main(__doc__, run, QUICK, FULL, argv)


if __name__ == "__main__":
    sys.exit(main())
