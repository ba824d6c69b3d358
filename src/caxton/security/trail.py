"""The security audit trail: what the platform records, and whether it records at all.

Every layer that records an event (the API's management operations and
authentication, tool calls and grants, agents' limit and sandbox violations,
retention) writes through one `AuditTrail`, so `security.audit`
(CAXTON_SECURITY_AUDIT) turns all of it on or off in one place. The records
themselves are kept by `caxton.store.audit.AuditLog`: append-only and
hash-chained.

The trail's own actions:

- `agent.limit`: an agent hit one of its limits while handling a message:
  fuel, its deadline, its memory ceiling or the call stack;
- `agent.trap`: an agent broke out of the rules of its sandbox: a wasm trap
  (unreachable, out-of-bounds access, division by zero...), or a pointer
  outside its linear memory handed to a host function (kind `abi`);
- `audit.prune`: retention removed the oldest records;
- `audit.dropped`: violations lost because the writer's queue was full.

A violation's record: actor and target the agent, outcome its error class
(`resource`, `timeout`, `system`, `validation`), detail `kind`, `reason`,
`count`, and the `performative`, `conversation_id` and `sender` of the
message being handled. Not recorded: invalid messages, routing failures, a
full mailbox (back-pressure: the sender hears -3 and may try again), a
conversation's timeout, a handler returning an error code. These are counted
and logged by `caxton.telemetry.errors`.

A hostile agent can trap thousands of times a second, on the dispatcher's
thread. So `violation` never touches SQLite: it hands a record to one writer
thread through a bounded queue, and writes at most one record per agent and
action a second; the violations in between are added to the `count` of the
next record, written when the next second comes (the writer looks once a
second). Rejected: writing on the dispatcher's thread (one write is ~40 µs
but waits behind any other writer, a backup, a prune), and one record per
violation (a trapping agent would fill the disk and the writer's queue).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from caxton.errors import ErrorClass
from caxton.store.audit import AuditLog

LIMIT: Final = "agent.limit"
TRAP: Final = "agent.trap"
PRUNE: Final = "audit.prune"
DROPPED: Final = "audit.dropped"
RETENTION_ACTOR: Final = "retention"
PLATFORM_ACTOR: Final = "caxton"

DAY_S: Final = 86_400.0
PRUNE_EVERY_S: Final = 3600.0
QUEUE_SIZE: Final = 1000
# How often the writer looks for violations left out in a second that has passed.
_TICK_S: Final = 1.0

# What the runtime says when it stops a handler (caxton.runtime.sandbox: `_classify`,
# `_checked_base`), by error class: the phrase, and the kind it is recorded as.
# tests/security/test_trail.py pins these against real hostile agents.
_LIMITS: Final = {
    ErrorClass.RESOURCE: (
        ("used its whole fuel budget", "fuel"),
        ("asked for more memory than its ceiling allows", "memory"),
        ("caxton_alloc returned 0", "memory"),
        ("exhausted the call stack", "stack"),
    ),
    ErrorClass.TIMEOUT: (("ran past its deadline", "deadline"),),
}
_TRAPS: Final = {
    ErrorClass.SYSTEM: ((" trapped: ", "trap"),),
    ErrorClass.VALIDATION: (("lie outside linear memory", "abi"),),
}

log = logging.getLogger("caxton.security.trail")


def classify(error_class: ErrorClass, reason: str) -> tuple[str, str] | None:
    """The action and kind a handler error is recorded as; None when it is no violation."""
    for action, table in ((LIMIT, _LIMITS), (TRAP, _TRAPS)):
        for phrase, kind in table.get(error_class, ()):
            if phrase in reason:
                return action, kind
    return None


@dataclass(frozen=True, slots=True)
class _Violation:
    agent: str
    action: str
    outcome: str
    detail: dict[str, Any]


@dataclass(slots=True)
class _Window:
    """One agent and action in one second: whether written, and what was left out since."""

    second: int
    left_out: int = 0
    last: _Violation | None = None  # the newest of those left out


# A record and how many violations it stands for, a flush to signal, or None to stop.
_Item: TypeAlias = tuple[_Violation, int] | threading.Event | None


class AuditTrail:
    """One server's audit trail: the switch, retention, and the violations' writer."""

    def __init__(
        self,
        log: AuditLog,
        *,
        enabled: bool = True,
        retention_days: float | None = None,
        clock: Callable[[], float] = time.time,
        prune_every_s: float = PRUNE_EVERY_S,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        """`clock` (Unix seconds) dates retention's cut-off and the violations' seconds."""
        self.log = log
        self.enabled = enabled
        self.retention_days = retention_days
        self._clock = clock
        self._prune_every_s = prune_every_s
        self._queue: queue.Queue[_Item] = queue.Queue(queue_size)
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], _Window] = {}
        self._dropped = 0
        self._scanned = 0  # the last second the writer looked for what was left out
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._closed = False

    def append(
        self, actor: str, action: str, target: str, outcome: str, detail: dict[str, Any]
    ) -> int | None:
        """Record one event (see `AuditLog.append`); its seq, or None when the trail is off."""
        if not self.enabled:
            return None
        return self.log.append(actor, action, target, outcome, detail)

    # Running.

    def start(self) -> None:
        """Start the violations' writer and, given a retention, the pruner (now, then hourly)."""
        if not self.enabled or self._threads or self._closed:
            return
        self._spawn("caxton-audit-writer", self._write_loop)
        if self.retention_days is not None:
            self._spawn("caxton-audit-retention", self._prune_loop)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until what was queued, and what was left out in past seconds, is written.

        False when the writer did not get there within `timeout` (or is not running).
        """
        if not self._threads:
            return False
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self) -> None:
        """Stop the threads, then write everything still waiting, left-out counts included."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stop.set()
        if self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        self._threads.clear()
        while not self._queue.empty():
            self._handle(self._queue.get_nowait())
        self._write_left_out(None)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    # Retention.

    def prune_expired(self) -> int:
        """Remove the records older than the retention, and record that; how many went.

        Nothing happens when the trail is off or keeps everything (no retention).
        """
        if not self.enabled or self.retention_days is None:
            return 0
        before = self._clock() - self.retention_days * DAY_S
        count = self.log.prune(before)
        mark = self.log.pruned() if count else None
        if mark is not None:
            detail = {"through_seq": mark.through_seq, "count": count, "before": before}
            self.log.append(RETENTION_ACTOR, PRUNE, "audit", "ok", detail)
        return count

    def _prune_loop(self) -> None:
        while True:
            try:
                self.prune_expired()
            except Exception:  # a failed prune is retried next time; the thread must live on
                log.exception("pruning the audit log failed")
            if self._stop.wait(self._prune_every_s):
                return

    # Violations.

    def violation(
        self,
        error_class: ErrorClass,
        reason: str,
        agent: str | None,
        message: dict[str, Any] | None,
    ) -> None:
        """Record an agent's limit or sandbox violation, as `Router.on_error` reports it.

        Called on the dispatcher's thread: never waits for SQLite. Other
        errors, and errors of no known agent, are ignored.
        """
        if not self.enabled or self._closed or agent is None:
            return
        found = classify(error_class, reason)
        if found is None:
            return
        action, kind = found
        detail: dict[str, Any] = {"kind": kind, "reason": reason}
        if message is not None:
            detail["performative"] = message.get("performative")
            detail["conversation_id"] = message.get("conversation_id")
            detail["sender"] = message.get("sender")
        seen = _Violation(agent, action, error_class.value, detail)
        with self._lock:
            count = self._admit(seen, int(self._clock()))
        if count:
            self._enqueue(seen, count)

    @property
    def dropped(self) -> int:
        """Violations lost to a full queue and not yet recorded as such (`audit.dropped`)."""
        with self._lock:
            return self._dropped

    def _admit(self, seen: _Violation, second: int) -> int:
        """How many violations `seen`'s record stands for, or 0 when it is left out."""
        key = (seen.agent, seen.action)
        window = self._windows.get(key)
        if window is None or window.second != second:
            self._windows[key] = _Window(second)
            return 1 + (window.left_out if window else 0)
        window.left_out += 1
        window.last = seen
        return 0

    def _enqueue(self, seen: _Violation, count: int) -> None:
        try:
            self._queue.put_nowait((seen, count))
        except queue.Full:
            with self._lock:
                self._dropped += count

    # The writer's thread.

    def _write_loop(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=_TICK_S)
            except queue.Empty:
                self._write_left_out(int(self._clock()))
                continue
            if item is None:
                return
            self._handle(item)

    def _handle(self, item: _Item) -> None:
        if isinstance(item, tuple):
            self._write(*item)
            second = int(self._clock())
            if second != self._scanned:  # at most once a second, however busy
                self._write_left_out(second)
        elif isinstance(item, threading.Event):
            self._write_left_out(int(self._clock()))
            item.set()

    def _write_left_out(self, second: int | None) -> None:
        """Write what was left out before `second` (None: all of it), and the drops."""
        with self._lock:
            due = self._due(second)
            dropped, self._dropped = self._dropped, 0
            if second is not None:
                self._scanned = second
        for seen, count in due:
            self._write(seen, count)
        if dropped:
            detail = {"count": dropped, "reason": "the audit writer's queue was full"}
            self._append(PLATFORM_ACTOR, DROPPED, "audit", "dropped", detail)

    def _due(self, second: int | None) -> list[tuple[_Violation, int]]:
        """The left-out counts to write now; each claims `second` for its agent and action."""
        due: list[tuple[_Violation, int]] = []
        for key, window in list(self._windows.items()):
            if second is not None and window.second >= second:
                continue
            if window.left_out and window.last is not None:
                due.append((window.last, window.left_out))
            if second is not None and window.left_out:
                self._windows[key] = _Window(second)
            else:  # an old window with nothing left out counts as none at all
                del self._windows[key]
        return due

    def _write(self, seen: _Violation, count: int) -> None:
        detail = {**seen.detail, "count": count}
        self._append(seen.agent, seen.action, seen.agent, seen.outcome, detail)

    def _append(
        self, actor: str, action: str, target: str, outcome: str, detail: dict[str, Any]
    ) -> None:
        try:
            self.log.append(actor, action, target, outcome, detail)
        except Exception:  # the writer must outlive a failed write (a full disk, say)
            log.exception("writing the audit record of %s %s failed", actor, action)
