"""One server's metrics, as Prometheus exposition (`/metrics`) and for OTLP export.

Each server has its own `prometheus_client` registry (no global one: tests
build many servers). It holds the histograms observed where the work is
(HTTP requests, SQLite writes), the standard process collector (CPU, RSS,
open files) and `_Collector`, which reads the router's, the agents' and the
watcher's counts when a scrape asks, so that nothing on the message path
calls into prometheus_client. With TLS on, `watch_certificate` adds the
serving certificate's days to expiry, read the same way.

Agent labels are bounded: the `agent_series` busiest agents (by messages
received) get series of their own, the rest are summed under `_other`, so
that ten thousand agents do not make ten thousand series of each metric.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from prometheus_client import CollectorRegistry, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from caxton.agents.lifecycle import StateName
from caxton.errors import ErrorClass
from caxton.router.stats import LATENCY_BOUNDS, AgentStats

if TYPE_CHECKING:
    from caxton.agents import AgentManager
    from caxton.router import Endpoint, Router
    from caxton.store.database import Database
    from caxton.telemetry.errors import ErrorLog
    from caxton.telemetry.watch import Watcher

OTHER: Final = "_other"
CONTENT_TYPE: Final = CONTENT_TYPE_PLAIN_0_0_4  # what generate_latest writes
_STATES: Final = tuple(str(state) for state in StateName if state is not StateName.REMOVED)
_HTTP_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                        5, 10, 30)  # fmt: skip
_SQLITE_BUCKETS: Final = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                          0.05, 0.1, 0.25, 1)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Sources:
    """What the collector reads at each scrape."""

    version: str
    router: Router
    manager: AgentManager
    database: Database
    errors: ErrorLog
    watcher: Watcher
    agent_series: int


class Metrics:
    def __init__(self, sources: Sources) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.http = Histogram(
            "caxton_http_request_duration_seconds",
            "API requests by method, route (the path template) and status",
            ["method", "route", "status"],
            buckets=_HTTP_BUCKETS,
            registry=self.registry,
        )
        self.sqlite = Histogram(
            "caxton_sqlite_query_seconds",
            "SQLite statements and transactions: writes as they happen, reads as probed",
            ["kind"],
            buckets=_SQLITE_BUCKETS,
            registry=self.registry,
        )
        self.tool_calls = Histogram(
            "caxton_tool_call_seconds",
            "MCP tool calls by tool and outcome (ok, denied, rate-limited, invalid, timeout...)",
            ["tool", "outcome"],
            buckets=_HTTP_BUCKETS,
            registry=self.registry,
        )
        ProcessCollector(registry=self.registry)
        self.registry.register(_Collector(sources))

    def watch_certificate(self, expiry_days: Callable[[], float]) -> None:
        """Expose the days left on the TLS certificate the API serves, asked at each scrape."""
        self.registry.register(_Certificate(expiry_days))

    def observe_tool_call(self, tool: str, outcome: str, seconds: float) -> None:
        self.tool_calls.labels(tool, outcome).observe(seconds)

    def observe_query(self, kind: str, seconds: float) -> None:
        self.sqlite.labels(kind).observe(seconds)

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format (version 0.0.4)."""
        return generate_latest(_WithoutCreated(self.registry))


class _Collector(Collector):
    def __init__(self, sources: Sources) -> None:
        self._s = sources

    def collect(self) -> Iterable[Metric]:
        s = self._s
        info = GaugeMetricFamily("caxton_build_info", "Caxton's version", labels=["version"])
        info.add_metric([s.version], 1)
        yield info
        yield from self._agents_by_state()
        endpoints = {name: e for name in s.router.names() if (e := s.router.get(name)) is not None}
        shown = _busiest(endpoints, s.agent_series)
        yield from self._messages(endpoints)
        yield from self._latency(endpoints, shown)
        yield from self._mailboxes(endpoints, shown)
        yield from self._rates(shown)
        yield from self._errors(shown)
        yield from self._agents(endpoints, shown)
        size = GaugeMetricFamily(
            "caxton_sqlite_size_bytes", "The SQLite database on disk, with its write-ahead log"
        )
        size.add_metric([], s.database.size_bytes())
        yield size

    def _agents_by_state(self) -> Iterator[Metric]:
        counts = dict.fromkeys(_STATES, 0)
        for state in self._s.manager.states().values():
            if state in counts:
                counts[state] += 1
        family = GaugeMetricFamily("caxton_agents", "Agents by lifecycle state", labels=["state"])
        for state, count in counts.items():
            family.add_metric([state], count)
        yield family

    def _messages(self, endpoints: dict[str, Endpoint]) -> Iterator[Metric]:
        router = self._s.router
        routed = CounterMetricFamily(
            "caxton_messages_routed",
            "Messages the router accepted for delivery, by performative",
            labels=["performative"],
        )
        for performative, count in sorted(dict(router.stats.routed).items()):
            routed.add_metric([performative], count)
        yield routed
        delivered: defaultdict[str, int] = defaultdict(int)
        failed: defaultdict[tuple[str, ErrorClass], int] = defaultdict(int)
        for stats in (router.stats.retired, *(e.stats for e in endpoints.values())):
            for performative, count in dict(stats.delivered).items():
                delivered[performative] += count
            for key, count in dict(stats.failed).items():
                failed[key] += count
        family = CounterMetricFamily(
            "caxton_messages_delivered",
            "Messages a handler took without failing, by performative (one per receiver)",
            labels=["performative"],
        )
        for performative, count in sorted(delivered.items()):
            family.add_metric([performative], count)
        yield family
        family = CounterMetricFamily(
            "caxton_messages_failed",
            "Messages whose handler failed, by performative and error class",
            labels=["performative", "class"],
        )
        for (performative, error_class), count in sorted(failed.items()):
            family.add_metric([performative, error_class.value], count)
        yield family
        dead = CounterMetricFamily("caxton_dead_letters", "Messages kept as dead letters")
        dead.add_metric([], router.dead_letters.total)
        yield dead

    def _latency(self, endpoints: dict[str, Endpoint], shown: set[str]) -> Iterator[Metric]:
        help_text = "Seconds from router entry to handler done"
        total = HistogramMetricFamily("caxton_message_latency_seconds", help_text)
        per_agent = HistogramMetricFamily(
            "caxton_agent_message_latency_seconds", help_text + ", per agent", labels=["agent"]
        )
        everything = _Histogram()
        by_label: dict[str, _Histogram] = defaultdict(_Histogram)
        for name, endpoint in endpoints.items():
            everything.add(endpoint.stats)
            by_label[name if name in shown else OTHER].add(endpoint.stats)
        retired = self._s.router.stats.retired
        if retired.latency_sum:  # agents gone: their history stays in the totals, as _other
            everything.add(retired)
            by_label[OTHER].add(retired)
        total.add_metric([], everything.buckets(), everything.total)
        for label, histogram in sorted(by_label.items()):
            per_agent.add_metric([label], histogram.buckets(), histogram.total)
        yield total
        yield per_agent

    def _mailboxes(self, endpoints: dict[str, Endpoint], shown: set[str]) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "caxton_mailbox_depth", "Messages waiting in the mailbox", labels=["agent"]
        )
        peak = GaugeMetricFamily(
            "caxton_mailbox_peak_depth", "Deepest the mailbox has been", labels=["agent"]
        )
        capacity = GaugeMetricFamily(
            "caxton_mailbox_capacity", "Messages the mailbox holds", labels=["agent"]
        )
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for name, endpoint in endpoints.items():
            mailbox = endpoint.mailbox
            row = sums[name if name in shown else OTHER]
            row[0] += len(mailbox)
            row[1] = max(row[1], mailbox.peak)  # the deepest of the others, not a sum
            row[2] += mailbox.capacity
        for label, (now, deepest, room) in sorted(sums.items()):
            depth.add_metric([label], now)
            peak.add_metric([label], deepest)
            capacity.add_metric([label], room)
        yield depth
        yield peak
        yield capacity
        events = CounterMetricFamily(
            "caxton_mailbox_threshold_events",
            "Times a mailbox rose past its warning or critical depth",
            labels=["agent", "level"],
        )
        for (agent, level), count in sorted(_bounded(self._s.watcher.threshold_events(), shown)):
            events.add_metric([agent, level], count)
        yield events

    def _rates(self, shown: set[str]) -> Iterator[Metric]:
        watcher = self._s.watcher
        system = watcher.system_rates
        rate = GaugeMetricFamily("caxton_message_rate", "Messages routed a second, last second")
        rate.add_metric([], system.rate)
        yield rate
        peak = GaugeMetricFamily(
            "caxton_message_rate_peak",
            "Highest messages routed in one second within the window",
            labels=["window"],
        )
        for window, value in system.peaks().items():
            peak.add_metric([window], value)
        yield peak
        spikes = CounterMetricFamily(
            "caxton_message_rate_spikes", "Bursts of the message rate above its spike threshold"
        )
        spikes.add_metric([], system.spikes)
        yield spikes
        agent_peak = GaugeMetricFamily(
            "caxton_agent_message_rate_peak",
            "Highest messages received in one second within the window, per agent",
            labels=["agent", "window"],
        )
        agent_spikes = CounterMetricFamily(
            "caxton_agent_message_rate_spikes",
            "Bursts of an agent's received-message rate above its spike threshold",
            labels=["agent"],
        )
        board = watcher.agent_rates
        for name in sorted(shown):
            tracker = board.tracker(name)
            if tracker is None:
                continue
            for window, value in tracker.peaks().items():
                agent_peak.add_metric([name, window], value)
            agent_spikes.add_metric([name], tracker.spikes)
        yield agent_peak
        yield agent_spikes

    def _errors(self, shown: set[str]) -> Iterator[Metric]:
        total = CounterMetricFamily(
            "caxton_errors", "Errors by class, wherever they happened", labels=["class"]
        )
        counts = dict(self._s.router.stats.errors)
        for error_class in ErrorClass:
            total.add_metric([error_class.value], counts.get(error_class, 0))
        yield total
        per_agent = CounterMetricFamily(
            "caxton_agent_errors", "Errors by class, per agent", labels=["agent", "class"]
        )
        keyed = {(agent, c.value): n for (agent, c), n in self._s.errors.counts().items()}
        for (agent, class_name), count in sorted(_bounded(keyed, shown)):
            per_agent.add_metric([agent, class_name], count)
        yield per_agent

    def _agents(self, endpoints: dict[str, Endpoint], shown: set[str]) -> Iterator[Metric]:
        manager = self._s.manager
        families: dict[str, CounterMetricFamily | GaugeMetricFamily] = {
            "handled": CounterMetricFamily(
                "caxton_agent_messages_handled", "Messages handled", labels=["agent"]
            ),
            "sent": CounterMetricFamily(
                "caxton_agent_messages_sent", "Messages sent and accepted", labels=["agent"]
            ),
            "fuel": CounterMetricFamily(
                "caxton_agent_fuel_consumed", "Wasm fuel burnt by handlers", labels=["agent"]
            ),
            "memory": GaugeMetricFamily(
                "caxton_agent_memory_bytes", "Linear memory of the instance", labels=["agent"]
            ),
            "seconds": CounterMetricFamily(
                "caxton_agent_handler_seconds", "Time spent in handlers", labels=["agent"]
            ),
        }
        sums: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(families, 0.0))
        for name, endpoint in endpoints.items():
            row = sums[name if name in shown else OTHER]
            row["sent"] += endpoint.sent
            row["seconds"] += endpoint.stats.handler_seconds
            sandbox = manager.sandbox(name)
            if sandbox is not None and not sandbox.closed:
                row["handled"] += sandbox.messages_handled
                row["fuel"] += sandbox.fuel_consumed
                row["memory"] += sandbox.memory_bytes
        for label, row in sorted(sums.items()):
            for key, family in families.items():
                family.add_metric([label], row[key])
        yield from families.values()


class _Certificate(Collector):
    def __init__(self, expiry_days: Callable[[], float]) -> None:
        self._expiry_days = expiry_days

    def collect(self) -> Iterable[Metric]:
        days = GaugeMetricFamily(
            "caxton_tls_certificate_expiry_days",
            "Days until the TLS certificate the API serves expires; negative once it has",
        )
        days.add_metric([], self._expiry_days())
        yield days


class _WithoutCreated:
    """A registry's families without prometheus_client's `_created` samples.

    They state when each labelled series was first seen: nothing an operator
    asks, and a second series per histogram. Filtered here, since the
    library's switch is process-wide.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        for family in self._registry.collect():
            family.samples = [s for s in family.samples if not s.name.endswith("_created")]
            yield family


class _Histogram:
    """Agents' latency buckets summed, as Prometheus wants them: cumulative, `le` labelled."""

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BOUNDS) + 1)
        self.total = 0.0

    def add(self, stats: AgentStats) -> None:
        for i, count in enumerate(list(stats.buckets)):
            self.counts[i] += count
        self.total += stats.latency_sum

    def buckets(self) -> list[tuple[str, float]]:
        running = 0
        cumulative: list[tuple[str, float]] = []
        for bound, count in zip((*LATENCY_BOUNDS, float("inf")), self.counts, strict=True):
            running += count
            cumulative.append(("+Inf" if bound == float("inf") else repr(bound), running))
        return cumulative


def _busiest(endpoints: dict[str, Endpoint], most: int) -> set[str]:
    """The `most` agents that received the most messages: those get series of their own."""
    if len(endpoints) <= most:
        return set(endpoints)
    ranked = sorted(endpoints, key=lambda name: endpoints[name].mailbox.received, reverse=True)
    return set(ranked[:most])


def _bounded(
    counts: dict[tuple[str, str], int], shown: set[str]
) -> Iterable[tuple[tuple[str, str], int]]:
    """Counts keyed by (agent, label), with the agents not shown summed under `_other`."""
    summed: defaultdict[tuple[str, str], int] = defaultdict(int)
    for (agent, label), count in counts.items():
        summed[agent if agent in shown else OTHER, label] += count
    return summed.items()
