"""The audit log: who did what to which target, and how it ended, in order.

Every MCP tool call is recorded (`tool.call`), and so is every change to who
may call what (`tool.grant`, `tool.revoke`, `tool.server.add`,
`tool.server.remove`). A record names its `actor` (an agent's name,
`operator`, later an authenticated identity), the `action`, its `target` (such
as `server/tool` or an agent's name), the `outcome` (`ok`, `denied`,
`failed`, `timeout`, `invalid`, `rate-limited`...) and a JSON `detail`. The
store does not restrict these vocabularies: the layers that write them do.

The log is append-only: this module has no way to change or delete a record,
and the table's triggers refuse UPDATE and DELETE from anywhere else. `seq`
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


_COLUMNS: Final = "seq, at, actor, action, target, outcome, detail, prev_hash, hash"


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
    """Records of tool calls and permission changes, oldest first, never rewritten."""

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
        """
        text = orjson.dumps(detail).decode()
        # The detail as it reads back, so that `verify` hashes the same value
        # (a tuple reads back as a list, a dataclass as an object...).
        stored = orjson.loads(text)
        at = float(self._db.clock())
        with self._db.write() as conn:
            last = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
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
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
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

    def count(self, action: str | None = None) -> int:
        """How many records there are (of `action`, if given)."""
        if action is None:
            cursor = self._db.read().execute("SELECT COUNT(*) FROM audit")
        else:
            cursor = self._db.read().execute(
                "SELECT COUNT(*) FROM audit WHERE action = ?", (action,)
            )
        return int(cursor.fetchone()[0])

    def verify(self) -> list[str]:
        """Walk every record in seq order; the problems found, each naming a seq.

        Empty when the chain is intact. Reported:

        - a gap in seq: records removed (seq is AUTOINCREMENT, never reused,
          and starts at 1, so a gap is never legitimate);
        - a record whose hash does not match its content: changed;
        - a record whose prev_hash is not the previous record's hash: the
          record before it removed, changed and rehashed, or this one inserted
          out of order;
        - a record without a hash after the chain began (records written
          before schema version 5 have none, and are checked for gaps only).

        Limits: removing the last records leaves no trace in the chain itself
        (nothing follows them to point at them) until the next `append`,
        whose seq then skips theirs if `sqlite_sequence` was left alone. And
        whoever can rewrite the file can recompute every hash after a change:
        compare the newest hash with a copy kept elsewhere to catch that.
        """
        problems: list[str] = []
        previous_seq = 0
        expected_prev = ""
        chained = False
        rows = self._db.read().execute(f"SELECT {_COLUMNS} FROM audit ORDER BY seq")
        for row in rows:
            seq = row[0]
            if seq != previous_seq + 1:
                missing = (
                    f"seq {previous_seq + 1}"
                    if seq == previous_seq + 2
                    else f"seq {previous_seq + 1} to {seq - 1}"
                )
                problems.append(f"{missing} missing before seq {seq}: removed")
            prev_hash, digest = row[7], row[8]
            if digest is None:
                if chained or prev_hash is not None:
                    problems.append(
                        f"seq {seq} has no hash after the chain began: inserted or changed"
                    )
                previous_seq, expected_prev = seq, ""
                continue
            chained = True
            if prev_hash != expected_prev:
                before = f"seq {previous_seq}" if previous_seq else "the start of the log"
                problems.append(
                    f"seq {seq}: prev_hash does not match the hash of {before}: a record "
                    "before it was removed or changed, or this one inserted out of order"
                )
            try:
                detail = orjson.loads(row[6])
                at, actor, action, target, outcome = row[1:6]
                actual = chain_hash(
                    prev_hash or "", seq, at, actor, action, target, outcome, detail
                )
            except (orjson.JSONDecodeError, orjson.JSONEncodeError, TypeError):
                actual = None
            if actual != digest:
                problems.append(f"seq {seq}: hash does not match its content: changed")
            previous_seq, expected_prev = seq, digest
        return problems

    def export(self, destination: str | os.PathLike[str] | IO[bytes]) -> int:
        """Write every record, all fields, as one JSON object a line in seq order; how many.

        `destination` is a path (created or truncated) or a file open for
        writing bytes. The records are read in one statement, so the export
        is one consistent snapshot however busy the writer.
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
