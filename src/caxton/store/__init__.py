"""Caxton's durable state: embedded SQLite in WAL mode, the only place that writes SQL.

    store = Store.open(data_dir)          # creates, migrates, checks
    sha = store.modules.put(wasm_bytes)
    agent = store.agents.create("echo", sha, version="1", state="loaded")
    kv = store.kv(agent.id, quota_bytes=1 << 20)   # a runtime KeyValueStore
    job = store.jobs.create("echo", request, timeout_s=30.0)   # POST /jobs, durable
    store.tool_grants.grant("echo", "files/*", by="operator")  # MCP tools
    store.audit.append("echo", "tool.call", "files/read", "ok", {"ms": 3})
    store.backup(path); restore(path, new_data_dir)

`docs/store.md` describes the schema, the concurrency design and the figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

from caxton.store.audit import AuditLog, AuditRecord
from caxton.store.credentials import ApiKeys, IdentityRoleRecord, IdentityRoles, KeyRecord
from caxton.store.database import DATABASE_FILE, Database, restore, verify_backup
from caxton.store.jobs import JOB_STATES, JobRecord, Jobs, JobStateError, UnknownJob
from caxton.store.kv import DurableKeyValueStore
from caxton.store.messages import (
    ConversationRecord,
    Conversations,
    DeadLetterLog,
    QueuedMessages,
    StoredDeadLetter,
)
from caxton.store.migrations import LATEST, MIGRATIONS, Migration
from caxton.store.ratelimits import RateLimitRecord, RateLimits
from caxton.store.registry import (
    REMOVED,
    AgentNameTaken,
    AgentRecord,
    Agents,
    Capabilities,
    Capability,
    Deployment,
    Modules,
    Provider,
    Route,
    Routes,
    Transition,
    UnknownModule,
)
from caxton.store.tools import (
    TOOL_SOURCES,
    TOOL_TRANSPORTS,
    GrantRecord,
    ToolGrants,
    ToolServerRecord,
    ToolServers,
)

__all__ = [
    "DATABASE_FILE",
    "JOB_STATES",
    "LATEST",
    "MIGRATIONS",
    "REMOVED",
    "TOOL_SOURCES",
    "TOOL_TRANSPORTS",
    "AgentNameTaken",
    "AgentRecord",
    "Agents",
    "ApiKeys",
    "AuditLog",
    "AuditRecord",
    "Capabilities",
    "Capability",
    "ConversationRecord",
    "Conversations",
    "Database",
    "DeadLetterLog",
    "Deployment",
    "DurableKeyValueStore",
    "GrantRecord",
    "IdentityRoleRecord",
    "IdentityRoles",
    "JobRecord",
    "JobStateError",
    "Jobs",
    "KeyRecord",
    "Migration",
    "Modules",
    "Provider",
    "QueuedMessages",
    "RateLimitRecord",
    "RateLimits",
    "Route",
    "Routes",
    "Store",
    "StoredDeadLetter",
    "ToolGrants",
    "ToolServerRecord",
    "ToolServers",
    "Transition",
    "UnknownJob",
    "UnknownModule",
    "restore",
    "verify_backup",
]


class Store:
    """Every repository over one `Database`: what the server builds once per data directory."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.modules = Modules(db)
        self.agents = Agents(db)
        self.capabilities = Capabilities(db)
        self.routes = Routes(db)
        self.conversations = Conversations(db)
        self.dead_letters = DeadLetterLog(db)
        self.queued = QueuedMessages(db)
        self.jobs = Jobs(db)
        self.tool_servers = ToolServers(db)
        self.tool_grants = ToolGrants(db)
        self.audit = AuditLog(db)
        self.rate_limits = RateLimits(db)
        self.api_keys = ApiKeys(db)
        self.identity_roles = IdentityRoles(db)

    @classmethod
    def open(cls, data_dir: Path | str, *, clock: Callable[[], float] = time.time) -> Self:
        return cls(Database.open(data_dir, clock=clock))

    def kv(self, agent_id: str, quota_bytes: int) -> DurableKeyValueStore:
        return DurableKeyValueStore(self.db, agent_id, quota_bytes)

    def backup(self, destination: Path | str) -> Path:
        return self.db.backup(destination)

    def integrity_problems(self) -> list[str]:
        return self.db.integrity_problems()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
