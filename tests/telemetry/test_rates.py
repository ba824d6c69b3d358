"""Rates, peaks and spikes from counters, with the elapsed seconds given rather than measured."""

from __future__ import annotations

import random
import sys
from array import array
from collections.abc import Iterable

import pytest

from caxton.telemetry.rates import WINDOWS, RateBoard, RateTracker, Spike


class Feed:
    """Drives a tracker's counter by whole seconds, given the messages of each second."""

    def __init__(self, tracker: RateTracker, start: int = 0) -> None:
        self.tracker = tracker
        self.total = start
        assert tracker.sample(start, 1.0) is None

    def __call__(self, per_second: Iterable[int]) -> list[Spike | None]:
        results = []
        for count in per_second:
            self.total += count
            results.append(self.tracker.sample(self.total, 1.0))
        return results


def feed(*, sensitivity: float = 3.0, min_rate: float = 0.0, horizon_s: int = 3600) -> Feed:
    return Feed(RateTracker(sensitivity=sensitivity, min_rate=min_rate, horizon_s=horizon_s))


def alternating(low: int, high: int, seconds: int) -> list[int]:
    """A load with noise whose mean and standard deviation are known: (low+high)/2, (high-low)/2."""
    return [low if second % 2 == 0 else high for second in range(seconds)]


def spikes_of(results: list[Spike | None]) -> list[tuple[int, Spike]]:
    return [(second, spike) for second, spike in enumerate(results) if spike is not None]


# Rates from counters


def test_the_first_sample_only_sets_the_starting_point() -> None:
    tracker = RateTracker(sensitivity=3.0, min_rate=0.0)

    assert tracker.sample(1_000_000, 1.0) is None

    assert tracker.rate == 0.0
    assert tracker.peaks() == dict.fromkeys(WINDOWS, 0.0)
    tracker.sample(1_000_007, 1.0)
    assert tracker.rate == 7.0  # not the counter's whole value


def test_the_rate_is_the_growth_over_the_elapsed_seconds() -> None:
    tracker = RateTracker(sensitivity=3.0, min_rate=0.0)
    tracker.sample(0, 0.0)

    tracker.sample(10, 1.0)
    assert tracker.rate == 10.0
    tracker.sample(25, 0.5)
    assert tracker.rate == 30.0
    tracker.sample(40, 1.25)
    assert tracker.rate == 12.0
    tracker.sample(40, 1.0)
    assert tracker.rate == 0.0


def test_a_counter_reset_restarts_from_the_new_value() -> None:
    run = feed()
    run([50] * 20)
    assert run.tracker.rate == 50.0

    # The counter restarts (the agent was reloaded) at a value far below the last one.
    assert run.tracker.sample(3, 1.0) is None

    assert run.tracker.rate == 50.0  # nothing recorded for the reset's second
    assert run.tracker.mean == pytest.approx(50.0)
    assert min(run.tracker.peaks().values()) == 50.0
    run.total = 3
    run([30])
    assert run.tracker.rate == 30.0  # counted from 3, the new value
    assert run.tracker.spikes == 0


def test_a_bad_elapsed_time_is_refused_without_losing_messages() -> None:
    tracker = RateTracker(sensitivity=3.0, min_rate=0.0)
    tracker.sample(100, 1.0)

    with pytest.raises(ValueError, match="elapsed_s"):
        tracker.sample(110, 0.0)

    tracker.sample(120, 1.0)
    assert tracker.rate == 20.0  # from 100: the refused sample did not move the start


@pytest.mark.parametrize(
    ("sensitivity", "min_rate", "horizon_s", "name"),
    [
        (-1.0, 0.0, 3600, "sensitivity"),
        (float("nan"), 0.0, 3600, "sensitivity"),
        (3.0, -0.5, 3600, "min_rate"),
        (3.0, 0.0, 0, "horizon_s"),
    ],
)
def test_unusable_settings_are_refused(
    sensitivity: float, min_rate: float, horizon_s: int, name: str
) -> None:
    with pytest.raises(ValueError, match=name):
        RateTracker(sensitivity=sensitivity, min_rate=min_rate, horizon_s=horizon_s)
    with pytest.raises(ValueError, match=name):
        RateBoard(sensitivity=sensitivity, min_rate=min_rate, horizon_s=horizon_s)


# Peaks


def in_window(window: str, seconds_ago: int, second_of_minute: int) -> bool:
    """Whether a rate `seconds_ago` seconds ago (1: the last second) is in a window's peak,
    read `second_of_minute` seconds into the running minute: the 1m window to the second,
    longer ones to the minute (the last 60 seconds and the last n completed minutes)."""
    span = WINDOWS[window]
    if span == 60:
        return seconds_ago <= 60
    return seconds_ago <= max(60, span + second_of_minute)


def burst_seen(seconds_ago: int, second_of_minute: int) -> RateTracker:
    """A tracker that saw one burst of 500/s among more than an hour of 10/s, `seconds_ago`
    seconds before it is read `second_of_minute` seconds into a minute."""
    run = feed()
    # A tracker's minutes start at its first rate: after n rates it is n % 60 into one.
    run([10] * (3720 + (second_of_minute - seconds_ago) % 60))
    run([500])
    run([10] * (seconds_ago - 1))
    return run.tracker


@pytest.mark.parametrize(
    ("seconds_ago", "second_of_minute", "windows_with_burst"),
    [
        (1, 0, {"1m", "5m", "15m", "1h"}),
        (60, 0, {"1m", "5m", "15m", "1h"}),
        (60, 59, {"1m", "5m", "15m", "1h"}),
        # The 1m window is exact.
        (61, 0, {"5m", "15m", "1h"}),
        (61, 59, {"5m", "15m", "1h"}),
        (120, 0, {"5m", "15m", "1h"}),
        (120, 30, {"5m", "15m", "1h"}),
        # Longer windows are resolved to the minute: at the start of a minute, exact ...
        (300, 0, {"5m", "15m", "1h"}),
        (301, 0, {"15m", "1h"}),
        # ... and later in the minute, up to 59 seconds longer than the window.
        (301, 1, {"5m", "15m", "1h"}),
        (359, 59, {"5m", "15m", "1h"}),
        (360, 59, {"15m", "1h"}),
        (900, 0, {"15m", "1h"}),
        (901, 0, {"1h"}),
        (959, 59, {"15m", "1h"}),
        (3600, 0, {"1h"}),
        (3601, 0, set()),
        (3659, 59, {"1h"}),
        (3660, 59, set()),
    ],
)
def test_a_burst_counts_for_the_windows_it_is_in(
    seconds_ago: int, second_of_minute: int, windows_with_burst: set[str]
) -> None:
    peaks = burst_seen(seconds_ago, second_of_minute).peaks()

    assert peaks == {name: 500.0 if name in windows_with_burst else 10.0 for name in WINDOWS}
    assert {name for name in WINDOWS if in_window(name, seconds_ago, second_of_minute)} == (
        windows_with_burst
    )


@pytest.mark.parametrize("burst_second", [0, 1, 30, 59])
def test_a_burst_stays_in_each_window_for_its_span_and_less_than_a_minute_more(
    burst_second: int,
) -> None:
    run = feed()
    run([10] * (3720 + burst_second))
    run([500])

    for seconds_ago in range(1, 3721):
        second_of_minute = (3720 + burst_second + seconds_ago) % 60
        expected = {
            name: 500.0 if in_window(name, seconds_ago, second_of_minute) else 10.0
            for name in WINDOWS
        }
        assert run.tracker.peaks() == expected, (seconds_ago, second_of_minute)
        run([10])


def test_peaks_count_only_what_was_recorded() -> None:
    run = feed()
    run([3, 9, 4])

    assert run.tracker.peaks() == dict.fromkeys(WINDOWS, 9.0)


def test_a_late_sample_spreads_its_rate_over_the_seconds_it_covers() -> None:
    run = feed()
    run([100] * 5)
    run([900])
    # The sampler was held up for 30 s, in which 6000 messages went by: 200/s on average.
    run.total += 6000
    run.tracker.sample(run.total, 30.0)
    assert run.tracker.rate == 200.0

    run([100] * 40)
    # The burst was 71 s ago, not 41: the late sample stood for 30 seconds, not one.
    assert run.tracker.peaks() == {"1m": 200.0, "5m": 900.0, "15m": 900.0, "1h": 900.0}
    run([100] * 19)
    assert run.tracker.peaks()["1m"] == 200.0  # the late sample's last second, 60 s ago
    run([100])
    assert run.tracker.peaks()["1m"] == 100.0


@pytest.mark.parametrize("gap_s", [2, 59, 60, 61, 150, 3599, 3660, 3661, 3720, 10_000])
@pytest.mark.parametrize("second_of_minute", [0, 45])
def test_a_late_sample_moves_the_minutes_as_one_sample_a_second_would(
    gap_s: int, second_of_minute: int
) -> None:
    rng = random.Random(gap_s)
    late, steady = feed(), feed()
    before = [rng.choice([10, 10, 10, 400]) for _ in range(3720 + second_of_minute)]
    late(before)
    steady(before)

    # The same messages over the same seconds: one late sample, or one sample a second.
    late.total += 70 * gap_s
    late.tracker.sample(late.total, float(gap_s))
    steady([70] * gap_s)

    for second in range(3720):
        assert late.tracker.peaks() == steady.tracker.peaks(), second
        rate = 900 if second % 1000 == 0 else 10  # far enough apart to leave each window
        late([rate])
        steady([rate])


def test_the_second_of_a_reset_still_passes_for_the_peaks() -> None:
    run = feed()
    run([10] * 5)
    run([500])
    run.tracker.sample(0, 1.0)
    run.total = 0

    run([10] * 58)
    assert run.tracker.peaks()["1m"] == 500.0  # 60 s ago, counting the reset's second
    run([10])

    assert run.tracker.peaks() == {"1m": 10.0, "5m": 500.0, "15m": 500.0, "1h": 500.0}


def test_windows_longer_than_the_horizon_see_the_whole_horizon() -> None:
    # Two minutes: the burst is the first second of the tracker's first minute.
    run = feed(horizon_s=120)
    run([700])
    run([10] * 100)
    assert run.tracker.peaks() == {"1m": 10.0, "5m": 700.0, "15m": 700.0, "1h": 700.0}

    # Resolved to the minute, the horizon is the running minute and two completed ones: the
    # burst's minute is dropped when the third one ends, 180 s after the burst.
    run([10] * 78)
    assert run.tracker.peaks()["1h"] == 700.0
    run([10])

    assert run.tracker.peaks() == dict.fromkeys(WINDOWS, 10.0)


def test_a_horizon_under_a_minute_is_kept_to_the_second() -> None:
    run = feed(horizon_s=30)
    run([700])
    run([10] * 29)
    assert run.tracker.peaks() == dict.fromkeys(WINDOWS, 700.0)

    run([10])

    assert run.tracker.peaks() == dict.fromkeys(WINDOWS, 10.0)


# Memory: a tracker per agent, so thousands of them


def test_a_tracker_keeps_about_two_minutes_of_doubles_whatever_it_has_seen() -> None:
    rng = random.Random(7)
    run = feed()
    run([rng.randint(0, 1000) for _ in range(4000)])
    run.total += 10**6
    run.tracker.sample(run.total, 10_000.0)
    run([10] * 100)

    held = [getattr(run.tracker, name) for name in RateTracker.__slots__]
    # 60 seconds and 60 minutes for the default hour, in place of 3600 seconds.
    assert sum(len(value) for value in held if isinstance(value, array)) <= 130
    assert sys.getsizeof(run.tracker) + sum(sys.getsizeof(value) for value in held) < 2048


# Spikes


def watch(
    run: Feed, per_second: Iterable[int], sensitivity: float
) -> list[tuple[bool, Spike | None]]:
    """Feeds the seconds: for each, whether its rate was above the threshold, and the result."""
    seconds = []
    for count in per_second:
        threshold = run.tracker.mean + sensitivity * run.tracker.stddev
        [result] = run([count])
        seconds.append((count > threshold, result))
    return seconds


def test_a_steady_load_with_noise_never_spikes() -> None:
    rng = random.Random(20240611)
    run = feed(sensitivity=3.0, min_rate=0.0)

    results = run([rng.randint(80, 120) for _ in range(3600)])

    assert spikes_of(results) == []
    assert run.tracker.spikes == 0
    assert run.tracker.mean == pytest.approx(100.0, abs=3.0)


def test_a_sudden_jump_raises_one_spike_with_the_rate_and_what_it_was_compared_with() -> None:
    run = feed(sensitivity=3.0, min_rate=0.0)
    run(alternating(90, 110, 300))
    mean, stddev = run.tracker.mean, run.tracker.stddev
    assert mean == pytest.approx(100.0, abs=1.0)
    assert stddev == pytest.approx(10.0, rel=0.05)

    results = run([500, *alternating(90, 110, 300)])

    assert spikes_of(results) == [
        (0, Spike(rate=500.0, mean=mean, stddev=stddev, threshold=mean + 3.0 * stddev))
    ]
    assert run.tracker.spikes == 1


def test_a_spike_is_compared_before_it_moves_the_mean() -> None:
    # Folded in first, a jump raises the stddev to about 0.18 of its size and the
    # threshold above the jump for any sensitivity over 5.4: it would never be seen.
    run = feed(sensitivity=6.0, min_rate=0.0)
    run([100] * 100)

    [spike] = run([400])

    assert spike is not None
    assert spike.mean == 100.0
    assert spike.stddev == 0.0


def test_a_step_to_a_sustained_new_level_is_one_spike() -> None:
    run = feed(sensitivity=3.0, min_rate=0.0)
    run(alternating(95, 105, 300))

    seconds = watch(run, [300] * 900, 3.0)

    # The new level is above the threshold from its first second for as long as it is far
    # from the recent mean and stddev (4 s with a sensitivity of 3): one burst.
    assert [second for second, (above, _) in enumerate(seconds) if above] == [0, 1, 2, 3]
    [(second, spike)] = spikes_of([result for _, result in seconds])
    assert second == 0
    assert spike.rate == 300.0
    assert spike.mean == pytest.approx(100.0, abs=1.0)
    assert run.tracker.spikes == 1
    assert run.tracker.mean == pytest.approx(300.0)


def test_a_burst_is_reported_once_with_its_first_second() -> None:
    run = feed(sensitivity=3.0, min_rate=0.0)
    run(alternating(90, 110, 300))

    results = run([400, 900, 2000, *alternating(90, 110, 60)])

    assert [(second, spike.rate) for second, spike in spikes_of(results)] == [(0, 400.0)]
    assert run.tracker.spikes == 1


def test_a_burst_after_the_rate_came_back_is_a_new_spike() -> None:
    run = feed(sensitivity=3.0, min_rate=0.0)
    run(alternating(90, 110, 300))

    results = run([500] * 3 + alternating(90, 110, 120) + [500] * 3 + alternating(90, 110, 60))

    assert [second for second, _ in spikes_of(results)] == [0, 123]
    assert run.tracker.spikes == 2


def test_falling_to_the_floor_ends_a_burst() -> None:
    quiet = feed(sensitivity=3.0, min_rate=10.0)
    quiet(alternating(1, 1, 120))

    results = quiet([11, 11, 10, 11])

    # 10 is above the statistical threshold by then, but not above the floor.
    assert [second for second, _ in spikes_of(results)] == [0, 3]
    assert quiet.tracker.spikes == 2


@pytest.mark.parametrize(("rates_before", "spikes"), [(9, 0), (10, 1)])
def test_no_spike_is_reported_until_ten_rates_were_seen(rates_before: int, spikes: int) -> None:
    run = feed(sensitivity=3.0, min_rate=0.0)

    results = run([10] * rates_before + [1000])

    assert len(spikes_of(results)) == spikes


def test_a_quiet_agent_stays_under_the_floor() -> None:
    quiet = feed(sensitivity=3.0, min_rate=10.0)
    quiet(alternating(1, 1, 120))
    assert quiet([5]) == [None]  # from 1 to 5 msg/s: far out statistically, not worth a word
    assert quiet([10]) == [None]  # the floor itself is not above the floor

    [spike] = quiet([11])

    assert spike is not None
    assert spike.rate == 11.0
    assert spike.threshold < 10.0  # the statistical threshold, which the floor overrode


def test_without_a_floor_the_same_quiet_agent_spikes() -> None:
    quiet = feed(sensitivity=3.0, min_rate=0.0)
    quiet(alternating(1, 1, 120))

    [spike] = quiet([5])

    assert spike is not None
    assert spike.rate == 5.0


@pytest.mark.parametrize(("sensitivity", "spikes"), [(2.0, 1), (3.0, 1), (5.0, 0)])
def test_the_sensitivity_decides_how_far_out_a_spike_is(sensitivity: float, spikes: int) -> None:
    run = feed(sensitivity=sensitivity, min_rate=0.0)
    run(alternating(90, 110, 300))

    results = run([145])  # about 4.5 standard deviations above the mean

    assert len(spikes_of(results)) == spikes
    assert run.tracker.spikes == spikes


# RateBoard


def test_a_board_makes_a_tracker_on_first_sight() -> None:
    board = RateBoard(sensitivity=3.0, min_rate=0.0)
    assert board.keys() == []
    assert board.tracker("ping") is None

    assert board.sample({"ping": 100, "pong": 0}, 1.0) == {}
    board.sample({"ping": 130, "pong": 5}, 1.0)

    assert board.keys() == ["ping", "pong"]
    ping, pong = board.tracker("ping"), board.tracker("pong")
    assert ping is not None
    assert pong is not None
    assert (ping.rate, pong.rate) == (30.0, 5.0)
    assert ping is not pong


def test_a_board_forgets_keys_that_are_gone() -> None:
    board = RateBoard(sensitivity=3.0, min_rate=0.0)
    board.sample({"a": 0, "b": 0, "c": 0}, 1.0)
    board.sample({"a": 10, "b": 20, "c": 30}, 1.0)

    board.sample({"a": 20, "c": 60}, 1.0)  # b was removed
    assert board.keys() == ["a", "c"]
    assert board.tracker("b") is None

    board.forget("c")
    board.forget("never-seen")
    assert board.keys() == ["a"]

    # Seen again, c starts over: its first sample is a starting point, not a rate.
    board.sample({"a": 30, "c": 5000}, 1.0)
    c = board.tracker("c")
    assert c is not None
    assert c.rate == 0.0
    board.sample({"a": 40, "c": 5004}, 1.0)
    assert c.rate == 4.0


def test_a_board_returns_the_spikes_of_the_second_by_key() -> None:
    board = RateBoard(sensitivity=3.0, min_rate=1.0)
    totals = {"calm": 0, "busy": 0}
    board.sample(totals, 1.0)
    for second in range(60):
        totals = {"calm": totals["calm"] + 5, "busy": totals["busy"] + 50 + second % 2}
        assert board.sample(totals, 1.0) == {}

    spikes = board.sample({"calm": totals["calm"] + 5, "busy": totals["busy"] + 900}, 1.0)

    assert list(spikes) == ["busy"]
    assert spikes["busy"].rate == 900.0
    # The next second is the same burst.
    assert board.sample({"calm": totals["calm"] + 10, "busy": totals["busy"] + 1800}, 1.0) == {}
    busy, calm = board.tracker("busy"), board.tracker("calm")
    assert busy is not None
    assert calm is not None
    assert (busy.spikes, calm.spikes) == (1, 0)
