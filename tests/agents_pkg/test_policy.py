"""The failure policy: settings checked by name, decisions driven by a clock the test moves."""

from __future__ import annotations

import math

import pytest

from caxton.agents import (
    Continue,
    Exhaustion,
    Fail,
    FailurePolicy,
    FailureTracker,
    Restart,
)
from caxton.errors import ConfigError, ErrorClass

SYSTEM = ErrorClass.SYSTEM
RESOURCE = ErrorClass.RESOURCE


def trip(tracker: FailureTracker, now: float) -> Continue | Restart | Fail:
    """Record `max_errors` errors at `now` and return the last decision."""
    for _ in range(tracker.policy.max_errors - 1):
        assert tracker.record_error(now, SYSTEM, "trap") == Continue()
    return tracker.record_error(now, SYSTEM, "trap")


def test_defaults_are_valid_and_documented() -> None:
    policy = FailurePolicy()
    assert (policy.max_errors, policy.window_s, policy.max_restarts) == (5, 60.0, 3)
    assert policy.on_exhaustion is Exhaustion.FAIL


def test_errors_below_the_threshold_change_nothing() -> None:
    tracker = FailureTracker(FailurePolicy(max_errors=3, window_s=10))
    assert tracker.record_error(0.0, SYSTEM, "a") == Continue()
    assert tracker.record_error(1.0, SYSTEM, "b") == Continue()
    assert tracker.errors_in_window(1.0) == 2
    assert tracker.restarts == 0


def test_errors_outside_the_window_do_not_count() -> None:
    tracker = FailureTracker(FailurePolicy(max_errors=3, window_s=10))
    tracker.record_error(0.0, SYSTEM, "a")
    tracker.record_error(5.0, SYSTEM, "b")
    # At 10.0 the first error is exactly window_s old: it has left the window.
    assert tracker.record_error(10.0, SYSTEM, "c") == Continue()
    assert tracker.errors_in_window(10.0) == 2
    assert isinstance(tracker.record_error(14.9, SYSTEM, "d"), Restart)


def test_threshold_in_window_restarts_with_exponential_backoff_then_fails() -> None:
    policy = FailurePolicy(
        max_errors=2, window_s=10, max_restarts=4,
        backoff_initial_s=1, backoff_multiplier=3, backoff_max_s=5,
    )  # fmt: skip
    tracker = FailureTracker(policy)
    delays = []
    for n in range(4):
        decision = trip(tracker, 100.0 + n)
        assert isinstance(decision, Restart)
        assert decision.attempt == n + 1
        delays.append(decision.delay_s)
    assert delays == [1, 3, 5, 5]  # 1, 3, 9 capped at 5, 27 capped at 5
    final = trip(tracker, 104.0)
    assert isinstance(final, Fail)
    assert final.reason == (
        "2 handler errors in 10s (2 system); last: system: trap; gave up after 4 restarts"
    )


def test_restart_reason_names_count_window_classes_and_last_error() -> None:
    tracker = FailureTracker(FailurePolicy(max_errors=3, window_s=30))
    tracker.record_error(0.0, RESOURCE, "fuel")
    tracker.record_error(1.0, SYSTEM, "trap")
    decision = tracker.record_error(2.0, ErrorClass.TIMEOUT, "deadline passed")
    assert decision == Restart(
        1.0,
        "3 handler errors in 30s (1 resource, 1 system, 1 timeout); "
        "last: timeout: deadline passed; restart 1 of 3 in 1s",
        1,
    )


def test_a_trip_empties_the_window() -> None:
    tracker = FailureTracker(FailurePolicy(max_errors=2, window_s=60))
    assert isinstance(trip(tracker, 0.0), Restart)
    assert tracker.errors_in_window(0.0) == 0
    assert tracker.record_error(1.0, SYSTEM, "again") == Continue()


def test_zero_restarts_fails_at_the_first_trip() -> None:
    tracker = FailureTracker(FailurePolicy(max_errors=1, max_restarts=0))
    decision = tracker.record_error(0.0, SYSTEM, "boom")
    assert isinstance(decision, Fail)
    assert "gave up after 0 restarts" in decision.reason


def test_restart_on_exhaustion_keeps_restarting_at_the_ceiling() -> None:
    policy = FailurePolicy(
        max_errors=1, max_restarts=1, backoff_initial_s=2, backoff_max_s=30,
        on_exhaustion=Exhaustion.RESTART,
    )  # fmt: skip
    tracker = FailureTracker(policy)
    assert tracker.record_error(0.0, SYSTEM, "x") == Restart(
        2.0, "1 handler errors in 60s (1 system); last: system: x; restart 1 of 1 in 2s", 1
    )
    for n in range(2, 5):
        decision = tracker.record_error(float(n), SYSTEM, "x")
        assert isinstance(decision, Restart)
        assert (decision.delay_s, decision.attempt) == (30.0, n)
        assert f"restart {n} (past 1) in 30s" in decision.reason


def test_healthy_for_reset_after_starts_the_backoff_over() -> None:
    policy = FailurePolicy(max_errors=1, max_restarts=2, reset_after_s=100)
    tracker = FailureTracker(policy)
    assert tracker.record_error(0.0, SYSTEM, "x") == Restart(1.0, _reason(1, 1.0), 1)
    assert tracker.record_error(50.0, SYSTEM, "x") == Restart(2.0, _reason(2, 2.0), 2)
    # 99.9 s after the last trip: still counted; the budget is spent.
    assert isinstance(tracker.record_error(149.9, SYSTEM, "x"), Fail)
    tracker2 = FailureTracker(policy)
    tracker2.record_error(0.0, SYSTEM, "x")
    tracker2.record_error(50.0, SYSTEM, "x")
    # 100 s after the last trip: the count starts over.
    assert tracker2.record_error(150.0, SYSTEM, "x") == Restart(1.0, _reason(1, 1.0), 1)
    assert tracker2.restarts == 1


def _reason(attempt: int, delay: float) -> str:
    return (
        f"1 handler errors in 60s (1 system); last: system: x; restart {attempt} of 2 in {delay:g}s"
    )


def test_reset_forgets_errors_and_restarts() -> None:
    tracker = FailureTracker(FailurePolicy(max_errors=2, max_restarts=1))
    assert isinstance(trip(tracker, 0.0), Restart)
    tracker.record_error(1.0, SYSTEM, "x")
    tracker.reset()
    assert (tracker.restarts, tracker.errors_in_window(1.0)) == (0, 0)
    assert isinstance(trip(tracker, 2.0), Restart)


def test_time_must_not_go_backwards() -> None:
    tracker = FailureTracker(FailurePolicy())
    tracker.record_error(10.0, SYSTEM, "x")
    with pytest.raises(ValueError, match="went backwards"):
        tracker.record_error(9.0, SYSTEM, "x")
    with pytest.raises(ValueError, match="finite"):
        tracker.record_error(math.nan, SYSTEM, "x")


@pytest.mark.parametrize(
    ("settings", "setting", "problem"),
    [
        ({"max_errors": 0}, "max_errors", "must be an integer >= 1, got 0"),
        ({"max_errors": True}, "max_errors", "must be an integer >= 1, got True"),
        ({"max_errors": 2.0}, "max_errors", "must be an integer >= 1, got 2.0"),
        ({"max_restarts": -1}, "max_restarts", "must be an integer >= 0, got -1"),
        ({"window_s": 0}, "window_s", "must be a finite number of seconds > 0, got 0"),
        ({"window_s": math.inf}, "window_s", "must be a finite number of seconds > 0, got inf"),
        ({"window_s": "60"}, "window_s", "must be a finite number of seconds > 0, got '60'"),
        (
            {"backoff_initial_s": -1},
            "backoff_initial_s",
            "must be a finite number of seconds >= 0, got -1",
        ),
        ({"backoff_multiplier": 0.5}, "backoff_multiplier", "must be a number >= 1, got 0.5"),
        (
            {"backoff_initial_s": 10, "backoff_max_s": 5},
            "backoff_max_s",
            "must be at least backoff_initial_s (10), got 5",
        ),
        (
            {"reset_after_s": 0.0},
            "reset_after_s",
            "must be a finite number of seconds > 0, got 0.0",
        ),
        (
            {"on_exhaustion": "explode"},
            "on_exhaustion",
            "must be one of 'fail', 'restart', got 'explode'",
        ),
    ],
)
def test_invalid_settings_name_the_setting(
    settings: dict[str, object], setting: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        FailurePolicy(**settings)  # type: ignore[arg-type]
    assert caught.value.setting == f"failure_policy.{setting}"
    assert str(caught.value) == f"failure_policy.{setting}: {problem}"
    with pytest.raises(ConfigError) as renamed:
        FailurePolicy.from_mapping(settings, setting="agents.echo.failure_policy")
    assert renamed.value.setting == f"agents.echo.failure_policy.{setting}"
    assert str(renamed.value) == f"agents.echo.failure_policy.{setting}: {problem}"


def test_from_mapping_builds_a_policy_and_refuses_unknown_keys() -> None:
    policy = FailurePolicy.from_mapping(
        {"max_errors": 3, "window_s": 5, "on_exhaustion": "restart"}
    )
    assert policy == FailurePolicy(max_errors=3, window_s=5, on_exhaustion=Exhaustion.RESTART)
    assert policy.on_exhaustion is Exhaustion.RESTART
    with pytest.raises(ConfigError) as caught:
        FailurePolicy.from_mapping({"max_error": 3}, setting="agents.echo.failure_policy")
    assert caught.value.setting == "agents.echo.failure_policy.max_error"
    assert "unknown setting (known: backoff_initial_s, " in str(caught.value)
