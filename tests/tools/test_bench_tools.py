"""bench/tools.py runs and reports every figure."""

from __future__ import annotations

from benchmarks import run_quick


def test_the_quick_tools_benchmark_prints_its_figures() -> None:
    result = run_quick("tools.py")
    for way in ("sdk_ms", "host_ms", "platform_ms"):
        figures = result[way]
        assert figures["calls"] == 50, way
        assert 0 < figures["p50"] <= figures["p90"] <= figures["p99"], way
    assert set(result["added_ms"]) == {"host_p50", "platform_p50"}
    # Going through the platform cannot be quicker than the SDK alone by much (noise).
    assert result["platform_ms"]["p50"] > 0.5 * result["sdk_ms"]["p50"]
