"""The composition root: one `Server` builds and wires every part from `Settings`.

    server = Server(settings)      # store opened, nothing running yet
    server.start()                 # agents recovered, dispatcher threads running
    ...                            # the API (caxton.api.create_app(server)) uses it
    server.close()                 # agents drained and saved, store closed

No module-level state: tests build as many servers as they like, each on
its own data directory.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caxton import __version__
from caxton.agents import AgentManager
from caxton.agents.directory import DIRECTORY, Directory
from caxton.errors import ErrorClass
from caxton.router import Dispatcher, Router
from caxton.router.history import MessageHistory
from caxton.runtime import Runtime, RuntimeConfig
from caxton.security.authenticator import Authenticator, Identity
from caxton.security.keys import KeyRing
from caxton.security.ratelimit import RateLimiter
from caxton.security.signing import SigningPolicy
from caxton.security.tokens import JwtVerifier
from caxton.security.trail import AuditTrail
from caxton.server.gateway import GATEWAY, Gateway
from caxton.server.jobs import JobRunner
from caxton.server.logbook import Logbook
from caxton.settings import Settings
from caxton.store import Store
from caxton.telemetry import Telemetry
from caxton.tools import ToolCalls, ToolLimits, ToolServerSpec

log = logging.getLogger("caxton.server")

_LOG_LINES = 10_000


@dataclass(frozen=True, slots=True)
class CheckResult:
    ok: bool
    detail: str


class Server:
    def __init__(self, settings: Settings, *, env: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.version = __version__
        self.started_at = time.time()
        # First: a broken trusted key (a ConfigError) then leaves nothing open to close.
        self.signing = SigningPolicy.from_settings(settings.signing)
        tokens = JwtVerifier(settings.jwt)
        data_dir = Path(settings.data_dir)
        self.store = Store.open(data_dir)
        try:
            self.runtime = Runtime(self._runtime_config(data_dir, env))
        except BaseException:
            self.store.close()
            raise
        self.router = Router()
        self.history = MessageHistory(settings.message_history, clock=self.router.clock)
        self.router.on_route = self.history.record
        self.logbook = Logbook(_LOG_LINES)
        self.router.on_log = self.logbook.write
        self.dispatcher = Dispatcher(self.router, workers=settings.workers)
        self.manager = AgentManager(
            store=self.store, runtime=self.runtime, router=self.router, dispatcher=self.dispatcher
        )
        try:
            self.telemetry = Telemetry(
                settings.telemetry,
                dict(os.environ if env is None else env),
                version=self.version,
                router=self.router,
                manager=self.manager,
                database=self.store.db,
            )
        except BaseException:  # a broken OTEL_* variable: nothing may stay open
            self.runtime.close()
            self.store.close()
            raise
        tool_limits = ToolLimits(**dataclasses.asdict(settings.tools))
        self.audit = AuditTrail(
            self.store.audit,
            enabled=settings.security.audit,
            retention_days=settings.security.audit_retention_days,
        )
        self.router.on_error = self._on_error  # after Telemetry, which set its own
        self.tools = ToolCalls(
            self.router, self.store, tool_limits, log_dir=data_dir / "tools", audit=self.audit
        )
        self._declared_tools = [
            ToolServerSpec.declared(name, table) for name, table in settings.tool_servers.items()
        ]
        self.keys = KeyRing(self.store)
        self.authenticator = Authenticator(
            self.keys, tokens, role_claim=settings.jwt.role_claim, cache_s=settings.auth.cache_s
        )
        self.authenticator.on_first_use = self._first_use
        self.limiter = RateLimiter(settings.rate_limits, self.store.rate_limits)
        # Made here, not at start: a CLI may read the file as soon as the socket listens.
        self.key_file = self.keys.bootstrap(data_dir)
        if self.key_file is not None:
            self.audit.append("caxton", "auth.key.bootstrap", str(self.key_file), "ok", {})
        self.telemetry.watch_tools(self.tools)
        self.gateway = Gateway(self.router)
        self.gateway.attach()
        self.manager.reserve(GATEWAY, "the gateway that carries the API's messages")
        # Capability queries from agents, answered from the manager's in-memory catalogue.
        self.directory = Directory(self.router, self.manager.catalogue)
        self.directory.attach()
        self.manager.reserve(DIRECTORY, "the built-in directory agent")
        self.jobs = JobRunner(self.store, self.gateway, retries=settings.job_retries)
        self.started = False
        self.closed = False

    def _runtime_config(self, data_dir: Path, env: dict[str, str] | None) -> RuntimeConfig:
        environment = dict(os.environ if env is None else env)
        config = RuntimeConfig.from_environment(environment, cache_dir=data_dir / "cache")
        overrides: dict[str, int] = dict(self.settings.limits.overrides())
        overrides["mailbox_capacity"] = self.settings.mailbox_capacity
        limits = config.default_limits.override(config.memory, **overrides)
        return dataclasses.replace(config, limits=limits)

    def _on_error(
        self,
        error_class: ErrorClass,
        reason: str,
        agent: str | None,
        message: dict[str, Any] | None,
    ) -> None:
        """Every error the router meets is counted and logged; an agent's violation is audited."""
        self.telemetry.errors.record(error_class, reason, agent, message)
        self.audit.violation(error_class, reason, agent, message)

    def start(self) -> list[str]:
        """Recover the stored agents and start delivering; returns the agents started."""
        self.audit.start()
        if not self.settings.auth.enabled:
            log.warning(
                "authentication is OFF (auth.enabled = false): anyone who can reach %s:%d "
                "is an admin", self.settings.host, self.settings.port,
            )  # fmt: skip
        started = self.manager.recover()
        self.dispatcher.start()
        self.tools.start(self._declared_tools)
        self.telemetry.start()
        self.started = True
        log.info("caxton %s: %d agents recovered, %d running", self.version,
                 len(self.manager.all()), len(started))  # fmt: skip
        return started

    def close(self) -> int:
        """Drain and save every agent, stop the threads, close the store; messages saved."""
        if self.closed:
            return 0
        self.closed = True
        saved = self.manager.shutdown()
        self.tools.close()
        self.dispatcher.stop()
        self.audit.close()  # no violation comes once the dispatcher stopped
        self.telemetry.close()
        log.info("caxton stopped: agents drained, %d queued messages saved", saved)
        self.history.close()
        self.logbook.close()
        self.runtime.close()
        self.store.close()
        return saved

    def _first_use(self, identity: Identity) -> None:
        self.audit.append(identity.subject, "auth.ok", identity.subject, "ok",
                          {"via": identity.via, "role": identity.role})  # fmt: skip

    # What the API shows.

    def readiness(self) -> dict[str, CheckResult]:
        """Storage, runtime and agents: each check with what it found."""
        checks: dict[str, CheckResult] = {}
        try:
            self.store.agents.count()
            checks["storage"] = CheckResult(True, f"SQLite at {self.store.db.path}")
        except Exception as error:  # any failure here is the diagnosis
            checks["storage"] = CheckResult(False, f"store unusable: {error}")
        if self.closed:
            checks["runtime"] = CheckResult(False, "the server is shutting down")
        elif not self.started:
            checks["runtime"] = CheckResult(False, "agents are still being recovered")
        else:
            checks["runtime"] = CheckResult(True, f"{self.runtime.running} instances")
        views = self.manager.all() if self.started and not self.closed else []
        failed = [view.name for view in views if view.state == "Failed"]
        detail = f"{len(views)} agents, {len(failed)} failed"
        if failed:
            detail += f" ({', '.join(failed[:10])})"
        checks["agents"] = CheckResult(self.started, detail)
        return checks
