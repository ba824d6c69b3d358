"""Token buckets of the API: exact counts over a driven clock, all-or-nothing, run-time changes
that outlive a restart, the RateLimit-* headers, and memory that stays bounded under a flood."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import pytest

from caxton.api.types import RateLimit
from caxton.errors import CaxtonError
from caxton.security.ratelimit import (
    MAX_BURST,
    InvalidRateLimit,
    RateLimiter,
    TokenBucket,
    Verdict,
    headers,
)
from caxton.settings import RateLimitSettings
from caxton.store import Store
from clocks import Clock

# No limit anywhere: each test turns on the buckets it is about.
OPEN = RateLimitSettings(global_per_s=0, identity_per_s=0)


def limiter(
    clock: Clock, settings: RateLimitSettings = OPEN, *, max_buckets: int = 10_000
) -> RateLimiter:
    return RateLimiter(settings, clock=clock, max_buckets=max_buckets)


def allowed_over(
    clock: Clock, seconds: float, per_s: float, attempt: Callable[[int], Verdict]
) -> int:
    """Attempts `per_s` times a second for `seconds` of the driven clock; how many were allowed."""
    start = clock.now
    count = math.floor(seconds * per_s)
    allowed = 0
    for n in range(count + 1):
        clock.now = start + n / per_s  # not summed: no drift from adding up steps
        allowed += attempt(n).allowed
    return allowed


# ---- the bucket ----


def test_a_bucket_starts_full_and_refills_continuously() -> None:
    clock = Clock()
    bucket = TokenBucket(2.0, 3, clock)
    assert bucket.tokens() == 3
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.25
    assert bucket.tokens() == pytest.approx(0.5)
    assert not bucket.take()
    clock.now += 0.25
    assert bucket.take()
    clock.now += 60
    assert bucket.tokens() == 3  # never above the burst


@pytest.mark.parametrize(("per_s", "burst"), [(0.0, 1), (-1.0, 1), (math.inf, 1), (1.0, 0)])
def test_a_bucket_needs_a_rate_and_a_size(per_s: float, burst: int) -> None:
    with pytest.raises(ValueError, match="per_s > 0 and burst >= 1"):
        TokenBucket(per_s, burst, Clock())


# ---- exactness: burst + rate * T ----

RATE, BURST, WINDOW_S = 50.0, 20, 100.0
EXPECTED = BURST + RATE * WINDOW_S


def test_a_steady_stream_is_allowed_burst_plus_rate_times_t_globally() -> None:
    clock = Clock()
    limits = limiter(clock, RateLimitSettings(global_per_s=RATE, global_burst=BURST,
                                              identity_per_s=0))  # fmt: skip
    allowed = allowed_over(
        clock, WINDOW_S, 10 * RATE, lambda n: limits.take(f"id{n % 7}", "agents.get")
    )
    # Exact but for the last fraction of a token, so well within 1%.
    assert abs(allowed - EXPECTED) <= 1


def test_a_steady_stream_is_allowed_burst_plus_rate_times_t_per_identity() -> None:
    clock = Clock()
    limits = limiter(clock, RateLimitSettings(global_per_s=0, identity_per_s=RATE,
                                              identity_burst=BURST))  # fmt: skip

    def attempt_as(name: str) -> Callable[[int], Verdict]:
        return lambda _: limits.take(name, "agents.get")

    for name in ("alice", "bob"):  # each its own bucket, made full at its first request
        allowed = allowed_over(clock, WINDOW_S, 10 * RATE, attempt_as(name))
        assert abs(allowed - EXPECTED) <= 1, name


def test_an_identity_of_its_own_is_allowed_burst_plus_rate_times_t() -> None:
    clock = Clock()
    limits = limiter(clock)
    limits.set("identity:key:alice", RATE, BURST, by="test")
    allowed = allowed_over(
        clock, WINDOW_S, 10 * RATE, lambda _: limits.take("key:alice", "agents.get")
    )
    assert abs(allowed - EXPECTED) <= 1
    assert limits.take("key:bob", "agents.get").scope == ""  # the others have no limit


def test_an_operation_is_allowed_burst_plus_rate_times_t_shared_by_every_identity() -> None:
    clock = Clock()
    limits = limiter(clock)
    limits.set("operation:agents.deploy", RATE, BURST, by="test")
    allowed = allowed_over(
        clock, WINDOW_S, 10 * RATE, lambda n: limits.take(f"id{n}", "agents.deploy")
    )
    assert abs(allowed - EXPECTED) <= 1
    assert limits.take("id0", "agents.list").allowed  # other operations are not limited


THREADS, THREAD_RATE, THREAD_BURST, THREAD_WINDOW_S = 4, 10_000.0, 2_000, 1.0


@pytest.mark.parametrize("scope", ["global", "identity", "operation"])
def test_threads_on_the_real_clock_are_allowed_burst_plus_rate_times_elapsed(scope: str) -> None:
    settings = {
        "global": RateLimitSettings(global_per_s=THREAD_RATE, global_burst=THREAD_BURST,
                                    identity_per_s=0),
        "identity": RateLimitSettings(global_per_s=0, identity_per_s=THREAD_RATE,
                                      identity_burst=THREAD_BURST),
        "operation": OPEN,
    }[scope]  # fmt: skip
    began = time.monotonic()
    limits = RateLimiter(settings)
    if scope == "operation":
        limits.set("operation:agents.invoke", THREAD_RATE, THREAD_BURST, by="test")
    deadline = began + THREAD_WINDOW_S
    counts = [0] * THREADS

    def hammer(index: int) -> None:
        # One identity for all when it is the identity's bucket; one each otherwise.
        identity = "shared" if scope == "identity" else f"thread{index}"
        while time.monotonic() < deadline:
            counts[index] += limits.take(identity, "agents.invoke").allowed

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = THREAD_BURST + THREAD_RATE * (deadline - began)
    assert abs(sum(counts) - expected) <= 0.01 * expected, (sum(counts), expected)


# ---- all or nothing, and which bucket speaks ----


def test_a_refused_request_takes_no_token_from_any_bucket() -> None:
    clock = Clock()
    limits = limiter(clock, RateLimitSettings(global_per_s=0.001, global_burst=5,
                                              identity_per_s=0))  # fmt: skip
    limits.set("operation:agents.deploy", 0.001, 1, by="test")
    assert limits.take("alice", "agents.deploy").allowed
    refusals = [limits.take("alice", "agents.deploy") for _ in range(10)]
    assert {(v.allowed, v.scope) for v in refusals} == {(False, "operation:agents.deploy")}
    # Only the one allowed request came out of the global bucket.
    assert [limits.take("bob", "list").allowed for _ in range(5)] == [True] * 4 + [False]


def test_the_verdict_speaks_for_the_tightest_bucket() -> None:
    clock = Clock()
    limits = limiter(clock, RateLimitSettings(global_per_s=100, global_burst=100,
                                              identity_per_s=1, identity_burst=3))  # fmt: skip
    first = limits.take("alice", "agents.get")
    assert (first.scope, first.limit, first.remaining) == ("identity", 3, 2)
    limits.set("operation:agents.get", 100, 1, by="test")
    only = limits.take("alice", "agents.get")
    assert (only.scope, only.limit, only.remaining) == ("operation:agents.get", 1, 0)
    # Refused by two buckets: the one that takes longer to get a token decides.
    limits.set("operation:agents.get", 10, 1, by="test")
    limits.take("alice", "other")
    refused = limits.take("alice", "agents.get")
    assert (refused.allowed, refused.scope, refused.retry_after_s) == (False, "identity", 1)


def test_verdict_values_and_headers() -> None:
    clock = Clock()
    limits = limiter(clock, RateLimitSettings(global_per_s=2, global_burst=5, identity_per_s=0))
    first = limits.take("alice", "agents.get")
    assert first == Verdict(allowed=True, limit=5, remaining=4, reset_s=1, retry_after_s=0,
                            scope="global")  # fmt: skip
    assert headers(first) == {
        "RateLimit-Limit": "5",
        "RateLimit-Remaining": "4",
        "RateLimit-Reset": "1",
    }
    for _ in range(4):
        last = limits.take("alice", "agents.get")
    assert (last.remaining, last.reset_s) == (0, 3)  # 5 tokens at 2 a second: 2.5 s, rounded up
    refused = limits.take("alice", "agents.get")
    assert headers(refused) == {
        "RateLimit-Limit": "5",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "3",
        "Retry-After": "1",  # half a second, rounded up
    }
    clock.now += 0.49
    assert limits.take("alice", "agents.get").retry_after_s == 1  # 0.01 s away: at least 1
    limits.set("global", 0.25, 5, by="test")
    slow = limits.take("alice", "agents.get")
    assert (slow.allowed, slow.retry_after_s) == (False, 1)  # 0.98 of a token: 0.08 s
    clock.now += 0.5
    assert limits.take("alice", "agents.get").allowed
    assert limits.take("alice", "agents.get").retry_after_s == 4  # a whole token at 0.25 a second


def test_a_rate_near_zero_answers_a_long_wait_not_an_overflow() -> None:
    limits = limiter(Clock(), RateLimitSettings(global_per_s=5e-324, global_burst=1))
    limits.take("alice", "agents.get")
    refused = limits.take("alice", "agents.get")
    assert (refused.allowed, refused.retry_after_s, refused.reset_s) == (False, 10**9, 10**9)


def test_no_limit_at_all_means_no_headers() -> None:
    verdict = limiter(Clock()).take("alice", "agents.get")
    assert verdict.allowed
    assert verdict.scope == ""
    assert headers(verdict) == {}


def test_per_s_zero_means_no_limit_for_that_scope() -> None:
    clock = Clock()
    limits = limiter(clock, RateLimitSettings(global_per_s=0, identity_per_s=1, identity_burst=1))
    limits.set("identity:service", 0, 1, by="test")
    assert all(limits.take("service", "agents.get").allowed for _ in range(100))
    assert [limits.take("alice", "agents.get").allowed for _ in range(2)] == [True, False]


# ---- changes at run time ----


def test_a_change_applies_at_once_keeping_the_tokens_cut_to_the_new_burst() -> None:
    clock = Clock()
    limits = limiter(clock, RateLimitSettings(global_per_s=1, global_burst=10, identity_per_s=0))
    for _ in range(8):
        limits.take("alice", "agents.get")
    limits.set("global", 1, 1, by="test")  # 2 tokens left, cut to 1
    assert limits.take("alice", "agents.get") == Verdict(
        allowed=True, limit=1, remaining=0, reset_s=1, retry_after_s=0, scope="global"
    )
    limits.set("global", 4, 100, by="test")  # a bigger bucket is not a full one
    assert not limits.take("alice", "agents.get").allowed
    clock.now += 0.25  # at the new rate
    assert limits.take("alice", "agents.get").allowed


def test_identity_changes_reach_the_buckets_there_are() -> None:
    clock = Clock()
    limits = limiter(clock, RateLimitSettings(global_per_s=0, identity_per_s=1, identity_burst=5))
    for name in ("alice", "bob"):
        limits.take(name, "agents.get")
    limits.set("identity", 1, 2, by="test")
    limits.set("identity:key:carol", 1, 9, by="test")
    assert limits.take("alice", "agents.get").remaining == 1
    limits.set("identity:bob", 1, 1, by="test")  # bob's 2 tokens cut to 1
    bob = limits.take("bob", "agents.get")
    assert (bob.allowed, bob.scope, bob.limit, bob.remaining) == (True, "identity:bob", 1, 0)
    assert limits.reset("identity:bob", by="test")
    refused = limits.take("bob", "agents.get")
    assert (refused.allowed, refused.scope, refused.limit) == (False, "identity", 2)
    assert limits.take("key:carol", "agents.get").limit == 9


def test_reset_goes_back_to_the_settings_or_removes_the_limit() -> None:
    clock = Clock()
    settings = RateLimitSettings(global_per_s=10, global_burst=20, identity_per_s=0)
    limits = limiter(clock, settings)
    limits.set("global", 1, 1, by="test")
    limits.set("operation:agents.deploy", 1, 1, by="test")
    assert limits.reset("global", by="test")
    assert not limits.reset("global", by="test")  # nothing left to undo
    assert limits.take("alice", "agents.get").limit == 20
    assert limits.reset("operation:agents.deploy", by="test")
    assert not limits.reset("operation:agents.deploy", by="test")
    clock.now += 10
    verdicts = [limits.take("alice", "agents.deploy") for _ in range(2)]
    assert [(v.allowed, v.scope) for v in verdicts] == [(True, "global"), (True, "global")]


def test_limits_lists_the_settings_then_the_changes_by_scope() -> None:
    settings = RateLimitSettings(
        global_per_s=2000, global_burst=4000, identity_per_s=500, identity_burst=1000
    )
    limits = limiter(Clock(), settings)
    assert limits.limits() == [
        RateLimit(scope="global", per_s=2000, burst=4000, source="settings"),
        RateLimit(scope="identity", per_s=500, burst=1000, source="settings"),
    ]
    changed = limits.set("operation:agents.deploy", 0.5, 2, by="test")
    assert changed == RateLimit(scope="operation:agents.deploy", per_s=0.5, burst=2,
                                source="runtime")  # fmt: skip
    limits.set("identity", 5, 10, by="test")
    limits.set("identity:key:ab12", 1, 1, by="test")
    assert [(item.scope, item.source) for item in limits.limits()] == [
        ("global", "settings"),
        ("identity", "runtime"),
        ("identity:key:ab12", "runtime"),
        ("operation:agents.deploy", "runtime"),
    ]


def test_changes_outlive_a_restart_and_resets_too(store: Store) -> None:
    settings = RateLimitSettings(global_per_s=100, global_burst=100, identity_per_s=0)
    first = RateLimiter(settings, store.rate_limits, clock=Clock())
    first.set("global", 50, 200, by="key:admin")
    first.set("identity:jwt:alice", 1, 2, by="key:admin")
    first.set("operation:agents.invoke", 3, 4, by="key:admin")
    record = store.rate_limits.get("global")
    assert record is not None
    assert (record.per_s, record.burst, record.updated_by) == (50, 200, "key:admin")

    again = RateLimiter(settings, store.rate_limits, clock=Clock())
    assert again.limits() == first.limits()
    assert [again.take("jwt:alice", "x").allowed for _ in range(3)] == [True, True, False]
    # The restored global bucket starts full at its new size, not the settings'.
    assert again.take("bob", "x").remaining == 200 - 3  # the refused third took nothing

    again.reset("global", by="key:admin")
    again.reset("identity:jwt:alice", by="key:admin")
    third = RateLimiter(settings, store.rate_limits, clock=Clock())
    assert [(item.scope, item.per_s, item.source) for item in third.limits()] == [
        ("global", 100, "settings"),
        ("identity", 0, "settings"),
        ("operation:agents.invoke", 3, "runtime"),
    ]


def test_a_row_this_version_cannot_read_is_skipped(store: Store) -> None:
    store.rate_limits.set("tenant:acme", 1, 1, by="a newer caxton")
    limits = RateLimiter(OPEN, store.rate_limits, clock=Clock())
    assert [item.scope for item in limits.limits()] == ["global", "identity"]


@pytest.mark.parametrize(
    "scope",
    ["", "Global", "globals", "identities", "identity:", "operation:", "user:bob",
     "identity:" + "x" * 300, "operation:a\x00b", "identity:bob\n"],
)  # fmt: skip
def test_a_scope_of_another_shape_is_refused_naming_the_scope(scope: str) -> None:
    limits = limiter(Clock())
    for change in (lambda: limits.set(scope, 1, 1, by="t"), lambda: limits.reset(scope, by="t")):
        with pytest.raises(InvalidRateLimit) as refused:
            change()
        assert refused.value.field == "scope"
        assert str(refused.value).startswith("scope: ")
        assert isinstance(refused.value, ValueError)
        assert isinstance(refused.value, CaxtonError)
    assert limits.limits() == limiter(Clock()).limits()


def test_an_unknown_scope_is_named_with_the_scopes_there_are() -> None:
    with pytest.raises(InvalidRateLimit, match=r"'tenant:acme' is not a rate-limit scope: global"):
        limiter(Clock()).set("tenant:acme", 1, 1, by="t")


@pytest.mark.parametrize(
    ("per_s", "burst", "field"),
    [(-1, 1, "per_s"), (math.nan, 1, "per_s"), (math.inf, 1, "per_s"), (1, 0, "burst"),
     (1, MAX_BURST + 1, "burst")],
)  # fmt: skip
def test_bad_numbers_are_refused_naming_the_field(per_s: float, burst: int, field: str) -> None:
    with pytest.raises(InvalidRateLimit) as refused:
        limiter(Clock()).set("global", per_s, burst, by="t")
    assert refused.value.field == field


# ---- failed authentications ----


def test_an_address_out_of_failed_authentications_is_blocked_until_it_refills() -> None:
    clock = Clock()
    limits = limiter(clock, RateLimitSettings(failed_auth_per_minute=30, failed_auth_burst=3))
    assert limits.auth_blocked("203.0.113.7") is None
    verdicts = [limits.failed_auth("203.0.113.7") for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    blocked = limits.auth_blocked("203.0.113.7")
    assert blocked is not None
    assert (blocked.allowed, blocked.scope, blocked.limit, blocked.retry_after_s) == (
        False, "failed_auth", 3, 2)  # fmt: skip
    assert limits.auth_blocked("203.0.113.7") == blocked  # asking charges nothing
    assert limits.auth_blocked("198.51.100.1") is None
    clock.now += 2  # one failure's worth back, at 30 a minute
    assert limits.auth_blocked("203.0.113.7") is None


def test_ipv6_addresses_count_by_their_64() -> None:
    limits = limiter(Clock(), RateLimitSettings(failed_auth_burst=2))
    limits.failed_auth("2001:db8:1:2::1")
    limits.failed_auth("2001:db8:1:2:ffff::9")
    assert limits.auth_blocked("2001:db8:1:2::abcd") is not None
    assert limits.auth_blocked("2001:db8:1:3::1") is None
    limits.failed_auth("::ffff:192.0.2.1")  # IPv4 mapped: the IPv4 address itself
    limits.failed_auth("192.0.2.1")
    assert limits.auth_blocked("192.0.2.1") is not None


# ---- bounded memory ----


def test_identity_buckets_stay_bounded_and_full_ones_go_first() -> None:
    clock = Clock()
    limits = limiter(clock, RateLimitSettings(global_per_s=0, identity_per_s=1, identity_burst=2),
                     max_buckets=100)  # fmt: skip
    for n in range(99):
        limits.take(f"old{n}", "agents.get")
    clock.now += 10  # every old bucket is full again
    assert [limits.take("hot", "agents.get").allowed for _ in range(3)] == [True, True, False]
    limits.take("new", "agents.get")  # the cap: the 99 full buckets go, the hot one stays
    assert limits.tracked()["identity"] == 2
    assert not limits.take("hot", "agents.get").allowed
    for n in range(10_000):
        limits.take(f"new{n}", "agents.get")
        assert limits.tracked()["identity"] <= 100


def test_a_flood_of_addresses_is_bounded_and_a_blocked_one_that_keeps_asking_stays_blocked() -> (
    None
):
    clock = Clock()
    limits = limiter(clock, RateLimitSettings(failed_auth_burst=1), max_buckets=1000)
    limits.failed_auth("192.0.2.66")
    for n in range(20_000):
        limits.failed_auth(f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}")
        if n % 500 == 0:
            assert limits.auth_blocked("192.0.2.66") is not None
    assert limits.tracked()["failed_auth"] <= 1000
