"""Once a second: message rates and their spikes, mailbox thresholds, a SQLite read probe.

`Watcher.tick` does the work and can be called directly (tests pass the
time); `start` runs it on a daemon thread until `stop`. What it finds worth
an operator's attention is an event: a log line (`event` names it) and a
count in the metrics, and it is kept among the `recent` events.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from caxton.telemetry.rates import RateBoard, RateTracker, Spike

if TYPE_CHECKING:
    from caxton.router import Router
    from caxton.settings import TelemetrySettings
    from caxton.store.database import Database

TICK_S: Final = 1.0
_RECENT: Final = 1_000
# Thresholds clear only once the depth falls below this share of the warning
# level, so that a mailbox hovering at the line does not raise an event a second.
_HYSTERESIS: Final = 0.8
_PROBE: Final = "SELECT count(*) FROM agents"

log = logging.getLogger("caxton.telemetry")


@dataclass(frozen=True, slots=True)
class Event:
    at: float  # unix seconds
    kind: str  # mailbox-warning, mailbox-critical, mailbox-recovered, rate-spike
    agent: str | None  # None for the whole system
    detail: dict[str, Any] = field(default_factory=dict)


class Watcher:
    def __init__(
        self,
        router: Router,
        database: Database,
        settings: TelemetrySettings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._router = router
        self._database = database
        self._settings = settings
        # Told how long the read probe took ("read", seconds), when metrics are on.
        self.observe_query: Callable[[str, float], None] | None = None
        self._clock = clock
        self.system_rates = RateTracker(
            sensitivity=settings.spike_sensitivity, min_rate=settings.spike_min_rate
        )
        self.agent_rates = RateBoard(
            sensitivity=settings.spike_sensitivity, min_rate=settings.spike_min_rate
        )
        self.recent: deque[Event] = deque(maxlen=_RECENT)
        self._levels: dict[str, str] = {}  # agents above a threshold: the level they are at
        self._events: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._lock = threading.Lock()
        self._last: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # Running.

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="caxton-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(TICK_S):
            try:
                self.tick(time.monotonic())
            except Exception:  # the watcher must outlive any one bad tick
                log.exception("telemetry tick failed")

    # One tick.

    def tick(self, now: float) -> list[Event]:
        """Sample everything at monotonic time `now`; the events this tick raised."""
        elapsed = TICK_S if self._last is None else max(now - self._last, 1e-6)
        self._last = now
        raised: list[Event] = []
        endpoints = {n: e for n in self._router.names() if (e := self._router.get(n)) is not None}
        routed = sum(dict(self._router.stats.routed).values())
        spike = self.system_rates.sample(routed, elapsed)
        if spike is not None:
            raised.append(self._event("rate-spike", None, **_spike(spike)))
        totals = {name: endpoint.mailbox.received for name, endpoint in endpoints.items()}
        for name, agent_spike in self.agent_rates.sample(totals, elapsed).items():
            raised.append(self._event("rate-spike", name, **_spike(agent_spike)))
        for name, endpoint in endpoints.items():
            event = self._threshold(name, len(endpoint.mailbox), endpoint.mailbox.capacity)
            if event is not None:
                raised.append(event)
        for gone in set(self._levels) - set(endpoints):
            del self._levels[gone]
        self._probe()
        return raised

    def _threshold(self, agent: str, depth: int, capacity: int) -> Event | None:
        settings = self._settings
        level = None
        if depth >= settings.mailbox_critical * capacity:
            level = "critical"
        elif depth >= settings.mailbox_warning * capacity:
            level = "warning"
        before = self._levels.get(agent)
        if level is None:
            if before is not None and depth < settings.mailbox_warning * capacity * _HYSTERESIS:
                del self._levels[agent]
                return self._event("mailbox-recovered", agent, depth=depth, capacity=capacity)
            return None
        if before == level or (before == "critical" and level == "warning"):
            return None
        self._levels[agent] = level
        with self._lock:
            self._events[agent, level] += 1
        return self._event(f"mailbox-{level}", agent, depth=depth, capacity=capacity)

    def _probe(self) -> None:
        observe = self.observe_query
        if observe is None:
            return
        started = time.perf_counter()
        self._database.read().execute(_PROBE).fetchone()
        observe("read", time.perf_counter() - started)

    def _event(self, kind: str, agent: str | None, **detail: Any) -> Event:
        event = Event(self._clock(), kind, agent, detail)
        self.recent.append(event)
        level = logging.INFO if kind == "mailbox-recovered" else logging.WARNING
        where = "the system" if agent is None else f"agent {agent}"
        details = ", ".join(f"{key}={value}" for key, value in detail.items())
        log.log(level, "%s on %s: %s", kind, where, details,
                extra={"event": kind, "agent": agent, **detail})  # fmt: skip
        return event

    # What the metrics read.

    def threshold_events(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._events)


def _spike(spike: Spike) -> dict[str, float]:
    return {
        "rate": round(spike.rate, 1),
        "mean": round(spike.mean, 1),
        "threshold": round(spike.threshold, 1),
    }
