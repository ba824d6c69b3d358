"""The audit log: who did what to which target, and how it ended, in order.

The security audit trail (`caxton.security.trail`) writes it: tool calls and
changes to who may call what (`tool.*`), agents' limit and sandbox violations
(`agent.limit`, `agent.trap`), retention's prunes (`audit.prune`), and what
the API layer records of management and authentication. A record names its
`actor` (an agent's name, `operator`, an authenticated identity, `retention`),
the `action`, its `target` (such as `server/tool` or an agent's name), the
`outcome` (`ok`, `denied`, `failed`, `timeout`, `resource`...) and a JSON
`detail`. The store does not restrict these vocabularies: the layers that
write them do.

The log is append-only: this module changes no record, and the table's
triggers refuse UPDATE, and DELETE of anything but a pruned prefix. `seq`
(AUTOINCREMENT, never reused) orders the records.

It is also tamper-evident against someone who gets past the triggers (with
the file in hand, say): since schema version 5 each record carries
`prev_hash`, the `hash` of the record before it ('' for the first), and its
own `hash` = sha256(prev_hash + canonical JSON of seq, at, actor, action,
target, outcome and detail), the JSON being orjson's with sorted keys (see
`chain_hash`). `verify` walks the chain; `export` writes the records out as
JSON lines. Records written before version 5 have no hash (the migration did
not backfill: SQLite has no sha256 in SQL): both columns are NULL, the chain
starts at the first record with a hash, and the older records are checked
only for gaps in seq. Anyone who can rewrite the file can also recompute the
whole chain: keep the newest hash (or an export) somewhere else to detect that.

Retention (since version 6): `prune(before)` removes the oldest records, a
prefix of the log and never a record in the middle, and in the same
transaction writes a `PruneMark` to `audit_pruned`: the last pruned seq and
its hash. The delete trigger lets through only records at or below the
newest mark, and `verify` picks the chain up there: the first record left
must be that seq + 1 and carry that hash as its prev_hash. So a pruned log
verifies clean, while a record removed or changed after the prune is still
found. What a prune removes, verify can no longer check: export before
retention takes records you need to keep. Exports need no marker of their
own: the first line's `seq` and `prev_hash` say where the chain starts, and
an older export's last line is the record that prev_hash names.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import IO, Any, Final

import orjson

from caxton.store.database import Database

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    at: float
    actor: str
    action: str
    target: str
    outcome: str
    detail: JsonObject
    # The previous record's hash ('' for the first) and this record's: None
    # for records written before schema version 5.
    prev_hash: str | None
    hash: str | None


@dataclass(frozen=True, slots=True)
class PruneMark:
    """Where a prune stopped: records up to `through_seq` are gone; `hash` was that record's."""

    through_seq: int
    # None when the record predated the hash chain (schema version 5).
    hash: str | None
    at: float


_COLUMNS: Final = "seq, at, actor, action, target, outcome, detail, prev_hash, hash"
_NEWEST_MARK: Final = (
    "SELECT through_seq, hash, at FROM audit_pruned ORDER BY through_seq DESC LIMIT 1"
)


def _record(row: tuple[Any, ...]) -> AuditRecord:
    return AuditRecord(
        row[0], row[1], row[2], row[3], row[4], row[5], orjson.loads(row[6]), row[7], row[8]
    )


def chain_hash(
    prev_hash: str,
    seq: int,
    at: float,
    actor: str,
    action: str,
    target: str,
    outcome: str,
    detail: Any,
) -> str:
    """A record's hash: sha256 (hex) of `prev_hash` + the canonical JSON of its fields.

    The canonical JSON is one object with the keys seq, at, actor, action,
    target, outcome and detail, serialised by orjson with sorted keys (in
    `detail` too), no spaces.
    """
    fields = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "target": target,
        "outcome": outcome,
        "detail": detail,
    }
    canonical = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(prev_hash.encode() + canonical).hexdigest()


class AuditLog:
    """The audit trail's records, oldest first: never rewritten, pruned only from the start."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def append(self, actor: str, action: str, target: str, outcome: str, detail: JsonObject) -> int:
        """Record one event, committed before this returns; its `seq`.

        One INSERT in a write transaction of its own. Call it outside any
        `db.write()` block: `Database.write` is re-entrant, so inside one on
        the same thread the record would join the caller's transaction, wait
        for its commit, and vanish with it on a rollback (a denied or failed
        call must stay recorded whatever happens to the caller's change).

        The record's `seq`, `prev_hash` (the last record's hash, '' when there
        is none or it predates the chain) and `hash` are worked out inside
        that transaction, under the writer lock, so appends chain in order.
        When a prune left no record, the last one is the newest `PruneMark`'s.
        """
        text = orjson.dumps(detail).decode()
        # The detail as it reads back, so that `verify` hashes the same value
        # (a tuple reads back as a list, a dataclass as an object...).
        stored = orjson.loads(text)
        at = float(self._db.clock())
        with self._db.write() as conn:
            last = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            if last is None:
                last = conn.execute(_NEWEST_MARK).fetchone()
            used = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
            # AUTOINCREMENT's rule, made explicit because the hash covers seq.
            seq = max(last[0] if last else 0, used[0] if used else 0) + 1
            prev_hash = (last[1] if last else None) or ""
            digest = chain_hash(prev_hash, seq, at, actor, action, target, outcome, stored)
            conn.execute(
                "INSERT INTO audit (seq, at, actor, action, target, outcome, detail, prev_hash,"
                " hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, at, actor, action, target, outcome, text, prev_hash, digest),
            )
        return seq

    def recent(
        self, limit: int = 100, *, action: str | None = None, actor: str | None = None
    ) -> list[AuditRecord]:
        """The newest `limit` records (of `action`, by `actor`, if given), newest last.

        Raises ValueError for a negative limit.
        """
        where, parameters = _filter(limit, action, actor)
        rows = (
            self._db.read()
            .execute(
                f"SELECT {_COLUMNS} FROM "
                f"(SELECT {_COLUMNS} FROM audit{where} ORDER BY seq DESC LIMIT ?) ORDER BY seq",
                (*parameters, limit),
            )
            .fetchall()
        )
        return [_record(row) for row in rows]

    def after(
        self,
        seq: int,
        limit: int = 100,
        *,
        action: str | None = None,
        actor: str | None = None,
    ) -> list[AuditRecord]:
        """The first `limit` records after `seq` (of `action`, by `actor`, if given), oldest first.

        For reading the log forward page by page: `after(0, 1)` is the oldest
        record left, which says where the chain starts after a prune. Raises
        ValueError for a negative limit.
        """
        where, parameters = _filter(limit, action, actor)
        where = f"{where} AND seq > ?" if where else " WHERE seq > ?"
        rows = self._db.read().execute(
            f"SELECT {_COLUMNS} FROM audit{where} ORDER BY seq LIMIT ?", (*parameters, seq, limit)
        )
        return [_record(row) for row in rows]

    def count(self, action: str | None = None) -> int:
        """How many records there are (of `action`, if given)."""
        if action is None:
            cursor = self._db.read().execute("SELECT COUNT(*) FROM audit")
        else:
            cursor = self._db.read().execute(
                "SELECT COUNT(*) FROM audit WHERE action = ?", (action,)
            )
        return int(cursor.fetchone()[0])

    # Retention.

    def prune(self, before: float) -> int:
        """Remove the oldest records while their `at` is before `before`; how many went.

        Only a prefix goes: the first record at or after `before` stops the
        prune, even if older ones follow it (a clock set back), so the chain
        left has no hole. One write transaction writes the `PruneMark` (the
        last pruned seq and its hash) and deletes through it; nothing is
        written when nothing is old enough. The caller records the prune in
        the log itself, after (`caxton.security.trail` writes `audit.prune`).
        """
        with self._db.write() as conn:
            kept = conn.execute(
                "SELECT seq FROM audit WHERE at >= ? ORDER BY seq LIMIT 1", (before,)
            ).fetchone()
            if kept is None:
                last = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
            else:
                last = conn.execute(
                    "SELECT seq, hash FROM audit WHERE seq < ? ORDER BY seq DESC LIMIT 1",
                    (kept[0],),
                )
            through = last.fetchone()
            if through is None:
                return 0
            conn.execute(
                "INSERT INTO audit_pruned (through_seq, hash, at) VALUES (?, ?, ?)",
                (through[0], through[1], float(self._db.clock())),
            )
            return conn.execute("DELETE FROM audit WHERE seq <= ?", (through[0],)).rowcount

    def pruned(self) -> PruneMark | None:
        """The newest prune's mark: where the chain picks up; None if the log was never pruned."""
        row = self._db.read().execute(_NEWEST_MARK).fetchone()
        return None if row is None else PruneMark(row[0], row[1], row[2])

    # Checking and exporting.

    def verify(self) -> list[str]:
        """Walk every record in seq order; the problems found, each naming a seq.

        Empty when the chain is intact. The walk starts at the newest
        `PruneMark` if there is one (the record after it must be its seq + 1
        and chain to its hash), else at seq 1 and ''. Reported:

        - a gap in seq: records removed (seq is AUTOINCREMENT, never reused,
          and starts at 1, so a gap is never legitimate);
        - a record whose hash does not match its content: changed;
        - a record whose prev_hash is not the previous record's hash: the
          record before it removed, changed and rehashed, or this one inserted
          out of order;
        - a record without a hash after the chain began (records written
          before schema version 5 have none, and are checked for gaps only);
        - records still there at or below the newest mark: a mark written
          without its prune, which would let those records be deleted.

        Limits: removing the last records leaves no trace in the chain itself
        (nothing follows them to point at them) until the next `append`,
        whose seq then skips theirs if `sqlite_sequence` was left alone. A
        forged mark, with the prefix below it deleted, reads as a prune (the
        trail's `audit.prune` records say which prunes were real). And
        whoever can rewrite the file can recompute every hash after a change:
        compare the newest hash with a copy kept elsewhere to catch that.
        """
        mark = self.pruned()
        walk = _Walk(mark)
        problems = self._below(mark)
        rows = self._db.read().execute(
            f"SELECT {_COLUMNS} FROM audit WHERE seq > ? ORDER BY seq", (walk.previous_seq,)
        )
        for row in rows:
            problems.extend(walk.step(row))
        return problems

    def _below(self, mark: PruneMark | None) -> list[str]:
        if mark is None:
            return []
        first, last = (
            self._db.read()
            .execute("SELECT MIN(seq), MAX(seq) FROM audit WHERE seq <= ?", (mark.through_seq,))
            .fetchone()
        )
        if first is None:
            return []
        which = f"seq {first}" if first == last else f"seq {first} to {last}"
        return [
            f"{which} still there although pruned through seq {mark.through_seq}: "
            "audit_pruned was written without pruning"
        ]

    def export(self, destination: str | os.PathLike[str] | IO[bytes]) -> int:
        """Write every record, all fields, as one JSON object a line in seq order; how many.

        `destination` is a path (created or truncated) or a file open for
        writing bytes. The records are read in one statement, so the export
        is one consistent snapshot however busy the writer. After a prune the
        first line is the first record left: its `seq` and `prev_hash` say
        where the chain starts (the module docstring says why no marker line).
        """
        if isinstance(destination, str | os.PathLike):
            with open(destination, "wb") as handle:
                return self._export(handle)
        return self._export(destination)

    def _export(self, handle: IO[bytes]) -> int:
        count = 0
        rows = self._db.read().execute(f"SELECT {_COLUMNS} FROM audit ORDER BY seq")
        for row in rows:
            handle.write(orjson.dumps(_record(row), option=orjson.OPT_APPEND_NEWLINE))
            count += 1
        return count


def _filter(limit: int, action: str | None, actor: str | None) -> tuple[str, list[object]]:
    """The WHERE clause (leading space included, or '') and its parameters; checks `limit`."""
    if limit < 0:
        raise ValueError(f"limit must be 0 or more, got {limit}")
    conditions: list[str] = []
    parameters: list[object] = []
    if action is not None:
        conditions.append("action = ?")
        parameters.append(action)
    if actor is not None:
        conditions.append("actor = ?")
        parameters.append(actor)
    return (f" WHERE {' AND '.join(conditions)}" if conditions else ""), parameters


class _Walk:
    """`verify`'s walk along the chain: what the next record must be, given those before it."""

    def __init__(self, mark: PruneMark | None) -> None:
        self.mark = mark
        self.previous_seq = 0 if mark is None else mark.through_seq
        self.expected_prev = "" if mark is None else mark.hash or ""
        self.chained = mark is not None and mark.hash is not None

    def step(self, row: tuple[Any, ...]) -> list[str]:
        """The problems with the record `row`; then it becomes the previous one."""
        seq, prev_hash, digest = row[0], row[7], row[8]
        problems = self._gap(seq)
        if digest is None:
            if self.chained or prev_hash is not None:
                problems.append(f"seq {seq} has no hash after the chain began: inserted or changed")
            self.previous_seq, self.expected_prev = seq, ""
            return problems
        self.chained = True
        if prev_hash != self.expected_prev:
            problems.append(
                f"seq {seq}: prev_hash does not match the hash of {self._before()}: a record "
                "before it was removed or changed, or this one inserted out of order"
            )
        if _content_hash(row) != digest:
            problems.append(f"seq {seq}: hash does not match its content: changed")
        self.previous_seq, self.expected_prev = seq, digest
        return problems

    def _gap(self, seq: int) -> list[str]:
        previous = self.previous_seq
        if seq == previous + 1:
            return []
        missing = (
            f"seq {previous + 1}" if seq == previous + 2 else f"seq {previous + 1} to {seq - 1}"
        )
        return [f"{missing} missing before seq {seq}: removed"]

    def _before(self) -> str:
        if self.mark is not None and self.previous_seq == self.mark.through_seq:
            return f"seq {self.previous_seq} (the last pruned)"
        return f"seq {self.previous_seq}" if self.previous_seq else "the start of the log"


def _content_hash(row: tuple[Any, ...]) -> str | None:
    """The hash `row`'s fields call for; None when its detail no longer reads as JSON."""
    seq, at, actor, action, target, outcome, text, prev_hash = row[:8]
    try:
        detail = orjson.loads(text)
        return chain_hash(prev_hash or "", seq, at, actor, action, target, outcome, detail)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError, TypeError):
        return None
