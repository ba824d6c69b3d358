"""An agent as the router sees it: a mailbox, and the agent's side of the ABI.

An `Endpoint` is made before its sandbox (it is the `AgentHost` the sandbox
is built with) and attached to it once the sandbox exists. Every call the
agent makes through the ABI lands here and goes on to the router.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from caxton.router.mailbox import Entry, Mailbox
from caxton.router.stats import AgentStats
from caxton.router.trace import log_context
from caxton.runtime import LogLevel, Status

if TYPE_CHECKING:
    from caxton.router.router import Router

_LOG_LEVELS = {
    LogLevel.TRACE: 5,
    LogLevel.DEBUG: logging.DEBUG,
    LogLevel.INFO: logging.INFO,
    LogLevel.WARN: logging.WARNING,
    LogLevel.ERROR: logging.ERROR,
}


class Recipient(Protocol):
    """What the router delivers to: a `Sandbox`, or a stand-in in benchmarks."""

    @property
    def accepts_batches(self) -> bool: ...

    def handle(self, message: bytes, context: object = None) -> int: ...

    def handle_batch(self, messages: bytes, count: int, context: object = None) -> int: ...


class Endpoint:
    __slots__ = (
        "accepting",
        "after_delivery",
        "agent",
        "capabilities",
        "logger",
        "mailbox",
        "name",
        "paused",
        "router",
        "sent",
        "stats",
        "turn_lock",
    )

    def __init__(self, router: Router, name: str, mailbox_capacity: int) -> None:
        self.router = router
        self.name = name
        self.mailbox = Mailbox(mailbox_capacity)
        self.agent: Recipient | None = None
        self.accepting = True  # False while draining: new messages are refused
        self.turn_lock = threading.Lock()  # held by a dispatcher turn
        self.paused = False  # True while restarting: messages wait, none is delivered
        self.sent = 0
        self.stats = AgentStats()
        self.capabilities: list[dict[str, Any]] = []
        # Called after a turn delivered `entries` (handled, or failed): how the
        # manager learns that messages saved at shutdown are safely handled.
        self.after_delivery: Callable[[list[Entry]], None] | None = None
        self.logger = logging.getLogger(f"caxton.agent.{name}")

    # AgentHost: what the sandbox calls.

    def send(self, message: dict[str, Any], context: object) -> int:
        status = self.router.send(message, context)
        if status == Status.OK:
            self.sent += 1
        return status

    def malformed(self, data: bytes, reason: str, context: object) -> None:
        self.router.not_understood(self.name, data, reason, context)

    def log(self, level: LogLevel, text: str, context: object) -> None:
        hook = self.router.on_log
        if hook is not None:
            hook(self.name, level, text)
        python_level = _LOG_LEVELS[level]
        if self.logger.isEnabledFor(python_level):
            extra = {"agent": self.name, **log_context(context)}
            self.logger.log(python_level, text, extra=extra)

    def tool_call(self, request: dict[str, Any], context: object) -> int:
        hook = self.router.on_tool_call
        if hook is not None:
            return hook(self.name, request, context)
        self.logger.warning("tool_call refused: this host has no tools", extra={"agent": self.name})
        return Status.NOT_PERMITTED

    def register_capability(self, capability: dict[str, Any]) -> int:
        self.capabilities.append(capability)
        hook = self.router.on_capability
        if hook is not None:
            hook(self.name, capability)
        return Status.OK
