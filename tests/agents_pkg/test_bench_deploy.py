"""bench/deploy.py runs and reports every figure."""

from __future__ import annotations

from benchmarks import run_quick


def test_the_quick_deploy_benchmark_prints_its_figures() -> None:
    result = run_quick("deploy.py")
    for kind in ("deploy_new_module_ms", "deploy_known_module_ms"):
        assert result[kind]["runs"] == 20
        assert 0 < result[kind]["p50"] <= result[kind]["p99"]
    assert result["meets_targets"] == {"deploy_p50_ms_max": True}
