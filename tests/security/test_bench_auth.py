"""bench/auth.py runs and reports every figure."""

from __future__ import annotations

from benchmarks import run_quick

MICRO = (
    "authenticate_key_cached_us",
    "authenticate_key_uncached_us",
    "authenticate_hs256_uncached_us",
    "authenticate_rs256_uncached_us",
    "authorize_us",
)


def test_the_quick_auth_benchmark_prints_its_figures() -> None:
    result = run_quick("auth.py")
    for name in MICRO:
        assert result[name]["runs"] == 500, name
        assert 0 < result[name]["p50"] <= result[name]["p99"], name
    # A cached key is a dictionary lookup; checking one afresh reads SQLite and hashes.
    assert (
        result["authenticate_key_cached_us"]["p50"] < result["authenticate_key_uncached_us"]["p50"]
    )
    for side in ("auth_on", "auth_off"):
        assert result["request_ms"][side]["runs"] == 50
    assert result["ratio_on_to_off"] > 0
