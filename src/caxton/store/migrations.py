"""Versioned schema migrations, applied in order when the database opens.

`schema_version` holds one row per migration applied. Version 0 is an empty
file. Each migration runs in its own `BEGIN IMMEDIATE ... COMMIT`, so a
database is always at exactly one version, and two processes opening the same
file at once cannot both apply a step (the second finds the version moved on).

Rules for new migrations: append, never edit a released one; carry existing
rows forward in the same script (see version 2); add a sample for the new
version in `tests/store/test_store_migrations.py`, which migrates a database
created at every earlier version. A migration that rebuilds a table must run
with foreign keys off, which SQLite cannot change inside a transaction: give
the runner a flag for it when the first such migration comes.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from caxton.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


# Timestamps are Unix seconds (REAL). JSON columns are TEXT checked with json_valid.
# States are the lifecycle's names (the agents layer owns their meaning).
V1_INITIAL = """
CREATE TABLE modules (
    sha256      TEXT PRIMARY KEY CHECK (length(sha256) = 64),
    size        INTEGER NOT NULL,
    bytes       BLOB NOT NULL,
    created_at  REAL NOT NULL
);

CREATE TABLE agents (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    module_sha256  TEXT NOT NULL REFERENCES modules (sha256) ON DELETE RESTRICT,
    version        TEXT NOT NULL,
    config         TEXT NOT NULL CHECK (json_valid(config)),
    limits         TEXT NOT NULL CHECK (json_valid(limits)),
    desired_state  TEXT NOT NULL,
    actual_state   TEXT NOT NULL,
    created_at     REAL NOT NULL,
    updated_at     REAL NOT NULL
);
CREATE INDEX agents_by_state ON agents (actual_state);
CREATE INDEX agents_by_module ON agents (module_sha256);

-- History: no foreign key, so it outlives the agent it tells about.
CREATE TABLE transitions (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id    TEXT NOT NULL,
    agent_name  TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    at          REAL NOT NULL
);
CREATE INDEX transitions_by_agent ON transitions (agent_id, seq);
CREATE TRIGGER transitions_no_update BEFORE UPDATE ON transitions
BEGIN SELECT RAISE(ABORT, 'transitions are append-only'); END;
CREATE TRIGGER transitions_no_delete BEFORE DELETE ON transitions
BEGIN SELECT RAISE(ABORT, 'transitions are append-only'); END;

-- Where an agent lives; names may belong to other instances (clustering),
-- so no foreign key to agents.
CREATE TABLE routes (
    agent_name  TEXT PRIMARY KEY,
    instance    TEXT NOT NULL,
    node        TEXT NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE INDEX routes_by_node ON routes (node);

CREATE TABLE capabilities (
    agent_id      TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    version       TEXT NOT NULL,
    description   TEXT NOT NULL,
    input_schema  TEXT CHECK (input_schema IS NULL OR json_valid(input_schema)),
    PRIMARY KEY (agent_id, name, version)
) WITHOUT ROWID;
CREATE INDEX capabilities_by_name ON capabilities (name);

CREATE TABLE conversations (
    id             TEXT PRIMARY KEY,
    initiator      TEXT NOT NULL,
    protocol       TEXT,
    state          TEXT NOT NULL,
    started_at     REAL NOT NULL,
    last_activity  REAL NOT NULL
);
CREATE INDEX conversations_by_activity ON conversations (last_activity);

CREATE TABLE dead_letters (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at        REAL NOT NULL,
    receiver  TEXT,
    reason    TEXT NOT NULL,
    message   TEXT NOT NULL CHECK (json_valid(message))
);

-- Messages waiting in a mailbox at shutdown, delivered after restart in seq order.
CREATE TABLE queued_messages (
    agent_name  TEXT NOT NULL REFERENCES agents (name) ON DELETE CASCADE ON UPDATE CASCADE,
    seq         INTEGER NOT NULL,
    message     TEXT NOT NULL CHECK (json_valid(message)),
    PRIMARY KEY (agent_name, seq)
) WITHOUT ROWID;

CREATE TABLE kv (
    agent_id  TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    key       BLOB NOT NULL,
    value     BLOB NOT NULL,
    PRIMARY KEY (agent_id, key)
) WITHOUT ROWID;
"""

# Version 2: each agent's key-value usage kept by triggers (the quota check
# on `kv_set` reads one row instead of summing), and the history of deployed
# module versions (rollback needs the previous one, and keeps its module).
V2_KV_USAGE_AND_DEPLOYMENTS = """
CREATE TABLE kv_usage (
    agent_id    TEXT PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
    used_bytes  INTEGER NOT NULL CHECK (used_bytes >= 0)
);
INSERT INTO kv_usage (agent_id, used_bytes)
    SELECT agent_id, SUM(length(key) + length(value)) FROM kv GROUP BY agent_id;
CREATE TRIGGER kv_usage_insert AFTER INSERT ON kv
BEGIN
    INSERT INTO kv_usage (agent_id, used_bytes)
        VALUES (NEW.agent_id, length(NEW.key) + length(NEW.value))
        ON CONFLICT (agent_id) DO UPDATE SET used_bytes = used_bytes + excluded.used_bytes;
END;
CREATE TRIGGER kv_usage_update AFTER UPDATE OF value ON kv
BEGIN
    UPDATE kv_usage SET used_bytes = used_bytes - length(OLD.value) + length(NEW.value)
        WHERE agent_id = NEW.agent_id;
END;
CREATE TRIGGER kv_usage_delete AFTER DELETE ON kv
BEGIN
    UPDATE kv_usage SET used_bytes = used_bytes - length(OLD.key) - length(OLD.value)
        WHERE agent_id = OLD.agent_id;
END;

CREATE TABLE deployments (
    agent_id       TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    version        TEXT NOT NULL,
    module_sha256  TEXT NOT NULL REFERENCES modules (sha256) ON DELETE RESTRICT,
    config         TEXT NOT NULL CHECK (json_valid(config)),
    at             REAL NOT NULL,
    PRIMARY KEY (agent_id, seq)
) WITHOUT ROWID;
CREATE INDEX deployments_by_module ON deployments (module_sha256);
INSERT INTO deployments (agent_id, seq, version, module_sha256, config, at)
    SELECT id, 1, version, module_sha256, config, updated_at FROM agents;
"""

# Version 3: jobs, the REST API's asynchronous invocations (`POST /jobs`):
# the request sent to an agent, its state, and the reply or the error, kept
# across restarts. No foreign key to agents: like transitions, a job's record
# outlives the agent it asked, and the name may belong to another instance.
# Each index ends in `id` so that newest-first pages (`created_at DESC, id DESC`)
# read straight from it.
V3_JOBS = """
CREATE TABLE jobs (
    id          TEXT PRIMARY KEY,
    agent_name  TEXT NOT NULL,
    request     TEXT NOT NULL CHECK (json_valid(request)),
    state       TEXT NOT NULL
                CHECK (state IN ('submitted', 'running', 'complete', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    result      TEXT CHECK (result IS NULL OR json_valid(result)),
    error       TEXT,
    timeout_s   REAL NOT NULL CHECK (timeout_s > 0),
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE INDEX jobs_by_state ON jobs (state, created_at, id);
CREATE INDEX jobs_by_created ON jobs (created_at, id);
CREATE INDEX jobs_by_agent ON jobs (agent_name, created_at, id);
"""

# Version 4: MCP tools. The servers Caxton may call tools on (added through
# the API or read from the configuration file), each agent's grants, and the
# audit log of every call and every change to servers and grants.
# - Server names follow the agent name rule (`[a-z][a-z0-9-]{0,62}`): they
#   appear in grant patterns (`server/tool`, `server/*`) and in URLs.
# - Grants have no foreign key to agents: an operator may grant before the
#   agent is deployed, and a redeploy (a new agent id) keeps them. Nor to
#   servers: a server removed and added again finds its grants as they were.
# - `audit` is append-only, enforced by triggers as for `transitions`; version
#   5 chains the rows written after it by hash (without a backfill, so the
#   triggers stay). Each index ends in `seq`, so the newest rows of one
#   action or one actor read straight from it.
V4_TOOLS_AND_AUDIT = """
CREATE TABLE tool_servers (
    name        TEXT PRIMARY KEY
                CHECK (length(name) BETWEEN 1 AND 63 AND name GLOB '[a-z]*'
                       AND name NOT GLOB '*[^a-z0-9-]*'),
    transport   TEXT NOT NULL CHECK (transport IN ('stdio', 'http')),
    spec        TEXT NOT NULL CHECK (json_valid(spec)),
    source      TEXT NOT NULL CHECK (source IN ('api', 'config')),
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);

CREATE TABLE tool_grants (
    agent_name  TEXT NOT NULL CHECK (agent_name <> ''),
    pattern     TEXT NOT NULL
                CHECK (instr(pattern, '/') BETWEEN 2 AND 64
                       AND substr(pattern, 1, instr(pattern, '/') - 1) GLOB '[a-z]*'
                       AND substr(pattern, 1, instr(pattern, '/') - 1) NOT GLOB '*[^a-z0-9-]*'
                       AND length(pattern) > instr(pattern, '/')),
    granted_at  REAL NOT NULL,
    granted_by  TEXT NOT NULL,
    PRIMARY KEY (agent_name, pattern)
) WITHOUT ROWID;

CREATE TABLE audit (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    at       REAL NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    target   TEXT NOT NULL,
    outcome  TEXT NOT NULL,
    detail   TEXT NOT NULL CHECK (json_valid(detail))
);
CREATE INDEX audit_by_action ON audit (action, seq);
CREATE INDEX audit_by_actor ON audit (actor, seq);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

# Version 5: the audit log chained by hash. Each record written from now on
# carries `prev_hash` (the hash of the record before it, '' for the first) and
# `hash` = sha256 of prev_hash + the canonical JSON of its fields, computed by
# `AuditLog.append` (caxton.store.audit) in the transaction that inserts it.
# Records that predate this version are NOT backfilled: SQLite has no sha256
# in SQL (the amalgamation Python links has none), and computing it here would
# need a Python function registered on the migrating connection. They keep
# NULL in both columns, the chain starts at the first record that has a hash
# (its prev_hash is ''), and `AuditLog.verify` checks the older ones only for
# gaps in seq. As nothing is updated, the append-only triggers stay in place.
V5_AUDIT_HASH_CHAIN = """
ALTER TABLE audit ADD COLUMN prev_hash TEXT;
ALTER TABLE audit ADD COLUMN hash TEXT;
"""

# Version 6: security. API keys are stored as the sha256 of their secret part
# (the secret is 256 random bits, so a slow hash would add nothing); a revoked
# key stays listed. `identity_roles` gives a role to an identity that is not a
# key (a JWT's `jwt:<sub>`, a client certificate's `cert:<subject>`).
# `rate_limits` holds the buckets changed at run time, by scope. Retention may
# now prune the audit log's oldest records, and only those: pruning first
# writes the last pruned record's seq and hash to `audit_pruned`, which is
# where `AuditLog.verify` picks the chain up, and the delete trigger refuses
# any record above that seq.
V6_SECURITY = """
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY CHECK (id GLOB '[a-z0-9]*' AND length(id) BETWEEN 6 AND 32),
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role        TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'developer', 'viewer')),
    hash        TEXT NOT NULL CHECK (length(hash) = 64),
    created_at  REAL NOT NULL,
    created_by  TEXT NOT NULL,
    revoked_at  REAL
);

CREATE TABLE identity_roles (
    subject     TEXT PRIMARY KEY CHECK (length(subject) BETWEEN 1 AND 1000),
    role        TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'developer', 'viewer')),
    updated_at  REAL NOT NULL,
    updated_by  TEXT NOT NULL
);

CREATE TABLE rate_limits (
    scope       TEXT PRIMARY KEY CHECK (length(scope) BETWEEN 1 AND 300),
    per_s       REAL NOT NULL CHECK (per_s >= 0),
    burst       INTEGER NOT NULL CHECK (burst >= 1),
    updated_at  REAL NOT NULL,
    updated_by  TEXT NOT NULL
);

CREATE TABLE audit_pruned (
    through_seq INTEGER PRIMARY KEY,
    hash        TEXT,
    at          REAL NOT NULL
);
CREATE TRIGGER audit_pruned_no_update BEFORE UPDATE ON audit_pruned
BEGIN SELECT RAISE(ABORT, 'prune marks are append-only'); END;
CREATE TRIGGER audit_pruned_no_delete BEFORE DELETE ON audit_pruned
BEGIN SELECT RAISE(ABORT, 'prune marks are append-only'); END;
DROP TRIGGER audit_no_delete;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
WHEN OLD.seq > (SELECT COALESCE(MAX(through_seq), 0) FROM audit_pruned)
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only; only retention prunes it'); END;
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial", V1_INITIAL),
    Migration(2, "kv_usage_and_deployments", V2_KV_USAGE_AND_DEPLOYMENTS),
    Migration(3, "jobs", V3_JOBS),
    Migration(4, "tools_and_audit", V4_TOOLS_AND_AUDIT),
    Migration(5, "audit_hash_chain", V5_AUDIT_HASH_CHAIN),
    Migration(6, "security", V6_SECURITY),
)
LATEST = len(MIGRATIONS)
assert all(m.version == i for i, m in enumerate(MIGRATIONS, 1)), "versions are 1, 2, 3..."

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  REAL NOT NULL
);
"""


def schema_version(conn: sqlite3.Connection) -> int:
    """The version of the schema `conn` sees: 0 for a database without one."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchall()
    if not exists:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, path: Path | str, target: int = LATEST) -> int:
    """Apply every migration above the current version up to `target`; the version reached.

    `conn` must be in autocommit mode (`isolation_level=None`). Raises
    `ConfigError` naming `path` when the database is newer than this code.
    """
    if not 0 <= target <= LATEST:
        raise ValueError(f"target version {target} is not between 0 and {LATEST}")
    while True:
        current = schema_version(conn)
        if current > LATEST:
            raise ConfigError(
                "data_dir",
                f"database {path} has schema version {current}, newer than this Caxton "
                f"knows ({LATEST}); run a newer Caxton, or restore a backup made by "
                "this version into a fresh data directory",
            )
        if current >= target:
            return current
        step = MIGRATIONS[current]
        script = (
            "BEGIN IMMEDIATE;\n"
            f"{_VERSION_TABLE}\n{step.sql}\n"
            "INSERT INTO schema_version (version, name, applied_at) "
            f"VALUES ({step.version}, '{step.name}', (julianday('now') - 2440587.5) * 86400.0);\n"
            "COMMIT;"
        )
        try:
            conn.executescript(script)
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if schema_version(conn) != current:
                continue  # another process applied this step first
            raise
