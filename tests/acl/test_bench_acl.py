"""bench/acl.py --quick runs, and prints one JSON object with every figure present."""

from __future__ import annotations

from benchmarks import run_quick

TOP_LEVEL = {
    "messages",
    "json_trip_us",
    "fipa_trip_us",
    "baseline_orjson_us",
    "validate_outbound_us",
    "acl_overhead_us",
    "json_vs_baseline",
    "fipa_vs_baseline",
    "fipa_vs_json",
    "targets",
    "meets_targets",
    "messages_per_batch",
    "machine",
    "quick",
    "elapsed_s",
}
KINDS = {"small", "content_1k"}
SUMMARY = {"p50", "p90", "runs"}


def test_the_quick_benchmark_prints_every_figure() -> None:
    results = run_quick("acl.py")

    assert set(results) == TOP_LEVEL
    assert results["quick"] is True
    for family in ("json_trip_us", "fipa_trip_us", "baseline_orjson_us", "validate_outbound_us"):
        assert set(results[family]) == KINDS
        for figures in results[family].values():
            assert set(figures) == SUMMARY
            assert figures["p50"] > 0
            assert figures["p90"] >= figures["p50"]
    for ratio in ("json_vs_baseline", "fipa_vs_baseline", "fipa_vs_json"):
        assert set(results[ratio]) == KINDS
        assert all(value > 0 for value in results[ratio].values())
    # The trips do more than the baseline, which they include.
    assert all(value > 1 for value in results["json_vs_baseline"].values())
    assert set(results["acl_overhead_us"]) == KINDS
    assert set(results["messages"]) == KINDS
    assert all(set(sizes) == {"json_bytes", "fipa_bytes"} for sizes in results["messages"].values())
    assert results["messages"]["content_1k"]["json_bytes"] > 1024
    assert set(results["meets_targets"]) == set(results["targets"]) == {"acl_overhead_us_max"}
    assert isinstance(results["meets_targets"]["acl_overhead_us_max"], bool)
    assert {"nproc", "python", "orjson", "platform"} <= set(results["machine"])
