"""What the router keeps across restarts: conversations, dead letters, and the
messages still queued in mailboxes at shutdown.

Messages are stored as their JSON text (the ABI's own representation), and
come back as the dicts the router handles.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from caxton.store.database import Database

Message = dict[str, Any]


# ---- conversations ----


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    id: str
    initiator: str
    protocol: str | None
    state: str
    started_at: float
    last_activity: float


_CONVERSATION = (
    "SELECT id, initiator, protocol, state, started_at, last_activity FROM conversations"
)


class Conversations:
    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, conversation: ConversationRecord) -> None:
        """Insert or update (state and last activity) one conversation."""
        c = conversation
        self._db.write_one(
            "INSERT INTO conversations (id, initiator, protocol, state, started_at, last_activity)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state,"
            " protocol = excluded.protocol, last_activity = excluded.last_activity",
            (c.id, c.initiator, c.protocol, c.state, c.started_at, c.last_activity),
        )

    def get(self, conversation_id: str) -> ConversationRecord | None:
        rows = self._db.read().execute(f"{_CONVERSATION} WHERE id = ?", (conversation_id,))
        found = rows.fetchall()
        return ConversationRecord(*found[0]) if found else None

    def all(self) -> list[ConversationRecord]:
        rows = self._db.read().execute(f"{_CONVERSATION} ORDER BY started_at, id").fetchall()
        return [ConversationRecord(*row) for row in rows]

    def remove(self, conversation_id: str) -> bool:
        return self._db.write_one("DELETE FROM conversations WHERE id = ?", (conversation_id,)) > 0

    def remove_idle(self, before: float) -> int:
        """Forget conversations with no activity since `before`; how many."""
        return self._db.write_one("DELETE FROM conversations WHERE last_activity < ?", (before,))


# ---- dead letters ----


@dataclass(frozen=True, slots=True)
class StoredDeadLetter:
    seq: int
    at: float
    receiver: str | None
    reason: str
    message: Message


class DeadLetterLog:
    """Undeliverable messages with the reason why, oldest first."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def keep(
        self, message: Message, receiver: str | None, reason: str, at: float | None = None
    ) -> None:
        self._db.write_one(
            "INSERT INTO dead_letters (at, receiver, reason, message) VALUES (?, ?, ?, ?)",
            (
                self._db.clock() if at is None else at,
                receiver,
                reason,
                orjson.dumps(message).decode(),
            ),
        )

    def recent(self, limit: int = 100) -> list[StoredDeadLetter]:
        """The newest `limit`, oldest first."""
        rows = (
            self._db.read()
            .execute(
                "SELECT seq, at, receiver, reason, message FROM "
                "(SELECT * FROM dead_letters ORDER BY seq DESC LIMIT ?) ORDER BY seq",
                (limit,),
            )
            .fetchall()
        )
        return [StoredDeadLetter(r[0], r[1], r[2], r[3], orjson.loads(r[4])) for r in rows]

    def count(self) -> int:
        return int(self._db.read().execute("SELECT COUNT(*) FROM dead_letters").fetchone()[0])

    def prune(self, keep: int) -> int:
        """Forget all but the newest `keep`; how many were forgotten."""
        return self._db.write_one(
            "DELETE FROM dead_letters WHERE seq <= "
            "(SELECT seq FROM dead_letters ORDER BY seq DESC LIMIT 1 OFFSET ?)",
            (keep,),
        )


# ---- messages queued at shutdown ----


class QueuedMessages:
    """Mailbox contents saved at shutdown, handed back in order after restart."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, agent_name: str, messages: Iterable[Message]) -> int:
        """Append `messages` after any already saved for the agent; how many."""
        with self._db.write() as conn:
            row = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM queued_messages WHERE agent_name = ?",
                (agent_name,),
            ).fetchone()
            start = int(row[0]) + 1
            rows = [
                (agent_name, seq, orjson.dumps(message).decode())
                for seq, message in enumerate(messages, start)
            ]
            conn.executemany(
                "INSERT INTO queued_messages (agent_name, seq, message) VALUES (?, ?, ?)", rows
            )
        return len(rows)

    def replace(self, agent_name: str, messages: Iterable[Message]) -> int:
        """Make `messages` all that is saved for the agent (its whole mailbox at shutdown)."""
        with self._db.write() as conn:
            conn.execute("DELETE FROM queued_messages WHERE agent_name = ?", (agent_name,))
            rows = [
                (agent_name, seq, orjson.dumps(message).decode())
                for seq, message in enumerate(messages, 1)
            ]
            conn.executemany(
                "INSERT INTO queued_messages (agent_name, seq, message) VALUES (?, ?, ?)", rows
            )
        return len(rows)

    def ack(self, agent_name: str, count: int) -> int:
        """Forget the agent's `count` oldest saved messages, now handled; how many went."""
        return self._db.write_one(
            "DELETE FROM queued_messages WHERE agent_name = ? AND seq IN (SELECT seq FROM"
            " queued_messages WHERE agent_name = ? ORDER BY seq LIMIT ?)",
            (agent_name, agent_name, count),
        )

    def peek(self, agent_name: str) -> list[Message]:
        rows = (
            self._db.read()
            .execute(
                "SELECT message FROM queued_messages WHERE agent_name = ? ORDER BY seq",
                (agent_name,),
            )
            .fetchall()
        )
        return [orjson.loads(row[0]) for row in rows]

    def take(self, agent_name: str) -> list[Message]:
        """Remove and return the agent's saved messages, in the order they were saved."""
        with self._db.write() as conn:
            rows = conn.execute(
                "DELETE FROM queued_messages WHERE agent_name = ? RETURNING seq, message",
                (agent_name,),
            ).fetchall()
        # RETURNING gives no order guarantee: sort by seq.
        return [orjson.loads(message) for _, message in sorted(rows)]

    def agents(self) -> list[str]:
        """Names of agents with saved messages."""
        rows = (
            self._db.read()
            .execute("SELECT DISTINCT agent_name FROM queued_messages ORDER BY agent_name")
            .fetchall()
        )
        return [row[0] for row in rows]
