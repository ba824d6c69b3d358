"""Message rates from counters sampled once a second: the current rate, peaks, spikes.

The router counts messages in plain integers that only grow (`caxton.router.stats`). A
sampler reads them once a second and feeds the totals here, one `RateTracker` for the
system or a `RateBoard` of trackers, one per agent. Each sample turns the counter's growth
into a rate in messages/s, and a tracker keeps two things about those rates:

- Peaks per window (`WINDOWS`: 1m, 5m, 15m, 1h). They answer "how busy did it get", which a
  current rate and an average both hide: a burst of 2000 msg/s for ten seconds is a flat
  line on a 5-minute average. A tracker keeps the last 60 rates second by second and, for
  the rest of `horizon_s`, only the highest rate of each completed minute: 120 doubles for
  an hour (about 1 KB) instead of 3600, since there is a tracker per agent. The 1m peak is
  exact. Windows longer than a minute are resolved to the minute: a window of n minutes is
  the last 60 seconds and the last n completed minutes, so it never misses a second of its
  span and a burst counts in it for up to one minute (59 s) longer than the window.
- Spikes: bursts whose rate exceeds `mean + k * stddev` of the recent rates, where the
  mean and variance are exponentially weighted over about the last 60 samples. An EWMA
  needs no history, adapts to a new normal level on its own and costs a few float
  operations a sample. The sensitivity `k` is configurable, and a floor `min_rate` keeps
  small absolute changes from counting: a quiet agent going from 1 to 5 msg/s is many
  standard deviations away from its mean, but nobody needs to hear about it. A spike is
  reported once per burst, for its first second above the threshold; the seconds after it
  are the same burst until the rate is back at or below the threshold, and the next second
  above it starts a new one. So a step to a new sustained level is one spike, not one per
  second until the mean and variance have caught up with it (4 s with k = 3).

Nothing here reads a clock: the caller passes the seconds elapsed since the last sample,
which keeps the module deterministic and its tests free of sleeping.

Rejected: peaks from a max-heap or a monotonic deque per window. They make a peak O(1)
but cost allocations on every sample for every agent, and peaks are read far less often
(on a scrape or a page view) than samples are taken; a max over 60 doubles is done in C.
Rejected too: exact peaks for every window from 3600 doubles an hour per tracker, 29 KB
each or 300 MB for 10 000 agents, to place a burst to the second in a 15-minute window.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

# The windows that peaks are reported for, in seconds, shortest first.
WINDOWS: Final = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600}

# Rates are kept second by second for this long, and as one maximum a minute beyond it.
_MINUTE: Final = 60

# The EWMA's span: the weight 2 / (span + 1) is the usual choice that makes an EWMA
# comparable to a simple mean of the last `span` samples.
_SPAN: Final = 60
_ALPHA: Final = 2.0 / (_SPAN + 1)

# Rates seen before a spike may be reported: the first seconds of an agent's life have
# no baseline to compare with, and going from idle to working is not a spike.
_WARMUP: Final = 10


def _check_settings(sensitivity: float, min_rate: float, horizon_s: int) -> None:
    if not (math.isfinite(sensitivity) and sensitivity >= 0):
        raise ValueError(f"sensitivity must be finite and >= 0, not {sensitivity!r}")
    if not (math.isfinite(min_rate) and min_rate >= 0):
        raise ValueError(f"min_rate must be finite and >= 0, not {min_rate!r}")
    if horizon_s < 1:
        raise ValueError(f"horizon_s must be >= 1, not {horizon_s!r}")


@dataclass(frozen=True, slots=True)
class Spike:
    """A burst of rates standing out from the recent ones, as of its first second."""

    rate: float  # messages/s in the burst's first second
    mean: float  # the recent mean it is compared with
    stddev: float
    threshold: float  # mean + sensitivity * stddev


class RateTracker:
    """Per-second rates of one counter: the current rate, peaks over 1m/5m/15m/1h, spikes.

    `spikes` counts the bursts reported, not the seconds they lasted. Peaks of windows
    longer than a minute are resolved to the minute (see the module's docstring), and so
    is a `horizon_s` over a minute, rounded up.
    """

    __slots__ = (
        "_count",
        "_in_burst",
        "_mean",
        "_min_rate",
        "_minute_pos",
        "_minutes",
        "_pos",
        "_previous",
        "_rate",
        "_seconds",
        "_sensitivity",
        "_var",
        "spikes",
    )

    def __init__(self, *, sensitivity: float, min_rate: float, horizon_s: int = 3600) -> None:
        _check_settings(sensitivity, min_rate, horizon_s)
        self._sensitivity = float(sensitivity)
        self._min_rate = float(min_rate)
        # Slot i is second i of the running minute, so that when `_pos` wraps the array
        # holds exactly the minute that just ended. Slots not yet written hold 0.0, which
        # never raises a peak since rates are never negative. A horizon under a minute
        # keeps only its own seconds, and no minutes.
        self._seconds = array("d", bytes(8 * min(horizon_s, _MINUTE)))
        self._pos = 0
        # The highest rate of each completed minute, as many as cover the horizon: slot
        # `_minute_pos - 1` is the minute that ended last.
        minutes = -(-horizon_s // _MINUTE) if horizon_s > _MINUTE else 0
        self._minutes = array("d", bytes(8 * minutes))
        self._minute_pos = 0
        self._previous: int | None = None
        self._rate = 0.0
        self._count = 0  # rates folded into the mean and variance
        self._mean = 0.0
        self._var = 0.0
        self._in_burst = False  # a spike was reported and the rate has stayed above since
        self.spikes = 0

    def sample(self, total: int, elapsed_s: float) -> Spike | None:
        """`total` is the counter's value now, `elapsed_s` the seconds since the last sample.

        Normally `elapsed_s` is about 1.0; the first sample only sets the starting point and
        returns None. Records rate = (total - previous) / elapsed_s. A counter that went
        backwards (reset) restarts from the new value without recording a negative rate.
        The rate is above the threshold when it exceeds max(min_rate, mean + sensitivity *
        stddev) of the recent rates, which are updated after the comparison so that a spike
        does not hide itself. Returns a Spike for the first second above the threshold of
        a burst, and None for the seconds after it until the rate has been back at or below
        the threshold; no spike is reported until at least 10 rates have been seen.
        """
        previous = self._previous
        if previous is None:
            self._previous = total
            return None
        if not (math.isfinite(elapsed_s) and elapsed_s > 0):
            # Before moving the starting point, so that a caller's slip loses no messages.
            raise ValueError(f"elapsed_s must be finite and > 0, not {elapsed_s!r}")
        self._previous = total
        # A late sample covers several seconds: its average rate fills all of them, so that
        # the seconds and minutes stay a time axis and 60 slots still mean 60 seconds.
        seconds = max(1, round(elapsed_s))
        if total < previous:
            # The rate across a reset is unknown. The seconds still pass, as zeros, which
            # never raise a peak since rates are never negative. A burst in progress is
            # left as it is: a reset says nothing about whether it ended.
            self._advance(0.0, seconds)
            return None
        rate = (total - previous) / elapsed_s
        self._rate = rate
        self._advance(rate, seconds)

        mean = self._mean
        spike = None
        if self._count >= _WARMUP:
            stddev = math.sqrt(self._var)
            threshold = mean + self._sensitivity * stddev
            if rate > threshold and rate > self._min_rate:
                if not self._in_burst:
                    spike = Spike(rate=rate, mean=mean, stddev=stddev, threshold=threshold)
                    self.spikes += 1
                    self._in_burst = True
            else:
                self._in_burst = False

        # While fewer than 1/alpha rates are known, weight 1/n makes these the plain mean and
        # (population) variance of all of them, instead of staying biased towards the first.
        self._count += 1
        alpha = max(_ALPHA, 1.0 / self._count)
        diff = rate - mean
        step = alpha * diff
        self._mean = mean + step
        self._var = (1.0 - alpha) * (self._var + diff * step)
        return spike

    @property
    def rate(self) -> float:
        """The last recorded rate in messages/s, 0.0 before any."""
        return self._rate

    @property
    def mean(self) -> float:
        """The exponentially weighted mean of the recent rates, 0.0 before any."""
        return self._mean

    @property
    def stddev(self) -> float:
        """The exponentially weighted standard deviation of the recent rates."""
        return math.sqrt(self._var)

    def peaks(self) -> dict[str, float]:
        """The highest per-second rate within each window of WINDOWS, 0.0 where none.

        The 1m window is the last 60 seconds. A window of n minutes is resolved to the
        minute: the last 60 seconds and the last n completed minutes, which reach back 0 to
        59 seconds further than the window. A window longer than the horizon sees the
        whole horizon.
        """
        # The seconds kept (the last 60, or the whole horizon if shorter) are in every
        # window, and are all of the 1m window.
        peak = max(self._seconds)
        kept = len(self._minutes)
        result: dict[str, float] = {}
        done = 0  # the most recently completed `done` minutes are in `peak` already
        # Windows are nested, so each one only scans the minutes the shorter one did not.
        for name, span in WINDOWS.items():
            upto = min(-(-span // _MINUTE) if span > _MINUTE else 0, kept)
            if upto > done:
                peak = max(peak, self._max_minutes(done, upto))
                done = upto
            result[name] = peak
        return result

    def _max_minutes(self, newer: int, older: int) -> float:
        """The max of the completed minutes from `newer` (exclusive) to `older` (inclusive) ago."""
        minutes = self._minutes
        kept = len(minutes)
        start = (self._minute_pos - older) % kept
        stop = (self._minute_pos - newer) % kept or kept
        if start < stop:
            return max(minutes[start:stop])
        return max(minutes[start:] + minutes[:stop])

    def _advance(self, rate: float, seconds: int) -> None:
        """Records `rate` for the next `seconds` seconds, closing the minutes they end."""
        ring = self._seconds
        size = len(ring)
        pos = self._pos
        if seconds == 1:
            # The usual sample, kept to a store and an increment.
            ring[pos] = rate
            pos += 1
            if pos == size:
                pos = 0
                self._close_minute()
            self._pos = pos
            return
        # After a gap longer than all that is kept, every slot ends up holding this rate
        # whatever the gap's length: drop whole minutes from it, which bounds the work and
        # keeps the minute boundaries where they were.
        limit = size * (len(self._minutes) + 1)
        if seconds > limit:
            seconds -= (seconds - limit) // size * size
        while seconds:
            run = min(seconds, size - pos)
            ring[pos : pos + run] = array("d", [rate]) * run
            pos += run
            seconds -= run
            if pos == size:
                pos = 0
                self._close_minute()
        self._pos = pos

    def _close_minute(self) -> None:
        """Keeps the maximum of the minute that just ended, all of which is in `_seconds`."""
        minutes = self._minutes
        if minutes:
            pos = self._minute_pos
            minutes[pos] = max(self._seconds)
            self._minute_pos = (pos + 1) % len(minutes)


class RateBoard:
    """A RateTracker per key (agent name), made on first sight, forgotten with `forget`."""

    __slots__ = ("_horizon_s", "_min_rate", "_sensitivity", "_trackers")

    def __init__(self, *, sensitivity: float, min_rate: float, horizon_s: int = 3600) -> None:
        # Fail here rather than at the first agent's first sample.
        _check_settings(sensitivity, min_rate, horizon_s)
        self._sensitivity = sensitivity
        self._min_rate = min_rate
        self._horizon_s = horizon_s
        self._trackers: dict[str, RateTracker] = {}

    def sample(self, totals: Mapping[str, int], elapsed_s: float) -> dict[str, Spike]:
        """Samples every key in totals; keys not in totals are forgotten (an agent removed).

        Returns the spikes of this second by key: the bursts that started in it.
        """
        trackers = self._trackers
        spikes: dict[str, Spike] = {}
        for key, total in totals.items():
            tracker = trackers.get(key)
            if tracker is None:
                tracker = trackers[key] = RateTracker(
                    sensitivity=self._sensitivity,
                    min_rate=self._min_rate,
                    horizon_s=self._horizon_s,
                )
            spike = tracker.sample(total, elapsed_s)
            if spike is not None:
                spikes[key] = spike
        # Every key of totals has a tracker now, so equal sizes mean nothing is stale and
        # the usual second skips the set difference.
        if len(trackers) != len(totals):
            for key in trackers.keys() - totals.keys():
                del trackers[key]
        return spikes

    def tracker(self, key: str) -> RateTracker | None:
        return self._trackers.get(key)

    def forget(self, key: str) -> None:
        """Drops the key's tracker, if any: its history goes with it."""
        self._trackers.pop(key, None)

    def keys(self) -> list[str]:
        """The tracked keys, sorted."""
        return sorted(self._trackers)
