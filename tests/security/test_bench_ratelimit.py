"""bench/ratelimit.py runs and reports every figure."""

from __future__ import annotations

from benchmarks import run_quick

FIGURES = ("timer_ns", "take_allowed_ns", "take_with_operation_ns", "take_refused_ns",
           "auth_blocked_ns")  # fmt: skip


def test_the_quick_rate_limit_benchmark_prints_its_figures() -> None:
    result = run_quick("ratelimit.py")
    for name in FIGURES:
        figures = result[name]
        assert figures["runs"] == 5000, name
        assert 0 < figures["p50"] <= figures["p99"], name
    # Timing a call costs less than the call: the figures measure the limiter.
    assert result["timer_ns"]["p50"] < result["take_allowed_ns"]["p50"]
