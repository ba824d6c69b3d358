"""Every migration, applied to a database created at every earlier version.

`SAMPLES[v]` inserts rows valid at schema version v with raw SQL (the
repositories speak only the latest schema); after migrating to the latest,
the repositories must find every one of them. A new migration adds a sample.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from caxton.store import DATABASE_FILE, LATEST, MIGRATIONS, Store
from caxton.store.audit import chain_hash
from caxton.store.migrations import migrate, schema_version

MODULE = b"\x00asm\x01\x00\x00\x00sample"
SHA = hashlib.sha256(MODULE).hexdigest()
AGENT_ID = "agent-1"


def _sample_v1(conn: sqlite3.Connection) -> None:
    conn.execute(
        "INSERT INTO modules (sha256, size, bytes, created_at) VALUES (?, ?, ?, 1.0)",
        (SHA, len(MODULE), MODULE),
    )
    conn.execute(
        "INSERT INTO agents (id, name, module_sha256, version, config, limits, desired_state,"
        " actual_state, created_at, updated_at)"
        " VALUES (?, 'echo', ?, '1.0', '{\"greeting\":\"hi\"}', '{\"kv_quota\":100}',"
        " 'running', 'running', 1.0, 2.0)",
        (AGENT_ID, SHA),
    )
    conn.execute(
        "INSERT INTO transitions (agent_id, agent_name, from_state, to_state, reason, at)"
        " VALUES (?, 'echo', 'loaded', 'running', 'started', 2.0)",
        (AGENT_ID,),
    )
    conn.executemany(
        "INSERT INTO kv (agent_id, key, value) VALUES (?, ?, ?)",
        [(AGENT_ID, b"count", b"41"), (AGENT_ID, b"name", b"echo")],
    )
    conn.execute(
        "INSERT INTO queued_messages (agent_name, seq, message) VALUES ('echo', 1, '{\"a\":1}')"
    )
    conn.execute(
        "INSERT INTO capabilities (agent_id, name, version, description, input_schema)"
        " VALUES (?, 'echo', '1', 'says it back', NULL)",
        (AGENT_ID,),
    )


def _sample_v2(conn: sqlite3.Connection) -> None:
    _sample_v1(conn)  # version 2 adds tables only, and the triggers fill kv_usage.
    conn.execute(
        "INSERT INTO deployments (agent_id, seq, version, module_sha256, config, at)"
        " VALUES (?, 1, '1.0', ?, '{}', 3.0)",
        (AGENT_ID, SHA),
    )


JOB_ID = "job-1"


def _sample_v3(conn: sqlite3.Connection) -> None:
    _sample_v2(conn)  # version 3 adds the jobs table only.
    conn.execute(
        "INSERT INTO jobs (id, agent_name, request, state, attempts, result, error, timeout_s,"
        " created_at, updated_at) VALUES (?, 'echo', '{\"performative\":\"request\"}',"
        " 'complete', 1, '{\"performative\":\"inform\"}', NULL, 30.0, 4.0, 5.0)",
        (JOB_ID,),
    )


def _sample_tools(conn: sqlite3.Connection) -> None:
    conn.execute(
        "INSERT INTO tool_servers (name, transport, spec, source, created_at, updated_at)"
        " VALUES ('files', 'stdio', '{\"command\":\"mcp-files\",\"args\":[]}', 'config',"
        " 6.0, 7.0)"
    )
    conn.execute(
        "INSERT INTO tool_grants (agent_name, pattern, granted_at, granted_by)"
        " VALUES ('echo', 'files/*', 8.0, 'operator')"
    )


def _sample_v4(conn: sqlite3.Connection) -> None:
    _sample_v3(conn)  # version 4 adds the tool and audit tables only.
    _sample_tools(conn)
    conn.execute(
        "INSERT INTO audit (at, actor, action, target, outcome, detail)"
        " VALUES (9.0, 'echo', 'tool.call', 'files/read', 'ok', '{\"ms\":3}')"
    )


AUDIT_HASH = chain_hash("", 1, 9.0, "echo", "tool.call", "files/read", "ok", {"ms": 3})


def _sample_v5(conn: sqlite3.Connection) -> None:
    _sample_v3(conn)  # version 5 chains the audit records by hash.
    _sample_tools(conn)
    conn.execute(
        "INSERT INTO audit (at, actor, action, target, outcome, detail, prev_hash, hash)"
        " VALUES (9.0, 'echo', 'tool.call', 'files/read', 'ok', '{\"ms\":3}', '', ?)",
        (AUDIT_HASH,),
    )


def _sample_v6(conn: sqlite3.Connection) -> None:
    _sample_v5(conn)  # version 6 adds the security tables.
    conn.execute(
        "INSERT INTO api_keys (id, name, role, hash, created_at, created_by)"
        " VALUES ('k1a2b3c4', 'ci', 'viewer', ?, 10.0, 'key:admin1')",
        ("0" * 64,),
    )
    conn.execute(
        "INSERT INTO identity_roles (subject, role, updated_at, updated_by)"
        " VALUES ('jwt:alice', 'operator', 11.0, 'key:admin1')"
    )


SAMPLES: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _sample_v1,
    2: _sample_v2,
    3: _sample_v3,
    4: _sample_v4,
    5: _sample_v5,
    6: _sample_v6,
}


def test_every_version_has_a_sample() -> None:
    assert set(SAMPLES) == {m.version for m in MIGRATIONS}
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST + 1))


def _create_at(path: Path, version: int) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        assert migrate(conn, path, target=version) == version
        assert schema_version(conn) == version
        if version:
            conn.execute("BEGIN")
            SAMPLES[version](conn)
            conn.execute("COMMIT")


@pytest.mark.parametrize("version", range(len(MIGRATIONS) + 1))
def test_a_database_created_at_each_version_migrates_to_the_latest(
    tmp_path: Path, version: int
) -> None:
    _create_at(tmp_path / DATABASE_FILE, version)
    with Store.open(tmp_path) as store:
        assert store.db.schema_version() == LATEST
        assert store.integrity_problems() == []
        applied = store.db.read().execute("SELECT version FROM schema_version ORDER BY version")
        assert [row[0] for row in applied] == list(range(1, LATEST + 1))
        if version < 3:
            assert store.jobs.count() == 0
        _check_tools_and_audit(store, version)
        if version == 0:
            assert store.agents.count() == 0
            return
        agent = store.agents.by_name("echo")
        assert agent is not None
        assert (agent.id, agent.module_sha256, agent.version) == (AGENT_ID, SHA, "1.0")
        assert agent.config == {"greeting": "hi"}
        assert agent.limits == {"kv_quota": 100}
        assert store.agents.by_state("running") == [agent]
        assert store.modules.get(SHA) == MODULE
        assert [t.reason for t in store.agents.transitions(AGENT_ID)] == ["started"]
        kv = store.kv(AGENT_ID, 100)
        assert kv.items() == {b"count": b"41", b"name": b"echo"}
        # Version 2 counted the usage of rows that predate it.
        assert kv.used_bytes == len(b"count41") + len(b"nameecho")
        assert kv.set(b"count", b"42")
        assert kv.used_bytes == len(b"count42") + len(b"nameecho")
        assert store.queued.peek("echo") == [{"a": 1}]
        assert [c.name for c in store.capabilities.of(AGENT_ID)] == ["echo"]
        deployments = store.agents.deployments(AGENT_ID)
        assert deployments[0].seq == 1
        assert deployments[0].module_sha256 == SHA
        # Still usable: a new deployment follows the migrated ones.
        store.agents.deploy(AGENT_ID, SHA, version="1.1")
        assert store.agents.deployments(AGENT_ID)[-1].seq == len(deployments) + 1
        if version >= 3:
            job = store.jobs.get(JOB_ID)
            assert job is not None
            assert (job.agent_name, job.state, job.attempts) == ("echo", "complete", 1)
            assert job.request == {"performative": "request"}
            assert job.result == {"performative": "inform"}
            assert (job.timeout_s, job.created_at, job.updated_at) == (30.0, 4.0, 5.0)
            assert store.jobs.list() == [job]
        # Jobs work whatever version the database came from.
        new = store.jobs.create("echo", {"performative": "request"}, 1.0)
        assert store.jobs.unfinished() == [new]


def _check_tools_and_audit(store: Store, version: int) -> None:
    """Versions 4 and 5's samples are found after migrating; tools and audit work from any."""
    if version < 4:
        assert store.tool_servers.all() == []
        assert store.tool_grants.all() == []
        assert store.audit.count() == 0
    else:
        server = store.tool_servers.get("files")
        assert server is not None
        assert (server.transport, server.source) == ("stdio", "config")
        assert server.spec == {"command": "mcp-files", "args": []}
        assert (server.created_at, server.updated_at) == (6.0, 7.0)
        assert store.tool_grants.for_agent("echo") == ["files/*"]
        assert [g.granted_by for g in store.tool_grants.all()] == ["operator"]
        [call] = store.audit.recent()
        assert (call.seq, call.at, call.actor, call.action) == (1, 9.0, "echo", "tool.call")
        assert (call.target, call.outcome, call.detail) == ("files/read", "ok", {"ms": 3})
        # Version 5 did not backfill: a record from before it has no hash.
        expected = (None, None) if version == 4 else ("", AUDIT_HASH)
        assert (call.prev_hash, call.hash) == expected
    store.tool_servers.put("search", "http", {"url": "http://localhost:9/mcp"}, "api")
    assert store.tool_grants.grant("echo", "search/query", by="operator")
    assert "search/query" in store.tool_grants.for_agent("echo")
    seq = store.audit.append("operator", "tool.grant", "echo", "ok", {})
    assert seq == store.audit.count()
    # The chain starts (or goes on) with it, and holds.
    newest = store.audit.recent(1)[0]
    assert newest.prev_hash == (AUDIT_HASH if version >= 5 else "")
    assert store.audit.verify() == []
    with store.db.write() as conn, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit SET hash = NULL")


def test_migrating_a_database_at_the_latest_version_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_FILE
    _create_at(path, LATEST)
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        before = conn.execute("SELECT * FROM schema_version").fetchall()
        assert migrate(conn, path) == LATEST
        assert conn.execute("SELECT * FROM schema_version").fetchall() == before


def test_a_failing_migration_leaves_the_database_at_its_version(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_FILE
    _create_at(path, 1)
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        # A table in the way of version 2 makes its script fail half-way.
        conn.execute("CREATE TABLE deployments (x)")
        with pytest.raises(sqlite3.OperationalError, match="already exists"):
            migrate(conn, path)
        assert schema_version(conn) == 1
        assert not conn.in_transaction
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert "kv_usage" not in tables


def test_a_target_outside_the_known_versions_is_refused(tmp_path: Path) -> None:
    with (
        closing(sqlite3.connect(tmp_path / "x.db", isolation_level=None)) as conn,
        pytest.raises(ValueError, match="not between 0"),
    ):
        migrate(conn, tmp_path, target=LATEST + 1)
