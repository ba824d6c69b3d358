"""The Watcher on a real router and a real SQLite store, ticked by hand at chosen times."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest

from caxton.router import Dispatcher, Router
from caxton.settings import TelemetrySettings
from caxton.store import Store
from caxton.store.database import Database
from caxton.telemetry import Event, Watcher
from routing import inbox

CAPACITY: Final = 20  # warning at 15 (0.75), critical at 19 (0.95), clear below 12 (0.8 x 15)
STEADY: Final = 50  # messages a second before the jump
JUMP: Final = 500
DEADLINE_S: Final = 10.0


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    store = Store.open(tmp_path / "data")
    try:
        yield store.db
    finally:
        store.close()


@pytest.fixture
def router() -> Router:
    return Router(seed=3)


def watcher(
    router: Router, database: Database, settings: TelemetrySettings | None = None
) -> Watcher:
    chosen = settings or TelemetrySettings()
    return Watcher(router, database, chosen, clock=lambda: 1_000.0)


def post(router: Router, receiver: str, count: int) -> None:
    for n in range(count):
        message = {"performative": "inform", "sender": "outside", "receiver": receiver}
        assert router.post({**message, "content": n}) == 0


def depth(router: Router, name: str) -> int:
    endpoint = router.get(name)
    assert endpoint is not None
    return len(endpoint.mailbox)


def extras(record: logging.LogRecord, *keys: str) -> tuple[Any, ...]:
    """What a log line carries besides its message (the `extra` it was logged with)."""
    return tuple(vars(record)[key] for key in keys)


def kinds(events: list[Event]) -> list[tuple[str, str | None]]:
    return [(event.kind, event.agent) for event in events]


# Mailbox thresholds


def test_mailbox_thresholds_raise_one_event_per_crossing(
    router: Router, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    slow = inbox(router, "slow", CAPACITY)
    inbox(router, "idle", CAPACITY)
    watch = watcher(router, database)
    dispatcher = Dispatcher(router, workers=0, max_batch=1)
    router.pause("slow")
    clock = iter(range(100))

    def tick() -> list[tuple[str, str | None]]:
        return kinds(watch.tick(float(next(clock))))

    caplog.set_level(logging.INFO, logger="caxton.telemetry")
    post(router, "slow", 14)
    assert tick() == []
    dispatcher.run_until_idle()  # paused: the turn takes nothing
    assert (depth(router, "slow"), slow.messages) == (14, [])
    post(router, "slow", 1)  # 15 of 20: the warning level
    assert tick() == [("mailbox-warning", "slow")]
    assert tick() == []
    post(router, "slow", 3)  # 18: above warning, below critical
    assert tick() == []
    post(router, "slow", 1)  # 19: critical
    assert tick() == [("mailbox-critical", "slow")]
    post(router, "slow", 1)  # 20: full, still critical
    assert tick() == []

    router.resume("slow")
    dispatcher.run_until_idle(max_turns=5)  # one message a turn: 15, below critical
    assert depth(router, "slow") == 15
    assert tick() == []  # back at warning from critical: nothing new
    dispatcher.run_until_idle(max_turns=3)  # 12: below warning, not yet below 0.8 of it
    assert tick() == []
    dispatcher.run_until_idle(max_turns=1)  # 11
    assert tick() == [("mailbox-recovered", "slow")]
    assert tick() == []
    assert len(slow.messages) == 9

    assert watch.threshold_events() == {("slow", "warning"): 1, ("slow", "critical"): 1}
    logged = [r for r in caplog.records if r.name == "caxton.telemetry"]
    assert [(r.levelname, *extras(r, "event", "agent")) for r in logged] == [
        ("WARNING", "mailbox-warning", "slow"),
        ("WARNING", "mailbox-critical", "slow"),
        ("INFO", "mailbox-recovered", "slow"),
    ]
    assert extras(logged[1], "depth", "capacity") == (19, CAPACITY)
    assert [(e.kind, e.detail) for e in watch.recent] == [
        ("mailbox-warning", {"depth": 15, "capacity": CAPACITY}),
        ("mailbox-critical", {"depth": 19, "capacity": CAPACITY}),
        ("mailbox-recovered", {"depth": 11, "capacity": CAPACITY}),
    ]
    assert {e.at for e in watch.recent} == {1_000.0}


def test_a_mailbox_crossing_again_counts_again(router: Router, database: Database) -> None:
    inbox(router, "slow", CAPACITY)
    watch = watcher(router, database)
    dispatcher = Dispatcher(router, workers=0, max_batch=CAPACITY)
    for second in range(3):
        post(router, "slow", 15)
        assert kinds(watch.tick(2.0 * second)) == [("mailbox-warning", "slow")]
        dispatcher.run_until_idle()
        assert kinds(watch.tick(2.0 * second + 1)) == [("mailbox-recovered", "slow")]
    assert watch.threshold_events() == {("slow", "warning"): 3}


def test_the_levels_follow_the_settings(router: Router, database: Database) -> None:
    inbox(router, "slow", 10)
    watch = watcher(router, database, TelemetrySettings(mailbox_warning=0.5, mailbox_critical=0.5))
    post(router, "slow", 4)
    assert watch.tick(0.0) == []
    post(router, "slow", 1)  # 5 of 10 is both levels at once: critical wins
    assert kinds(watch.tick(1.0)) == [("mailbox-critical", "slow")]
    assert watch.threshold_events() == {("slow", "critical"): 1}


# Rate spikes


def test_a_jump_in_the_rate_is_a_spike_for_the_system_and_the_agent(
    router: Router, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    busy = inbox(router, "busy")
    inbox(router, "quiet")
    watch = watcher(router, database)
    dispatcher = Dispatcher(router, workers=0)
    caplog.set_level(logging.INFO, logger="caxton.telemetry")
    assert watch.tick(100.0) == []  # the starting point
    for second in range(1, 21):
        post(router, "busy", STEADY)
        dispatcher.run_until_idle()
        assert watch.tick(100.0 + second) == [], f"second {second}"
    assert watch.system_rates.rate == STEADY
    assert watch.system_rates.spikes == 0

    post(router, "busy", JUMP)
    dispatcher.run_until_idle()
    raised = watch.tick(121.0)
    assert kinds(raised) == [("rate-spike", None), ("rate-spike", "busy")]
    for event in raised:
        assert event.detail["rate"] == JUMP
        assert event.detail["mean"] == STEADY
        assert event.detail["threshold"] == STEADY  # a steady rate has no deviation
    assert len(busy.messages) == 20 * STEADY + JUMP

    assert watch.system_rates.peaks()["1m"] == JUMP
    assert watch.system_rates.spikes == 1
    tracker = watch.agent_rates.tracker("busy")
    assert tracker is not None
    assert (tracker.peaks()["1m"], tracker.spikes) == (JUMP, 1)
    quiet = watch.agent_rates.tracker("quiet")
    assert quiet is not None
    assert (quiet.peaks()["1m"], quiet.spikes) == (0.0, 0)
    logged = [r for r in caplog.records if r.name == "caxton.telemetry"]
    assert [extras(r, "event", "agent") for r in logged] == [
        ("rate-spike", None),
        ("rate-spike", "busy"),
    ]

    # The burst goes on: the same spike, not a new one each second.
    post(router, "busy", JUMP)
    dispatcher.run_until_idle()
    assert watch.tick(122.0) == []
    assert watch.system_rates.spikes == 1


def test_a_late_tick_spreads_its_messages_over_the_seconds_it_covers(
    router: Router, database: Database
) -> None:
    inbox(router, "busy")
    watch = watcher(router, database)
    dispatcher = Dispatcher(router, workers=0)
    watch.tick(0.0)
    post(router, "busy", 300)
    dispatcher.run_until_idle()
    watch.tick(3.0)  # three seconds since the last tick: 100 a second, not 300
    assert watch.system_rates.peaks()["1m"] == 100
    tracker = watch.agent_rates.tracker("busy")
    assert tracker is not None
    assert tracker.peaks()["1m"] == 100


# The SQLite probe


def test_each_tick_probes_sqlite_with_a_read(router: Router, database: Database) -> None:
    watch = watcher(router, database)
    assert watch.tick(0.0) == []  # nobody to tell: no probe, no failure
    recorded: list[tuple[str, float]] = []
    watch.observe_query = lambda kind, seconds: recorded.append((kind, seconds))
    for second in range(1, 4):
        watch.tick(float(second))
    assert [kind for kind, _ in recorded] == ["read", "read", "read"]
    assert all(0 < seconds < DEADLINE_S for _, seconds in recorded), recorded


# The thread


def watch_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "caxton-watch"]


def test_start_runs_the_ticks_on_a_thread_and_stop_ends_it(
    router: Router, database: Database
) -> None:
    watch = watcher(router, database)
    probed = threading.Event()
    watch.observe_query = lambda kind, seconds: probed.set()
    assert watch_threads() == []
    watch.start()
    try:
        [thread] = watch_threads()
        assert thread.daemon
        assert probed.wait(DEADLINE_S), "the watcher never ticked"
    finally:
        watch.stop()
    assert not thread.is_alive()
    assert watch_threads() == []
    # Stopping twice, or a watcher never started, is harmless.
    watch.stop()
    watcher(router, database).stop()
