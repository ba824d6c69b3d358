"""What the router counts as it works, kept cheap enough for the hot path.

Plain integers and lists, updated by the thread that does the work: a
dispatcher thread owns its agent's turn, so an agent's `AgentStats` has one
writer at a time. Readers (the metrics collector) read without locks: a
scrape may see a count one message behind, never a torn value, since each
update is one bytecode-level store under the GIL.

Rejected: OpenTelemetry instruments on the hot path. `Counter.add` and
`Histogram.record` with attributes cost microseconds each, as much as
routing the message; here a message costs two list increments, one dict
increment and a `bisect`. `caxton.telemetry` turns these into Prometheus and
OTLP metrics when they are collected.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from typing import Final

from caxton.errors import ErrorClass

# Upper bounds (seconds) of the latency histogram's buckets; one more bucket holds the rest.
# From 50 µs (a message handled as soon as it is routed) to 10 s (an agent far behind).
LATENCY_BOUNDS: Final = (
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip


class AgentStats:
    """One agent's deliveries: by performative, latency from routing to handler done, time."""

    __slots__ = ("buckets", "delivered", "failed", "handler_seconds", "latency_sum")

    def __init__(self) -> None:
        self.delivered: defaultdict[str, int] = defaultdict(int)
        self.failed: defaultdict[tuple[str, ErrorClass], int] = defaultdict(int)
        self.buckets = [0] * (len(LATENCY_BOUNDS) + 1)
        self.latency_sum = 0.0
        self.handler_seconds = 0.0

    def handled(self, performative: str, latency: float) -> None:
        """One message handled `latency` seconds after it was routed."""
        self.delivered[performative] += 1
        self.buckets[bisect_left(LATENCY_BOUNDS, latency)] += 1
        self.latency_sum += latency

    def failure(self, performative: str, error_class: ErrorClass) -> None:
        self.failed[performative, error_class] += 1

    def merge(self, other: AgentStats) -> None:
        """Add `other`'s counts to these (an agent leaving hands its history on)."""
        for performative, count in list(other.delivered.items()):
            self.delivered[performative] += count
        for key, count in list(other.failed.items()):
            self.failed[key] += count
        for i, count in enumerate(list(other.buckets)):
            self.buckets[i] += count
        self.latency_sum += other.latency_sum
        self.handler_seconds += other.handler_seconds


class RouterStats:
    """System-wide counts the router keeps: messages routed by performative, errors by class,
    and the deliveries of agents no longer registered (`retired`), so that totals summed
    over agents never go back when one stops."""

    __slots__ = ("errors", "retired", "routed")

    def __init__(self) -> None:
        self.routed: defaultdict[str, int] = defaultdict(int)
        self.errors: defaultdict[ErrorClass, int] = defaultdict(int)
        self.retired = AgentStats()
