"""The security audit trail: one switch, retention, and agents' limit and sandbox violations,
recorded at most once a second per agent and action, without ever holding up the dispatcher.

Real servers (`caxton.server.server.Server`, and a live one for the CLI) with real hostile
wasm agents; the rate limit second by second on a clock that moves only when told to.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import orjson
import pytest

from caxton.errors import ErrorClass, HandlerError
from caxton.runtime import Runtime
from caxton.security.trail import DROPPED, LIMIT, PRUNE, TRAP, AuditTrail, classify
from caxton.server.server import Server
from caxton.settings import AuthSettings, SecuritySettings, Settings
from caxton.store import AuditRecord, Store
from caxton.store.audit import AuditLog
from caxton.store.database import Database
from clocks import Clock
from conftest import MEMORY, RecordingHost, agent_wat, start, wat
from live import caxton, live_server

SEND: Final = '(import "caxton" "send" (func $send (param i32 i32) (result i32)))'
TOOL_CALL: Final = '(import "caxton" "tool_call" (func $tool (param i32 i32) (result i32)))'
TOOL_REQUEST: Final = '{"tool":"time/now","reply_with":"r-1"}'
# An agent that asks for a tool it has no grant for, then traps.
NOSY: Final = agent_wat(
    f"(drop (call $tool (i32.const 1024) (i32.const {len(TOOL_REQUEST)}))) unreachable",
    imports=TOOL_CALL,
    extra='(data (i32.const 1024) "{}")'.format(TOOL_REQUEST.replace('"', '\\"')),
)

# Each misbehaves on every message: (module, limits).
HOSTILE: Final[dict[str, tuple[bytes, dict[str, int]]]] = {
    "trapper": (agent_wat("unreachable"), {}),
    "prober": (agent_wat("(drop (i32.load (i32.const -4)))"), {}),
    "burner": (agent_wat("(loop $l (br $l))"), {"fuel_per_message": 100_000}),
    "sleeper": (agent_wat("(loop $l (br $l))"), {"fuel_per_message": 10**15, "deadline_ms": 50}),
    "diver": (
        agent_wat("(call $down)", extra="(func $down (call $down))"),
        {"fuel_per_message": 10**12},
    ),
    "smuggler": (
        agent_wat("(drop (call $send (i32.const -16) (i32.const 100)))", imports=SEND),
        {},
    ),
    "hoarder": (
        wat("""(module (memory (export "memory") 1)
  (func (export "caxton_alloc") (param i32) (result i32) (i32.const 0))
  (func (export "caxton_handle") (param i32 i32) (result i32) (i32.const 0)))"""),
        {},
    ),
    "quitter": (agent_wat("(return (i32.const 7))"), {}),  # an error code, not a violation
}
# What each one's error is recorded as: (action, outcome, kind), or None.
RECORDED: Final = {
    "trapper": (TRAP, "system", "trap"),
    "prober": (TRAP, "system", "trap"),
    "burner": (LIMIT, "resource", "fuel"),
    "sleeper": (LIMIT, "timeout", "deadline"),
    "diver": (LIMIT, "resource", "stack"),
    "smuggler": (TRAP, "validation", "abi"),
    "hoarder": (LIMIT, "resource", "memory"),
    "quitter": None,
}
# So that thousands of errors neither restart nor fail the agent.
TOLERANT: Final = {"max_errors": 1_000_000}
DEADLINE_S: Final = 30.0
DAY_S: Final = 86_400.0


# ---- helpers ----


@contextmanager
def running(data_dir: Path, **settings: Any) -> Iterator[Server]:
    server = Server(
        Settings(data_dir=data_dir, port=0, auth=AuthSettings(enabled=False), **settings)
    )
    try:
        server.start()
        yield server
    finally:
        server.close()


def deploy(server: Server, *names: str) -> None:
    for name in names:
        wasm, limits = HOSTILE[name]
        server.manager.deploy(name, wasm, limits=limits, failure_policy=TOLERANT)


def send(server: Server, receiver: str, count: int = 1) -> None:
    for _ in range(count):
        message = {"performative": "request", "sender": "tester", "receiver": receiver,
                   "conversation_id": "c-1", "content": 1}  # fmt: skip
        assert server.router.post(message) == 0


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.005)  # polling the condition


def errors(server: Server, agent: str) -> int:
    """Errors the router reported for `agent`: each has been through `on_error` once."""
    return sum(n for (who, _), n in server.telemetry.errors.counts().items() if who == agent)


def stored(data_dir: Path, action: str | None = None) -> list[AuditRecord]:
    """The records in `data_dir`, but those of authentication (the API layer's business)."""
    with Store.open(data_dir) as store:
        records = store.audit.recent(10_000, action=action)
    return [record for record in records if not record.action.startswith("auth.")]


def trail_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("caxton-audit-")}


def names(threads: set[threading.Thread]) -> set[str]:
    return {thread.name for thread in threads}


def violation_of(runtime: Runtime, name: str) -> tuple[ErrorClass, str]:
    """The error class and reason the real runtime gives for agent `name`'s misbehaviour."""
    wasm, limits = HOSTILE[name]
    agent = start(
        runtime, wasm, RecordingHost(), name=name,
        limits=runtime.config.default_limits.override(MEMORY, **limits),
    )  # fmt: skip
    with pytest.raises(HandlerError) as caught:
        agent.handle(b'{"performative":"inform"}')
    return caught.value.error_class, caught.value.reason


MESSAGE: Final = {"performative": "request", "sender": "tester", "conversation_id": "c-1"}


# ---- what is a violation ----


@pytest.mark.parametrize("name", list(HOSTILE))
def test_the_runtimes_reasons_are_classified(runtime: Runtime, name: str) -> None:
    """Pins the runtime's phrases that the trail reads (caxton.runtime.sandbox)."""
    error_class, reason = violation_of(runtime, name)
    expected = RECORDED[name]
    found = classify(error_class, reason)
    assert found == (None if expected is None else expected[::2]), reason
    if expected is not None:
        assert error_class.value == expected[1]


@pytest.mark.parametrize(
    ("error_class", "reason"),
    [
        (ErrorClass.VALIDATION, "receiver: missing"),
        (ErrorClass.ROUTING, "no agent named 'nobody'"),
        (ErrorClass.RESOURCE, "mailbox of 'trapper' is full"),
        (ErrorClass.TIMEOUT, "no reply by the reply_by deadline"),
        (ErrorClass.VALIDATION, "5000 bytes exceeds this agent's max_inbound_bytes (4096)"),
        (ErrorClass.SYSTEM, "host function failed: RuntimeError('x')"),
    ],
)
def test_other_errors_are_no_violations(error_class: ErrorClass, reason: str) -> None:
    assert classify(error_class, reason) is None


# ---- violations of real agents on a real server ----


def test_violations_of_real_agents_are_recorded_with_their_message(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with running(data_dir) as server:
        deploy(server, *HOSTILE)
        for name in HOSTILE:
            send(server, name)
        server.router.post({"performative": "inform", "sender": "tester", "receiver": "nobody"})
        wait_for(lambda: all(errors(server, name) == 1 for name in HOSTILE), "their errors")

    records = [r for r in stored(data_dir) if r.action.startswith("agent.")]
    found = {r.actor: (r.action, r.outcome, r.detail["kind"]) for r in records}
    assert found == {name: seen for name, seen in RECORDED.items() if seen is not None}
    for record in records:
        assert record.target == record.actor
        assert record.detail["count"] == 1
        assert (record.detail["performative"], record.detail["conversation_id"]) == (
            "request",
            "c-1",
        )
        assert record.detail["sender"] == "tester"
    by_agent = {r.actor: r.detail["reason"] for r in records}
    assert "unreachable" in by_agent["trapper"]
    assert "fuel" in by_agent["burner"]
    assert "outside linear memory" in by_agent["smuggler"]


def test_a_burst_is_at_most_one_record_a_second_with_the_count(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    burst = 300
    with running(data_dir, mailbox_capacity=10_000) as server:
        deploy(server, "trapper", "burner")
        began = time.monotonic()
        send(server, "trapper", burst)
        send(server, "burner", 20)
        wait_for(lambda: errors(server, "trapper") == burst, "the trapper's errors")
        wait_for(lambda: errors(server, "burner") == 20, "the burner's errors")
    seconds = time.monotonic() - began

    traps = stored(data_dir, TRAP)
    assert sum(r.detail["count"] for r in traps) == burst
    # One a second it was running (counting both ends), and one for what close() found left.
    assert len(traps) <= int(seconds) + 3
    limits = stored(data_dir, LIMIT)
    assert sum(r.detail["count"] for r in limits) == 20
    assert len(limits) <= int(seconds) + 3


class GatedLog(AuditLog):
    """The audit log behind a gate: `append` waits until the gate opens (SQLite at a standstill)."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.gate = threading.Event()
        self.waiting = threading.Event()

    def append(self, actor: str, action: str, target: str, outcome: str, detail: Any) -> int:
        self.waiting.set()
        self.gate.wait()
        return super().append(actor, action, target, outcome, detail)


def test_the_dispatcher_never_waits_for_the_audit_writer(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    burst = 2000
    with running(data_dir, mailbox_capacity=10_000) as server:
        gated = GatedLog(server.store.db)
        server.audit.log = gated
        try:
            deploy(server, "trapper", "prober")
            send(server, "trapper", burst)
            send(server, "prober", burst)
            # Every violation went through `on_error` while the writer sat at the gate.
            wait_for(lambda: errors(server, "trapper") == burst, "the trapper's errors")
            wait_for(lambda: errors(server, "prober") == burst, "the prober's errors")
            assert gated.waiting.is_set()
            assert server.store.audit.count(TRAP) == 0
        finally:
            gated.gate.set()
    traps = stored(data_dir, TRAP)
    assert sum(r.detail["count"] for r in traps if r.actor == "trapper") == burst
    assert sum(r.detail["count"] for r in traps if r.actor == "prober") == burst
    assert stored(data_dir, DROPPED) == []


# ---- the rate limit, second by second ----


def test_left_out_violations_are_written_in_the_next_second(
    store: Store, clock: Clock, runtime: Runtime
) -> None:
    trap = violation_of(runtime, "trapper")
    fuel = violation_of(runtime, "burner")
    trail = AuditTrail(store.audit, clock=clock)
    trail.start()
    try:
        clock.now = 1000.0
        for _ in range(3):
            trail.violation(*trap, "a", MESSAGE)
        trail.violation(*fuel, "a", MESSAGE)  # another action: a record of its own
        trail.violation(*trap, "b", None)  # another agent too
        assert trail.flush()
        assert counts(store) == [("a", TRAP, 1), ("a", LIMIT, 1), ("b", TRAP, 1)]

        clock.now = 1000.9
        trail.violation(*trap, "a", MESSAGE)
        trail.violation(*trap, "a", MESSAGE)
        assert trail.flush()
        assert len(counts(store)) == 3  # the same second: left out

        clock.now = 1001.2
        assert trail.flush()
        assert counts(store)[3:] == [("a", TRAP, 4)]  # written once the second has passed

        clock.now = 1001.5
        trail.violation(*trap, "a", MESSAGE)
        assert trail.flush()
        assert len(counts(store)) == 4  # that write was this second's for a's traps
    finally:
        trail.close()
    assert counts(store)[4:] == [("a", TRAP, 1)]  # close() writes what was left out
    assert sum(n for agent, action, n in counts(store) if (agent, action) == ("a", TRAP)) == 6


def test_what_was_left_out_rides_on_the_next_record(store: Store, clock: Clock) -> None:
    """Without a writer running (nothing due is written meanwhile): the next record carries it."""
    trail = AuditTrail(store.audit, clock=clock)
    reason = "caxton_handle trapped: wasm trap: wasm `unreachable` instruction executed"
    clock.now = 1000.0
    for _ in range(3):
        trail.violation(ErrorClass.SYSTEM, reason, "a", None)
    clock.now = 1002.0
    trail.violation(ErrorClass.SYSTEM, reason, "a", None)
    trail.close()
    assert counts(store) == [("a", TRAP, 1), ("a", TRAP, 3)]


def test_a_full_queue_never_blocks_and_the_drops_are_recorded(store: Store, clock: Clock) -> None:
    trail = AuditTrail(store.audit, clock=clock, queue_size=2)  # not started: nothing drains
    reason = "caxton_handle used its whole fuel budget (100 per message)"
    for n in range(5):
        trail.violation(ErrorClass.RESOURCE, reason, f"agent-{n}", None)
    assert trail.dropped == 3
    trail.close()
    assert sorted(counts(store)) == [
        ("agent-0", LIMIT, 1),
        ("agent-1", LIMIT, 1),
        ("caxton", DROPPED, 3),
    ]
    [dropped] = store.audit.recent(action=DROPPED)
    assert (dropped.target, dropped.outcome) == ("audit", "dropped")


def counts(store: Store) -> list[tuple[str, str, int]]:
    return [(r.actor, r.action, r.detail["count"]) for r in store.audit.recent(1000)]


# ---- the switch ----


@pytest.mark.parametrize("enabled", [True, False])
def test_security_audit_off_records_nothing(tmp_path: Path, enabled: bool) -> None:
    """Tool grants and calls, and violations: all through the one trail, all off with it."""
    data_dir = tmp_path / "data"
    settings = SecuritySettings(audit=enabled, audit_retention_days=30.0)
    before = trail_threads()
    with running(data_dir, security=settings) as server:
        started = trail_threads() - before
        assert names(started) == (
            {"caxton-audit-writer", "caxton-audit-retention"} if enabled else set()
        )
        server.tools.grant("nosy", "other/*")  # not for time/now: the call is denied
        server.manager.deploy("nosy", NOSY, failure_policy=TOLERANT)
        send(server, "nosy")
        wait_for(lambda: errors(server, "nosy") == 1, "the agent's trap")
    assert not any(thread.is_alive() for thread in started)
    actions = {r.action: r for r in stored(data_dir)}
    if not enabled:
        assert actions == {}
        return
    assert set(actions) == {"tool.grant", "tool.call", TRAP}
    assert (actions["tool.call"].actor, actions["tool.call"].outcome) == ("nosy", "denied")


# ---- retention ----


def backdated(data_dir: Path, *ages_days: float) -> None:
    """A data directory whose audit log has one record per age, oldest first."""
    now = time.time()
    clock = Clock(now)
    with Store.open(data_dir, clock=clock) as store:
        for n, age in enumerate(ages_days):
            clock.now = now - age * DAY_S
            store.audit.append("operator", "tool.grant", f"agent-{n}", "ok", {"n": n})


def test_the_server_prunes_past_the_retention_at_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    backdated(data_dir, 40, 35, 31, 5, 1)
    settings = SecuritySettings(audit_retention_days=30.0)
    with running(data_dir, security=settings) as server:
        wait_for(lambda: server.store.audit.count(PRUNE) == 1, "the prune at start")
        assert server.store.audit.verify() == []
    records = stored(data_dir)
    assert [(r.seq, r.action) for r in records] == [
        (4, "tool.grant"),
        (5, "tool.grant"),
        (7, PRUNE),
    ]
    prune = records[-1]
    assert (prune.actor, prune.action, prune.target, prune.outcome) == (
        "retention",
        PRUNE,
        "audit",
        "ok",
    )
    assert (prune.detail["through_seq"], prune.detail["count"]) == (3, 3)
    assert prune.detail["before"] == pytest.approx(time.time() - 30 * DAY_S, abs=60)


@pytest.mark.parametrize(
    "security", [SecuritySettings(), SecuritySettings(audit=False, audit_retention_days=1.0)]
)
def test_without_retention_or_with_the_trail_off_nothing_is_pruned(
    tmp_path: Path, security: SecuritySettings
) -> None:
    data_dir = tmp_path / "data"
    backdated(data_dir, 400, 40, 1)
    before = trail_threads()
    with running(data_dir, security=security):
        assert "caxton-audit-retention" not in names(trail_threads() - before)
    assert [r.seq for r in stored(data_dir)][:3] == [1, 2, 3]
    assert stored(data_dir, PRUNE) == []


def test_the_pruner_runs_again_each_period(store: Store, clock: Clock) -> None:
    clock.now = 0.0
    store.audit.append("operator", "tool.grant", "a", "ok", {})
    clock.now = 10 * DAY_S
    store.audit.append("operator", "tool.grant", "b", "ok", {})
    clock.now = 12 * DAY_S
    trail = AuditTrail(store.audit, retention_days=7.0, clock=clock, prune_every_s=0.01)
    trail.start()
    try:
        wait_for(lambda: store.audit.count(PRUNE) == 1, "the prune at start")
        assert store.audit.count() == 2  # b, and the prune's record
        clock.now = 20 * DAY_S  # b and the first prune's record are past it now
        wait_for(lambda: [r.seq for r in store.audit.recent()] == [4], "the next prune")
    finally:
        trail.close()
    [again] = store.audit.recent()
    assert (again.action, again.detail["through_seq"], again.detail["count"]) == (PRUNE, 3, 2)
    assert store.audit.verify() == []


def test_the_cli_says_where_the_chain_starts_after_a_prune(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    backdated(data_dir, 40, 35, 31, 5, 1)
    settings = SecuritySettings(audit_retention_days=30.0)
    with live_server(data_dir, auth=AuthSettings(enabled=False), security=settings) as live:
        wait_for(lambda: live.server.store.audit.count(PRUNE) == 1, "the prune at start")
        oldest = live.get("/audit", params={"after": 0, "limit": 1}).json()["items"]
        assert [entry["seq"] for entry in oldest] == [4]

        count = live.server.store.audit.count()  # with whatever else the server recorded
        verified = caxton(live, "audit", "verify")
        assert verified.exit_code == 0, verified.output
        assert verified.stdout == (
            f"audit trail intact: {count} records, from seq 4 (seq 1 to 3 pruned)\n"
        )

        exported = caxton(live, "audit", "export")
        assert exported.exit_code == 0, exported.output
        assert exported.stderr == (
            f"exported {count} audit records, from seq 4 (seq 1 to 3 pruned)\n"
        )
        first = orjson.loads(exported.stdout.splitlines()[0])
        assert first["seq"] == 4
        assert first["prev_hash"] != ""  # the hash of seq 3, which is gone
