"""MCP tools: the servers agents may call tools on, and who may call what.

A tool server is named by the operator and reached over `stdio` (a command
Caxton starts) or `http` (a URL); its `spec` is the JSON the transport needs:

    stdio: {"command": "...", "args": [...], "env": {...}, "cwd": "..." | null}
    http:  {"url": "...", "headers": {...}}

`source` says where the definition came from: `api` (added at run time) or
`config` (the configuration file), so that the two can be told apart when the
file changes. A grant lets one agent call `server/tool`, or every
tool of a server with `server/*`.

The tables' CHECKs hold the shape (server names `[a-z][a-z0-9-]{0,62}`, known
transports and sources, valid JSON, patterns `server/...`): a row that breaks
one raises `sqlite3.IntegrityError`. The tools layer validates input first and
answers people with better messages; the CHECKs catch what slips past it.
Grants name agents and servers without foreign keys, so they may be made
before either exists and they outlive a redeploy or a server's removal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

import orjson

from caxton.store.database import Database

JsonObject = dict[str, Any]

Transport = Literal["stdio", "http"]
Source = Literal["api", "config"]
TOOL_TRANSPORTS: Final[tuple[Transport, ...]] = ("stdio", "http")
TOOL_SOURCES: Final[tuple[Source, ...]] = ("api", "config")


@dataclass(frozen=True, slots=True)
class ToolServerRecord:
    name: str
    transport: Transport
    spec: JsonObject
    source: Source
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class GrantRecord:
    agent_name: str
    pattern: str
    granted_at: float
    granted_by: str


_SERVER_COLUMNS: Final = "name, transport, spec, source, created_at, updated_at"


def _transport(text: str) -> Transport:
    for transport in TOOL_TRANSPORTS:  # the table's CHECK allows no other
        if transport == text:
            return transport
    raise ValueError(f"tool server transport {text!r} in the database is none of stdio, http")


def _source(text: str) -> Source:
    for source in TOOL_SOURCES:
        if source == text:
            return source
    raise ValueError(f"tool server source {text!r} in the database is none of api, config")


def _server(row: tuple[Any, ...]) -> ToolServerRecord:
    return ToolServerRecord(
        row[0], _transport(row[1]), orjson.loads(row[2]), _source(row[3]), row[4], row[5]
    )


class ToolServers:
    """MCP servers by name: how to reach each, and where its definition came from."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, name: str, transport: str, spec: JsonObject, source: str) -> ToolServerRecord:
        """Add the server, or replace its definition keeping when it was first added.

        Raises `sqlite3.IntegrityError` for a name, transport or source the
        table refuses.
        """
        now = self._db.clock()
        with self._db.write() as conn:
            row = conn.execute(
                f"INSERT INTO tool_servers ({_SERVER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET transport = excluded.transport, "
                "spec = excluded.spec, source = excluded.source, updated_at = excluded.updated_at "
                f"RETURNING {_SERVER_COLUMNS}",
                (name, transport, orjson.dumps(spec).decode(), source, now, now),
            ).fetchone()
        return _server(row)

    def get(self, name: str) -> ToolServerRecord | None:
        rows = (
            self._db.read()
            .execute(f"SELECT {_SERVER_COLUMNS} FROM tool_servers WHERE name = ?", (name,))
            .fetchall()
        )
        return _server(rows[0]) if rows else None

    def all(self) -> list[ToolServerRecord]:
        """Every server, by name."""
        rows = (
            self._db.read()
            .execute(f"SELECT {_SERVER_COLUMNS} FROM tool_servers ORDER BY name")
            .fetchall()
        )
        return [_server(row) for row in rows]

    def remove(self, name: str) -> bool:
        """Forget the server (its grants stay); False when there was none."""
        return self._db.write_one("DELETE FROM tool_servers WHERE name = ?", (name,)) > 0


class ToolGrants:
    """Which tools each agent may call: patterns `server/tool` or `server/*`.

    The store keeps patterns as given; matching a call against them is the
    tools layer's job.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def grant(self, agent_name: str, pattern: str, by: str) -> bool:
        """Let `agent_name` call what `pattern` names; False if it could already.

        A repeated grant changes nothing: the first one's time and grantor stay.
        Raises `sqlite3.IntegrityError` for a pattern that is not `server/...`.
        """
        return (
            self._db.write_one(
                "INSERT INTO tool_grants (agent_name, pattern, granted_at, granted_by) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (agent_name, pattern) DO NOTHING",
                (agent_name, pattern, self._db.clock(), by),
            )
            > 0
        )

    def revoke(self, agent_name: str, pattern: str) -> bool:
        """Withdraw one grant, matched exactly; False when there was no such grant."""
        return (
            self._db.write_one(
                "DELETE FROM tool_grants WHERE agent_name = ? AND pattern = ?",
                (agent_name, pattern),
            )
            > 0
        )

    def for_agent(self, agent_name: str) -> list[str]:
        """The agent's patterns, sorted: what a permission check reads on every call."""
        rows = (
            self._db.read()
            .execute(
                "SELECT pattern FROM tool_grants WHERE agent_name = ? ORDER BY pattern",
                (agent_name,),
            )
            .fetchall()
        )
        return [row[0] for row in rows]

    def all(self) -> list[GrantRecord]:
        """Every grant, by agent then pattern."""
        rows = (
            self._db.read()
            .execute(
                "SELECT agent_name, pattern, granted_at, granted_by FROM tool_grants "
                "ORDER BY agent_name, pattern"
            )
            .fetchall()
        )
        return [GrantRecord(*row) for row in rows]
