"""Each agent's durable key-value data, behind the runtime's `KeyValueStore`.

Called from inside `kv_get` / `kv_set` / `kv_delete` host functions, on the
agent's worker thread, so every operation is one SQL statement:

- `get` is one primary-key SELECT on the thread's reader connection;
- `set` is one `INSERT ... SELECT ... WHERE <fits the quota> ON CONFLICT DO
  UPDATE`, under the writer lock: the quota check and the write are atomic,
  and the triggers of schema version 2 keep `kv_usage` right in the same
  statement, so there is no read-modify-write race between two stores of the
  same agent (an old and a new version during a hot reload).

Usage is counted as in `InMemoryKeyValueStore`: the bytes of every key and
value held.
"""

from __future__ import annotations

from caxton.store.database import Database

_GET = "SELECT value FROM kv WHERE agent_id = ? AND key = ?"
# ?4 is the quota. The WHERE clause also resolves the parser ambiguity
# between INSERT ... SELECT and the upsert's ON CONFLICT (sqlite.org/lang_upsert.html).
_SET = """
INSERT INTO kv (agent_id, key, value)
SELECT ?1, ?2, ?3
WHERE COALESCE((SELECT used_bytes FROM kv_usage WHERE agent_id = ?1), 0)
    - COALESCE((SELECT length(key) + length(value) FROM kv WHERE agent_id = ?1 AND key = ?2), 0)
    + length(?2) + length(?3) <= ?4
ON CONFLICT (agent_id, key) DO UPDATE SET value = excluded.value
"""
_DELETE = "DELETE FROM kv WHERE agent_id = ? AND key = ?"
_USED = "SELECT used_bytes FROM kv_usage WHERE agent_id = ?"
_ITEMS = "SELECT key, value FROM kv WHERE agent_id = ? ORDER BY key"


class DurableKeyValueStore:
    """One agent's key-value data in the database, within `quota_bytes`.

    The agent must be registered (its rows cascade away when it is removed).
    Safe to use from any thread.
    """

    __slots__ = ("_agent_id", "_db", "_quota")

    def __init__(self, db: Database, agent_id: str, quota_bytes: int) -> None:
        self._db = db
        self._agent_id = agent_id
        self._quota = quota_bytes

    @property
    def agent_id(self) -> str:
        return self._agent_id

    @property
    def quota_bytes(self) -> int:
        return self._quota

    @property
    def used_bytes(self) -> int:
        rows = self._db.read().execute(_USED, (self._agent_id,)).fetchall()
        return int(rows[0][0]) if rows else 0

    def get(self, key: bytes) -> bytes | None:
        rows = self._db.read().execute(_GET, (self._agent_id, key)).fetchall()
        return rows[0][0] if rows else None

    def set(self, key: bytes, value: bytes) -> bool:
        """Store `value`; False (and nothing changed) when it would exceed the quota."""
        return self._db.write_one(_SET, (self._agent_id, key, value, self._quota)) == 1

    def delete(self, key: bytes) -> None:
        self._db.write_one(_DELETE, (self._agent_id, key))

    def items(self) -> dict[bytes, bytes]:
        rows = self._db.read().execute(_ITEMS, (self._agent_id,)).fetchall()
        return dict(rows)
