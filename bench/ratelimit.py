"""Benchmark: what the API's rate limiter adds to each request (`RateLimiter.take`).

Prints one JSON object: p50 (median) and p99 in nanoseconds over single
calls, each timed with `perf_counter_ns` (`timer_ns` is the cost of the
timing itself, included in every figure), with the garbage collector off.

- `take_allowed_ns`: an allowed request, global and identity buckets (the
  default settings), among `identities` known identities;
- `take_with_operation_ns`: the same with an `operation:<name>` limit too;
- `take_refused_ns`: a request refused by an empty identity bucket;
- `auth_blocked_ns`: the check made before credentials, when nobody has failed.

    python bench/ratelimit.py            # 200000 calls each
    python bench/ratelimit.py --quick    # 5000 calls each
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import timing
from caxton.security.ratelimit import RateLimiter
from caxton.settings import RateLimitSettings

IDENTITIES = 1000
# Buckets far larger than any run: every request of the allowed figures is allowed.
ROOMY = RateLimitSettings(
    global_per_s=1e9, global_burst=10**9, identity_per_s=1e9, identity_burst=10**9
)


@dataclass(frozen=True)
class Plan:
    calls: int


FULL = Plan(calls=200_000)
QUICK = Plan(calls=5_000)


def summary(samples_ns: list[int]) -> dict[str, Any]:
    ordered = sorted(samples_ns)
    return {
        "p50": ordered[len(ordered) // 2],
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "runs": len(ordered),
    }


def timed(call: Callable[[int], object], runs: int) -> list[int]:
    clock = time.perf_counter_ns
    samples = []
    with timing.no_gc():
        for i in range(runs):
            began = clock()
            call(i)
            samples.append(clock() - began)
    return samples


def allowed(limiter: RateLimiter, operation: str) -> Callable[[int], object]:
    names = [f"key:{n:06d}" for n in range(IDENTITIES)]
    for name in names:  # every identity known: the steady state, not the first request
        limiter.take(name, operation)

    def call(i: int) -> object:
        verdict = limiter.take(names[i % IDENTITIES], operation)
        if not verdict.allowed:
            raise RuntimeError(f"refused: {verdict}")
        return verdict

    return call


def refused(limiter: RateLimiter) -> Callable[[int], object]:
    while limiter.take("key:greedy", "agents.invoke").allowed:
        pass
    return lambda _: limiter.take("key:greedy", "agents.invoke")


def blocked_check(limiter: RateLimiter) -> Callable[[int], object]:
    return lambda _: limiter.auth_blocked("203.0.113.7")


def run(plan: Plan, quick: bool) -> dict[str, Any]:
    began = time.perf_counter()
    with_operation = RateLimiter(ROOMY)
    with_operation.set("operation:agents.invoke", 1e9, 10**9, by="bench")
    stingy = RateLimiter(RateLimitSettings(global_per_s=0, identity_per_s=1e-3, identity_burst=5))
    results = {
        "timer_ns": summary(timed(lambda _: None, plan.calls)),
        "take_allowed_ns": summary(timed(allowed(RateLimiter(ROOMY), "agents.invoke"), plan.calls)),
        "take_with_operation_ns": summary(
            timed(allowed(with_operation, "agents.invoke"), plan.calls)
        ),
        "take_refused_ns": summary(timed(refused(stingy), plan.calls)),
        "auth_blocked_ns": summary(timed(blocked_check(RateLimiter(ROOMY)), plan.calls)),
    }
    return {
        **results,
        "identities": IDENTITIES,
        "machine": timing.machine(),
        "quick": quick,
        "elapsed_s": round(time.perf_counter() - began, 2),
    }


def main(argv: list[str] | None = None) -> int:
    return timing.main(__doc__, run, QUICK, FULL, argv)


if __name__ == "__main__":
    sys.exit(main())
