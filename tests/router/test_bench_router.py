"""bench/router.py --quick runs, and prints one JSON object with every figure present."""

from __future__ import annotations

from collections.abc import Iterator

from benchmarks import run_quick

TOP_LEVEL = {
    "pingpong_msgs_per_s",
    "messages_per_run",
    "round_trip_us",
    "fan_out_100",
    "router_only_msgs_per_s",
    "baseline_asyncio",
    "targets",
    "meets_targets",
    "targets_checked_on",
    "machine",
    "quick",
    "elapsed_s",
}
FAMILIES = {
    "unbatched",
    "unbatched_no_conversation_id",
    "batch_export",
    "window_16_unbatched",
    "window_16_batched",
    "window_64_unbatched",
    "window_64_batched",
}
PAIRS = {"pairs_1", "pairs_2", "pairs_8", "pairs_32"}
WORKERS = {"workers_0", "workers_1", "workers_2"}
THROUGHPUT = {"p50", "min", "max", "runs", "vs_baseline"}
LATENCY = {"p50", "p90", "p99", "max", "samples"}


def numbers(tree: object, path: str = "") -> Iterator[tuple[str, float]]:
    """Every number in `tree` with where it is; booleans are verdicts, not figures."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from numbers(value, f"{path}/{key}")
    elif isinstance(tree, int | float) and not isinstance(tree, bool):
        yield path, tree


def test_the_quick_benchmark_prints_every_figure() -> None:
    results = run_quick("router.py")

    assert set(results) == TOP_LEVEL
    assert results["quick"] is True
    pingpong = results["pingpong_msgs_per_s"]
    assert set(pingpong) == FAMILIES
    for by_pairs in pingpong.values():
        assert set(by_pairs) == PAIRS
        for by_workers in by_pairs.values():
            assert set(by_workers) == WORKERS
            for figures in by_workers.values():
                assert set(figures) == THROUGHPUT | {"messages_per_turn"}
    assert set(results["round_trip_us"]) == WORKERS
    assert all(set(v) == LATENCY for v in results["round_trip_us"].values())
    fan = results["fan_out_100"]
    assert set(fan["latency_us"]) == {"workers_0", "workers_2"}
    assert set(fan["deliveries_per_s"]) == {"unbatched", "batched"}
    assert set(results["router_only_msgs_per_s"]) == {"unbatched", "window_64_batched"}
    assert set(results["baseline_asyncio"]["msgs_per_s"]) == THROUGHPUT - {"vs_baseline"}
    assert set(results["baseline_asyncio"]["round_trip_us"]) == LATENCY
    assert set(results["meets_targets"]) == set(results["targets"])
    assert all(isinstance(met, bool) for met in results["meets_targets"].values())
    assert set(results["targets_checked_on"]) == set(results["targets"])
    assert {"nproc", "python", "wasmtime", "platform"} <= set(results["machine"])

    figures = dict(numbers(results))
    assert len(figures) > 300
    assert not {path: value for path, value in figures.items() if value <= 0}
