"""bench/store.py --quick runs, and prints one JSON object with every figure present."""

from __future__ import annotations

from benchmarks import run_quick

TIMED = {
    "agent_by_name_us",
    "agents_by_state_us",
    "route_lookup_us",
    "capability_providers_us",
    "kv_get_us",
    "kv_get_missing_us",
    "kv_set_overwrite_us",
    "kv_set_new_us",
    "kv_set_two_threads_us",
    "kv_delete_us",
    "set_state_us",
    "dead_letter_keep_us",
    "backup_ms",
    "baseline_pk_select_us",
    "baseline_dict_get_us",
}
TOP_LEVEL = TIMED | {
    "agents",
    "populate_s",
    "by_name_vs_pk_select",
    "targets",
    "meets_targets",
    "machine",
    "quick",
    "elapsed_s",
}


def test_the_quick_benchmark_prints_every_figure() -> None:
    results = run_quick("store.py")
    assert set(results) == TOP_LEVEL
    assert results["quick"] is True
    assert results["agents"] == 1000
    for name in TIMED:
        figures = results[name]
        assert figures["p50"] > 0, name
        assert figures["p99"] >= figures["p50"], name
        assert figures["runs"] > 0, name
    assert set(results["meets_targets"]) == set(results["targets"])
    assert all(isinstance(met, bool) for met in results["meets_targets"].values())
    assert results["by_name_vs_pk_select"] > 0
