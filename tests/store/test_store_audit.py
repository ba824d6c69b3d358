"""The audit log: appended in order, read back filtered, never rewritten, kept across restarts."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from caxton.store import AuditRecord, Store


class Clock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[Store]:
    with Store.open(tmp_path, clock=clock) as opened:
        yield opened


def _fill(store: Store, clock: Clock) -> None:
    """Six records: seq 1..6 at 1001..1006."""
    events: list[tuple[str, str, str, str, dict[str, Any]]] = [
        ("operator", "tool.server.add", "files", "ok", {"transport": "stdio"}),
        ("operator", "tool.grant", "echo", "ok", {"pattern": "files/*"}),
        ("echo", "tool.call", "files/read", "ok", {"ms": 3}),
        ("ping", "tool.call", "files/read", "denied", {}),
        ("echo", "tool.call", "files/write", "timeout", {"after_s": 30.0}),
        ("operator", "tool.revoke", "echo", "ok", {"pattern": "files/*"}),
    ]
    for event in events:
        clock.now += 1
        store.audit.append(*event)


def test_append_returns_the_seq_and_reads_back_whole(store: Store) -> None:
    detail = {"args": {"path": "/srv/a.txt"}, "ms": 3.5, "bytes": 120, "error": None}
    seq = store.audit.append("echo", "tool.call", "files/read", "ok", detail)
    assert seq == 1
    assert store.audit.append("echo", "tool.call", "files/read", "failed", {}) == 2
    assert store.audit.recent() == [
        AuditRecord(1, 1000.0, "echo", "tool.call", "files/read", "ok", detail),
        AuditRecord(2, 1000.0, "echo", "tool.call", "files/read", "failed", {}),
    ]


def test_recent_is_the_newest_records_newest_last(store: Store, clock: Clock) -> None:
    _fill(store, clock)
    assert [r.seq for r in store.audit.recent()] == [1, 2, 3, 4, 5, 6]
    assert [r.seq for r in store.audit.recent(2)] == [5, 6]
    assert [r.at for r in store.audit.recent(2)] == [1005.0, 1006.0]
    assert store.audit.recent(0) == []
    with pytest.raises(ValueError, match="limit must be 0 or more"):
        store.audit.recent(-1)


def test_recent_filters_by_action_and_actor(store: Store, clock: Clock) -> None:
    _fill(store, clock)
    calls = store.audit.recent(action="tool.call")
    assert [(r.seq, r.actor, r.outcome) for r in calls] == [
        (3, "echo", "ok"),
        (4, "ping", "denied"),
        (5, "echo", "timeout"),
    ]
    assert [r.seq for r in store.audit.recent(1, action="tool.call")] == [5]
    assert [r.seq for r in store.audit.recent(actor="operator")] == [1, 2, 6]
    assert [r.seq for r in store.audit.recent(action="tool.call", actor="echo")] == [3, 5]
    assert store.audit.recent(action="tool.call", actor="operator") == []
    assert store.audit.recent(action="nothing") == []


def test_count_counts_all_or_one_action(store: Store, clock: Clock) -> None:
    assert store.audit.count() == 0
    _fill(store, clock)
    assert store.audit.count() == 6
    assert store.audit.count("tool.call") == 3
    assert store.audit.count("tool.grant") == 1
    assert store.audit.count("nothing") == 0


def test_a_detail_that_is_not_json_is_refused(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"), store.db.write() as conn:
        conn.execute(
            "INSERT INTO audit (at, actor, action, target, outcome, detail)"
            " VALUES (1.0, 'echo', 'tool.call', 'files/read', 'ok', 'not json')"
        )
    assert store.audit.count() == 0


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit SET outcome = 'ok' WHERE seq = 4", "DELETE FROM audit WHERE seq = 4"],
)
def test_records_cannot_be_changed_or_deleted(store: Store, clock: Clock, statement: str) -> None:
    _fill(store, clock)
    before = store.audit.recent()
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), store.db.write() as conn:
        conn.execute(statement)
    assert store.audit.recent() == before


def test_append_inside_a_callers_write_joins_it_so_it_must_not(store: Store) -> None:
    """Why `append`'s docstring says to call it outside `db.write()`: it would share its fate."""

    def change_that_fails() -> None:
        with store.db.write():
            store.audit.append("echo", "tool.call", "files/read", "denied", {})
            raise RuntimeError("caller fails")

    with pytest.raises(RuntimeError, match="caller fails"):
        change_that_fails()
    assert store.audit.count() == 0
    store.audit.append("echo", "tool.call", "files/read", "denied", {})
    assert store.audit.count() == 1


def test_appends_from_many_threads_each_get_their_own_seq(store: Store) -> None:
    seqs: list[int] = []
    lock = threading.Lock()

    def append_some(actor: str) -> None:
        for i in range(50):
            seq = store.audit.append(actor, "tool.call", "files/read", "ok", {"i": i})
            with lock:
                seqs.append(seq)

    threads = [threading.Thread(target=append_some, args=(f"agent-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seqs) == list(range(1, 201))
    records = store.audit.recent(1000)
    assert [r.seq for r in records] == sorted(seqs)
    for n in range(4):
        mine = store.audit.recent(1000, actor=f"agent-{n}")
        assert [r.detail["i"] for r in mine] == list(range(50))


def test_the_log_survives_reopening_and_seq_goes_on(tmp_path: Path, clock: Clock) -> None:
    with Store.open(tmp_path, clock=clock) as store:
        _fill(store, clock)
        before = store.audit.recent()
    with Store.open(tmp_path, clock=clock) as again:
        assert again.audit.recent() == before
        assert again.audit.count("tool.call") == 3
        assert again.audit.append("operator", "tool.server.remove", "files", "ok", {}) == 7
