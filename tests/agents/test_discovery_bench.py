"""bench/discovery.py runs and reports every figure, within the 10 ms target."""

from __future__ import annotations

from benchmarks import run_quick


def test_the_quick_discovery_benchmark_prints_its_figures() -> None:
    result = run_quick("discovery.py")
    figures = (
        "api_search_ms",
        "api_search_few_ms",
        "api_baseline_ms",
        "directory_ms",
        "directory_baseline_ms",
    )
    for figure in figures:
        timings = result[figure]
        assert timings["runs"] == 50, figure
        assert 0 < timings["p50"] <= timings["p90"] <= timings["p99"], figure
    assert result["agents"] == 1000
    assert result["providers_in_range"] == {"api_search": 77, "api_search_few": 6}
    # Every query the seeker sent was answered by the directory (warm-up included).
    assert result["directory_answered"] >= 50
    assert set(result["added_ms"]) == {"api_search_p50", "api_search_few_p50", "directory_p50"}
    # The target is on p50 here, not p99: a shared CI machine's pauses are not the code's.
    assert result["api_search_ms"]["p50"] <= result["target_ms"]
    assert result["directory_ms"]["p50"] <= result["target_ms"]
