"""The platform's side of ABI `tool_call`: who may, how often, and the answer as a message.

An agent's `tool_call` lands in `ToolCalls.call` on its dispatcher thread,
inside its turn. Nothing there waits for the tool: a call without a grant is
refused with -4 (and audited); one over the agent's limits, or whose
arguments break the tool's input schema, is accepted and answered at once
with a `failure`; any other is started on the `ToolHost`'s loop, and its
outcome comes back later as an `inform` (the tool's result) or a `failure`
(an error, a timeout, a result too large), `in_reply_to` the call's
`reply_with`, from the platform, on the trace of the message being handled.

Answers are sent, counted and audited on a thread of their own: the host's
loop must not wait for SQLite, and an agent's turn must not wait for the
audit.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import orjson
from opentelemetry import trace

from caxton.router.conversations import PLATFORM
from caxton.runtime import Status
from caxton.security.trail import AuditTrail
from caxton.tools.grants import Grants
from caxton.tools.results import (
    ServerStatus,
    ToolArgumentsInvalid,
    ToolError,
    ToolInfo,
    ToolResult,
    ToolServerExists,
    ToolUnavailable,
)
from caxton.tools.specs import ToolServerSpec

if TYPE_CHECKING:
    from caxton.router import Router
    from caxton.store import Store
    from caxton.tools.host import ToolHost

MiB: Final = 1024 * 1024
_WINDOW_S: Final = 60.0

log = logging.getLogger("caxton.tools")


@dataclass(frozen=True, slots=True)
class ToolLimits:
    """Per agent: calls in flight at once, calls a minute, a call's time, a result's size."""

    max_concurrent: int = 4
    calls_per_minute: int = 120
    timeout_s: float = 30.0
    max_result_bytes: int = MiB


@dataclass(frozen=True, slots=True)
class _Call:
    agent: str
    tool: str
    request: dict[str, Any]
    context: object
    started: float
    span: trace.Span


class ToolCalls:
    def __init__(
        self,
        router: Router,
        store: Store,
        limits: ToolLimits,
        *,
        log_dir: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
        audit: AuditTrail | None = None,
    ) -> None:
        self._router = router
        self._store = store
        self._audit = AuditTrail(store.audit) if audit is None else audit
        self._limits = limits
        self._log_dir = log_dir
        self._clock = clock
        self.grants = Grants(store.tool_grants)
        self.tracer: trace.Tracer = trace.NoOpTracer()
        # Told of every call's end: (tool, outcome, seconds), for the metrics.
        self.on_call: Callable[[str, str, float], None] | None = None
        self._host: ToolHost | None = None
        self._lock = threading.Lock()
        self._servers_lock = threading.Lock()
        self._in_flight: defaultdict[str, int] = defaultdict(int)
        self._recent: defaultdict[str, deque[float]] = defaultdict(deque)
        self._answers = concurrent.futures.ThreadPoolExecutor(1, "caxton-tool-answers")
        router.on_tool_call = self.call

    # ---- servers ----

    def start(self, declared: Sequence[ToolServerSpec] = ()) -> None:
        """Connect to every server: stored ones, and those the config file declares.

        The file's servers replace stored ones of the same name; a server the file
        declared before and no longer does is removed.
        """
        names = {spec.name for spec in declared}
        for record in self._store.tool_servers.all():
            if record.source == "config" and record.name not in names:
                self._store.tool_servers.remove(record.name)
                self._audit.append("config", "tool.server.remove", record.name, "ok", {})
        for spec in declared:
            self._store.tool_servers.put(spec.name, spec.transport, spec.to_spec(), "config")
        for record in self._store.tool_servers.all():
            self._connect(ToolServerSpec.from_record(record))

    def add_server(self, spec: ToolServerSpec, *, by: str = "operator") -> None:
        """Store and connect a new server; ToolServerExists if the name is taken."""
        with self._servers_lock:  # the check and the insert as one step
            if self._store.tool_servers.get(spec.name) is not None:
                raise ToolServerExists(
                    f"a tool server named {spec.name!r} exists; remove it first to change it"
                )
            self._store.tool_servers.put(spec.name, spec.transport, spec.to_spec(), "api")
            self._connect(spec)
        self._audit.append(by, "tool.server.add", spec.name, "ok", {"to": spec.describe()})

    def remove_server(self, name: str, *, by: str = "operator") -> bool:
        with self._servers_lock:
            removed = self._store.tool_servers.remove(name)
            if self._host is not None:
                self._host.remove(name)
        if removed:
            self._audit.append(by, "tool.server.remove", name, "ok", {})
        return removed

    def servers(self) -> list[ServerStatus]:
        connected = {status.spec.name: status for status in self._live_servers()}
        return [
            connected.get(record.name)
            or ServerStatus(ToolServerSpec.from_record(record), "connecting", 0, 0, None)
            for record in self._store.tool_servers.all()
        ]

    def tools(self) -> list[ToolInfo]:
        return [] if self._host is None else sorted(self._host.tools(), key=lambda t: t.qualified)

    def wait_ready(self, name: str, timeout_s: float) -> bool:
        return self._host is not None and self._host.wait_ready(name, timeout_s)

    def _live_servers(self) -> list[ServerStatus]:
        return [] if self._host is None else self._host.servers()

    def _connect(self, spec: ToolServerSpec) -> None:
        if self._host is None:
            from caxton.tools.host import ToolHost  # the MCP SDK, only once a server is configured

            self._host = ToolHost(log_dir=self._log_dir)
        self._host.add(spec)

    # ---- grants ----

    def grant(self, agent: str, pattern: str, *, by: str = "operator") -> bool:
        added = self.grants.grant(agent, pattern, by=by)
        self._audit.append(by, "tool.grant", agent, "ok", {"pattern": pattern})
        return added

    def revoke(self, agent: str, pattern: str, *, by: str = "operator") -> bool:
        removed = self.grants.revoke(agent, pattern)
        outcome = "ok" if removed else "absent"
        self._audit.append(by, "tool.revoke", agent, outcome, {"pattern": pattern})
        return removed

    # ---- calls (the router's `on_tool_call`, on the agent's thread) ----

    def call(self, agent: str, request: dict[str, Any], context: object) -> int:
        """ABI `tool_call`; `request` is checked already: tool `server/tool`, `reply_with`."""
        tool = request["tool"]
        if not self.grants.allowed(agent, tool):
            log.warning("tool_call %s refused: agent %s has no grant for it", tool, agent,
                        extra={"agent": agent, "tool": tool})  # fmt: skip
            detail = {"reply_with": request.get("reply_with")}
            self._answers.submit(self._record_call, agent, tool, "denied", detail)
            self._count(tool, "denied", 0.0)
            return Status.NOT_PERMITTED
        started = self._clock()
        span = self.tracer.start_span(
            f"tool {tool}",
            kind=trace.SpanKind.CLIENT,
            attributes={"caxton.agent": agent, "caxton.tool": tool},
        )
        call = _Call(agent, tool, request, context, started, span)
        refusal = self._admit(agent, started)
        if refusal is not None:
            self._answers.submit(self._finish, call, "rate-limited", None, refusal)
            return Status.OK
        server, _, name = tool.partition("/")
        arguments = request.get("arguments") or {}
        host = self._host
        try:
            if host is None:
                raise _unavailable(server)
            host.check(server, name, arguments)
            refusal = host.refusal(server, arguments)
            if refusal is not None:
                raise ToolArgumentsInvalid(refusal)
        except ToolError as error:
            self._answers.submit(self._finish, call, error.outcome, None, str(error))
            return Status.OK
        future = host.call(server, name, arguments, self._limits.timeout_s)
        future.add_done_callback(partial(self._returned, call))
        return Status.OK

    def _admit(self, agent: str, now: float) -> str | None:
        """None if `agent` may start a call now (and it is counted), else why not."""
        limits = self._limits
        with self._lock:
            recent = self._recent[agent]
            while recent and recent[0] <= now - _WINDOW_S:
                recent.popleft()
            if self._in_flight[agent] >= limits.max_concurrent:
                return f"{limits.max_concurrent} tool calls in flight already (the agent's limit)"
            if len(recent) >= limits.calls_per_minute:
                return (
                    f"{limits.calls_per_minute} tool calls in the last minute (the agent's limit)"
                )
            recent.append(now)
            self._in_flight[agent] += 1
        return None

    def _returned(self, call: _Call, future: concurrent.futures.Future[ToolResult]) -> None:
        """On the host's loop: hand the outcome to the answering thread at once."""
        self._answers.submit(self._settle, call, future)

    def _settle(self, call: _Call, future: concurrent.futures.Future[ToolResult]) -> None:
        try:
            result = future.result()
        except ToolError as error:
            self._finish(call, error.outcome, None, str(error))
            return
        except Exception as error:  # anything else still answers the agent
            self._finish(call, "failed", None, f"{type(error).__name__}: {error}")
            return
        content = _result_content(call.tool, result)
        size = len(orjson.dumps(content))
        if size > self._limits.max_result_bytes:
            reason = (f"the result is {size} bytes, over the agent's limit of "
                      f"{self._limits.max_result_bytes}")  # fmt: skip
            self._finish(call, "too-large", None, reason)
        elif result.is_error:
            self._finish(call, "tool-error", content, _first_text(result))
        else:
            self._finish(call, "ok", content, None)

    def _finish(
        self,
        call: _Call,
        outcome: str,
        content: dict[str, Any] | None,
        reason: str | None,
    ) -> None:
        """Answer the agent, release its slot, count, trace and audit: on the answering thread."""
        seconds = self._clock() - call.started
        if outcome != "rate-limited":  # a refused call never took a slot
            with self._lock:
                self._in_flight[call.agent] -= 1
        answer = _answer(call, outcome, content, reason)
        try:
            self._router.send_from_platform(answer, call.context)
        finally:
            if outcome != "ok":
                call.span.set_status(trace.Status(trace.StatusCode.ERROR, reason or outcome))
            call.span.set_attribute("caxton.tool.outcome", outcome)
            call.span.end()
            self._count(call.tool, outcome, seconds)
            detail = {"reply_with": call.request.get("reply_with"), "seconds": round(seconds, 6)}
            if reason is not None:
                detail["reason"] = reason
            self._record_call(call.agent, call.tool, outcome, detail)
        log.log(logging.INFO if outcome == "ok" else logging.WARNING,
                "tool call %s by %s: %s in %.1f ms", call.tool, call.agent, outcome, seconds * 1000,
                extra={"agent": call.agent, "tool": call.tool, "outcome": outcome})  # fmt: skip

    def _record_call(self, agent: str, tool: str, outcome: str, detail: dict[str, Any]) -> None:
        try:
            self._audit.append(agent, "tool.call", tool, outcome, detail)
        except Exception:  # a failed audit write is logged; it must not lose the answer
            log.exception("audit of a tool call failed")

    def _count(self, tool: str, outcome: str, seconds: float) -> None:
        hook = self.on_call
        if hook is not None:
            # Agents name tools as they like; only tools that exist become label values.
            server, _, name = tool.partition("/")
            known = self._host is not None and self._host.has(server, name)
            hook(tool if known else "_unknown", outcome, seconds)

    def close(self) -> None:
        """Disconnect every server, then answer what is still owed (closing fails those calls)."""
        if self._host is not None:
            self._host.close()
        self._answers.shutdown(wait=True)


def _unavailable(server: str) -> ToolError:
    return ToolUnavailable(f"no tool server named {server!r} is configured")


def _result_content(tool: str, result: ToolResult) -> dict[str, Any]:
    content: dict[str, Any] = {"tool": tool, "content": result.content}
    if result.structured is not None:
        content["structured"] = result.structured
    return content


def _first_text(result: ToolResult) -> str:
    for block in result.content:
        text = block.get("text")
        if isinstance(text, str):
            return text
    return "the tool reported an error"


def _answer(
    call: _Call, outcome: str, content: dict[str, Any] | None, reason: str | None
) -> dict[str, Any]:
    """The message the agent gets: `inform` with the result, or `failure` saying why."""
    ok = outcome == "ok"
    message: dict[str, Any] = {
        "performative": "inform" if ok else "failure",
        "sender": PLATFORM,
        "receiver": call.agent,
        "in_reply_to": call.request["reply_with"],
        "x-caxton-tool": call.tool,
    }
    if isinstance(call.context, dict):
        conversation = call.context.get("conversation_id")
        if isinstance(conversation, str):
            message["conversation_id"] = conversation
    if ok:
        message["content"] = content
    else:
        failure: dict[str, Any] = {"error": outcome, "reason": reason or outcome, "tool": call.tool}
        if content is not None:
            failure["content"] = content["content"]
        message["content"] = failure
    return message
