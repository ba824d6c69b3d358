"""Retention of the audit log: `prune` removes an old prefix and leaves a mark, `verify` picks
the chain up at the mark, and nothing but a prune may delete a record.

Tampering goes around the store as in test_store_audit.py: a connection of its own, with
the triggers dropped.
"""

from __future__ import annotations

import io
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import orjson
import pytest

from caxton.store import AuditRecord, Store
from caxton.store.audit import PruneMark, chain_hash
from clocks import Clock

CHANGED = "hash does not match its content: changed"
UNLINKED = "a record before it was removed or changed, or this one inserted out of order"


def _fill(store: Store, clock: Clock, ats: list[float] | None = None) -> None:
    """Records seq 1, 2, 3... written at `ats` (default 1001..1006)."""
    for n, at in enumerate(ats or [1001.0 + i for i in range(6)], 1):
        clock.now = at
        store.audit.append("echo", "tool.call", "files/read", "ok", {"n": n})


def _attack(store: Store, *statements: str, parameters: tuple[object, ...] = ()) -> None:
    with closing(sqlite3.connect(store.db.path, isolation_level=None)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
        conn.execute("DROP TRIGGER IF EXISTS audit_no_delete")
        conn.execute("DROP TRIGGER IF EXISTS audit_pruned_no_update")
        conn.execute("DROP TRIGGER IF EXISTS audit_pruned_no_delete")
        for statement in statements:
            conn.execute(statement, parameters if "?" in statement else ())
        conn.execute("COMMIT")


def _hashes(store: Store) -> dict[int, str | None]:
    return {record.seq: record.hash for record in store.audit.recent(1000)}


def _chain_problems(lines: list[dict[str, Any]]) -> list[int]:
    """The seqs of exported lines that do not hash right or do not follow the line before."""
    bad = []
    for before, line in zip([None, *lines], lines, strict=False):
        fields = {key: line[key] for key in ("seq", "at", "actor", "action", "target", "outcome")}
        expected = chain_hash(line["prev_hash"], detail=line["detail"], **fields)
        follows = before is None or (
            line["seq"] == before["seq"] + 1 and line["prev_hash"] == before["hash"]
        )
        if line["hash"] != expected or not follows:
            bad.append(line["seq"])
    return bad


# ---- prune ----


def test_prune_removes_the_old_prefix_and_marks_where_it_stopped(
    store: Store, clock: Clock
) -> None:
    _fill(store, clock)
    hashes = _hashes(store)
    clock.now = 2000.0
    assert store.audit.prune(before=1003.5) == 3
    assert [r.seq for r in store.audit.recent()] == [4, 5, 6]
    assert store.audit.pruned() == PruneMark(3, hashes[3], 2000.0)
    assert store.audit.count() == 3


def test_prune_stops_at_the_first_record_that_is_not_old_enough(store: Store, clock: Clock) -> None:
    """A clock set back leaves an old record after a newer one: it waits, so no hole opens."""
    _fill(store, clock, [1001.0, 1002.0, 1500.0, 1003.0, 1004.0])
    assert store.audit.prune(before=1100.0) == 2
    assert [(r.seq, r.at) for r in store.audit.recent()] == [
        (3, 1500.0),
        (4, 1003.0),
        (5, 1004.0),
    ]
    assert store.audit.verify() == []


def test_a_prune_of_nothing_does_nothing(store: Store, clock: Clock) -> None:
    assert store.audit.prune(before=5000.0) == 0  # an empty log
    _fill(store, clock)
    before = store.audit.recent()
    assert store.audit.prune(before=1001.0) == 0  # `at` is not before 1001.0
    assert store.audit.recent() == before
    assert store.audit.pruned() is None
    with closing(sqlite3.connect(store.db.path)) as conn:
        assert conn.execute("SELECT COUNT(*) FROM audit_pruned").fetchone() == (0,)
    assert store.audit.verify() == []


def test_prune_of_everything_leaves_a_mark_that_the_next_record_chains_to(
    tmp_path: Path, clock: Clock
) -> None:
    with Store.open(tmp_path, clock=clock) as store:
        _fill(store, clock)
        last = _hashes(store)[6]
        assert store.audit.prune(before=9999.0) == 6
        assert store.audit.recent() == []
        assert store.audit.verify() == []
    with Store.open(tmp_path, clock=clock) as again:
        assert again.audit.append("retention", "audit.prune", "audit", "ok", {}) == 7
        [record] = again.audit.recent()
        assert record.prev_hash == last
        assert again.audit.verify() == []


def test_prunes_follow_each_other_and_verify_starts_at_the_newest(
    store: Store, clock: Clock
) -> None:
    _fill(store, clock)
    assert store.audit.prune(before=1002.5) == 2
    assert store.audit.prune(before=1004.5) == 2
    mark = store.audit.pruned()
    assert mark is not None
    assert mark.through_seq == 4
    assert [r.seq for r in store.audit.recent()] == [5, 6]
    assert store.audit.verify() == []


# ---- the triggers ----


def test_prune_marks_cannot_be_changed_or_removed(store: Store, clock: Clock) -> None:
    _fill(store, clock)
    store.audit.prune(before=1002.5)
    with closing(sqlite3.connect(store.db.path, isolation_level=None)) as conn:
        for statement in ("UPDATE audit_pruned SET hash = 'x'", "DELETE FROM audit_pruned"):
            with pytest.raises(sqlite3.IntegrityError, match="prune marks are append-only"):
                conn.execute(statement)


def test_a_plain_delete_of_a_record_not_pruned_is_refused(store: Store, clock: Clock) -> None:
    _fill(store, clock)
    for statement in ("DELETE FROM audit WHERE seq = 5", "DELETE FROM audit"):
        with (
            pytest.raises(sqlite3.IntegrityError, match="only retention prunes it"),
            store.db.write() as conn,
        ):
            conn.execute(statement)
    assert store.audit.prune(before=1002.5) == 2
    # A mark does not open the rest: above it, deletes are still refused.
    with (
        pytest.raises(sqlite3.IntegrityError, match="only retention prunes it"),
        store.db.write() as conn,
    ):
        conn.execute("DELETE FROM audit WHERE seq = 3")
    assert [r.seq for r in store.audit.recent()] == [3, 4, 5, 6]


# ---- verify after a prune ----


def test_verify_is_clean_after_a_prune_and_appends(store: Store, clock: Clock) -> None:
    _fill(store, clock)
    store.audit.prune(before=1003.5)
    assert store.audit.verify() == []
    store.audit.append("operator", "tool.grant", "echo", "ok", {"pattern": "files/*"})
    assert store.audit.verify() == []
    assert store.audit.after(0, 1)[0].seq == 4


def test_a_record_changed_after_a_prune_is_found(store: Store, clock: Clock) -> None:
    _fill(store, clock)
    store.audit.prune(before=1003.5)
    _attack(store, """UPDATE audit SET detail = '{"n": 0}' WHERE seq = 5""")
    assert store.audit.verify() == [f"seq 5: {CHANGED}"]


def test_the_first_record_left_deleted_after_a_prune_is_found(store: Store, clock: Clock) -> None:
    _fill(store, clock)
    store.audit.prune(before=1003.5)
    _attack(store, "DELETE FROM audit WHERE seq = 4")
    assert store.audit.verify() == [
        "seq 4 missing before seq 5: removed",
        f"seq 5: prev_hash does not match the hash of seq 3 (the last pruned): {UNLINKED}",
    ]


def test_the_first_record_left_changed_and_rehashed_breaks_the_next_link(
    store: Store, clock: Clock
) -> None:
    _fill(store, clock)
    store.audit.prune(before=1003.5)
    [first] = store.audit.after(0, 1)
    rehashed = chain_hash(
        first.prev_hash or "", 4, first.at, "echo", "tool.call", "files/read", "denied", {}
    )
    _attack(
        store,
        "UPDATE audit SET outcome = 'denied', detail = '{}', hash = ? WHERE seq = 4",
        parameters=(rehashed,),
    )
    assert store.audit.verify() == [
        f"seq 5: prev_hash does not match the hash of seq 4: {UNLINKED}"
    ]


def test_a_mark_whose_hash_was_changed_is_found(store: Store, clock: Clock) -> None:
    _fill(store, clock)
    store.audit.prune(before=1003.5)
    _attack(store, f"UPDATE audit_pruned SET hash = '{'f' * 64}'")
    assert store.audit.verify() == [
        f"seq 4: prev_hash does not match the hash of seq 3 (the last pruned): {UNLINKED}"
    ]


def test_more_deleted_than_the_mark_says_is_found(store: Store, clock: Clock) -> None:
    _fill(store, clock)
    store.audit.prune(before=1002.5)
    _attack(store, "DELETE FROM audit WHERE seq <= 4")
    assert store.audit.verify() == [
        "seq 3 to 4 missing before seq 5: removed",
        f"seq 5: prev_hash does not match the hash of seq 2 (the last pruned): {UNLINKED}",
    ]


def test_records_left_below_a_mark_written_by_hand_are_found(store: Store, clock: Clock) -> None:
    """A mark without its prune would let the records below it be deleted quietly later."""
    _fill(store, clock)
    hashes = _hashes(store)
    with store.db.write() as conn:
        conn.execute(
            "INSERT INTO audit_pruned (through_seq, hash, at) VALUES (2, ?, 0)", (hashes[2],)
        )
    assert store.audit.verify() == [
        "seq 1 to 2 still there although pruned through seq 2: "
        "audit_pruned was written without pruning"
    ]


def test_records_from_before_the_chain_can_be_pruned(store: Store, clock: Clock) -> None:
    """As in a database migrated from version 4: the mark of a record without a hash."""
    with store.db.write() as conn:
        conn.executemany(
            "INSERT INTO audit (at, actor, action, target, outcome, detail)"
            " VALUES (?, 'echo', 'tool.call', 'files/read', 'ok', '{}')",
            [(1.0,), (2.0,), (3.0,)],
        )
    _fill(store, clock)
    assert store.audit.prune(before=2.5) == 2
    mark = store.audit.pruned()
    assert mark is not None
    assert (mark.through_seq, mark.hash) == (2, None)
    assert store.audit.verify() == []
    assert store.audit.prune(before=1001.5) == 2  # through the chain's first record
    assert store.audit.verify() == []


# ---- reading forward, and export after a prune ----


def test_after_reads_forward_from_a_seq(store: Store, clock: Clock) -> None:
    _fill(store, clock)
    store.audit.append("operator", "tool.grant", "echo", "ok", {})
    assert [r.seq for r in store.audit.after(0, 2)] == [1, 2]
    assert [r.seq for r in store.audit.after(4)] == [5, 6, 7]
    assert [r.seq for r in store.audit.after(2, 10, actor="operator")] == [7]
    assert [r.seq for r in store.audit.after(0, 2, action="tool.call")] == [1, 2]
    assert store.audit.after(7) == []
    with pytest.raises(ValueError, match="limit must be 0 or more"):
        store.audit.after(0, -1)


def test_exports_before_and_after_a_prune_join_into_one_chain(store: Store, clock: Clock) -> None:
    """No marker line: the first line's seq and prev_hash say where the chain starts."""
    _fill(store, clock)
    earlier = io.BytesIO()
    assert store.audit.export(earlier) == 6
    store.audit.prune(before=1003.5)
    store.audit.append("retention", "audit.prune", "audit", "ok", {"through_seq": 3})
    later = io.BytesIO()
    assert store.audit.export(later) == 4

    lines = [orjson.loads(line) for line in later.getvalue().splitlines()]
    assert [line["seq"] for line in lines] == [4, 5, 6, 7]
    assert [AuditRecord(**line) for line in lines] == store.audit.recent()
    assert lines[0]["prev_hash"] == _hashes_of(earlier)[3]
    assert _chain_problems(lines) == []
    kept = [orjson.loads(line) for line in earlier.getvalue().splitlines()]
    assert _chain_problems(kept[:3] + lines) == []
    assert _chain_problems(kept[:2] + lines) == [4]  # a piece missing in between shows


def _hashes_of(export: io.BytesIO) -> dict[int, str]:
    return {line["seq"]: line["hash"] for line in map(orjson.loads, export.getvalue().splitlines())}
