"""Errors by class, counted per agent, each logged once with its context.

The router tells `ErrorLog.record` of every error it meets (see
`Router.on_error`); the class was decided where the error was raised
(`caxton.errors`), so recording costs a few dictionary updates and, while
the agent is under its log budget, one log line carrying the agent, the
performative, the conversation and the trace. A hostile agent can fail a
hundred thousand times a second: past `lines_per_s` lines a second per agent
the lines stop and the next one says how many were left out; the counts stay exact.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from caxton.errors import CaxtonError, ErrorClass
from caxton.router.trace import trace_id_of

PLATFORM_AGENT: Final = "_platform"  # errors that concern no agent (a malformed request)

log = logging.getLogger("caxton.errors")


def classify(error: BaseException) -> ErrorClass:
    """The class of any exception: Caxton's own carry theirs; the rest by kind."""
    if isinstance(error, CaxtonError):
        return error.error_class
    if isinstance(error, TimeoutError):
        return ErrorClass.TIMEOUT
    if isinstance(error, MemoryError):
        return ErrorClass.RESOURCE
    if isinstance(error, ValueError | TypeError | KeyError | UnicodeError):
        return ErrorClass.VALIDATION
    return ErrorClass.SYSTEM


class ErrorLog:
    def __init__(
        self, *, lines_per_s: int = 10, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lines_per_s = lines_per_s
        self._clock = clock
        self._lock = threading.Lock()
        self.by_agent: defaultdict[tuple[str, ErrorClass], int] = defaultdict(int)
        self._budget: dict[str, _Budget] = {}

    def record(
        self,
        error_class: ErrorClass,
        reason: str,
        agent: str | None,
        message: dict[str, Any] | None,
    ) -> None:
        who = agent or PLATFORM_AGENT
        with self._lock:
            self.by_agent[who, error_class] += 1
            left_out = self._spend(who)
        if left_out is None:
            return
        context: dict[str, Any] = {"agent": who, "error_class": error_class.value}
        if message is not None:
            context["performative"] = message.get("performative")
            context["conversation_id"] = message.get("conversation_id")
            context["message_id"] = message.get("message_id")
            context["trace_id"] = trace_id_of(message)
        if left_out:
            context["left_out"] = left_out
        log.warning("%s error: %s", error_class.value, reason, extra=context)

    def forget(self, agent: str) -> None:
        """An agent was removed: its counts go (its series would otherwise stay forever)."""
        with self._lock:
            for key in [key for key in self.by_agent if key[0] == agent]:
                del self.by_agent[key]
            self._budget.pop(agent, None)

    def counts(self) -> dict[tuple[str, ErrorClass], int]:
        with self._lock:
            return dict(self.by_agent)

    def _spend(self, agent: str) -> int | None:
        """Lines left out before this one, or None when this one is left out too."""
        second = int(self._clock())
        budget = self._budget.get(agent)
        if budget is None or budget.second != second:
            left_out = 0 if budget is None else budget.left_out
            self._budget[agent] = _Budget(second)
            return left_out
        if budget.written >= self._lines_per_s:
            budget.left_out += 1
            return None
        budget.written += 1
        left_out, budget.left_out = budget.left_out, 0
        return left_out


@dataclass(slots=True)
class _Budget:
    """One agent's log lines in one second: written, and left out since the last one written."""

    second: int
    written: int = 1
    left_out: int = 0
