"""bench/api.py runs and reports every figure."""

from __future__ import annotations

from benchmarks import run_quick


def test_the_quick_api_benchmark_prints_its_figures() -> None:
    result = run_quick("api.py")
    figures = {
        "get_agent_ms": ("server", "in_process", "socket"),
        "invoke_ms": ("socket", "server", "in_process", "gateway_elapsed"),
        "baseline_constant_ms": ("server", "in_process", "socket"),
    }
    for family, ways in figures.items():
        assert set(result[family]) == set(ways), family
        for way in ways:
            assert result[family][way]["runs"] == 50, (family, way)
            assert 0 < result[family][way]["p50"] <= result[family][way]["p90"], (family, way)
    # The client's view includes the app's own time.
    for family in ("get_agent_ms", "baseline_constant_ms"):
        assert result[family]["server"]["p50"] < result[family]["in_process"]["p50"]
    assert set(result["vs_baseline"]) == {
        "get_agent_server",
        "get_agent_in_process",
        "get_agent_socket",
        "invoke_server",
        "invoke_socket",
    }
    assert all(ratio > 0 for ratio in result["vs_baseline"].values())
    assert set(result["meets_targets"]) == set(result["targets"])
    assert result["quick"] is True
