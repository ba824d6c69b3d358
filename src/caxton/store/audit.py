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
(AUTOINCREMENT, never reused) orders the records; a later migration chains
them by hash on top of that order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

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


_COLUMNS: Final = "seq, at, actor, action, target, outcome, detail"


def _record(row: tuple[Any, ...]) -> AuditRecord:
    return AuditRecord(row[0], row[1], row[2], row[3], row[4], row[5], orjson.loads(row[6]))


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
        """
        text = orjson.dumps(detail).decode()
        with self._db.write() as conn:
            row = conn.execute(
                "INSERT INTO audit (at, actor, action, target, outcome, detail) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING seq",
                (self._db.clock(), actor, action, target, outcome, text),
            ).fetchone()
        return int(row[0])

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
