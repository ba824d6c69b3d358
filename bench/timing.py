"""What the benchmark scripts share: timing without the collector, percentiles,
the machine block, and the command line (`--quick`).

Imported as a top-level module: `python bench/<script>.py` puts bench/ on sys.path.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

Plan = TypeVar("Plan")


@contextmanager
def no_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def p90(samples: list[float]) -> float:
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=10, method="inclusive")[8]


def summary(samples: list[float], digits: int = 3) -> dict[str, Any]:
    return {
        "p50": round(p50(samples), digits),
        "p90": round(p90(samples), digits),
        "runs": len(samples),
    }


def mean_ns(action: Callable[[], object], count: int) -> float:
    """Mean time of `action()` over `count` back-to-back calls, in nanoseconds."""
    loop = range(count)
    start = time.perf_counter_ns()
    for _ in loop:
        action()
    return (time.perf_counter_ns() - start) / count


def machine(*packages: str, **more: object) -> dict[str, Any]:
    """Cores, Python, the versions of `packages`, anything in `more`, and the platform."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    found: dict[str, Any] = {"nproc": cpus, "python": platform.python_version()}
    found.update({package: importlib.metadata.version(package) for package in packages})
    found.update(more)
    found["platform"] = platform.platform()
    return found


def main(
    doc: str | None,
    run: Callable[[Plan, bool], dict[str, Any]],
    quick: Plan,
    full: Plan,
    argv: list[str] | None = None,
) -> int:
    """Parse `--quick`, run the plan it names and print the results as one JSON object."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument(
        "--quick", action="store_true", help="few iterations: a smoke run of a few seconds"
    )
    args = parser.parse_args(argv)
    print(json.dumps(run(quick if args.quick else full, args.quick), indent=2))
    return 0
