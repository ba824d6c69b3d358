"""The durable registry: modules, agents, their transitions and deployments,
capabilities and routes.

Values cross this boundary as plain data (str, dict, frozen dataclasses):
states are the lifecycle's names, which the agents layer owns and checks
before it asks the store to record them.
"""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from caxton.store.database import Database

JsonObject = dict[str, Any]


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


def _loads(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


# ---- modules ----


class Modules:
    """Wasm modules by the sha256 of their bytes, each stored once."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, data: bytes, *, sha256: str | None = None) -> str:
        """Store `data` unless it is there already; its sha256 (hex), given if known."""
        digest = sha256 or hashlib.sha256(data).hexdigest()
        self._db.write_one(
            "INSERT INTO modules (sha256, size, bytes, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (sha256) DO NOTHING",
            (digest, len(data), data, self._db.clock()),
        )
        return digest

    def get(self, sha256: str) -> bytes | None:
        rows = (
            self._db.read()
            .execute("SELECT bytes FROM modules WHERE sha256 = ?", (sha256,))
            .fetchall()
        )
        return bytes(rows[0][0]) if rows else None

    def __contains__(self, sha256: object) -> bool:
        return bool(
            self._db.read().execute("SELECT 1 FROM modules WHERE sha256 = ?", (sha256,)).fetchall()
        )

    def hashes(self) -> list[str]:
        rows = self._db.read().execute("SELECT sha256 FROM modules ORDER BY sha256").fetchall()
        return [row[0] for row in rows]

    def remove_unused(self) -> list[str]:
        """Delete modules that no agent runs and no deployment remembers; their hashes.

        A module stored but not yet used counts as unused: `put` it and create
        (or `deploy`) the agent inside one `db.write()` when this may run meanwhile.
        """
        with self._db.write() as conn:
            rows = conn.execute(
                "DELETE FROM modules WHERE sha256 NOT IN (SELECT module_sha256 FROM agents) "
                "AND sha256 NOT IN (SELECT module_sha256 FROM deployments) RETURNING sha256"
            ).fetchall()
        return sorted(row[0] for row in rows)


# ---- agents ----


@dataclass(frozen=True, slots=True)
class AgentRecord:
    id: str
    name: str
    module_sha256: str
    version: str
    config: JsonObject
    limits: JsonObject
    desired_state: str
    actual_state: str
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class Transition:
    seq: int
    agent_id: str
    agent_name: str
    from_state: str | None
    to_state: str
    reason: str
    at: float


@dataclass(frozen=True, slots=True)
class Deployment:
    agent_id: str
    seq: int
    version: str
    module_sha256: str
    config: JsonObject
    at: float


class AgentNameTaken(ValueError):
    """An agent with this name is registered already."""


class UnknownModule(ValueError):
    """The module hash names no stored module: `Modules.put` it first."""


_AGENT_COLUMNS = (
    "id, name, module_sha256, version, config, limits, "
    "desired_state, actual_state, created_at, updated_at"
)
_BY_NAME = f"SELECT {_AGENT_COLUMNS} FROM agents WHERE name = ?"
_BY_ID = f"SELECT {_AGENT_COLUMNS} FROM agents WHERE id = ?"
_BY_STATE = f"SELECT {_AGENT_COLUMNS} FROM agents WHERE actual_state = ? ORDER BY name"
_ALL = f"SELECT {_AGENT_COLUMNS} FROM agents ORDER BY name"
# Removal is recorded as a transition to this pseudo-state.
REMOVED = "removed"


def _agent(row: tuple[Any, ...]) -> AgentRecord:
    return AgentRecord(
        row[0],
        row[1],
        row[2],
        row[3],
        orjson.loads(row[4]),
        orjson.loads(row[5]),
        row[6],
        row[7],
        row[8],
        row[9],
    )


class Agents:
    """Agents by name and id, with their lifecycle history and deployments."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- reads: one indexed SELECT on this thread's reader connection --

    def by_name(self, name: str) -> AgentRecord | None:
        rows = self._db.read().execute(_BY_NAME, (name,)).fetchall()
        return _agent(rows[0]) if rows else None

    def by_id(self, agent_id: str) -> AgentRecord | None:
        rows = self._db.read().execute(_BY_ID, (agent_id,)).fetchall()
        return _agent(rows[0]) if rows else None

    def by_state(self, state: str) -> list[AgentRecord]:
        """Agents whose actual state is `state`, by name."""
        return [_agent(row) for row in self._db.read().execute(_BY_STATE, (state,)).fetchall()]

    def all(self) -> list[AgentRecord]:
        return [_agent(row) for row in self._db.read().execute(_ALL).fetchall()]

    def count(self) -> int:
        return int(self._db.read().execute("SELECT COUNT(*) FROM agents").fetchone()[0])

    def transitions(self, agent_id: str) -> list[Transition]:
        rows = self._db.read().execute(
            "SELECT seq, agent_id, agent_name, from_state, to_state, reason, at "
            "FROM transitions WHERE agent_id = ? ORDER BY seq",
            (agent_id,),
        )
        return [Transition(*row) for row in rows.fetchall()]

    def deployments(self, agent_id: str) -> list[Deployment]:
        rows = self._db.read().execute(
            "SELECT agent_id, seq, version, module_sha256, config, at "
            "FROM deployments WHERE agent_id = ? ORDER BY seq",
            (agent_id,),
        )
        return [Deployment(r[0], r[1], r[2], r[3], orjson.loads(r[4]), r[5]) for r in rows]

    # -- writes: each one transaction, so the registry never shows half a change --

    def create(
        self,
        name: str,
        module_sha256: str,
        *,
        version: str,
        state: str,
        desired_state: str | None = None,
        config: JsonObject | None = None,
        limits: JsonObject | None = None,
        reason: str = "created",
        agent_id: str | None = None,
    ) -> AgentRecord:
        """Register a new agent in `state`, with its first transition and deployment.

        Raises `AgentNameTaken` or `UnknownModule`.
        """
        agent_id = agent_id or uuid.uuid4().hex
        now = self._db.clock()
        config_text = _json(config or {})
        try:
            with self._db.write() as conn:
                conn.execute(
                    f"INSERT INTO agents ({_AGENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        agent_id,
                        name,
                        module_sha256,
                        version,
                        config_text,
                        _json(limits or {}),
                        desired_state or state,
                        state,
                        now,
                        now,
                    ),
                )
                self._transition(conn, agent_id, name, None, state, reason, now)
                self._deployment(conn, agent_id, version, module_sha256, config_text, now)
                return _agent(conn.execute(_BY_ID, (agent_id,)).fetchone())
        except sqlite3.IntegrityError as exc:
            raise self._integrity(exc, name, module_sha256) from exc

    def set_state(self, agent_id: str, state: str, reason: str) -> AgentRecord:
        """Move the agent to actual `state`, recording the transition. KeyError if unknown."""
        now = self._db.clock()
        with self._db.write() as conn:
            rows = conn.execute(
                "SELECT name, actual_state FROM agents WHERE id = ?", (agent_id,)
            ).fetchall()
            if not rows:
                raise KeyError(f"no agent with id {agent_id!r}")
            name, previous = rows[0]
            conn.execute(
                "UPDATE agents SET actual_state = ?, updated_at = ? WHERE id = ?",
                (state, now, agent_id),
            )
            self._transition(conn, agent_id, name, previous, state, reason, now)
            # Read back through the writer: inside an outer `write()` the
            # readers cannot see this change yet.
            return _agent(conn.execute(_BY_ID, (agent_id,)).fetchone())

    def set_desired_state(self, agent_id: str, state: str) -> None:
        changed = self._db.write_one(
            "UPDATE agents SET desired_state = ?, updated_at = ? WHERE id = ?",
            (state, self._db.clock(), agent_id),
        )
        if not changed:
            raise KeyError(f"no agent with id {agent_id!r}")

    def deploy(
        self,
        agent_id: str,
        module_sha256: str,
        *,
        version: str,
        config: JsonObject | None = None,
    ) -> AgentRecord:
        """Point the agent at a new module version (hot reload, rollback), remembered in
        its deployments. `config` None keeps the current one."""
        now = self._db.clock()
        try:
            with self._db.write() as conn:
                rows = conn.execute(
                    "UPDATE agents SET module_sha256 = ?, version = ?, "
                    "config = COALESCE(?, config), updated_at = ? WHERE id = ? RETURNING config",
                    (
                        module_sha256,
                        version,
                        None if config is None else _json(config),
                        now,
                        agent_id,
                    ),
                ).fetchall()
                if not rows:
                    raise KeyError(f"no agent with id {agent_id!r}")
                self._deployment(conn, agent_id, version, module_sha256, rows[0][0], now)
                return _agent(conn.execute(_BY_ID, (agent_id,)).fetchone())
        except sqlite3.IntegrityError as exc:
            raise self._integrity(exc, agent_id, module_sha256) from exc

    def remove(self, agent_id: str, reason: str) -> bool:
        """Delete the agent and all it holds (capabilities, key-value data, queued
        messages, deployments, its route); the transition to `removed` stays as history.
        False when there was no such agent."""
        now = self._db.clock()
        with self._db.write() as conn:
            rows = conn.execute(
                "DELETE FROM agents WHERE id = ? RETURNING name, actual_state", (agent_id,)
            ).fetchall()
            if not rows:
                return False
            name, previous = rows[0]
            conn.execute("DELETE FROM routes WHERE agent_name = ?", (name,))
            self._transition(conn, agent_id, name, previous, REMOVED, reason, now)
        return True

    @staticmethod
    def _transition(
        conn: sqlite3.Connection,
        agent_id: str,
        name: str,
        previous: str | None,
        state: str,
        reason: str,
        now: float,
    ) -> None:
        conn.execute(
            "INSERT INTO transitions (agent_id, agent_name, from_state, to_state, reason, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (agent_id, name, previous, state, reason, now),
        )

    @staticmethod
    def _deployment(
        conn: sqlite3.Connection,
        agent_id: str,
        version: str,
        module_sha256: str,
        config_text: str,
        now: float,
    ) -> None:
        conn.execute(
            "INSERT INTO deployments (agent_id, seq, version, module_sha256, config, at) "
            "VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM deployments WHERE agent_id = ?1),"
            " ?2, ?3, ?4, ?5)",
            (agent_id, version, module_sha256, config_text, now),
        )

    def _integrity(self, exc: sqlite3.IntegrityError, subject: str, sha256: str) -> ValueError:
        text = str(exc)
        if "agents.name" in text:
            return AgentNameTaken(f"an agent named {subject!r} is registered already")
        if "FOREIGN KEY" in text and sha256 not in Modules(self._db):
            return UnknownModule(f"no module with sha256 {sha256}: store it first")
        return ValueError(f"{subject}: {text}")


# ---- capabilities ----


@dataclass(frozen=True, slots=True)
class Capability:
    name: str
    version: str
    description: str = ""
    input_schema: JsonObject | None = None


@dataclass(frozen=True, slots=True)
class Provider:
    agent_id: str
    agent_name: str
    capability: Capability


class Capabilities:
    """What each agent says it can do, searchable by capability name."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def replace(self, agent_id: str, capabilities: Iterable[Capability]) -> None:
        """Make `capabilities` the agent's whole set (a new version re-registers all)."""
        with self._db.write() as conn:
            conn.execute("DELETE FROM capabilities WHERE agent_id = ?", (agent_id,))
            for capability in capabilities:
                self._insert(conn, agent_id, capability)

    def add(self, agent_id: str, capability: Capability) -> None:
        with self._db.write() as conn:
            self._insert(conn, agent_id, capability)

    @staticmethod
    def _insert(conn: sqlite3.Connection, agent_id: str, capability: Capability) -> None:
        schema = capability.input_schema
        conn.execute(
            "INSERT INTO capabilities (agent_id, name, version, description, input_schema) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (agent_id, name, version) DO UPDATE SET "
            "description = excluded.description, input_schema = excluded.input_schema",
            (
                agent_id,
                capability.name,
                capability.version,
                capability.description,
                None if schema is None else _json(schema),
            ),
        )

    def of(self, agent_id: str) -> list[Capability]:
        rows = self._db.read().execute(
            "SELECT name, version, description, input_schema FROM capabilities "
            "WHERE agent_id = ? ORDER BY name, version",
            (agent_id,),
        )
        return [Capability(r[0], r[1], r[2], _loads(r[3])) for r in rows.fetchall()]

    def by_agent(self) -> dict[str, list[Capability]]:
        """Every agent's capabilities by agent id, in one read (to rebuild an index at start)."""
        rows = self._db.read().execute(
            "SELECT agent_id, name, version, description, input_schema FROM capabilities "
            "ORDER BY agent_id, name, version"
        )
        found: dict[str, list[Capability]] = {}
        for r in rows.fetchall():
            found.setdefault(r[0], []).append(Capability(r[1], r[2], r[3], _loads(r[4])))
        return found

    def providers(self, name: str) -> list[Provider]:
        """Agents offering capability `name`, by agent name."""
        rows = self._db.read().execute(
            "SELECT a.id, a.name, c.name, c.version, c.description, c.input_schema "
            "FROM capabilities c JOIN agents a ON a.id = c.agent_id "
            "WHERE c.name = ? ORDER BY a.name, c.version",
            (name,),
        )
        return [Provider(r[0], r[1], Capability(r[2], r[3], r[4], _loads(r[5]))) for r in rows]


# ---- routes ----


@dataclass(frozen=True, slots=True)
class Route:
    agent_name: str
    instance: str
    node: str
    updated_at: float


class Routes:
    """Which instance (and node) hosts each agent name: the local half of clustering."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def register(self, agent_name: str, instance: str, node: str) -> None:
        self._db.write_one(
            "INSERT INTO routes (agent_name, instance, node, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (agent_name) DO UPDATE SET instance = excluded.instance, "
            "node = excluded.node, updated_at = excluded.updated_at",
            (agent_name, instance, node, self._db.clock()),
        )

    def lookup(self, agent_name: str) -> Route | None:
        rows = (
            self._db.read()
            .execute(
                "SELECT agent_name, instance, node, updated_at FROM routes WHERE agent_name = ?",
                (agent_name,),
            )
            .fetchall()
        )
        return Route(*rows[0]) if rows else None

    def unregister(self, agent_name: str) -> bool:
        return self._db.write_one("DELETE FROM routes WHERE agent_name = ?", (agent_name,)) > 0

    def on_node(self, node: str) -> list[Route]:
        rows = self._db.read().execute(
            "SELECT agent_name, instance, node, updated_at FROM routes WHERE node = ? "
            "ORDER BY agent_name",
            (node,),
        )
        return [Route(*row) for row in rows.fetchall()]
