"""The audit log: appended in order, read back filtered, never rewritten, kept across restarts.

And chained by hash: `verify` finds records changed, removed or forged behind the triggers,
`export` writes them all out.
"""

from __future__ import annotations

import hashlib
import io
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

import orjson
import pytest

from caxton.store import AuditRecord, Store
from caxton.store.audit import chain_hash
from clocks import Clock


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
    first = chain_hash("", 1, 1000.0, "echo", "tool.call", "files/read", "ok", detail)
    second = chain_hash(first, 2, 1000.0, "echo", "tool.call", "files/read", "failed", {})
    assert store.audit.recent() == [
        AuditRecord(1, 1000.0, "echo", "tool.call", "files/read", "ok", detail, "", first),
        AuditRecord(2, 1000.0, "echo", "tool.call", "files/read", "failed", {}, first, second),
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


# ---- the hash chain ----


def _attack(store: Store, *statements: str, parameters: tuple[object, ...] = ()) -> None:
    """Someone with the file: drop the triggers, run `statements` on a connection of their own."""
    with closing(sqlite3.connect(store.db.path, isolation_level=None)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
        conn.execute("DROP TRIGGER IF EXISTS audit_no_delete")
        for statement in statements:
            conn.execute(statement, parameters if "?" in statement else ())
        conn.execute("COMMIT")


def _hash_of(store: Store, seq: int) -> str:
    [record] = [r for r in store.audit.recent(1000) if r.seq == seq]
    assert record.hash is not None
    return record.hash


FORGED = "f" * 64
CHANGED = "hash does not match its content: changed"
UNLINKED = "a record before it was removed or changed, or this one inserted out of order"


def test_each_record_chains_to_the_one_before(store: Store, clock: Clock) -> None:
    _fill(store, clock)
    records = store.audit.recent()
    assert records[0].prev_hash == ""
    for before, record in zip([None, *records], records, strict=False):
        assert record.prev_hash == (before.hash if before else "")
        assert record.hash == chain_hash(
            record.prev_hash or "",
            record.seq,
            record.at,
            record.actor,
            record.action,
            record.target,
            record.outcome,
            record.detail,
        )
        assert record.hash is not None
        assert len(record.hash) == 64
    assert len({r.hash for r in records}) == len(records)


def test_the_hash_is_sha256_of_prev_hash_and_sorted_json() -> None:
    fields = b'{"action":"a","actor":"b","at":1.5,"detail":{"x":1,"y":[2]},'
    fields += b'"outcome":"ok","seq":3,"target":"t"}'
    expected = hashlib.sha256(b"prev" + fields).hexdigest()
    assert chain_hash("prev", 3, 1.5, "b", "a", "t", "ok", {"y": [2], "x": 1}) == expected


def test_a_detail_is_hashed_as_it_reads_back(store: Store) -> None:
    store.audit.append("echo", "tool.call", "files/read", "ok", {"args": ("a", 1), "z": 1, "a": 2})
    [record] = store.audit.recent()
    assert record.detail == {"args": ["a", 1], "z": 1, "a": 2}
    assert store.audit.verify() == []


def test_verify_is_clean_on_an_untouched_log(tmp_path: Path, clock: Clock) -> None:
    with Store.open(tmp_path, clock=clock) as store:
        assert store.audit.verify() == []
        _fill(store, clock)
        assert store.audit.verify() == []
    with Store.open(tmp_path, clock=clock) as again:
        again.audit.append("operator", "tool.server.remove", "files", "ok", {})
        assert again.audit.verify() == []
        assert again.audit.recent()[-1].prev_hash == _hash_of(again, 6)


def test_a_changed_detail_is_found(store: Store, clock: Clock) -> None:
    _fill(store, clock)
    _attack(store, """UPDATE audit SET detail = '{"ms": 3000}' WHERE seq = 3""")
    assert store.audit.recent()[2].detail == {"ms": 3000}
    assert store.audit.verify() == [f"seq 3: {CHANGED}"]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("at", "999.0"),
        ("actor", "'operator'"),
        ("target", "'files/write'"),
        ("action", "'tool.grant'"),
        ("outcome", "'ok'"),
    ],
)
def test_any_changed_field_is_found(store: Store, clock: Clock, column: str, value: str) -> None:
    _fill(store, clock)
    _attack(store, f"UPDATE audit SET {column} = {value} WHERE seq = 4")
    assert store.audit.verify() == [f"seq 4: {CHANGED}"]


def test_a_changed_and_rehashed_record_breaks_the_next_link(store: Store, clock: Clock) -> None:
    _fill(store, clock)
    record = store.audit.recent()[2]
    rehashed = chain_hash(
        record.prev_hash or "", 3, record.at, "echo", "tool.call", "files/read", "failed", {}
    )
    _attack(
        store,
        "UPDATE audit SET outcome = 'failed', detail = '{}', hash = ? WHERE seq = 3",
        parameters=(rehashed,),
    )
    assert store.audit.verify() == [
        f"seq 4: prev_hash does not match the hash of seq 3: {UNLINKED}"
    ]


def test_a_deleted_middle_record_is_found(store: Store, clock: Clock) -> None:
    _fill(store, clock)
    _attack(store, "DELETE FROM audit WHERE seq = 3")
    assert store.audit.verify() == [
        "seq 3 missing before seq 4: removed",
        f"seq 4: prev_hash does not match the hash of seq 2: {UNLINKED}",
    ]


def test_a_deleted_first_record_is_found(store: Store, clock: Clock) -> None:
    _fill(store, clock)
    _attack(store, "DELETE FROM audit WHERE seq = 1")
    assert store.audit.verify() == [
        "seq 1 missing before seq 2: removed",
        f"seq 2: prev_hash does not match the hash of the start of the log: {UNLINKED}",
    ]


def test_a_deleted_last_record_shows_only_once_another_follows(store: Store, clock: Clock) -> None:
    """The limit `verify` documents: nothing points at the last record."""
    _fill(store, clock)
    _attack(store, "DELETE FROM audit WHERE seq = 6")
    assert store.audit.verify() == []
    assert store.audit.append("operator", "tool.grant", "echo", "ok", {}) == 7
    assert store.audit.recent()[-1].prev_hash == _hash_of(store, 5)
    assert store.audit.verify() == ["seq 6 missing before seq 7: removed"]


def test_a_forged_record_in_place_of_a_deleted_one_is_found(store: Store, clock: Clock) -> None:
    _fill(store, clock)
    _attack(
        store,
        "DELETE FROM audit WHERE seq = 3",
        "INSERT INTO audit (seq, at, actor, action, target, outcome, detail, prev_hash, hash)"
        f" VALUES (3, 1003.0, 'echo', 'tool.call', 'files/read', 'denied', '{{}}', ?, '{FORGED}')",
        parameters=(_hash_of(store, 2),),
    )
    assert store.audit.recent()[2].outcome == "denied"
    assert store.audit.verify() == [
        f"seq 3: {CHANGED}",
        f"seq 4: prev_hash does not match the hash of seq 3: {UNLINKED}",
    ]


def test_a_forged_record_out_of_order_is_found(store: Store, clock: Clock) -> None:
    _fill(store, clock)
    _attack(
        store,
        "INSERT INTO audit (seq, at, actor, action, target, outcome, detail, prev_hash, hash)"
        f" VALUES (10, 900.0, 'operator', 'tool.grant', 'ping', 'ok', '{{}}', ?, '{FORGED}')",
        parameters=(_hash_of(store, 6),),
    )
    problems = ["seq 7 to 9 missing before seq 10: removed", f"seq 10: {CHANGED}"]
    assert store.audit.verify() == problems
    # Appends go on after it, and the problems stay found.
    assert store.audit.append("operator", "tool.revoke", "ping", "ok", {}) == 11
    assert store.audit.verify() == problems


def test_a_forged_record_without_a_hash_is_found(store: Store, clock: Clock) -> None:
    _fill(store, clock)
    _attack(
        store,
        "INSERT INTO audit (at, actor, action, target, outcome, detail)"
        " VALUES (1007.0, 'operator', 'tool.grant', 'ping', 'ok', '{}')",
    )
    assert store.audit.verify() == ["seq 7 has no hash after the chain began: inserted or changed"]


def test_swapped_records_are_found(store: Store, clock: Clock) -> None:
    _fill(store, clock)
    fields = "at, actor, action, target, outcome, detail"
    _attack(
        store,
        f"CREATE TEMP TABLE saved AS SELECT seq, {fields} FROM audit WHERE seq IN (2, 4)",
        *(
            f"UPDATE audit SET ({fields}) = (SELECT {fields} FROM saved WHERE seq = {other})"
            f" WHERE seq = {seq}"
            for seq, other in ((2, 4), (4, 2))
        ),
    )
    records = store.audit.recent()
    assert (records[1].actor, records[3].actor) == ("ping", "operator")
    assert store.audit.verify() == [f"seq 2: {CHANGED}", f"seq 4: {CHANGED}"]


def test_records_before_the_chain_have_no_hash_and_the_chain_starts_after(
    store: Store, clock: Clock
) -> None:
    """As in a database migrated from version 4: its records keep NULL hashes."""
    with store.db.write() as conn:
        conn.executemany(
            "INSERT INTO audit (at, actor, action, target, outcome, detail)"
            " VALUES (?, 'echo', 'tool.call', 'files/read', 'ok', '{}')",
            [(1.0,), (2.0,)],
        )
    _fill(store, clock)
    records = store.audit.recent()
    assert [(r.prev_hash, r.hash) for r in records[:2]] == [(None, None), (None, None)]
    assert records[2].prev_hash == ""
    assert store.audit.verify() == []
    _attack(store, "DELETE FROM audit WHERE seq = 1")
    assert store.audit.verify() == ["seq 1 missing before seq 2: removed"]


# ---- export ----


def test_export_writes_every_record_as_one_json_object_a_line(
    store: Store, clock: Clock, tmp_path: Path
) -> None:
    assert store.audit.export(tmp_path / "empty.jsonl") == 0
    assert (tmp_path / "empty.jsonl").read_bytes() == b""
    _fill(store, clock)
    path = tmp_path / "audit.jsonl"
    assert store.audit.export(path) == 6
    lines = path.read_bytes().splitlines()
    assert len(lines) == 6
    assert path.read_bytes().endswith(b"\n")
    exported = [orjson.loads(line) for line in lines]
    assert all(isinstance(entry, dict) for entry in exported)
    assert [AuditRecord(**entry) for entry in exported] == store.audit.recent()
    assert set(exported[0]) == {
        "seq",
        "at",
        "actor",
        "action",
        "target",
        "outcome",
        "detail",
        "prev_hash",
        "hash",
    }
    assert exported[3]["detail"] == {}
    assert exported[4]["detail"] == {"after_s": 30.0}
    # A path as a string, and an open binary file, work too; an export replaces the file.
    assert store.audit.export(str(path)) == 6
    assert path.read_bytes().splitlines() == lines
    buffer = io.BytesIO()
    assert store.audit.export(buffer) == 6
    assert buffer.getvalue().splitlines() == lines
