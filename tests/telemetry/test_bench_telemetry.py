"""bench/telemetry.py runs and reports every figure."""

from __future__ import annotations

from benchmarks import run_quick

LOADS = {"wasm_pingpong", "wasm_window_16_batched", "router_only"}
MODES = {"off", "default", "traced_1pct", "traced_all"}


def test_the_quick_telemetry_benchmark_prints_its_figures() -> None:
    result = run_quick("telemetry.py")
    assert set(result["throughput"]) == LOADS
    for load, modes in result["throughput"].items():
        assert set(modes) == MODES, load
        for mode, figures in modes.items():
            assert figures["msgs_per_s_p50"] > 0, (load, mode)
            assert figures["runs"] == 2, (load, mode)
        assert modes["off"]["vs_off"] == 1.0
    assert set(result["default_cost"]) == LOADS
    assert set(result["meets_target"]) == LOADS
    assert set(result["scrape_ms"]) == {"agents_100", "agents_1000"}
    errors = result["error_record_us"]
    assert 0 < errors["classify_us"] < errors["record_logged_us"]
    assert 0 < errors["record_over_budget_us"] < errors["record_logged_us"]
